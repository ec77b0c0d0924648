"""``Tensor``: an ndarray with a gradient and a place in the autograd graph.

``Tensor.data`` is the ``numpy.ndarray`` itself (zero-copy); ``.grad`` is an
ndarray of the same shape once a backward has reached the tensor.  Every
differentiable method is an ``autograd.Function`` from ``fastnn.ops``.
"""
import builtins
import numbers

import numpy as np

from . import _config
from ._errors import ShapeError
from .autograd import engine, grad_mode
from .ops import elementwise as E
from .ops import linalg as L
from .ops import reduction as R
from .ops import shape as S

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)

_DTYPE_ALIASES = {"float": float32, "float32": float32, "float64": float64, "double": float64,
                  "long": int64, "int64": int64, "int": int64, "bool": np.dtype(bool)}


def _resolve_dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in _DTYPE_ALIASES:
        return _DTYPE_ALIASES[dtype]
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"tensor: unsupported dtype {dtype!r}") from None
    if dt.kind not in "fiub":
        raise TypeError(f"tensor: unsupported dtype {dt}; fastnn supports float32, float64, "
                        "int64 and bool")
    return dt


def _to_array(data, dtype=None, copy=False):
    """The ndarray behind new Tensor data, with fastnn's dtype rules."""
    if isinstance(data, Tensor):
        data = data.data
    dt = _resolve_dtype(dtype)
    is_nd = isinstance(data, np.ndarray)
    arr = data if is_nd else np.asarray(data)
    k = arr.dtype.kind
    if k in "cUSOVMm":
        raise TypeError(f"tensor: unsupported data of dtype {arr.dtype} "
                        f"({type(data).__name__}); fastnn holds float, integer or bool data")
    if dt is None:
        if k == "f":
            dt = arr.dtype if (is_nd and arr.dtype == float64) else float32
        elif k in "iu":
            dt = int64
        else:
            dt = arr.dtype
    if arr.dtype != dt or (copy and arr is data):
        arr = np.array(arr, dtype=dt, copy=True)
    return arr


_new = object.__new__
_bmax = builtins.max


