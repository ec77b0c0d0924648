"""``Tensor``: an ndarray with a gradient and a place in the autograd graph.

``Tensor`` subclasses the compiled ``fastnn._core.TensorBase``, which holds
the fields the engine reads: ``_array`` (the ``numpy.ndarray``; library code
uses it directly), the gradient, the graph link and the version counter.
As in PyTorch, ``.data`` is a Tensor sharing the array that records no
graph, ``.grad`` is a Tensor or None, and ``.numpy()`` is the zero-copy
ndarray.  Every differentiable method is an ``autograd.Function`` from
``fastnn.ops``.

In-place methods (``add_``, ``mul_``, ``clamp_``, ``x += y``, ``x[i] = v``,
...) change the array in place and bump the version counter.  Under
autograd (grad mode on and a tensor involved requires grad) the new value is
computed by the same op out of place, written into the array, and the
tensor is re-bound to that op's graph node, so the backward is exact; a
backward that needs an array changed since it was saved raises PyTorch's
error instead of returning a wrong gradient.
"""
import builtins
import numbers

import numpy as np

from . import _config, _core
from ._core import Size, TensorBase
from ._errors import ShapeError
from .random import _numpy_generator
from .ops import elementwise as E
from .ops import linalg as L
from .ops import reduction as R
from .ops import shape as S

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_DTYPE_ALIASES = {"float": float32, "float32": float32, "float64": float64, "double": float64,
                  "long": int64, "int64": int64, "int": int32, "int32": int32, "int16": int16,
                  "short": int16, "int8": int8, "uint8": uint8, "bool": bool_}
_SUPPORTED = frozenset([float32, float64, int64, int32, int16, int8, uint8, bool_])