class Tensor:
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
    array([[2., 4.]], dtype=float32)
    """

    __slots__ = ("data", "__weakref__", "__dict__")
    __array_priority__ = 1000
    # Defaults on the class: a new graph output sets only what differs.
    grad = None
    requires_grad = False
    _grad_fn = None
    _out_idx = 0
    _post_accumulate_grad_hooks = None

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _to_array(data, dtype)
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, arr):
        t = _new(Tensor)
        t.data = arr if type(arr) is np.ndarray else np.asarray(arr)
        return t

    # ----------------------------------------------------------- attributes
    @property
    def _array(self):
        """The ndarray behind this Tensor (internal code uses this, never
        ``.data``, which becomes a Tensor as in PyTorch)."""
        return self.data

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return "cpu"

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim=None):
        if dim is None:
            return self.data.shape
        return self.data.shape[dim]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return int(self.data.size)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != float32:
            extra += f", dtype={self.data.dtype}"
        if self._grad_fn is not None:
            extra += f", grad_fn={self._grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __index__(self):
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.data)

    # identity hash (== compares elementwise); the C slot, no Python call
    __hash__ = object.__hash__

    # ------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients, "
                               f"got {self.data.dtype}")
        if not requires_grad and self._grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keeps the gradient of a non-leaf tensor in ``.grad`` after backward."""
        if self._grad_fn is None:
            return
        if self._grad_fn._retained is None:
            self._grad_fn._retained = {}
        self._grad_fn._retained[self._out_idx] = self

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Computes the gradient of this tensor with respect to graph leaves.

        ``gradient`` (a Tensor or ndarray of this tensor's shape) may be
        omitted for a one-element tensor.  The graph is freed afterwards unless
        ``retain_graph=True``."""
        if create_graph:
            raise NotImplementedError("backward: create_graph (higher-order gradients) is not supported")
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs; "
                                   f"pass gradient= for an output of shape {tuple(self.shape)}")
            g = np.ones(self.data.shape, self.data.dtype)
        else:
            g = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
            if g.shape != self.data.shape:
                raise ShapeError(f"backward: gradient has shape {tuple(g.shape)}, expected "
                                 f"{tuple(self.data.shape)}")
            g = np.array(g, dtype=self.data.dtype)
        engine.run_backward(self, g, bool(retain_graph))

    def detach(self):
        """The same data (shared) without a graph."""
        return Tensor._wrap(self.data)

    def detach_(self):
        self._grad_fn = None
        self.requires_grad = False
        return self

    # ----------------------------------------------------------- conversion
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to Python "
                             f"scalars, got shape {tuple(self.shape)}")
        return self.data.reshape(-1)[0].item()

    def tolist(self):
        return self.data.tolist()

    def cpu(self):
        return self

    def to(self, *args, **kwargs):
        dtype = kwargs.get("dtype")
        for a in args:
            if not isinstance(a, str) or a in _DTYPE_ALIASES:
                dtype = a
        return self if dtype is None else self.type(dtype)

    def type(self, dtype):
        dt = _resolve_dtype(dtype)
        if dt == self.data.dtype:
            return self
        return S.Cast.apply(self, dt)

    def float(self):
        return self.type(float32)

    def double(self):
        return self.type(float64)

    def long(self):
        return self.type(int64)

    def clone(self):
        return S.Clone.apply(self)

    def copy_(self, src):
        """Copies src into this tensor's data in place (no gradient)."""
        self.data[...] = src.data if isinstance(src, Tensor) else src
        return self

    def zero_(self):
        self.data[...] = 0
        return self

    def fill_(self, value):
        self.data[...] = value
        return self

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

    def __matmul__(self, o):
        return L.MatMul.apply(self, _operand(o))

    def __rmatmul__(self, o):
        return L.MatMul.apply(_operand(o), self)

    def __iadd__(self, o):
        return self._inplace(np.add, o)

    def __isub__(self, o):
        return self._inplace(np.subtract, o)

    def __imul__(self, o):
        return self._inplace(np.multiply, o)

    def __itruediv__(self, o):
        return self._inplace(np.true_divide, o)

    def _inplace(self, ufunc, o):
        if grad_mode.mode.enabled and (self.requires_grad or
                                       (isinstance(o, Tensor) and o.requires_grad)):
            raise RuntimeError("in-place operations on tensors that require grad are not "
                               "supported; use out-of-place arithmetic or fastnn.no_grad()")
        ufunc(self.data, o.data if isinstance(o, Tensor) else o, out=self.data, casting="unsafe")
        return self

    def add(self, o):
        return self + o

    def sub(self, o):
        return self - o

    def mul(self, o):
        return self * o

    def div(self, o):
        return self / o

    def pow(self, o):
        return self ** o

    def neg(self):
        return -self

    def matmul(self, o):
        return self @ o

    def mm(self, o):
        return self @ o

    def exp(self):
        return E.Exp.apply(self)

    def log(self):
        return E.Log.apply(self)

    def abs(self):
        return E.Abs.apply(self)

    def sqrt(self):
        return E.Sqrt.apply(self)

    def relu(self):
        return E.Relu.apply(self)

    def sigmoid(self):
        return E.Sigmoid.apply(self)

    def tanh(self):
        return E.Tanh.apply(self)

    def softmax(self, dim):
        from .nn import functional as F
        return F.softmax(self, dim)

    def log_softmax(self, dim):
        from .nn import functional as F
        return F.log_softmax(self, dim)

    # ------------------------------------------------------------- compare
    def _cmp(self, ufunc, o):
        return Tensor._wrap(np.asarray(ufunc(self.data, o.data if isinstance(o, Tensor) else o)))

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

    # ----------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False):
        return R.Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        if self.data.dtype.kind != "f":
            raise TypeError(f"mean: input dtype should be floating point, got {self.data.dtype}")
        return R.Mean.apply(self, dim=dim, keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        return R.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return R.min(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        if dim is None:
            return Tensor._wrap(np.asarray(np.argmax(self.data), dtype=np.int64))
        return Tensor._wrap(np.argmax(self.data, axis=dim, keepdims=keepdim).astype(np.int64))

    def argmin(self, dim=None, keepdim=False):
        if dim is None:
            return Tensor._wrap(np.asarray(np.argmin(self.data), dtype=np.int64))
        return Tensor._wrap(np.argmin(self.data, axis=dim, keepdims=keepdim).astype(np.int64))

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        for s in shape:
            if type(s) is not int:
                shape = tuple([int(s) for s in shape])
                break
        return S.Reshape.apply(self, shape)

    view = reshape

    def view_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        nd = self.ndim
        if nd == 0:
            return self.reshape(1)
        s = start_dim % nd
        e = end_dim % nd
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shp = self.data.shape
        n = 1
        for d in shp[s:e + 1]:
            n *= d
        return S.Reshape.apply(self, shp[:s] + (n,) + shp[e + 1:])

    def transpose(self, dim0, dim1):
        nd = self.ndim
        perm = list(range(nd))
        d0 = dim0 % _bmax(nd, 1)
        d1 = dim1 % _bmax(nd, 1)
        perm[d0], perm[d1] = perm[d1], perm[d0]
        return self.permute(*perm)

    def t(self):
        return self.transpose(0, 1) if self.ndim == 2 else self

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return S.Permute.apply(self, dims)

    def unsqueeze(self, dim):
        d = dim if dim >= 0 else dim + self.ndim + 1
        if not 0 <= d <= self.ndim:
            raise IndexError(f"unsqueeze: dim {dim} out of range for {self.ndim} dimensions")
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        d = dim % _bmax(self.ndim, 1)
        if self.ndim == 0 or self.shape[d] != 1:
            return self
        return self.reshape(self.shape[:d] + self.shape[d + 1:])

    def expand(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = tuple(s if s != -1 else self.shape[i - len(shape) + self.ndim]
                      for i, s in enumerate(shape))
        return self + Tensor._wrap(np.zeros(shape, self.dtype))

    def contiguous(self):
        return self

    def __getitem__(self, index):
        return S.GetItem.apply(self, _index(index))

    def __setitem__(self, index, value):
        if grad_mode.mode.enabled and self.requires_grad:
            raise RuntimeError("in-place assignment to a tensor that requires grad is not supported")
        self.data[_index(index)] = value.data if isinstance(value, Tensor) else value

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


engine._install(Tensor)


def _operand(o):
    if isinstance(o, (Tensor, numbers.Number)):
        return o
    if isinstance(o, np.ndarray):
        return Tensor._wrap(o)
    return Tensor(o)


def _index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


# ------------------------------------------------------------------ factories
def tensor(data, dtype=None, requires_grad=False):
    """A new Tensor holding a copy of ``data`` (float32 by default; float64
    ndarrays stay float64; integers become int64)."""
    t = Tensor._wrap(_to_array(data, dtype, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(a):
    """A Tensor sharing memory with ndarray ``a`` (its dtype is kept when fastnn
    supports it)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected numpy.ndarray, got {type(a).__name__}")
    if a.dtype.kind not in "fiub":
        raise TypeError(f"from_numpy: unsupported dtype {a.dtype}")
    return Tensor._wrap(a)


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"invalid shape {shape}: sizes must be non-negative ints")
    return tuple(int(s) for s in shape)


def _factory(arr, requires_grad):
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*shape, dtype=None, requires_grad=False):
    """A tensor of zeros (float32 unless ``dtype``)."""
    return _factory(np.zeros(_shape_args(shape), _resolve_dtype(dtype) or float32), requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    """A tensor of ones (float32 unless ``dtype``)."""
    return _factory(np.ones(_shape_args(shape), _resolve_dtype(dtype) or float32), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    return _factory(np.full(_shape_args((shape,)), fill_value, _resolve_dtype(dtype) or float32),
                    requires_grad)


def empty(*shape, dtype=None, requires_grad=False):
    return _factory(np.empty(_shape_args(shape), _resolve_dtype(dtype) or float32), requires_grad)


def randn(*shape, dtype=None, requires_grad=False):
    """Standard normal samples from fastnn's generator (``manual_seed``)."""
    dt = _resolve_dtype(dtype) or float32
    arr = _config.rng().standard_normal(_shape_args(shape)).astype(dt)
    return _factory(arr, requires_grad)


def rand(*shape, dtype=None, requires_grad=False):
    """Uniform [0, 1) samples from fastnn's generator."""
    dt = _resolve_dtype(dtype) or float32
    return _factory(_config.rng().random(_shape_args(shape)).astype(dt), requires_grad)


def randint(low, high=None, size=None):
    if high is None:
        low, high = 0, low
    return Tensor._wrap(_config.rng().integers(low, high, size=_shape_args((size,))).astype(np.int64))


def arange(*args, dtype=None):
    arr = np.arange(*args)
    return Tensor._wrap(_to_array(arr, dtype))


def zeros_like(t, dtype=None, requires_grad=False):
    return _factory(np.zeros(t.shape, _resolve_dtype(dtype) or t.dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return _factory(np.ones(t.shape, _resolve_dtype(dtype) or t.dtype), requires_grad)


def matmul(a, b):
    """Matrix product with NumPy/PyTorch ``matmul`` semantics through fnn_gemm."""
    return L.MatMul.apply(_operand(a), _operand(b))


def cat(tensors, dim=0):
    """Concatenates tensors along an existing dim."""
    return S.Cat.apply(*[_operand(t) for t in tensors], dim=dim)


def stack(tensors, dim=0):
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
reshape = _unary("reshape")
flatten = _unary("flatten")
transpose = _unary("transpose")
permute = _unary("permute")
unsqueeze = _unary("unsqueeze")
squeeze = _unary("squeeze")