def _resolve_dtype(dtype):
    """A fastnn dtype (a numpy dtype of the supported set) from a dtype-like."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        key = dtype[6:] if dtype.startswith("torch.") else dtype
        if key in _DTYPE_ALIASES:
            return _DTYPE_ALIASES[key]
    if dtype is builtins.float:
        return float32
    if dtype is builtins.int:
        return int64
    if dtype is builtins.bool:
        return bool_
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"tensor: unsupported dtype {dtype!r}") from None
    if dt not in _SUPPORTED:
        raise TypeError(f"tensor: unsupported dtype {dt}; fastnn supports float32, float64, "
                        "int64, int32, int16, int8, uint8 and bool")
    return dt


def _to_array(data, dtype=None, copy=False, keep_ints=False):
    """The ndarray behind new Tensor data, with fastnn's dtype rules: floats
    become float32 unless they are a float64 ndarray, Python ints int64,
    integer ndarrays int64 (or their own supported dtype with keep_ints)."""
    if isinstance(data, TensorBase):
        data = data._array
    dt = _resolve_dtype(dtype)
    is_nd = isinstance(data, np.ndarray)
    if not is_nd and isinstance(data, (list, tuple)) and data and \
            any(isinstance(d, TensorBase) for d in data):
        data = [d._array if isinstance(d, TensorBase) else d for d in data]
    arr = data if is_nd else np.asarray(data)
    k = arr.dtype.kind
    if k in "cUSOVMm":
        raise TypeError(f"tensor: unsupported data of dtype {arr.dtype} "
                        f"({type(data).__name__}); fastnn holds float, integer or bool data")
    if dt is None:
        if k == "f":
            dt = arr.dtype if (is_nd and arr.dtype == float64) else float32
        elif k in "iu":
            dt = arr.dtype if (keep_ints and is_nd and arr.dtype in _SUPPORTED) else int64
        else:
            dt = arr.dtype
    if arr.dtype != dt or (copy and arr is data):
        arr = np.array(arr, dtype=dt, copy=True)
    return arr


_bmax = builtins.max
_grad_enabled = _core.is_grad_enabled


class Tensor(TensorBase):
    """A multi-dimensional array with reverse-mode autograd.

    Parameters
    ----------
    data : array_like
        Floating data becomes float32 unless it is a float64 ndarray; integer
        data becomes int64.  An ndarray of the right dtype is used without a
        copy.
    requires_grad : bool
        Record operations on this tensor for ``backward``.

    Examples
    --------
    >>> import fastnn
    >>> x = fastnn.Tensor([[1.0, 2.0]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([[2., 4.]])
    """

    __array_priority__ = 1000

    def __init__(self, data=None, requires_grad=False, dtype=None):
        if data is None:
            data = np.empty(0, np.float32)
        self._array = _to_array(data, dtype)
        if requires_grad:
            self.requires_grad_(True)

    _wrap = staticmethod(_core.wrap)

    # ----------------------------------------------------------- attributes
    @property
    def dtype(self):
        return self._array.dtype

    @property
    def device(self):
        from .device import cpu
        return cpu

    @property
    def is_cuda(self):
        return False

    @property
    def layout(self):
        return "strided"

    @property
    def T(self):
        return self.permute(*reversed(range(self._array.ndim)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def size(self, dim=None):
        if dim is None:
            return Size(self._array.shape)
        return self._array.shape[dim]

    def stride(self, dim=None):
        st = tuple(s // self._array.itemsize for s in self._array.strides)
        return st if dim is None else st[dim]

    def is_contiguous(self, memory_format=None):
        return bool(self._array.flags.c_contiguous)

    def is_floating_point(self):
        return self._array.dtype.kind == "f"

    def data_ptr(self):
        return self._array.ctypes.data

    def __len__(self):
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __repr__(self):
        a = self._array
        body = np.array2string(a, separator=", ", prefix="tensor(")
        extra = ""
        if a.dtype != float32 and not (a.dtype == int64 and a.size > 0) and a.dtype != bool_:
            extra += f", dtype=fastnn.{a.dtype}"
        if self._grad_fn is not None:
            extra += f", grad_fn={self._grad_fn!r}"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __array__(self, dtype=None, copy=None):
        a = self._array
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy ufuncs on Tensors: written into ndarray ``out=`` arguments
        (``v += t`` updates v), the arithmetic ufuncs through fastnn's ops
        (so ``ndarray * t`` records the graph), the rest on the arrays,
        wrapped as a Tensor (an error when autograd would lose a gradient)."""
        out = kwargs.get("out")
        arrays = [i._array if isinstance(i, TensorBase) else i for i in inputs]
        if out:
            if not all(isinstance(o, np.ndarray) for o in out):
                return NotImplemented
            return getattr(ufunc, method)(*arrays, **kwargs)
        if method == "__call__" and not kwargs:
            op = _UFUNC_OPS.get(ufunc.__name__)
            if op is not None:
                return op(*[_operand(i) for i in inputs])
        if _grad_enabled() and any(isinstance(i, TensorBase) and i._requires_grad
                                   for i in inputs):
            raise RuntimeError(f"numpy.{ufunc.__name__} on a Tensor that requires grad would "
                               "lose its gradient; use the fastnn op or .detach() first")
        res = getattr(ufunc, method)(*arrays, **kwargs)
        if isinstance(res, tuple):
            return tuple(_core.wrap(np.asarray(r)) for r in res)
        return _core.wrap(np.asarray(res))

    def __bool__(self):
        if self._array.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._array)

    def __float__(self):
        return float(self._array.reshape(-1)[0]) if self._array.size == 1 else float(self._array)

    def __int__(self):
        return int(self._array.reshape(-1)[0]) if self._array.size == 1 else int(self._array)

    def __index__(self):
        if self._array.dtype.kind not in "iu" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._array.reshape(-1)[0])

    def __format__(self, spec):
        if self._array.size == 1 and spec:
            return format(self.item(), spec)
        return format(repr(self), spec)

    # identity hash (== compares elementwise); the C slot, no Python call
    __hash__ = object.__hash__

    def __deepcopy__(self, memo):
        new = _core.wrap(self._array.copy())
        new.__class__ = type(self)
        new._requires_grad = self._requires_grad
        if self._grad is not None:
            new._grad = _core.wrap(self._grad._array.copy())
        new.__dict__.update({k: v for k, v in self.__dict__.items()})
        memo[id(self)] = new
        return new

    def __copy__(self):
        new = _core.wrap(self._array)
        new.__class__ = type(self)
        new._requires_grad = self._requires_grad
        return new

    def __reduce_ex__(self, proto):
        # in-memory copies between processes (multiprocessing, joblib); files
        # are written by fastnn.save, which never pickles
        return (_rebuild, (type(self), self._array, self._requires_grad))

    # ------------------------------------------------------------- autograd
    def retain_grad(self):
        """Keeps the gradient of a non-leaf tensor in ``.grad`` after backward."""
        if self._grad_fn is None:
            return
        if self._grad_fn._retained is None:
            self._grad_fn._retained = {}
        self._grad_fn._retained[self._out_idx] = self

    @property
    def retains_grad(self):
        node = self._grad_fn
        return node is not None and node._retained is not None and \
            node._retained.get(self._out_idx) is self

    def register_hook(self, hook):
        """Calls ``hook(grad)`` with this tensor's gradient during backward;
        a returned Tensor replaces the gradient.  Returns a handle with
        ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node = self._grad_fn
        if node is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if node._hooks is None:
                node._hooks = {}
            hooks = node._hooks.setdefault(self._out_idx, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Calls ``hook(tensor)`` after a gradient is accumulated into this
        leaf's ``.grad``."""
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_accumulate_grad_hooks is None:
            self._post_accumulate_grad_hooks = []
        self._post_accumulate_grad_hooks.append(hook)
        return _HookHandle(self._post_accumulate_grad_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Computes the gradient of this tensor with respect to graph leaves.

        ``gradient`` (a Tensor or ndarray of this tensor's shape) may be
        omitted for a one-element tensor.  The graph is freed afterwards unless
        ``retain_graph=True``."""
        if create_graph:
            raise NotImplementedError("backward: create_graph (higher-order gradients) is not "
                                      "supported")
        if not self._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have "
                               "a grad_fn")
        a = self._array
        if gradient is None:
            if a.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs; "
                                   f"pass gradient= for an output of shape {tuple(a.shape)}")
            g = np.ones(a.shape, a.dtype)
        else:
            g = gradient._array if isinstance(gradient, TensorBase) else np.asarray(gradient)
            if g.shape != a.shape:
                raise ShapeError(f"backward: gradient has shape {tuple(g.shape)}, expected "
                                 f"{tuple(a.shape)}")
            g = np.array(g, dtype=a.dtype)
        if inputs is not None:
            from .autograd import backward
            backward([self], [g], retain_graph, inputs=inputs)
            return
        _core.run_backward((self,), (g,), bool(retain_graph))

    def detach(self):
        """The same data (shared, with the same version counter) without a graph."""
        t = _core.wrap(self._array)
        t._vc = self._vc_shared()
        t._base = self._base
        return t

    def detach_(self):
        self._grad_fn = None
        self._requires_grad = False
        return self

    def _vc_shared(self):
        self._bump(0)
        return self._vc

    def _bump(self, n=1):
        """Adds n to the version counter (creating it on first use)."""
        if self._vc is None:
            self._vc = _core._Version()
        self._vc.v += n

    # ----------------------------------------------------------- conversion
    def numpy(self, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._array

    def item(self):
        if self._array.size != 1:
            raise RuntimeError(f"a Tensor with {self._array.size} elements cannot be converted "
                               "to Scalar")
        return self._array.reshape(-1)[0].item()

    def tolist(self):
        return self._array.tolist()

    def cpu(self, memory_format=None):
        return self

    def cuda(self, *args, **kwargs):
        raise RuntimeError("fastnn runs on the CPU only (no CUDA device)")

    def to(self, *args, **kwargs):
        """``to(dtype)``, ``to("cpu")``, ``to(device, dtype)``, ``to(other)``;
        devices other than the CPU raise."""
        from .device import device as _device
        dtype = kwargs.get("dtype")
        dev = kwargs.get("device")
        for a in args:
            if isinstance(a, TensorBase):
                dtype = a._array.dtype
            elif isinstance(a, (str, _device)) and not (isinstance(a, str) and
                                                        a in _DTYPE_ALIASES):
                dev = a
            elif a is not None and not isinstance(a, bool):
                dtype = a
        if dev is not None:
            _device(dev)          # validates: 'cpu' only
        if kwargs.get("copy"):
            out = self.clone()
            return out if dtype is None else out.type(dtype)
        return self if dtype is None else self.type(dtype)

    def type(self, dtype=None):
        if dtype is None:
            return f"fastnn.{self._array.dtype}"
        dt = _resolve_dtype(dtype)
        if dt == self._array.dtype:
            return self
        return S.Cast.apply(self, dt)

    def type_as(self, other):
        return self.type(other._array.dtype)

    def float(self):
        return self.type(float32)

    def double(self):
        return self.type(float64)

    def long(self):
        return self.type(int64)

    def int(self):
        return self.type(int32)

    def bool(self):
        return self.type(bool_)

    def byte(self):
        return self.type(uint8)

    def half(self):
        raise TypeError("fastnn has no float16 dtype; use float32")

    def clone(self, memory_format=None):
        return S.Clone.apply(self)

    def contiguous(self, memory_format=None):
        if self._array.flags.c_contiguous:
            return self
        return S.Clone.apply(self)

    # ------------------------------------------------------------- in place
    def _inplace(self, compute, fast=None):
        """Runs an in-place op.  ``compute(t)`` returns the new value as a
        Tensor, computed out of place from ``t`` (this tensor's current value)
        by the ordinary ops; ``fast(a)`` (optional) writes it straight into
        ndarray ``a`` when autograd records nothing."""
        a = self._array
        if not a.flags.writeable:
            raise RuntimeError("in-place operation on a read-only tensor")
        if not _grad_enabled():
            if fast is not None:
                fast(a)
            else:
                self._assign(compute(self)._array)
            self._bump()
            return self
        if self._requires_grad and self._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        base = self._base
        if base is not None and base._requires_grad:
            raise RuntimeError("an in-place operation on a view of a tensor that requires grad "
                               "is not supported by fastnn; use the out-of-place form")
        alias = _core.wrap(a)
        alias._vc = self._vc_shared()
        alias._grad_fn, alias._out_idx = self._grad_fn, self._out_idx
        alias._requires_grad = self._requires_grad
        res = compute(alias)
        if not res._requires_grad and fast is not None and not self._requires_grad:
            fast(a)
        else:
            self._assign(res._array)
        self._grad_fn, self._out_idx = res._grad_fn, res._out_idx
        self._requires_grad = res._requires_grad
        if res._grad_fn is not None and res._grad_fn._retained:
            res._grad_fn._retained.pop(res._out_idx, None)
        self._bump()
        return self

    def _assign(self, value):
        """Writes ``value`` (an ndarray) into this tensor's array, with
        PyTorch's checks: the shape must not change and the dtype must cast."""
        a = self._array
        if value.shape != a.shape:
            try:
                value = np.broadcast_to(value, a.shape)
            except ValueError:
                raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the "
                                   f"broadcast shape {list(value.shape)}") from None
        if value.dtype != a.dtype and not np.can_cast(value.dtype, a.dtype, "same_kind") \
                and not (a.dtype.kind in "iu" and value.dtype.kind in "iub"):
            raise RuntimeError(f"result type {value.dtype} can't be cast to the desired "
                               f"output type {a.dtype}")
        np.copyto(a, value, casting="unsafe")

    def add_(self, other, *, alpha=1):
        o = _operand(other)
        if alpha != 1:
            o = o * alpha
        return self._inplace(lambda t: t + o, _ufunc_into(np.add, o))

    def sub_(self, other, *, alpha=1):
        o = _operand(other)
        if alpha != 1:
            o = o * alpha
        return self._inplace(lambda t: t - o, _ufunc_into(np.subtract, o))

    def mul_(self, other):
        o = _operand(other)
        return self._inplace(lambda t: t * o, _ufunc_into(np.multiply, o))

    def div_(self, other, *, rounding_mode=None):
        o = _operand(other)
        if rounding_mode is not None:
            return self._inplace(lambda t: t.div(o, rounding_mode=rounding_mode))
        return self._inplace(lambda t: t / o, _ufunc_into(np.true_divide, o))

    def pow_(self, exponent):
        o = _operand(exponent)
        return self._inplace(lambda t: t ** o, _ufunc_into(np.power, o))

    def neg_(self):
        return self._inplace(lambda t: -t, lambda a: np.negative(a, out=a))

    def abs_(self):
        return self._inplace(lambda t: t.abs(), lambda a: np.abs(a, out=a))

    def exp_(self):
        return self._inplace(lambda t: t.exp())

    def log_(self):
        return self._inplace(lambda t: t.log())

    def sqrt_(self):
        return self._inplace(lambda t: t.sqrt())

    def relu_(self):
        return self._inplace(lambda t: t.relu(), lambda a: np.maximum(a, 0, out=a))

    def sigmoid_(self):
        return self._inplace(lambda t: t.sigmoid())

    def tanh_(self):
        return self._inplace(lambda t: t.tanh())

    def clamp_(self, min=None, max=None):
        return self._inplace(lambda t: t.clamp(min, max))

    clip_ = clamp_

    def clamp_min_(self, min):
        return self.clamp_(min=min)

    def clamp_max_(self, max):
        return self.clamp_(max=max)

    def zero_(self):
        return self._inplace(lambda t: _core.wrap(np.zeros_like(t._array)),
                             lambda a: a.fill(0))

    def fill_(self, value):
        v = value.item() if isinstance(value, TensorBase) else value
        return self._inplace(lambda t: _core.wrap(np.full_like(t._array, v)),
                             lambda a: a.fill(v))

    def copy_(self, src, non_blocking=False):
        """Copies ``src`` (broadcast, cast) into this tensor; under autograd
        the gradient flows to ``src``."""
        s = _operand(src)
        if isinstance(s, numbers.Number):
            return self.fill_(s)

        def compute(t):
            v = s if s._array.dtype == t._array.dtype else s.type(t._array.dtype)
            return v.expand(t._array.shape) if v._array.shape != t._array.shape else v + 0

        return self._inplace(compute, lambda a: self._assign(s._array))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        rng = _numpy_generator(generator)
        return self._inplace(lambda t: _core.wrap(
            rng.normal(mean, std, t._array.shape).astype(t._array.dtype)))

    def uniform_(self, from_=0.0, to=1.0, *, generator=None):
        rng = _numpy_generator(generator)
        return self._inplace(lambda t: _core.wrap(
            rng.uniform(from_, to, t._array.shape).astype(t._array.dtype)))

    def addcmul_(self, tensor1, tensor2, *, value=1):
        t1, t2 = _operand(tensor1), _operand(tensor2)
        return self._inplace(lambda t: t + (t1 * t2) * value)

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        t1, t2 = _operand(tensor1), _operand(tensor2)
        return self._inplace(lambda t: t + (t1 / t2) * value)

    def lerp_(self, end, weight):
        e, w = _operand(end), _operand(weight)
        return self._inplace(lambda t: t + w * (e - t))

    def masked_fill_(self, mask, value):
        return self._inplace(lambda t: t.masked_fill(mask, value))

    def __iadd__(self, o):
        return self.add_(o)

    def __isub__(self, o):
        return self.sub_(o)

    def __imul__(self, o):
        return self.mul_(o)

    def __itruediv__(self, o):
        return self.div_(o)

    def __setitem__(self, index, value):
        idx = _index(index)
        v = _operand(value)
        if isinstance(v, TensorBase) and v._array.dtype != self._array.dtype:
            v = v.type(self._array.dtype)

        def fast(a):
            a[idx] = v._array if isinstance(v, TensorBase) else v

        self._inplace(lambda t: S.IndexPut.apply(t, v, idx), fast)

    # ----------------------------------------------------------- arithmetic
    def __add__(self, o):
        return E.Add.apply(self, _operand(o))

    def __radd__(self, o):
        return E.Add.apply(_operand(o), self)

    def __sub__(self, o):
        return E.Sub.apply(self, _operand(o))

    def __rsub__(self, o):
        return E.Sub.apply(_operand(o), self)

    def __mul__(self, o):
        return E.Mul.apply(self, _operand(o))

    def __rmul__(self, o):
        return E.Mul.apply(_operand(o), self)

    def __truediv__(self, o):
        return E.Div.apply(self, _operand(o))

    def __rtruediv__(self, o):
        return E.Div.apply(_operand(o), self)

    def __pow__(self, o):
        return E.Pow.apply(self, _operand(o))

    def __rpow__(self, o):
        return E.Pow.apply(_operand(o), self)

    def __neg__(self):
        return E.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    def __matmul__(self, o):
        return L.MatMul.apply(self, _operand(o))

    def __rmatmul__(self, o):
        return L.MatMul.apply(_operand(o), self)

    def add(self, other, *, alpha=1):
        return self + (other if alpha == 1 else _operand(other) * alpha)

    def sub(self, other, *, alpha=1):
        return self - (other if alpha == 1 else _operand(other) * alpha)

    subtract = sub

    def mul(self, o):
        return self * o

    multiply = mul

    def div(self, o, *, rounding_mode=None):
        if rounding_mode is None:
            return self / o
        q = self / o
        if rounding_mode == "trunc":
            q = _core.wrap(np.trunc(q._array))
        elif rounding_mode == "floor":
            q = _core.wrap(np.floor(q._array))
        else:
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or "
                             f"'floor' but found {rounding_mode!r}")
        if self._array.dtype.kind in "iu" and not (isinstance(o, TensorBase) and
                                                    o._array.dtype.kind == "f") \
                and not isinstance(o, builtins.float):
            q = q.type(self._array.dtype)
        return q

    divide = div
    true_divide = __truediv__

    def pow(self, o):
        return self ** o

    def neg(self):
        return -self

    negative = neg

    def matmul(self, o):
        return self @ o

    def exp(self):
        return E.Exp.apply(self)

    def log(self):
        return E.Log.apply(self)

    def abs(self):
        return E.Abs.apply(self)

    absolute = abs

    def sqrt(self):
        return E.Sqrt.apply(self)

    def relu(self):
        return E.Relu.apply(self)

    def sigmoid(self):
        return E.Sigmoid.apply(self)

    def tanh(self):
        return E.Tanh.apply(self)

    def softmax(self, dim, dtype=None):
        from .nn import functional as F
        return F.softmax(self if dtype is None else self.type(dtype), dim)

    def log_softmax(self, dim, dtype=None):
        from .nn import functional as F
        return F.log_softmax(self if dtype is None else self.type(dtype), dim)

    # ------------------------------------------------------------- compare
    def _cmp(self, ufunc, o):
        return _core.wrap(np.asarray(ufunc(self._array, o._array if isinstance(o, TensorBase)
                                           else o)))

    def __eq__(self, o):
        return self._cmp(np.equal, o)

    def __ne__(self, o):
        return self._cmp(np.not_equal, o)

    def __lt__(self, o):
        return self._cmp(np.less, o)

    def __le__(self, o):
        return self._cmp(np.less_equal, o)

    def __gt__(self, o):
        return self._cmp(np.greater, o)

    def __ge__(self, o):
        return self._cmp(np.greater_equal, o)

    def eq(self, o):
        return self == o

    def ne(self, o):
        return self != o

    def lt(self, o):
        return self < o

    def le(self, o):
        return self <= o

    def gt(self, o):
        return self > o

    def ge(self, o):
        return self >= o

    # ----------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, dtype=None, **np_kw):
        dim, keepdim = _np_aliases(dim, keepdim, np_kw)
        x = self if dtype is None else self.type(dtype)
        return R.Sum.apply(x, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None, **np_kw):
        dim, keepdim = _np_aliases(dim, keepdim, np_kw)
        x = self if dtype is None else self.type(dtype)
        if x._array.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be "
                               f"either a floating point or complex dtype. Got: "
                               f"{x._array.dtype}")
        return R.Mean.apply(x, dim=dim, keepdim=keepdim)

    def max(self, dim=None, keepdim=False, **np_kw):
        dim, keepdim = _np_aliases(dim, keepdim, np_kw)
        return R.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False, **np_kw):
        dim, keepdim = _np_aliases(dim, keepdim, np_kw)
        return R.min(self, dim, keepdim)

    def all(self, dim=None, keepdim=False, **np_kw):
        dim, keepdim = _np_aliases(dim, keepdim, np_kw)
        return _core.wrap(np.asarray(np.all(self._array, axis=dim, keepdims=keepdim)))

    def any(self, dim=None, keepdim=False, **np_kw):
        dim, keepdim = _np_aliases(dim, keepdim, np_kw)
        return _core.wrap(np.asarray(np.any(self._array, axis=dim, keepdims=keepdim)))

    def argmax(self, dim=None, keepdim=False, **np_kw):
        dim, keepdim = _np_aliases(dim, keepdim, np_kw)
        if dim is None:
            return _core.wrap(np.asarray(np.argmax(self._array), dtype=np.int64))
        return _core.wrap(np.argmax(self._array, axis=dim, keepdims=keepdim).astype(np.int64))

    def argmin(self, dim=None, keepdim=False, **np_kw):
        dim, keepdim = _np_aliases(dim, keepdim, np_kw)
        if dim is None:
            return _core.wrap(np.asarray(np.argmin(self._array), dtype=np.int64))
        return _core.wrap(np.argmin(self._array, axis=dim, keepdims=keepdim).astype(np.int64))

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        for s in shape:
            if type(s) is not int:
                shape = tuple([int(s) for s in shape])
                break
        return S.Reshape.apply(self, shape)

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)) and \
                not isinstance(shape[0], np.integer):
            return self.type(shape[0])        # view(dtype): a reinterpretation in PyTorch
        return self.reshape(*shape)

    def view_as(self, other):
        return self.reshape(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        nd = self._array.ndim
        if nd == 0:
            return self.reshape(1)
        s = start_dim % nd
        e = end_dim % nd
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shp = self._array.shape
        n = 1
        for d in shp[s:e + 1]:
            n *= d
        return S.Reshape.apply(self, shp[:s] + (n,) + shp[e + 1:])

    def transpose(self, dim0, dim1):
        nd = self._array.ndim
        perm = list(range(nd))
        d0 = dim0 % _bmax(nd, 1)
        d1 = dim1 % _bmax(nd, 1)
        perm[d0], perm[d1] = perm[d1], perm[d0]
        return self.permute(*perm)

    swapaxes = transpose
    swapdims = transpose

    def t(self):
        if self._array.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self._array.ndim}D")
        return self.transpose(0, 1) if self._array.ndim == 2 else self

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return S.Permute.apply(self, dims)

    def unsqueeze(self, dim):
        nd = self._array.ndim
        d = dim if dim >= 0 else dim + nd + 1
        if not 0 <= d <= nd:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-nd - 1}, {nd}], but got {dim})")
        shp = self._array.shape
        return self.reshape(shp[:d] + (1,) + shp[d:])

    def squeeze(self, dim=None):
        shp = self._array.shape
        if dim is None:
            return self.reshape(tuple(s for s in shp if s != 1))
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        nd = _bmax(len(shp), 1)
        drop = {d % nd for d in dims if len(shp) and shp[d % nd] == 1}
        if not drop:
            return self
        return self.reshape(tuple(s for i, s in enumerate(shp) if i not in drop))

    def expand(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        nd = self._array.ndim
        lead = len(shape) - nd
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes provided ({len(shape)}) must be "
                               f"greater or equal to the number of dimensions in the tensor "
                               f"({nd})")
        shape = tuple(int(s) if s != -1 else self._array.shape[i - lead]
                      for i, s in enumerate(shape))
        return S.Expand.apply(self, shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def __getitem__(self, index):
        return S.GetItem.apply(self, _index(index))

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._array.shape[0]):
            yield self[i]

    def __contains__(self, item):
        v = item._array if isinstance(item, TensorBase) else item
        return bool((self._array == v).any())


_UFUNC_OPS = {
    "add": lambda a, b: a + b, "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b, "true_divide": lambda a, b: a / b,
    "power": lambda a, b: a ** b, "matmul": lambda a, b: a @ b,
    "negative": lambda a: -a, "exp": lambda a: a.exp(), "log": lambda a: a.log(),
    "sqrt": lambda a: a.sqrt(), "absolute": lambda a: a.abs(), "tanh": lambda a: a.tanh(),
    "equal": lambda a, b: a == b, "not_equal": lambda a, b: a != b,
    "less": lambda a, b: a < b, "less_equal": lambda a, b: a <= b,
    "greater": lambda a, b: a > b, "greater_equal": lambda a, b: a >= b,
}


def _rebuild(cls, array, requires_grad):
    t = _core.wrap(array)
    t.__class__ = cls
    t._requires_grad = requires_grad
    return t


class _HookHandle:
    """``handle.remove()`` takes a registered hook out again."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _np_aliases(dim, keepdim, kw):
    """PyTorch's NumPy-style aliases: ``axis`` for dim, ``keepdims`` for
    keepdim (NumPy's reductions call methods with them, and ``out=None``)."""
    if kw:
        if "axis" in kw:
            dim = kw.pop("axis")
        if "keepdims" in kw:
            keepdim = bool(kw.pop("keepdims"))
        if kw.pop("out", None) is not None or kw:
            raise TypeError(f"unexpected keyword arguments {sorted(kw) or ['out']}")
    return dim, keepdim


def _ufunc_into(ufunc, o):
    """``a = ufunc(a, o)`` in place on ndarray a (o a number or a Tensor)."""
    ov = o._array if isinstance(o, TensorBase) else o

    def run(a):
        ufunc(a, ov, out=a, casting="same_kind" if a.dtype.kind != "f" else "unsafe")
    return run


def _operand(o):
    if isinstance(o, (TensorBase, numbers.Number)):
        return o
    if isinstance(o, np.ndarray):
        return _core.wrap(o)
    if isinstance(o, np.generic):
        return o.item()
    return Tensor(o)


def _index(index):
    if isinstance(index, TensorBase):
        return index._array
    if isinstance(index, tuple):
        return tuple(i._array if isinstance(i, TensorBase) else i for i in index)
    if isinstance(index, list) and any(isinstance(i, TensorBase) for i in index):
        return [i._array if isinstance(i, TensorBase) else i for i in index]
    return index


# ------------------------------------------------------------------ factories
def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new Tensor holding a copy of ``data`` (float32 for Python floats,
    int64 for Python ints; an ndarray keeps its dtype where fastnn supports
    it, as ``torch.tensor`` does)."""
    if device is not None:
        from .device import device as _device
        _device(device)
    t = _core.wrap(_to_array(data, dtype, copy=True, keep_ints=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None):
    """A Tensor sharing memory with ``data`` when it already is an ndarray
    or Tensor of the right dtype."""
    if isinstance(data, TensorBase) and (dtype is None or
                                         _resolve_dtype(dtype) == data._array.dtype):
        return data
    return _core.wrap(_to_array(data, dtype, keep_ints=True))


def from_numpy(a):
    """A Tensor sharing memory with ndarray ``a`` (its dtype is kept when fastnn
    supports it)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    if a.dtype not in _SUPPORTED:
        raise TypeError(f"can't convert np.ndarray of type {a.dtype}. The only supported "
                        "types are: float64, float32, int64, int32, int16, int8, uint8, and bool.")
    return _core.wrap(a)


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if isinstance(s, TensorBase):
            s = s.item()
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"invalid shape {shape}: sizes must be non-negative ints")
    return tuple(int(s) for s in shape)


def _factory(arr, requires_grad):
    t = _core.wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*shape, dtype=None, device=None, requires_grad=False, out=None):
    """A tensor of zeros (float32 unless ``dtype``)."""
    return _factory(np.zeros(_shape_args(shape), _resolve_dtype(dtype) or float32), requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False, out=None):
    """A tensor of ones (float32 unless ``dtype``)."""
    return _factory(np.ones(_shape_args(shape), _resolve_dtype(dtype) or float32), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor filled with ``fill_value`` (its dtype follows the value, as
    PyTorch's: bool, int64 or float32)."""
    if dtype is None:
        dtype = bool_ if isinstance(fill_value, bool) else (
            int64 if isinstance(fill_value, (int, np.integer)) else float32)
    return _factory(np.full(_shape_args((size,)), fill_value, _resolve_dtype(dtype)),
                    requires_grad)


def empty(*shape, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _factory(np.empty(_shape_args(shape), _resolve_dtype(dtype) or float32), requires_grad)


def _rng(generator):
    return _numpy_generator(generator)


def randn(*shape, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal samples from fastnn's generator (``manual_seed``)."""
    dt = _resolve_dtype(dtype) or float32
    arr = _rng(generator).standard_normal(_shape_args(shape)).astype(dt)
    return _factory(arr, requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform [0, 1) samples from fastnn's generator."""
    dt = _resolve_dtype(dtype) or float32
    return _factory(_rng(generator).random(_shape_args(shape)).astype(dt), requires_grad)


def randint(low, high=None, size=None, *, dtype=None, device=None, generator=None,
            requires_grad=False):
    """Integers in [low, high) (``randint(high, size)`` also works), int64."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    dt = _resolve_dtype(dtype) or int64
    return _core.wrap(_rng(generator).integers(low, high, size=_shape_args((size,))).astype(dt))


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from start to end (exclusive) by step: int64 when every bound is
    an int, else float32."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, TensorBase) else v for v in (start, end, step)]
    ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals)
    dt = _resolve_dtype(dtype) or (int64 if ints else float32)
    if ints:
        arr = np.arange(*vals, dtype=np.int64)
    else:
        s, e, st = (builtins.float(v) for v in vals)
        n = _bmax(int(np.ceil((e - s) / st)), 0)
        arr = s + np.arange(n, dtype=np.float64) * st
    return _factory(arr.astype(dt), requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _factory(np.zeros(np.shape(_arr(t)), _resolve_dtype(dtype) or _arr(t).dtype),
                    requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _factory(np.ones(np.shape(_arr(t)), _resolve_dtype(dtype) or _arr(t).dtype),
                    requires_grad)


def _arr(t):
    return t._array if isinstance(t, TensorBase) else np.asarray(t)


def matmul(a, b):
    """Matrix product with NumPy/PyTorch ``matmul`` semantics through fnn_gemm."""
    return L.MatMul.apply(_operand(a), _operand(b))


def cat(tensors, dim=0, *, out=None):
    """Concatenates tensors along an existing dim."""
    return S.Cat.apply(*[_operand(t) for t in tensors], dim=dim)


concat = cat
concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Stacks tensors along a new dim."""
    return S.Stack.apply(*[_operand(t) for t in tensors], dim=dim)


def _unary(method):
    def f(x, *args, **kwargs):
        return getattr(_operand(x), method)(*args, **kwargs)
    f.__name__ = method
    f.__doc__ = f"Functional form of ``Tensor.{method}``."
    return f


exp = _unary("exp")
log = _unary("log")
abs = _unary("abs")
sqrt = _unary("sqrt")
relu = _unary("relu")
sigmoid = _unary("sigmoid")
tanh = _unary("tanh")
sum = _unary("sum")
mean = _unary("mean")
max = _unary("max")
min = _unary("min")
argmax = _unary("argmax")
argmin = _unary("argmin")
reshape = _unary("reshape")
flatten = _unary("flatten")
transpose = _unary("transpose")
permute = _unary("permute")
unsqueeze = _unary("unsqueeze")
squeeze = _unary("squeeze")
