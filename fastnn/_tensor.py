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
import itertools
import numbers
import warnings

import numpy as np

from . import _config, _core
from ._core import Size, TensorBase
from ._errors import ShapeError
from .random import _numpy_generator
from .ops import _common as _promote
from .ops import elementwise as E
from .ops import indexing as I
from .ops import linalg as L
from .ops import linalg_expm as Le     # dense linear algebra (torch.linalg)
from .ops import linalg_lu as Llu
from .ops import linalg_func as Lf
from .ops import linalg_solve as Ls
from .ops import pointwise as P
from .ops import reduction as R
from .ops import shape as S
from .ops import sorting as So
from .ops import misc as Mi            # torch.* maths (apimath): misc, stats, special
from .ops import special_math as Sp
from .ops import stats as St
from .ops import arrange as Ar         # torch.* maths gaps (mathgaps): rearranging, scans,
from .ops import pointwise_more as Pm  # more pointwise maths, statistics, scatters,
from .ops import scan as Sc            # strided views and memory
from .ops import scatter_more as Sx
from .ops import stats_more as Sm
from .ops import strided as Sd
from .ops._util import normalize_dim as _normalize_dim
from ._settings_api import format_body as _format_body   # set_printoptions
from .autograd import anomaly_mode as _anomaly
from ._dtype import of as _dtype_of
from . import _defaults

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
                  "short": int16, "int8": int8, "uint8": uint8, "bool": bool_,
                  "FloatTensor": float32, "DoubleTensor": float64, "LongTensor": int64,
                  "IntTensor": int32, "ShortTensor": int16, "CharTensor": int8,
                  "ByteTensor": uint8, "BoolTensor": bool_}
_SUPPORTED = frozenset([float32, float64, int64, int32, int16, int8, uint8, bool_])
_DTYPES = {d: _dtype_of(d) for d in _SUPPORTED}      # NumPy dtype -> fastnn.dtype


def _resolve_dtype(dtype):
    """A fastnn dtype (a numpy dtype of the supported set) from a dtype-like."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        key = dtype[6:] if dtype.startswith("torch.") else dtype
        if key in _DTYPE_ALIASES:
            return _DTYPE_ALIASES[key]
    if dtype is builtins.float:          # (Python's float is torch.float64, whatever the default)
        return float64
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


_LEGACY_NAMES = {float32: "FloatTensor", float64: "DoubleTensor", int64: "LongTensor",
                 int32: "IntTensor", int16: "ShortTensor", int8: "CharTensor",
                 uint8: "ByteTensor", bool_: "BoolTensor"}


def _legacy_type_name(dt):
    """PyTorch's ``Tensor.type()`` string for a dtype: ``'torch.FloatTensor'``."""
    return "torch." + _LEGACY_NAMES[dt]


def _root_grad(g, a):
    """A backward root's gradient as the engine takes it: the caller's array
    itself when it is C-contiguous in ``a``'s dtype (else a converted copy),
    behind a read-only view.  No copy of a large gradient is made, and
    nothing downstream can write into the caller's array: the engine sums
    in place only into writeable arrays it alone holds."""
    g = np.asarray(g, dtype=a.dtype, order="C").view()
    g.flags.writeable = False
    return g


def _to_array(data, dtype=None, copy=False, keep_ints=False):
    """The ndarray behind new Tensor data, with fastnn's dtype rules: floats
    become the default dtype unless they are a float32/float64 ndarray or
    NumPy scalar, Python ints int64,
    integer ndarrays int64 (or their own supported dtype with keep_ints)."""
    if isinstance(data, TensorBase):
        data = data._array
    dt = _resolve_dtype(dtype)
    is_nd = isinstance(data, (np.ndarray, np.generic))  # a NumPy scalar keeps its dtype too
    if not is_nd and isinstance(data, (list, tuple)) and data and \
            any(isinstance(d, TensorBase) for d in data):
        data = [d._array if isinstance(d, TensorBase) else d for d in data]
    arr = data if isinstance(data, np.ndarray) else np.asarray(data)
    k = arr.dtype.kind
    if k in "cUSOVMm":
        raise TypeError(f"tensor: unsupported data of dtype {arr.dtype} "
                        f"({type(data).__name__}); fastnn holds float, integer or bool data")
    if dt is None:
        if k == "f":
            dt = arr.dtype if (is_nd and (arr.dtype == float64 or arr.dtype == float32)) \
                else _defaults.FLOAT
        elif k in "iu":
            dt = arr.dtype if (keep_ints and is_nd and arr.dtype in _SUPPORTED) else int64
        else:
            dt = arr.dtype
    if arr.dtype != dt or (copy and arr is data):
        arr = np.array(arr, dtype=dt, copy=True)
    return arr


def _wrap_data(data, requires_grad=False):
    """A new Tensor of ``data`` with fastnn's own dtype rules (``_to_array``:
    a float64 or int64 ndarray keeps its dtype, without a copy).  Library
    code uses it where it once called ``Tensor(data)``, which now follows
    PyTorch's legacy constructor (always float32)."""
    t = _core.wrap(_to_array(data))
    if requires_grad:
        t.requires_grad_(True)
    return t


_PY_DTYPES = _defaults.PY      # {float: the default dtype, int: int64, bool: bool}
_PY_TYPES = frozenset(_PY_DTYPES)
_SEQS = (list, tuple, range)
_SEQ_TYPES = frozenset(_SEQS)


def _fastnn_dtype(dt):
    """A dtype of data as the fastnn dtype that holds it: a supported one
    itself, other floats (float16) float32, other integers (uint16/32/64)
    int64; complex, string and object data raise TypeError."""
    if dt in _SUPPORTED:
        return dt
    if dt.kind == "f":
        return float32
    if dt.kind in "iu":
        return int64
    raise TypeError(f"tensor: unsupported data of dtype {dt}; fastnn holds float, integer or "
                    "bool data")


def _walk(data):
    """``(dtype, data)`` for the data of ``tensor(...)``: the dtype PyTorch
    infers (a Python float is the default dtype, an int int64, a bool bool; a NumPy
    scalar, an ndarray or a Tensor has its own dtype; a sequence promotes
    its elements' dtypes; None for an empty sequence), and the data with each
    Tensor element replaced by its one value (as PyTorch, which reads a
    Tensor inside a sequence as a scalar)."""
    t = type(data)
    if t in _PY_DTYPES:
        return _PY_DTYPES[t], data
    if isinstance(data, TensorBase):
        a = data._array
        if a.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return a.dtype, a.reshape(())
    if isinstance(data, (np.ndarray, np.generic)):
        return data.dtype, data
    if isinstance(data, _SEQS):
        kinds = set(map(type, data))
        level = data
        while kinds and kinds <= _SEQ_TYPES:    # nested lists: one flat pass per level
            level = list(itertools.chain.from_iterable(level))
            kinds = set(map(type, level))
        if kinds <= _PY_TYPES:      # plain Python numbers (the common case): no loop
            dt = None
            for k in kinds:
                dt = _PY_DTYPES[k] if dt is None else _promote.promote_types(dt, _PY_DTYPES[k])
            return dt, data
        dt, out, changed = None, [], False
        for d in data:
            e, c = _walk(d)
            if e is not None:
                dt = e if dt is None else _promote.promote_types(dt, e)
            out.append(c)
            changed = changed or c is not d
        return dt, (out if changed else data)
    if isinstance(data, numbers.Integral):          # int-like (an IntEnum, ...)
        return (bool_ if isinstance(data, bool) else int64), data
    if isinstance(data, numbers.Real):
        return _defaults.FLOAT, data
    return _fastnn_dtype(np.asarray(data).dtype), data


def _data_array(data, dtype=None):
    """A new ndarray holding ``data`` (``fastnn.tensor``): in ``dtype``, or
    in the dtype PyTorch infers from it (see ``_walk``)."""
    dt = _resolve_dtype(dtype)
    if isinstance(data, TensorBase):
        data = data._array
    if isinstance(data, (np.ndarray, np.generic)):
        inferred = data.dtype
    else:
        inferred, data = _walk(data)
    if dt is None:
        dt = _defaults.FLOAT if inferred is None else _fastnn_dtype(inferred)
    if isinstance(data, np.ndarray) and data.dtype.kind in "cUSOVMm":
        _fastnn_dtype(data.dtype)           # (raises)
    return np.array(data, dtype=dt)


def _legacy_array(args, dt):
    """The array of PyTorch's legacy constructors, ``Tensor(*args)`` and
    ``FloatTensor(*args)`` ..., in dtype ``dt``: no argument, an empty 1-D
    array; ints or a Size, a new array of that shape (uninitialised in
    PyTorch, zeros here); one sequence, ndarray or Tensor, its data cast to
    ``dt`` (an ndarray already of ``dt`` is used without a copy, as PyTorch
    shares its memory)."""
    if not args:
        return np.empty(0, dt)
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Size):
            args = tuple(a)
        elif isinstance(a, (bool, np.bool_, float, np.floating)) or a is None or \
                (isinstance(a, numbers.Number) and not isinstance(a, numbers.Integral)):
            raise TypeError(f"new(): data must be a sequence (got {type(a).__name__})")
        elif not isinstance(a, (int, np.integer)):
            if isinstance(a, TensorBase):
                a = a._array
            if isinstance(a, np.ndarray):
                _fastnn_dtype(a.dtype)                      # (unsupported data raises)
                return np.asarray(a, dt) if _bmin(a.strides, default=0) >= 0 else \
                    np.array(a, dt)
            return np.array(_walk(a)[1], dtype=dt)
    sizes = [int(s) if isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_))
             else None for s in args]
    if None in sizes:
        raise TypeError(f"new() received an invalid combination of arguments - got "
                        f"({', '.join(type(s).__name__ for s in args)}), but expected one of: "
                        "(*, device), (Tensor other), (tuple of ints size, *, device), "
                        "(object data, *, device)")
    for s in sizes:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {sizes}")
    return np.zeros(tuple(sizes), dt)


_bmax = builtins.max
_bmin = builtins.min


# ``Size + tuple``, ``tuple + Size``, ``Size * n`` and ``n * Size`` are Sizes,
# as torch.Size's (a tuple's operators would give a plain tuple).  Size is
# defined in the compiled _core; its arithmetic is added here.
def _size_add(self, other):
    return Size(tuple.__add__(self, other)) if isinstance(other, tuple) else NotImplemented


def _size_radd(self, other):
    return Size(tuple.__add__(other, self)) if isinstance(other, tuple) else NotImplemented


def _size_mul(self, n):
    r = tuple.__mul__(self, n)
    return r if r is NotImplemented else Size(r)


Size.__add__, Size.__radd__ = _size_add, _size_radd
Size.__mul__ = Size.__rmul__ = _size_mul

_grad_enabled = _core.is_grad_enabled


def _view_index(v, b, write=True):
    """The advanced index of ndarray ``b`` whose result holds the elements of
    ``v`` (a view into ``b``'s memory) in ``v``'s order: a tuple of int64
    arrays of ``v``'s shape, one per dim of ``b``; None when ``v`` is not made
    of whole elements of ``b``.  With ``write``, raises PyTorch's error when
    elements of ``v`` share memory (an expand): a write through it is
    ambiguous (a read is not)."""
    if v.dtype != b.dtype or b.ndim == 0:
        return None

    def offsets(a, start):
        off = np.full(a.shape, start, dtype=np.int64)
        for k, (n, st) in enumerate(zip(a.shape, a.strides)):
            off += (np.arange(n, dtype=np.int64) * st).reshape((n,) + (1,) * (a.ndim - k - 1))
        return off.ravel()

    b0 = b.__array_interface__["data"][0]
    ov = offsets(v, v.__array_interface__["data"][0] - b0)
    if b.flags.c_contiguous:            # (the usual base: element k at byte k * itemsize)
        flat, rem = np.divmod(ov, b.itemsize)
        if ov.size and (rem.any() or flat.min() < 0 or flat.max() >= b.size):
            return None
    else:
        ob = offsets(b, 0)
        order = np.argsort(ob, kind="stable")
        sb = ob[order]
        pos = np.searchsorted(sb, ov)
        if ov.size and (pos.max() >= sb.size or not np.array_equal(sb[pos], ov)):
            return None
        flat = order[pos]
    if write and np.unique(flat).size != flat.size:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    return tuple(np.unravel_index(flat.reshape(v.shape), b.shape))


def _refresh_view(v):
    """Called by the engine when view ``v`` (made under autograd) is used
    after an in-place change of its storage: its node is re-derived from the
    base as it is now (through the view's index, or the index found from the
    memory they share), so its gradient flows through the change, as
    PyTorch's regenerated view nodes do."""
    view_of = v.__dict__.get("_view_of")
    if view_of is not None:
        parent, index = view_of
    else:
        parent = v._base
        if parent is None:
            return
        index = _view_index(v._array, parent._array, write=False)
        if index is None:
            return
    try:
        r = S.GetItemFn.apply(parent, index)
    except (IndexError, ValueError, RuntimeError):
        return                              # (the base was resized: the view keeps its node)
    if r._requires_grad and r._array.shape == v._array.shape:
        v._grad_fn, v._out_idx, v._requires_grad = r._grad_fn, r._out_idx, True


def _inplace_unary(fn, fast=None, snapshot=False):
    """The in-place method ``x.<fn>_()`` (see ``Tensor._inplace``)."""
    def method(self):
        return self._inplace(fn, fast, (), snapshot)
    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    return method



# what == and != leave to Python (a plain False / True, as PyTorch): strings
# and containers, which PyTorch's comparison does not take
_NOT_COMPARED = (str, bytes, list, tuple, dict, set, frozenset)

_FLOAT_WARNED = []      # float() of a tensor that requires grad warned already


class Tensor(TensorBase):
    """A multi-dimensional array with reverse-mode autograd.

    ``Tensor(...)`` is PyTorch's legacy constructor: the data of a sequence
    or ndarray in float32 whatever its own dtype (a float32 ndarray is used
    without a copy); ``Tensor(2, 3)`` or ``Tensor(fastnn.Size([2, 3]))`` a
    new tensor of that shape (uninitialised in PyTorch, zeros here);
    ``Tensor()`` an empty 1-D tensor; ``Tensor(t)`` for a Tensor ``t`` an
    alias of ``t`` (its dtype, memory and graph).  ``fastnn.tensor(data)``
    infers the dtype from the data instead.  fastnn also takes
    ``requires_grad=`` and ``dtype=`` (PyTorch's constructor takes neither).

    Examples
    --------
    >>> import fastnn
    >>> x = fastnn.Tensor([[1, 2]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([[2., 4.]])
    >>> fastnn.Tensor(2, 3).shape
    fastnn.Size([2, 3])
    """

    __array_priority__ = 1000

    def __init__(self, *args, data=None, requires_grad=False, dtype=None, device=None):
        if data is not None:
            args = (data,) + args
        if device is not None:
            from .device import device as _device
            _device(device)                         # the CPU only
        if dtype is None and len(args) == 1 and isinstance(args[0], TensorBase):
            # an alias: a view sharing the array, version counter and graph
            t = args[0]
            r = S.ReshapeFn.apply(t, t._array.shape)
            self._array, self._vc, self._base = r._array, r._vc, r._base
            if r._requires_grad:
                self._adopt(r)
        else:
            self._array = _legacy_array(args, _defaults.FLOAT if dtype is None else
                                        _resolve_dtype(dtype))
        if _core.is_inference_mode_enabled():
            self._inference = True
        if requires_grad:
            self.requires_grad_(True)

    _wrap = staticmethod(_core.wrap)

    # ----------------------------------------------------------- attributes
    @property
    def dtype(self):
        """The element type, a ``fastnn.dtype`` (prints as ``torch.float32``;
        equal to the NumPy dtype)."""
        a = self._array.dtype
        try:
            return _DTYPES[a]
        except KeyError:
            return _dtype_of(a)

    @property
    def device(self):
        from .device import cpu
        return cpu

    @property
    def is_cuda(self):
        return False

    @property
    def layout(self):
        """``fastnn.strided`` (PyTorch's ``torch.strided``): tensors are dense."""
        from ._layout import strided
        return strided

    @property
    def output_nr(self):
        """Which output of its node this tensor is (0 for a leaf), as PyTorch's."""
        return self._out_idx if self._grad_fn is not None else 0

    def _is_view(self):
        """Whether this tensor is a view of another (PyTorch's ``_is_view``)."""
        return self._base is not None

    # fastnn has dense CPU tensors only: the storage-kind flags programs test
    # (``adj.is_sparse``, ``x.is_cpu``) answer as torch's do for such a tensor
    is_cpu = True
    is_sparse = is_sparse_csr = is_quantized = is_meta = is_mkldnn = is_nested = False

    @property
    def T(self):
        return self.permute(*reversed(range(self._array.ndim)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    @property
    def mH(self):
        """The conjugate transpose of the last two dims (``mT``: fastnn is real)."""
        return self.transpose(-2, -1)

    @property
    def H(self):
        """The conjugate transpose of a matrix (``T`` of a 2-D tensor)."""
        if self._array.ndim not in (0, 2):
            raise RuntimeError("tensor.H is only supported on matrices (2-D tensors). Got "
                               f"{self._array.ndim}-D tensor.")
        return self.T

    @property
    def nbytes(self):
        return self._array.nbytes

    @property
    def itemsize(self):
        return self._array.itemsize

    def pin_memory(self, device=None):
        """Accepted for PyTorch compatibility: CPU memory needs no pinning."""
        return self

    def is_pinned(self, device=None):
        return False

    def share_memory_(self):
        """Accepted for PyTorch compatibility (DataLoader workers get copies)."""
        return self

    def is_shared(self):
        return False

    def size(self, dim=None):
        if dim is None:
            return Size(self._array.shape)
        return self._array.shape[dim]

    def stride(self, dim=None):
        st = tuple(s // self._array.itemsize for s in self._array.strides)
        return st if dim is None else st[dim]

    def is_contiguous(self, memory_format=None):
        if memory_format is None:
            return bool(self._array.flags.c_contiguous)
        from ._memory_format import is_contiguous_as
        return is_contiguous_as(self._array, memory_format)

    def is_floating_point(self):
        return self._array.dtype.kind == "f"

    def is_complex(self):
        return self._array.dtype.kind == "c"

    def is_signed(self):
        return self._array.dtype.kind in "fic"

    def is_same_size(self, other):
        return self._array.shape == other._array.shape

    def data_ptr(self):
        """The address of the first element: ``untyped_storage().data_ptr()``
        plus ``storage_offset() * element_size()``; 0 for a tensor with no
        elements, as PyTorch's."""
        a = self._array
        return a.ctypes.data if a.size else 0

    def untyped_storage(self):
        """The bytes this tensor lives in, shared by every view of its base
        (``fastnn.UntypedStorage``: ``data_ptr()``, ``nbytes()``, ``size()``)."""
        from .storage import UntypedStorage
        return UntypedStorage._of_array(self._array)

    def storage(self):
        """The storage as elements of this tensor's dtype (PyTorch's
        deprecated ``TypedStorage``; it warns once, as PyTorch)."""
        from .storage import TypedStorage, UntypedStorage, _warn_typed
        _warn_typed()
        return TypedStorage._of(UntypedStorage._of_array(self._array), self._array.dtype)

    def __len__(self):
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __repr__(self):
        a = self._array
        body = _format_body(a)
        extra = ""
        if a.size == 0 and a.ndim != 1:
            extra += f", size={tuple(a.shape)}"           # tensor([], size=(2, 0)), as PyTorch
        if a.dtype != _defaults.FLOAT and not (a.dtype in (int64, bool_) and a.size > 0):
            extra += f", dtype={_dtype_of(a.dtype)}"
        if self._grad_fn is not None:
            extra += f", grad_fn=<{self._grad_fn.name()}>"
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
        if self._array.size != 1:
            raise _ScalarConversionError(
                "only one element tensors can be converted to Python scalars")
        if self.requires_grad and not _FLOAT_WARNED and _grad_enabled():
            # PyTorch's warning (with grad mode on), once per process
            _FLOAT_WARNED.append(True)
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead "
                          "to unexpected behavior.\nConsider using tensor.detach() first.",
                          UserWarning, stacklevel=2)
        return float(self._array.reshape(-1)[0])

    def __int__(self):
        if self._array.size != 1:
            raise _ScalarConversionError(
                "only one element tensors can be converted to Python scalars")
        return int(self._array.reshape(-1)[0])

    def __index__(self):
        if self._array.dtype.kind not in "iu" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._array.reshape(-1)[0])

    def __format__(self, spec):
        # (a 0-d tensor formats as its number, spec or not: f"{loss}" is
        # "3.125", as PyTorch's)
        if self._array.ndim == 0 or (self._array.size == 1 and spec):
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
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
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
            g = _root_grad(g, a)
        if create_graph:
            from .autograd import backward
            backward([self], [gradient if isinstance(gradient, TensorBase) else g],
                     retain_graph, True, inputs)
            return
        if inputs is not None:
            from .autograd import backward
            backward([self], [g], retain_graph, inputs=inputs)
            return
        if _anomaly._STATE["enabled"]:
            _anomaly.prepare((self,))
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

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """Without an argument PyTorch's type string (``'torch.FloatTensor'``,
        so programs comparing it run unchanged); with a dtype, a legacy type
        (``fastnn.LongTensor``) or its name (``'torch.LongTensor'``), the
        tensor converted."""
        if dtype is None:
            return _legacy_type_name(self._array.dtype)
        dtype = getattr(dtype, "_fnn_legacy_dtype", dtype)
        if isinstance(dtype, str) and dtype.startswith("torch.cuda."):
            raise RuntimeError("fastnn runs on the CPU only (no CUDA device)")
        if isinstance(dtype, str) and (dtype[6:] if dtype.startswith("torch.") else dtype) \
                not in _DTYPE_ALIASES:
            raise ValueError(f"invalid type: {dtype!r}")
        dt = _resolve_dtype(dtype)
        if dt == self._array.dtype:
            return self
        return S.CastFn.apply(self, dt)

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

    def short(self):
        return self.type(int16)

    def char(self):
        return self.type(int8)

    def half(self):
        raise TypeError("fastnn has no float16 dtype; use float32")

    def bfloat16(self):
        raise TypeError("fastnn has no bfloat16 dtype; use float32")

    def clone(self, memory_format=None):
        return S.CloneFn.apply(self)

    def to_dense(self, dtype=None, *, masked_grad=None):
        """A dense tensor is its own dense form (``dtype`` converts), as
        PyTorch's ``to_dense`` of a strided tensor: code written for sparse
        gradients (``nn.Embedding(sparse=True)``, whose gradient fastnn keeps
        dense) runs unchanged."""
        return self if dtype is None else self.to(dtype)

    def contiguous(self, memory_format=None):
        if self._array.flags.c_contiguous:
            return self
        return S.CloneFn.apply(self)

    # ------------------------------------------------------------- in place
    def _inplace(self, compute, fast=None, operands=(), snapshot=False):
        """Runs an in-place op.

        ``compute(t)`` returns the new value as a Tensor, computed out of
        place from ``t`` (this tensor's current value) by the ordinary ops;
        ``fast(a)`` (optional) writes it straight into ndarray ``a`` when
        autograd records nothing (grad mode off, or neither this tensor nor
        any of ``operands`` requires grad).  Under autograd the new value is
        written into the array and the tensor is re-bound to the op's graph
        node.  ``snapshot=True`` hands ``compute`` a copy of the old value
        for ops whose backward needs their input (PyTorch keeps such an
        ``original_self`` too); otherwise ``compute`` sees the array itself
        under this tensor's version counter, so an op that saves it makes
        the backward raise instead of using the overwritten values.  An
        in-place change through a view (``x[0].add_(y)``, ``x.narrow(...)``)
        is replayed on the viewed tensor as an index assignment."""
        if self._inference:
            _check_inference_inplace()
        a = self._array
        if not a.flags.writeable:
            raise RuntimeError("in-place operation on a read-only tensor (for example an "
                               "expand()ed one; clone() it first)")
        rec = False
        if _grad_enabled():
            if self._nograd_view and self._base is not None and self._base._requires_grad:
                raise RuntimeError(
                    "A view was created in no_grad mode and is being modified inplace with "
                    "grad mode enabled. Given that this use case is ambiguous and error-prone, "
                    "it is forbidden. You can clarify your code by moving both the view and "
                    "the inplace either both inside the no_grad block (if you don't want the "
                    "inplace to be tracked) or both outside (if you want the inplace to be "
                    "tracked).")
            rec = self._requires_grad
            if not rec:
                for o in operands:
                    if isinstance(o, TensorBase) and o._requires_grad:
                        rec = True
                        break
        if not rec:
            if fast is not None:
                fast(a)
            else:
                res = compute(self)
                if res._array is not a:
                    self._assign(res._array)
            self._bump()
            return self
        if self._requires_grad and self._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        if self._base is not None:
            return self._inplace_view(compute, snapshot)
        alias = _core.wrap(a.copy() if snapshot else a)
        if not snapshot:
            alias._vc = self._vc_shared()
        alias._grad_fn, alias._out_idx = self._grad_fn, self._out_idx
        alias._requires_grad = self._requires_grad
        res = compute(alias)
        if res._array is not a:
            self._assign(res._array)
        self._adopt(res)
        self._bump()
        return self

    def _adopt(self, res):
        """Takes over ``res``'s place in the graph (after an in-place op).  A
        retained gradient moves along: after ``y.retain_grad(); y.mul_(3)``,
        ``y.grad`` is the gradient of the changed ``y``, as in PyTorch."""
        old = self._grad_fn
        kept = old is not None and old._retained is not None and \
            old._retained.get(self._out_idx) is self
        if kept:
            del old._retained[self._out_idx]
        self._grad_fn, self._out_idx = res._grad_fn, res._out_idx
        self._requires_grad = res._requires_grad
        if res._grad_fn is not None and res._grad_fn._retained:
            res._grad_fn._retained.pop(res._out_idx, None)
        if kept:
            self.retain_grad()

    def _inplace_view(self, compute, snapshot):
        """An in-place change of a view under autograd, replayed on the
        viewed tensor: ``parent[index] = compute(parent[index])`` (recorded
        there as an index assignment), then this view re-bound to
        ``parent[index]``.  The current value is read through an alias of
        the parent, so the new node never routes through the parent object
        that the assignment re-binds."""
        view_of = self.__dict__.get("_view_of")
        base = self._base
        if base._requires_grad and base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        if view_of is None:
            # a view made by view/reshape/permute/transpose/expand/unfold/...:
            # the same elements read as an index of the base, found from the
            # memory they share (PyTorch's CopySlices, as an index assignment)
            index = _view_index(self._array, base._array)
            if index is None:
                raise RuntimeError("an in-place operation under autograd on this kind of "
                                   "view is not supported by fastnn; use the out-of-place "
                                   "form, or clone() the view first")
            view_of = (base, index)
        parent, index = view_of
        if parent._requires_grad and parent._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        palias = _core.wrap(parent._array)
        palias._vc = parent._vc_shared()
        palias._grad_fn, palias._out_idx = parent._grad_fn, parent._out_idx
        palias._requires_grad = parent._requires_grad
        cur = S.GetItemFn.apply(palias, index)
        if snapshot:
            cur = S.CloneFn.apply(cur)
        parent.__setitem__(index, compute(cur))
        self._adopt(S.GetItemFn.apply(parent, index))
        if self._vsnap:
            self._vsnap = self._vc.v + 1
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
        _check_cast(value.dtype, a.dtype)
        np.copyto(a, value, casting="unsafe")

    def add_(self, other, *args, alpha=1):
        if args:
            other, alpha = _deprecated_alpha("add_", other, args)
        o = _operand(other)
        if alpha != 1:
            o = o * alpha
        return self._inplace(lambda t: t + o, _ufunc_into(np.add, o), (o,))

    def sub_(self, other, *args, alpha=1):
        if args:
            other, alpha = _deprecated_alpha("sub_", other, args)
        o = _operand(other)
        if alpha != 1:
            o = o * alpha
        return self._inplace(lambda t: t - o, _ufunc_into(np.subtract, o), (o,))

    subtract_ = sub_

    def mul_(self, other):
        o = _operand(other)
        saves = isinstance(o, TensorBase) and o._requires_grad
        return self._inplace(lambda t: t * o, _ufunc_into(np.multiply, o), (o,), saves)

    multiply_ = mul_

    def div_(self, other, *, rounding_mode=None):
        o = _operand(other)
        saves = isinstance(o, TensorBase) and o._requires_grad
        if rounding_mode is not None:
            return self._inplace(lambda t: t.div(o, rounding_mode=rounding_mode), None, (o,),
                                 saves)
        if self._array.dtype.kind != "f":
            raise RuntimeError(f"result type Float can't be cast to the desired output type "
                               f"{_torch_name(self._array.dtype)}")
        return self._inplace(lambda t: t / o, _ufunc_into(np.true_divide, o), (o,), saves)

    divide_ = div_
    true_divide_ = div_

    def pow_(self, exponent):
        o = _operand(exponent)
        # NumPy refuses integers to negative integer powers; the out-of-place
        # op gives PyTorch's values (and its error for a negative Python int).
        fast = _ufunc_into(np.power, o) if self._array.dtype.kind == "f" else None
        return self._inplace(lambda t: t ** o, fast, (o,), True)

    def neg_(self):
        fast = None if self._array.dtype == np.bool_ else (lambda a: np.negative(a, out=a))
        return self._inplace(lambda t: -t, fast)       # (bool: the out-of-place op's error)

    negative_ = neg_

    def abs_(self):
        return self._inplace(lambda t: t.abs(), lambda a: np.abs(a, out=a), (), True)

    absolute_ = abs_

    def exp_(self):
        return self._inplace(lambda t: t.exp(), _float_ufunc(np.exp))

    def log_(self):
        return self._inplace(lambda t: t.log(), None, (), True)

    def sqrt_(self):
        return self._inplace(lambda t: t.sqrt())

    def relu_(self):
        return self._inplace(lambda t: t.relu(), lambda a: np.maximum(a, 0, out=a))

    def sigmoid_(self):
        return self._inplace(lambda t: t.sigmoid())

    def tanh_(self):
        return self._inplace(lambda t: t.tanh())

    def clamp_(self, min=None, max=None):
        lo = None if min is None else _operand(min)
        hi = None if max is None else _operand(max)
        if lo is None and hi is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        P.check_clamp_bounds("clamp_", lo, hi)
        return self._inplace(lambda t: P.clamp(t, lo, hi), None, (lo, hi))

    clip_ = clamp_

    def clamp_min_(self, min):
        return self.clamp_(min=min)

    def clamp_max_(self, max):
        return self.clamp_(max=max)

    def zero_(self):
        return self._inplace(lambda t: P.FillFn.apply(t, 0), lambda a: a.fill(0))

    def fill_(self, value):
        v = _operand(value)
        if isinstance(v, TensorBase):
            if v._array.ndim:
                raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got "
                                   f"tensor with {v._array.ndim} dimensions.")
            return self._inplace(lambda t: P.FillFn.apply(t, v), None, (v,))
        return self._inplace(lambda t: P.FillFn.apply(t, v), lambda a: a.fill(v))

    def copy_(self, src, non_blocking=False):
        """Copies ``src`` (broadcast, cast to this tensor's dtype whatever the
        two dtypes: float to integer truncates toward zero, nonzero to bool is
        True, as PyTorch) into this tensor; under autograd the gradient flows
        to ``src``."""
        s = _operand(src)
        if isinstance(s, numbers.Number):
            return self.fill_(s)

        def compute(t):
            v = s if s._array.dtype == t._array.dtype else s.type(t._array.dtype)
            v = S.ExpandFn.apply(v, t._array.shape)         # the identity at equal shapes
            return v + P.FillFn.apply(t, 0) if t._requires_grad else v

        def fast(a):
            try:
                np.copyto(a, s._array, casting="unsafe")    # (no _assign: any cast goes)
            except ValueError:
                raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the "
                                   f"broadcast shape {list(s._array.shape)}") from None

        return self._inplace(compute, fast, (s,))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        rng = _numpy_generator(generator)
        return self._random_fill(lambda shape: rng.normal(mean, std, shape))

    def uniform_(self, from_=0.0, to=1.0, *, generator=None):
        rng = _numpy_generator(generator)
        return self._random_fill(lambda shape: rng.uniform(from_, to, shape))

    def bernoulli_(self, p=0.5, *, generator=None):
        rng = _numpy_generator(generator)
        pv = p._array if isinstance(p, TensorBase) else p
        return self._random_fill(lambda shape: rng.random(shape) < pv)

    def bernoulli(self, p=None, *, generator=None):
        """``fastnn.bernoulli(self, p)``: 0/1 samples (out of place)."""
        from .ops.sampling import bernoulli
        return bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """``fastnn.multinomial(self, num_samples, replacement)``."""
        from .ops.sampling import multinomial
        return multinomial(self, num_samples, replacement, generator=generator)

    def exponential_(self, lambd=1.0, *, generator=None):
        rng = _numpy_generator(generator)
        return self._random_fill(lambda shape: rng.exponential(1.0 / lambd, shape))

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        """Fills with ``exp(N(mean, std^2))`` samples (floating tensors)."""
        if not std > 0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
        if self._array.dtype.kind != "f":
            raise NotImplementedError(f"\"log_normal_cpu\" not implemented for "
                                      f"'{_torch_name(self._array.dtype)}'")
        rng = _numpy_generator(generator)
        return self._random_fill(lambda shape: rng.lognormal(mean, std, shape))

    def geometric_(self, p, *, generator=None):
        """Fills with the number of Bernoulli(p) trials up to the first success."""
        if not 0 < p < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        rng = _numpy_generator(generator)
        return self._random_fill(lambda shape: rng.geometric(p, shape))

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        """Fills with Cauchy(median, sigma) samples (floating tensors)."""
        if not sigma > 0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
        if self._array.dtype.kind != "f":
            raise RuntimeError("Cauchy distribution is a continuous probability distribution. "
                               f"dtype must be a floating point but you specified "
                               f"{_C_NAMES.get(self._array.dtype, self._array.dtype)}")
        rng = _numpy_generator(generator)
        return self._random_fill(lambda shape: median + sigma * rng.standard_cauchy(shape))

    # ------------------------------------- Python callables per element (CPU)
    def _map_elements(self, op, fn, others):
        """Writes fn(self[i], *others[i]) (Python scalars; others broadcast
        to this tensor's shape) into this tensor, in place."""
        if any(t._requires_grad for t in (self,) + others):
            raise RuntimeError(f"Can't call {op}() on Variable that requires grad. Use "
                               f"var.detach().{op}() instead.")
        a = self._array
        cols = [a.ravel().tolist()]
        for t in others:
            try:
                cols.append(np.broadcast_to(t._array, a.shape).ravel().tolist())
            except ValueError:
                raise ShapeError(f"{op}: the tensor of shape {tuple(t._array.shape)} cannot be "
                                 f"expanded to this tensor's shape {tuple(a.shape)}") from None
        vals = [fn(*v) for v in zip(*cols)]
        for v in vals:
            if not isinstance(v, (numbers.Real, np.bool_, np.number)):
                raise TypeError(f"must be real number, not {type(v).__name__}")
        out = np.array(vals, dtype=object).astype(a.dtype).reshape(a.shape)
        return self._inplace(None, lambda arr: np.copyto(arr, out))

    def apply_(self, callable):
        """Replaces each element ``v`` by ``callable(v)`` (Python scalars; CPU, no autograd)."""
        return self._map_elements("apply_", callable, ())

    def map_(self, other, callable):
        """Replaces each element ``v`` by ``callable(v, w)``, ``w`` from
        ``other`` broadcast to this tensor's shape."""
        return self._map_elements("map_", callable, (_operand(other),))

    def map2_(self, x, y, callable):
        """Replaces each element ``v`` by ``callable(v, a, b)``, ``a`` and ``b``
        from ``x`` and ``y`` broadcast to this tensor's shape."""
        return self._map_elements("map2_", callable, (_operand(x), _operand(y)))

    def random_(self, from_=0, to=None, *, generator=None):
        rng = _numpy_generator(generator)
        if to is None:
            from_, to = 0, from_ if from_ else 2 ** 24
        return self._random_fill(lambda shape: rng.integers(from_, to, shape))

    def _random_fill(self, draw):
        """Fills with fresh samples (no gradient flows to earlier values)."""
        return self._inplace(lambda t: P.FillFn.apply(t, 0) + _core.wrap(
            np.asarray(draw(t._array.shape)).astype(t._array.dtype)),
            lambda a: a.__setitem__(..., draw(a.shape)))

    def addcmul_(self, tensor1, tensor2, *, value=1):
        t1, t2 = _operand(tensor1), _operand(tensor2)
        return self._inplace(lambda t: P.addcmul(t, t1, t2, value=value),
                             _fast_addc(np.multiply, t1, t2, value), (t1, t2))

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        t1, t2 = _operand(tensor1), _operand(tensor2)
        return self._inplace(lambda t: P.addcdiv(t, t1, t2, value=value),
                             _fast_addc(np.true_divide, t1, t2, value), (t1, t2))

    def lerp_(self, end, weight):
        e, w = _operand(end), _operand(weight)
        return self._inplace(lambda t: P.lerp(t, e, w), None, (e, w))

    def masked_fill_(self, mask, value):
        m, v = _operand(mask), _operand(value)
        if isinstance(m, TensorBase) and m._array.shape != self._array.shape:
            try:
                np.broadcast_to(m._array, self._array.shape)
            except ValueError:
                raise ShapeError(f"masked_fill_: the mask of shape {tuple(m._array.shape)} "
                                 f"cannot be broadcast to the tensor's shape "
                                 f"{tuple(self._array.shape)}") from None
        return self._inplace(lambda t: I.masked_fill(t, m, v), None, (v,))

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        s = _operand(src if src is not None else value)
        return self._inplace(lambda t: I.scatter(t, dim, index, s, reduce=reduce), None, (s,))

    def scatter_add_(self, dim, index, src):
        s = _operand(src)
        return self._inplace(lambda t: I.scatter_add(t, dim, index, s), None, (s,))

    def index_add_(self, dim, index, source, *, alpha=1):
        s = _operand(source)
        return self._inplace(lambda t: I.index_add(t, dim, index, s, alpha=alpha), None, (s,))

    def index_put_(self, indices, values, accumulate=False):
        idx = _index(tuple(indices))
        v = _operand(values)
        return self._inplace(lambda t: S.IndexPutFn.apply(t, v, idx, accumulate, True), None, (v,))

    def index_put(self, indices, values, accumulate=False):
        return S.IndexPutFn.apply(self, _operand(values), _index(tuple(indices)), accumulate)

    def fill_diagonal_(self, fill_value, wrap=False):
        a = self._array
        n = builtins.min(a.shape) if a.ndim else 0
        if wrap and a.ndim == 2 and a.shape[0] > a.shape[1] + 1:
            rows = np.arange(a.shape[0])
            rows = rows[rows % (a.shape[1] + 1) < a.shape[1]]
            idx = (rows, rows % (a.shape[1] + 1))
        else:
            idx = tuple(np.arange(n) for _ in range(a.ndim))
        return self.index_put_(idx, _operand(fill_value))

    def __iadd__(self, o):
        return self.add_(o)

    def __isub__(self, o):
        return self.sub_(o)

    def __imul__(self, o):
        return self.mul_(o)

    def __itruediv__(self, o):
        return self.div_(o)

    def __setitem__(self, index, value):
        if self._inference:
            _check_inference_inplace()
        idx = _index(index)
        v = _operand(value)
        if isinstance(v, TensorBase) and v._array.dtype != self._array.dtype:
            v = v.type(self._array.dtype)
        if type(idx) is tuple and isinstance(v, TensorBase) and v._array.ndim:
            mv = _int_adv_move(idx, self._array.ndim)
            if mv is not None:              # the value is in PyTorch's layout: to NumPy's
                nb, p = mv
                shape = self._array[idx].shape
                tshape = shape[nb:nb + p] + shape[:nb] + shape[nb + p:]
                v = v.expand(tshape).movedim(tuple(range(p, p + nb)), tuple(range(nb)))

        def fast(a):
            try:
                a[idx] = v._array if isinstance(v, TensorBase) else v
            except ValueError as e:         # (PyTorch: a RuntimeError)
                raise ShapeError(f"setitem: {e}") from None

        self._inplace(lambda t: S.IndexPutFn.apply(t, v, idx, False, True), fast, (v,))

    # ----------------------------------------------------------- arithmetic
    def __add__(self, o):
        if type(o) is not float and not isinstance(o, TensorBase):   # (floats: the hot path)
            o = _operand(o)
        return E.AddFn.apply(self, o)

    def __radd__(self, o):
        # (self first, as PyTorch's: its node's edges come in that order)
        return E.AddFn.apply(self, o if type(o) is float else _operand(o))

    def __sub__(self, o):
        if type(o) is not float and not isinstance(o, TensorBase):   # (floats: the hot path)
            o = _operand(o)
        return E.SubFn.apply(self, o)

    def __rsub__(self, o):
        return _core.name_node(E.SubFn.apply(o if type(o) is float else _operand(o), self),
                               self, "RsubBackward1")

    def __mul__(self, o):
        if type(o) is not float and not isinstance(o, TensorBase):   # (floats: the hot path)
            o = _operand(o)
        return E.MulFn.apply(self, o)

    def __rmul__(self, o):
        return E.MulFn.apply(self, o if type(o) is float else _operand(o))

    def __truediv__(self, o):
        if type(o) is not float and not isinstance(o, TensorBase):   # (floats: the hot path)
            o = _operand(o)
        return E.DivFn.apply(self, o)

    def __rtruediv__(self, o):
        if type(o) is float or type(o) is int:
            # PyTorch computes number / x as x.reciprocal() * number (its
            # values, rounded twice, and its graph: MulBackward0 over
            # ReciprocalBackward0)
            with np.errstate(invalid="ignore"):      # (0 / 0: NaN, silently, as PyTorch)
                return E.MulFn.apply(self.reciprocal(), float(o))
        return E.DivFn.apply(_operand(o), self)

    def __pow__(self, o):
        return E.PowFn.apply(self, _operand(o))

    def __rpow__(self, o):
        return E.PowFn.apply(_operand(o), self)

    def __neg__(self):
        return E.NegFn.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    def __matmul__(self, o):
        if not isinstance(o, TensorBase):
            o = _matmul_operand(o)
        if o._array.dtype is not self._array.dtype:      # (the same dtype: one test)
            _matmul_dtypes(self, o)
        return L.MatMulFn.apply(self, o)

    def __rmatmul__(self, o):
        o = _matmul_operand(o)
        _matmul_dtypes(o, self)
        return L.MatMulFn.apply(o, self)

    def add(self, other, *args, alpha=1):
        if args:
            other, alpha = _deprecated_alpha("add", other, args)
        return self + (other if alpha == 1 else _operand(other) * alpha)

    def sub(self, other, *args, alpha=1):
        if args:
            other, alpha = _deprecated_alpha("sub", other, args)
        return self - (other if alpha == 1 else _operand(other) * alpha)

    subtract = sub

    def mul(self, o):
        return self * o

    multiply = mul

    def div(self, o, *, rounding_mode=None):
        if rounding_mode is None:
            return self / o
        ints = self._array.dtype.kind in "iu" and not (isinstance(o, TensorBase) and
                                                       o._array.dtype.kind == "f") \
            and not isinstance(o, builtins.float)
        if ints and rounding_mode in ("trunc", "floor") and \
                np.any(np.asarray(o._array if isinstance(o, TensorBase) else o) == 0):
            raise RuntimeError("ZeroDivisionError")       # (PyTorch's, for integers)
        q = self / o
        if rounding_mode == "trunc":
            q = _core.wrap(np.trunc(q._array))
        elif rounding_mode == "floor":
            q = _core.wrap(np.floor(q._array))
        else:
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or "
                             f"'floor' but found {rounding_mode!r}")
        if ints:
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
        return E.ExpFn.apply(self)

    def log(self):
        return E.LogFn.apply(self)

    def abs(self):
        return E.AbsFn.apply(self)

    absolute = abs

    def sqrt(self):
        return E.SqrtFn.apply(self)

    def relu(self):
        return E.ReluFn.apply(self)

    def sigmoid(self):
        return E.SigmoidFn.apply(self)

    def tanh(self):
        return E.TanhFn.apply(self)

    def hardshrink(self, lambd=0.5):
        from .nn import functional as F
        return F.hardshrink(self, lambd)

    def prelu(self, weight):
        from .nn import functional as F
        return F.prelu(self, weight)

    def softmax(self, dim, dtype=None):
        from .nn import functional as F
        return F.softmax(self if dtype is None else self.type(dtype), dim)

    def log_softmax(self, dim, dtype=None):
        from .nn import functional as F
        return F.log_softmax(self if dtype is None else self.type(dtype), dim)

    def __mod__(self, o):
        return P.remainder(self, o)

    def __rmod__(self, o):
        return P.remainder(_operand(o), self)

    def __floordiv__(self, o):
        return P.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return P.floor_divide(_operand(o), self)

    def __and__(self, o):
        return P.bitwise_and(self, o)

    __rand__ = __and__

    def __or__(self, o):
        return P.bitwise_or(self, o)

    __ror__ = __or__

    def __xor__(self, o):
        return P.bitwise_xor(self, o)

    __rxor__ = __xor__

    def __invert__(self):
        return P.bitwise_not(self)

    def __iand__(self, o):
        return self._inplace(lambda t: P.bitwise_and(t, o), None, ())

    def __ior__(self, o):
        return self._inplace(lambda t: P.bitwise_or(t, o), None, ())

    def __imod__(self, o):
        return self.remainder_(o)

    def __ifloordiv__(self, o):
        return self._inplace(lambda t: P.floor_divide(t, o))

    def __ipow__(self, o):
        return self.pow_(o)

    # ------------------------------------------------------ pointwise maths
    # (each is the fastnn.<name> function: ``x.sign()`` is ``fastnn.sign(x)``)
    sign = P.sign
    floor = P.floor
    ceil = P.ceil
    trunc = P.trunc
    fix = P.trunc
    frac = P.frac
    round = P.round
    rsqrt = P.rsqrt
    reciprocal = P.reciprocal
    square = P.square
    log1p = P.log1p
    expm1 = P.expm1
    log2 = P.log2
    log10 = P.log10
    sin = P.sin
    cos = P.cos
    tan = P.tan
    sinh = P.sinh
    cosh = P.cosh
    asin = arcsin = P.asin
    acos = arccos = P.acos
    atan = arctan = P.atan
    erf = P.erf
    erfc = P.erfc
    clamp = clip = P.clamp
    clamp_min = P.clamp_min
    clamp_max = P.clamp_max
    maximum = P.maximum
    minimum = P.minimum
    fmax = P.fmax
    fmin = P.fmin
    remainder = P.remainder
    fmod = P.fmod
    floor_divide = P.floor_divide
    logical_and = P.logical_and
    logical_or = P.logical_or
    logical_xor = P.logical_xor
    logical_not = P.logical_not
    bitwise_and = P.bitwise_and
    bitwise_or = P.bitwise_or
    bitwise_xor = P.bitwise_xor
    bitwise_not = P.bitwise_not
    isnan = P.isnan
    isinf = P.isinf
    isfinite = P.isfinite
    isposinf = P.isposinf
    isneginf = P.isneginf
    signbit = P.signbit
    isclose = P.isclose
    allclose = P.allclose
    equal = P.equal
    nan_to_num = P.nan_to_num
    lerp = P.lerp
    addcmul = P.addcmul
    addcdiv = P.addcdiv

    sgn = P.sign

    def where(self, condition, y):
        """``fastnn.where(condition, self, y)``."""
        return P.where(condition, self, y)

    sign_ = _inplace_unary(P.sign, lambda a: a.dtype == bool_ or np.sign(a, out=a))
    floor_ = _inplace_unary(P.floor, lambda a: np.floor(a, out=a))
    ceil_ = _inplace_unary(P.ceil, lambda a: np.ceil(a, out=a))
    trunc_ = fix_ = _inplace_unary(P.trunc, lambda a: np.trunc(a, out=a))
    frac_ = _inplace_unary(P.frac)
    rsqrt_ = _inplace_unary(P.rsqrt)
    reciprocal_ = _inplace_unary(P.reciprocal)
    expm1_ = _inplace_unary(P.expm1)
    square_ = _inplace_unary(P.square, snapshot=True)      # (their backward reads x)
    log1p_ = _inplace_unary(P.log1p, snapshot=True)
    sin_ = _inplace_unary(P.sin, snapshot=True)
    cos_ = _inplace_unary(P.cos, snapshot=True)
    erf_ = _inplace_unary(P.erf, snapshot=True)
    logical_not_ = _inplace_unary(P.logical_not)
    tan_ = _inplace_unary(P.tan)
    sinh_ = _inplace_unary(P.sinh, snapshot=True)
    cosh_ = _inplace_unary(P.cosh, snapshot=True)
    asin_ = arcsin_ = _inplace_unary(P.asin, snapshot=True)
    acos_ = arccos_ = _inplace_unary(P.acos, snapshot=True)
    atan_ = arctan_ = _inplace_unary(P.atan, snapshot=True)
    asinh_ = arcsinh_ = _inplace_unary(P.asinh, snapshot=True)
    acosh_ = arccosh_ = _inplace_unary(P.acosh, snapshot=True)
    atanh_ = arctanh_ = _inplace_unary(P.atanh, snapshot=True)
    log2_ = _inplace_unary(P.log2, snapshot=True)
    log10_ = _inplace_unary(P.log10, snapshot=True)
    erfc_ = _inplace_unary(P.erfc, snapshot=True)
    exp2_ = _inplace_unary(P.exp2)
    erfinv_ = _inplace_unary(P.erfinv)
    sgn_ = _inplace_unary(P.sign, lambda a: a.dtype == bool_ or np.sign(a, out=a))
    asinh = arcsinh = P.asinh
    acosh = arccosh = P.acosh
    atanh = arctanh = P.atanh
    exp2 = P.exp2
    erfinv = P.erfinv
    atan2 = arctan2 = P.atan2

    def atan2_(self, other):
        return self._inplace(lambda t: P.atan2(t, other), None, (other,), True)

    arctan2_ = atan2_

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return S.diag_embed(self, offset, dim1, dim2)

    def isin(self, test_elements, *, assume_unique=False, invert=False):
        return P.isin(self, test_elements, assume_unique=assume_unique, invert=invert)

    def ndimension(self):
        return self._array.ndim

    def broadcast_to(self, size):
        return self.expand(size)

    def _cmp_(self, op, o):
        """In-place comparison: 1 where it holds, else 0, in this dtype."""
        return self._inplace(lambda t: op(t, o).type(t.dtype), None, ())

    def eq_(self, o):
        return self._cmp_(Tensor.eq, o)

    def ne_(self, o):
        return self._cmp_(Tensor.ne, o)

    def lt_(self, o):
        return self._cmp_(Tensor.lt, o)

    def le_(self, o):
        return self._cmp_(Tensor.le, o)

    def gt_(self, o):
        return self._cmp_(Tensor.gt, o)

    def ge_(self, o):
        return self._cmp_(Tensor.ge, o)

    not_equal_, less_, less_equal_, greater_, greater_equal_ = ne_, lt_, le_, gt_, ge_

    def _logical_(self, op, o):
        return self._inplace(lambda t: op(t, o).type(t.dtype), None, ())

    def logical_and_(self, o):
        return self._logical_(P.logical_and, o)

    def logical_or_(self, o):
        return self._logical_(P.logical_or, o)

    def logical_xor_(self, o):
        return self._logical_(P.logical_xor, o)

    def bitwise_and_(self, o):
        return self._logical_(P.bitwise_and, o)

    def bitwise_or_(self, o):
        return self._logical_(P.bitwise_or, o)

    def bitwise_xor_(self, o):
        return self._logical_(P.bitwise_xor, o)

    def bitwise_not_(self):
        return self._inplace(lambda t: P.bitwise_not(t), None, ())

    def round_(self, *, decimals=0):
        return self._inplace(lambda t: P.round(t, decimals=decimals),
                             lambda a: np.round(a, decimals, out=a))

    def remainder_(self, other):
        o = _operand(other)
        return self._inplace(lambda t: P.remainder(t, o), None, (o,), True)

    def fmod_(self, other):
        o = _operand(other)
        return self._inplace(lambda t: P.fmod(t, o), None, (o,), True)

    def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
        return self._inplace(lambda t: P.nan_to_num(t, nan, posinf, neginf))

    # ------------------------------------------------------------- indexing
    gather = I.gather
    scatter = I.scatter
    scatter_add = I.scatter_add
    index_select = I.index_select
    index_add = I.index_add
    masked_fill = I.masked_fill
    masked_select = I.masked_select
    take = I.take
    take_along_dim = I.take_along_dim
    nonzero = I.nonzero
    argwhere = I.argwhere

    # --------------------------------------------------------------- sorting
    sort = So.sort
    argsort = So.argsort
    msort = So.msort
    topk = So.topk
    kthvalue = So.kthvalue
    unique = So.unique

    # --------------------------------------------------------------- linalg
    mm = L.tensor_mm
    bmm = L.bmm
    mv = L.mv
    dot = L.dot
    vdot = L.vdot
    inner = L.inner
    outer = ger = L.outer
    addmm = L.addmm
    baddbmm = L.baddbmm
    addmv = L.addmv

    # ----------------------------------------------- dense linear algebra
    det = Ls.det
    logdet = Ls.logdet
    slogdet = Ls.torch_slogdet
    inverse = Ls.inv
    cholesky = Ls.torch_cholesky
    cholesky_solve = Ls.cholesky_solve
    cholesky_inverse = Ls.cholesky_inverse
    lu = Llu.torch_lu
    lu_solve = Llu.torch_lu_solve
    qr = Lf.torch_qr
    svd = Lf.torch_svd
    pinverse = Lf.pinverse
    matrix_power = Lf.matrix_power
    matrix_exp = Le.matrix_exp
    triangular_solve = Lf.triangular_solve
    orgqr = Lf.householder_product
    geqrf = Lf.geqrf
    ormqr = Lf.ormqr

    # ----------------------------------------------------- split / arrange
    def split(self, split_size, dim=0):
        return S.split(self, split_size, dim)
    chunk = S.chunk
    tensor_split = S.tensor_split
    split_with_sizes = S.split_with_sizes
    unsafe_split = S.unsafe_split
    unsafe_chunk = S.unsafe_chunk
    unsafe_split_with_sizes = S.unsafe_split_with_sizes
    unbind = S.unbind
    narrow = S.narrow
    select = S.select
    fliplr = S.fliplr
    flipud = S.flipud
    roll = S.roll
    tril = S.tril
    triu = S.triu
    repeat_interleave = S.repeat_interleave
    diagonal = S.diagonal
    diag = S.diag
    trace = S.trace
    movedim = moveaxis = S.movedim

    def flip(self, *dims, **kw):
        if kw:
            dims = _sizes_kw("flip", "dims", dims, kw)
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return S.flip(self, dims)

    def repeat(self, *sizes, **kw):
        if kw:
            sizes = _sizes_kw("repeat", "repeats", sizes, kw)
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        return S.RepeatFn.apply(self, tuple(int(s) for s in sizes))

    def tile(self, *dims):
        # Tensor.tile takes its dims as varargs too (x.tile(2, 2)), as repeat does.
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return S.tile(self, dims)

    def tril_(self, diagonal=0):
        return self._inplace(lambda t: S.tril(t, diagonal))

    def triu_(self, diagonal=0):
        return self._inplace(lambda t: S.triu(t, diagonal))

    # ------------------------------------------------------- new tensors
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return _factories.tensor(data, dtype=dtype or self._array.dtype, device=device,
                                 requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return _factories.zeros(*size, dtype=dtype or self._array.dtype, device=device,
                                requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return _factories.ones(*size, dtype=dtype or self._array.dtype, device=device,
                               requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return _factories.empty(*size, dtype=dtype or self._array.dtype, device=device,
                                requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return _factories.full(size, fill_value, dtype=dtype or self._array.dtype,
                               device=device, requires_grad=requires_grad)

    # ------------------------------------------------------------- compare
    def _cmp(self, ufunc, o):
        return _core.wrap(np.asarray(ufunc(self._array, o._array if isinstance(o, TensorBase)
                                           else o)))

    def __eq__(self, o):
        if o is None:                 # (PyTorch: a plain False, not a tensor)
            return False
        if isinstance(o, _NOT_COMPARED):   # (PyTorch: Python's own ==, so False)
            return NotImplemented
        return self._cmp(np.equal, o)

    def __ne__(self, o):
        if o is None:
            return True
        if isinstance(o, _NOT_COMPARED):
            return NotImplemented
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

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    # ----------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, dtype=None, *, axis=None, out=None, keepdims=None):
        if axis is not None or keepdims is not None or out is not None:   # NumPy's spelling
            dim, keepdim = R.np_args(dim, keepdim, axis, keepdims)
            return R.into(out, self.sum(dim, keepdim, dtype))
        x = self if dtype is None else self.type(dtype)
        if type(dim) in (tuple, list) and not dim:
            dim = None                # (an empty dim list is every dim, as PyTorch)
        return R.SumFn.apply(x, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None, *, axis=None, out=None, keepdims=None):
        if axis is not None or keepdims is not None or out is not None:
            dim, keepdim = R.np_args(dim, keepdim, axis, keepdims)
            return R.into(out, self.mean(dim, keepdim, dtype))
        x = self if dtype is None else self.type(dtype)
        if x._array.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be "
                               f"either a floating point or complex dtype. Got: "
                               f"{x._array.dtype}")
        if type(dim) in (tuple, list) and not dim:
            dim = None
        return R.MeanFn.apply(x, dim=dim, keepdim=keepdim)

    max = R.max
    min = R.min
    amax = R.amax
    amin = R.amin
    all = R.all
    any = R.any
    argmax = R.argmax
    argmin = R.argmin
    count_nonzero = R.count_nonzero
    std = R.std
    var = R.var
    norm = R.norm
    prod = R.prod
    cumsum = R.cumsum
    cumprod = R.cumprod
    logsumexp = R.logsumexp

    def cumsum_(self, dim, *, dtype=None):
        return self._inplace(lambda t: R.cumsum(t, dim, dtype=dtype))

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape, **kw):
        if kw:
            shape = _sizes_kw("reshape", "shape", shape, kw)
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        for s in shape:
            if type(s) is not int or s < 0:
                shape = _shape_arg(shape)
                break
        return S.ReshapeFn.apply(self, shape)

    def view(self, *shape, **kw):
        if kw:
            shape = _sizes_kw("view", "size", shape, kw, alt="dtype")
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)) and \
                not isinstance(shape[0], np.integer):
            return self._view_dtype(shape[0])
        if not self._array.flags.c_contiguous:      # (a contiguous tensor always views)
            _check_view(self._array, shape)
        return self.reshape(*shape)

    def _view_dtype(self, dtype):
        """``view(dtype)``: the same memory read as ``dtype`` (the last dim
        rescaled when the element sizes differ), PyTorch's checks; a view
        sharing the version counter, outside the graph as in PyTorch."""
        dt = _resolve_dtype(dtype)
        a = self._array
        if dt.itemsize != a.itemsize:
            why = (f" to view {_torch_name(a.dtype)} as {_torch_name(dt)} (different element "
                   "sizes)")
            if a.ndim == 0:
                raise RuntimeError(f"self.dim() cannot be 0{why}")
            if a.strides[-1] != a.itemsize and a.shape[-1] > 1:   # (NumPy: any stride at 0/1)
                raise RuntimeError(f"self.stride(-1) must be 1{why}, but got "
                                   f"{a.strides[-1] // a.itemsize}")
            r = dt.itemsize // a.itemsize
            if r > 1:
                if a.shape[-1] % r:
                    raise RuntimeError(f"self.size(-1) must be divisible by {r}{why}, but got "
                                       f"{a.shape[-1]}")
                off = Sd.storage_offset(self)
                if off % r:
                    raise RuntimeError(f"self.storage_offset() must be divisible by {r}{why}, "
                                       f"but got {off}")
                for i in range(a.ndim - 1):
                    st = a.strides[i] // a.itemsize
                    if st % r:
                        raise RuntimeError(f"self.stride({i}) must be divisible by {r}{why}, "
                                           f"but got {st}")
        try:
            out = _core.wrap(a.view(dt))
        except ValueError as e:
            raise RuntimeError(f"view(dtype): {e}") from None
        out._vc = self._vc_shared()
        out._base = self if self._base is None else self._base
        return out

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        nd = self._array.ndim
        s = _normalize_dim("flatten", start_dim, nd)    # (IndexError out of range)
        e = _normalize_dim("flatten", end_dim, nd)
        if nd == 0:
            return self.reshape(1)
        if s > e:
            raise ShapeError(f"flatten() has invalid args: start_dim {start_dim} cannot come "
                             f"after end_dim {end_dim}")
        shp = self._array.shape
        n = 1
        for d in shp[s:e + 1]:
            n *= d
        return S.ReshapeFn.apply(self, shp[:s] + (n,) + shp[e + 1:])

    def transpose(self, dim0, dim1):
        nd = self._array.ndim
        perm = list(range(nd))
        d0 = _normalize_dim("transpose", dim0, nd)
        d1 = _normalize_dim("transpose", dim1, nd)
        if nd == 0:
            perm = [0, 0][:0]
        else:
            perm[d0], perm[d1] = perm[d1], perm[d0]
        return _core.name_node(S.PermuteFn.apply(self, perm), self, "TransposeBackward0")

    swapaxes = transpose
    swapdims = transpose

    def t(self):
        if self._array.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self._array.ndim}D")
        perm = (1, 0) if self._array.ndim == 2 else tuple(range(self._array.ndim))
        return _core.name_node(S.PermuteFn.apply(self, perm), self, "TBackward0")

    def permute(self, *dims, **kw):
        if kw:
            dims = _sizes_kw("permute", "dims", dims, kw)
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return S.PermuteFn.apply(self, dims)

    def unsqueeze(self, dim):
        nd = self._array.ndim
        d = dim if dim >= 0 else dim + nd + 1
        if not 0 <= d <= nd:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-nd - 1}, {nd}], but got {dim})")
        shp = self._array.shape
        return _core.name_node(S.ReshapeFn.apply(self, shp[:d] + (1,) + shp[d:]), self,
                               "UnsqueezeBackward0")

    def squeeze(self, dim=None):
        shp = self._array.shape
        if dim is None:
            return _core.name_node(S.ReshapeFn.apply(self, tuple(s for s in shp if s != 1)),
                                   self, "SqueezeBackward0")
        many = isinstance(dim, (tuple, list))
        dims = dim if many else (dim,)
        dims = [_normalize_dim("squeeze", d, len(shp)) for d in dims]   # (range checked)
        drop = {d for d in dims if len(shp) and shp[d] == 1}
        # (a view even when nothing is dropped, as PyTorch's)
        return _core.name_node(
            S.ReshapeFn.apply(self, tuple(s for i, s in enumerate(shp) if i not in drop)),
            self, "SqueezeBackward2" if many else "SqueezeBackward1")

    def expand(self, *shape, **kw):
        if kw:
            shape = _sizes_kw("expand", "size", shape, kw, ignore="implicit")
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        nd = self._array.ndim
        lead = len(shape) - nd
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes provided ({len(shape)}) must be "
                               f"greater or equal to the number of dimensions in the tensor "
                               f"({nd})")
        for i, s in enumerate(shape):
            if s == -1 and i < lead:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
        shape = tuple(int(s) if s != -1 else self._array.shape[i - lead]
                      for i, s in enumerate(shape))
        return S.ExpandFn.apply(self, shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def __getitem__(self, index):
        idx = _index(index)
        out = S.GetItemFn.apply(self, idx)
        if out._base is not None:
            out._view_of = (self, idx)      # where an in-place change through it goes
        elif type(idx) is tuple:
            mv = _int_adv_move(idx, self._array.ndim)
            if mv is not None:              # PyTorch's placement of the indexed dims
                out = out.movedim(tuple(range(mv[0])), tuple(range(mv[1], mv[1] + mv[0])))
        return out

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._array.shape[0]):
            yield self[i]

    def __contains__(self, item):
        v = item._array if isinstance(item, TensorBase) else item
        return bool((self._array == v).any())

    # ------------------------------------------------------------------
    # torch.* maths (ops/stats.py, ops/misc.py, ops/special_math.py)
    median = St.median
    nanmedian = St.nanmedian
    quantile = St.quantile
    nanquantile = St.nanquantile
    histc = St.histc
    histogram = St.histogram
    unique_consecutive = St.unique_consecutive
    kron = Mi.kron
    cross = Mi.cross
    diagflat = Mi.diagflat
    scatter_reduce = Mi.scatter_reduce
    sum_to_size = Mi.sum_to_size
    lgamma = Sp.lgamma
    digamma = Sp.digamma
    sinc = Sp.sinc
    i0 = Sp.i0
    logit = Sp.logit
    xlogy = Sp.xlogy
    mvlgamma = Sp.mvlgamma
    lgamma_ = _inplace_unary(Sp.lgamma, snapshot=True)
    digamma_ = _inplace_unary(Sp.digamma, snapshot=True)
    sinc_ = _inplace_unary(Sp.sinc, snapshot=True)
    i0_ = _inplace_unary(Sp.i0, snapshot=True)

    def polygamma(self, n):
        return Sp.polygamma(n, self)

    def polygamma_(self, n):
        return self._inplace(lambda t: Sp.polygamma(n, t), None, (), True)

    def logit_(self, eps=None):
        return self._inplace(lambda t: Sp.logit(t, eps), None, (), True)

    def xlogy_(self, other):
        o = _operand(other)
        return self._inplace(lambda t: Sp.xlogy(t, o), None, (o,), True)

    def mvlgamma_(self, p):
        return self._inplace(lambda t: Sp.mvlgamma(t, p), None, (), True)

    def bincount(self, weights=None, minlength=0):
        return bincount(self, weights, minlength)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return self._inplace(lambda t: Mi.scatter_reduce(t, dim, index, src, reduce,
                                                         include_self=include_self),
                             None, (src,), True)

    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        return self._inplace(lambda t: L.addmm(t, mat1, mat2, beta=beta, alpha=alpha), None,
                             (mat1, mat2))

    def addmv_(self, mat, vec, *, beta=1, alpha=1):
        return self._inplace(lambda t: L.addmv(t, mat, vec, beta=beta, alpha=alpha), None,
                             (mat, vec))

    def cumprod_(self, dim, *, dtype=None):
        return self._inplace(lambda t: R.cumprod(t, dim, dtype=dtype), None, (), True)

    def floor_divide_(self, other):
        o = _operand(other)
        return self._inplace(lambda t: P.floor_divide(t, o), None, (o,))

    def _view_inplace(self, view):
        """An in-place shape change (``unsqueeze_``, ``t_``, ...): this tensor
        becomes ``view(self)`` (sharing memory), recorded under autograd."""
        if _grad_enabled() and self._requires_grad and self._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        res = view(self)
        self._array = res._array
        if _grad_enabled() and res._requires_grad:
            self._adopt(res)
        self._bump()
        return self

    def squeeze_(self, dim=None):
        return self._view_inplace(lambda t: t.squeeze(dim))

    def unsqueeze_(self, dim):
        return self._view_inplace(lambda t: t.unsqueeze(dim))

    def t_(self):
        return self._view_inplace(lambda t: t.t())

    def transpose_(self, dim0, dim1):
        return self._view_inplace(lambda t: t.transpose(dim0, dim1))

    swapaxes_ = swapdims_ = transpose_

    def new(self, *args, **kwargs):
        """Legacy ``x.new(...)``: a tensor of x's dtype from data, or an
        uninitialised (zeroed) one of the given sizes (empty without args)."""
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            a = args[0]
            if isinstance(a, Size):
                return _factories.zeros(tuple(a), dtype=self._array.dtype)
            return _factories.tensor(a._array if isinstance(a, TensorBase) else a,
                                     dtype=self._array.dtype)
        return _factories.zeros(*(args or (0,)), dtype=self._array.dtype)
    # --- end of torch.* maths

    # ------------------------------------------------------------------
    # torch.* maths gaps (ops/pointwise_more.py, scan.py, stats_more.py,
    # arrange.py, scatter_more.py, strided.py)
    logaddexp = Pm.logaddexp
    logaddexp2 = Pm.logaddexp2
    hypot = Pm.hypot
    copysign = Pm.copysign
    nextafter = Pm.nextafter
    heaviside = Pm.heaviside
    frexp = Pm.frexp
    ldexp = Pm.ldexp
    float_power = Pm.float_power
    gcd = Pm.gcd
    lcm = Pm.lcm
    bitwise_left_shift = Pm.bitwise_left_shift
    bitwise_right_shift = Pm.bitwise_right_shift
    deg2rad = Pm.deg2rad
    rad2deg = Pm.rad2deg
    positive = Pm.positive
    conj = resolve_conj = resolve_neg = Pm.conj
    conj_physical = Pm.conj_physical
    isreal = Pm.isreal
    angle = Pm.angle
    logcumsumexp = Sc.logcumsumexp
    cummax = Sc.cummax
    cummin = Sc.cummin
    diff = Sc.diff
    nansum = Sm.nansum
    nanmean = Sm.nanmean
    aminmax = Sm.aminmax
    mode = Sm.mode
    cov = Sm.cov
    corrcoef = Sm.corrcoef
    renorm = Sm.renorm
    addr = Sm.addr
    addbmm = Sm.addbmm
    rot90 = Ar.rot90
    hsplit = Ar.hsplit
    vsplit = Ar.vsplit
    dsplit = Ar.dsplit
    ravel = Ar.ravel
    narrow_copy = Ar.narrow_copy
    adjoint = Ar.adjoint
    nonzero_static = Ar.nonzero_static
    select_scatter = Sx.select_scatter
    slice_scatter = Sx.slice_scatter
    diagonal_scatter = Sx.diagonal_scatter
    index_fill = Sx.index_fill
    index_copy = Sx.index_copy
    index_reduce = Sx.index_reduce
    masked_scatter = Sx.masked_scatter
    put = Sx.put
    as_strided = Sd.as_strided
    unfold = Sd.unfold

    @property
    def real(self):
        return self

    @property
    def imag(self):
        return Pm.imag(self)

    def unflatten(self, dim, sizes):
        return Ar.unflatten(self, dim, sizes)

    def _inplace_op(self, fn, *args, snapshot=True, **kwargs):
        """``self = fn(self, *args)`` in place (the Tensor operands recorded)."""
        ops = tuple(a for a in args if isinstance(a, TensorBase))
        return self._inplace(lambda t: fn(t, *args, **kwargs), None, ops, snapshot)

    def hypot_(self, other):
        return self._inplace_op(Pm.hypot, _operand(other))

    def copysign_(self, other):
        return self._inplace_op(Pm.copysign, _operand(other))

    def nextafter_(self, other):
        return self._inplace_op(Pm.nextafter, _operand(other))

    def heaviside_(self, values):
        return self._inplace_op(Pm.heaviside, _operand(values))

    def ldexp_(self, other):
        return self._inplace_op(Pm.ldexp, _operand(other))

    def float_power_(self, exponent):
        if self._array.dtype != float64:
            raise RuntimeError(f"the base given to float_power_ has dtype "
                               f"{_torch_name(self._array.dtype)} but the operation's result "
                               f"requires dtype Double")
        return self._inplace_op(Pm.float_power, _operand(exponent))

    def gcd_(self, other):
        return self._inplace_op(Pm.gcd, _operand(other))

    def lcm_(self, other):
        return self._inplace_op(Pm.lcm, _operand(other))

    def bitwise_left_shift_(self, other):
        return self._inplace_op(Pm.bitwise_left_shift, _operand(other))

    def bitwise_right_shift_(self, other):
        return self._inplace_op(Pm.bitwise_right_shift, _operand(other))

    def __lshift__(self, o):
        return Pm.bitwise_left_shift(self, _operand(o))

    def __rshift__(self, o):
        return Pm.bitwise_right_shift(self, _operand(o))

    def __rlshift__(self, o):
        return Pm.bitwise_left_shift(_operand(o), self)

    def __rrshift__(self, o):
        return Pm.bitwise_right_shift(_operand(o), self)

    def __ilshift__(self, o):
        return self.bitwise_left_shift_(o)

    def __irshift__(self, o):
        return self.bitwise_right_shift_(o)

    def deg2rad_(self):
        return self._inplace_op(Pm.deg2rad)

    def rad2deg_(self):
        return self._inplace_op(Pm.rad2deg)

    def conj_physical_(self):
        return self

    def renorm_(self, p, dim, maxnorm):
        return self._inplace_op(Sm.renorm, p, dim, maxnorm)

    def addr_(self, vec1, vec2, *, beta=1, alpha=1):
        return self._inplace_op(Sm.addr, vec1, vec2, beta=beta, alpha=alpha, snapshot=False)

    def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return self._inplace_op(Sm.addbmm, batch1, batch2, beta=beta, alpha=alpha,
                                snapshot=False)

    def index_fill_(self, dim, index, value):
        return self._inplace_op(Sx.index_fill, dim, index, _operand(value), snapshot=False)

    def index_copy_(self, dim, index, source):
        return self._inplace_op(Sx.index_copy, dim, index, _operand(source), snapshot=False)

    def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
        return self._inplace_op(Sx.index_reduce, dim, index, _operand(source), reduce,
                                include_self=include_self)

    def masked_scatter_(self, mask, source):
        m = _operand(mask)
        if isinstance(m, TensorBase) and m._array.shape != self._array.shape:
            try:
                np.broadcast_to(m._array, self._array.shape)
            except ValueError:
                raise RuntimeError(f"masked_scatter_: expected mask of shape "
                                   f"{list(m._array.shape)} to be broadcastable to self's "
                                   f"shape {list(self._array.shape)}") from None
        return self._inplace_op(Sx.masked_scatter, m, _operand(source), snapshot=False)

    def put_(self, index, source, accumulate=False):
        return self._inplace_op(Sx.put, index, _operand(source), accumulate, snapshot=False)

    def as_strided_(self, size, stride, storage_offset=None):
        return self._view_inplace(lambda t: Sd.as_strided(t, size, stride, storage_offset))

    def is_nonzero(self):
        n = self._array.size
        if n != 1:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous" if n == 0
                               else "Boolean value of Tensor with more than one value is "
                               "ambiguous")
        return bool(self._array.reshape(-1)[0])

    def get_device(self):
        """-1: fastnn's tensors live on the CPU."""
        return -1

    def storage_offset(self):
        return Sd.storage_offset(self)

    def resize_(self, *sizes, memory_format=None):
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        return Sd.resize_(self, sizes)

    def resize_as_(self, the_template, memory_format=None):
        return Sd.resize_(self, tuple(the_template._array.shape))

    def new_empty_strided(self, size, stride, *, dtype=None, device=None,
                          requires_grad=False):
        return Sd.empty_strided(size, stride, dtype=dtype or self._array.dtype, device=device,
                                requires_grad=requires_grad)
    dist = Sm.dist
    igamma = Pm.igamma
    igammac = Pm.igammac

    def igamma_(self, other):
        return self._inplace_op(Pm.igamma, _operand(other))

    def igammac_(self, other):
        return self._inplace_op(Pm.igammac, _operand(other))

    as_strided_scatter = Sd.as_strided_scatter

    def is_conj(self):
        return False

    def is_neg(self):
        return False

    def const_data_ptr(self):
        return self.data_ptr()

    def dim_order(self, *, ambiguity_check=False):
        """The dims from outermost to innermost in memory (by stride, ties in order)."""
        st = self._array.strides
        return tuple(sorted(range(self._array.ndim), key=lambda d: -st[d]))

    def resize(self, *sizes):
        """Deprecated in PyTorch (its warning): ``reshape`` keeping the element count."""
        import warnings
        warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        n = int(np.prod(sizes, dtype=np.int64))
        if n != self._array.size:
            raise RuntimeError(f"requested resize to {'x'.join(map(str, sizes))} ({n} elements "
                               f"in total), but the given tensor has a size of "
                               f"{'x'.join(map(str, self._array.shape))} ({self._array.size} "
                               "elements). autograd's resize can only change the shape of a "
                               "given tensor, while preserving the number of elements. ")
        return self.reshape(sizes)

    def resize_as(self, tensor):
        return self.resize(tuple(tensor._array.shape))

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return self._inplace_op(L.baddbmm, batch1, batch2, beta=beta, alpha=alpha,
                                snapshot=False)
    # --- end of torch.* maths gaps


_UFUNC_OPS = {
    "add": lambda a, b: a + b, "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b, "true_divide": lambda a, b: a / b,
    "divide": lambda a, b: a / b, "floor_divide": lambda a, b: a // b,
    "remainder": lambda a, b: a % b,
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


def _check_inference_inplace():
    """PyTorch's error for changing an inference tensor in place outside
    ``inference_mode()``."""
    if not _core.is_inference_mode_enabled():
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not "
                           "allowed.You can make a clone to get a normal tensor before doing "
                           "inplace update.See https://github.com/pytorch/rfcs/pull/17 for "
                           "more details.")


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


_TORCH_NAMES = {float32: "Float", float64: "Double", int64: "Long", int32: "Int", int16: "Short",
                int8: "Char", uint8: "Byte", bool_: "Bool"}


_C_NAMES = {int64: "long int", int32: "int", int16: "short int", int8: "signed char",
            uint8: "unsigned char", bool_: "bool", float32: "float",
            float64: "double"}          # (PyTorch's messages name C types)


def _torch_name(dt):
    return _TORCH_NAMES.get(dt, str(dt))


def _shape_arg(shape):
    """A reshape/view shape as ints, with PyTorch's checks on negative sizes
    (NumPy takes any negative size as the inferred one)."""
    shape = tuple([int(s) for s in shape])
    inferred = False
    for i, s in enumerate(shape):
        if s == -1:
            if inferred:
                raise RuntimeError("only one dimension can be inferred")
            inferred = True
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape "
                               f"{list(shape)}")
    return shape


def _check_view(a, shape):
    """Raises PyTorch's error when ``view(shape)`` of the non-contiguous
    array ``a`` cannot share its memory (a dim to be merged spans two runs
    of memory); sizes that do not fit are left to reshape's own error."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    try:
        shape = tuple([int(s) for s in shape])
    except TypeError:
        return
    try:
        try:
            np.reshape(a, shape, copy=False)
        except TypeError:                       # (NumPy < 2.1: no copy=)
            v = a.view()
            v.shape = shape
    except (ValueError, AttributeError):
        try:
            a.reshape(shape)
        except ValueError:
            return                              # a size mismatch: reshape says so
        raise RuntimeError("view size is not compatible with input tensor's size and stride "
                           "(at least one dimension spans across two contiguous subspaces). "
                           "Use .reshape(...) instead.") from None


def _check_cast(src, dst):
    """PyTorch's rule for writing a result of dtype src into a tensor of
    dtype dst in place: never into a lower category (float -> integer,
    integer -> bool)."""
    if src != dst and _promote._CAT[src.kind] > _promote._CAT[dst.kind]:
        raise RuntimeError(f"result type {_torch_name(src)} can't be cast to the desired output "
                           f"type {_torch_name(dst)}")


def _sizes_kw(op, name, args, kw, alt=None, ignore=None):
    """The sizes of a varargs method given by keyword, as PyTorch allows
    (``x.permute(dims=(1, 0))``, ``x.view(size=(4, 3))``, ``x.view(dtype=...)``)."""
    kw = {k: v for k, v in kw.items() if k != ignore}
    if not kw:
        return args
    keys = [k for k in kw if k in (name, alt)]
    if args or len(kw) != 1 or not keys:
        bad = next((k for k in kw if k not in (name, alt)), next(iter(kw)))
        raise TypeError(f"{op}() got an unexpected keyword argument {bad!r}" if bad not in
                        (name, alt) else f"{op}() got multiple values for argument {bad!r}")
    return (kw[keys[0]],)


class _ScalarConversionError(ValueError, TypeError):
    """int()/float() of a tensor of several elements: PyTorch's ValueError
    (a TypeError too, which NumPy raises for the same call)."""


def _matmul_operand(o):
    """The other operand of ``@`` as a Tensor; a number is a TypeError, as in PyTorch."""
    o = _operand(o)
    if not isinstance(o, TensorBase):
        raise TypeError(f"matmul(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(o).__name__}")
    return o


def _ufunc_into(ufunc, o):
    """``a = ufunc(a, o)`` in place on ndarray a (o a number or a Tensor)."""
    ov = o._array if isinstance(o, TensorBase) else o

    def run(a):
        if a.dtype.kind != "f":
            _check_cast(_promote.result_type(a, ov), a.dtype)
        try:
            ufunc(a, ov, out=a, casting="unsafe")
        except ValueError:
            raise RuntimeError(f"output with shape {list(a.shape)} doesn't match the broadcast "
                               f"shape {list(np.broadcast_shapes(a.shape, np.shape(ov)))}") \
                from None
    return run


def _float_ufunc(ufunc):
    """``a = ufunc(a)`` in place on a float ndarray (an integer one raises)."""
    def run(a):
        _check_cast(float32, a.dtype)
        ufunc(a, out=a)
    return run


def _fast_addc(ufunc, t1, t2, value):
    """``a += value * ufunc(t1, t2)`` in place (addcmul_/addcdiv_ without autograd)."""
    def run(a):
        v1 = t1._array if isinstance(t1, TensorBase) else t1
        v2 = t2._array if isinstance(t2, TensorBase) else t2
        r = ufunc(v1, v2)
        if value != 1:
            r = r * value
        if a.dtype.kind != "f":
            _check_cast(np.asarray(r).dtype, a.dtype)
        np.add(a, r, out=a, casting="unsafe")
    return run


def _deprecated_alpha(op, first, rest):
    """(other, alpha) of the old call form ``t.add_(alpha, other)`` (the
    word-language-model example's ``p.data.add_(-lr, p.grad)``), which
    PyTorch still takes with a warning."""
    if len(rest) != 1 or not isinstance(first, numbers.Number) or \
            not isinstance(rest[0], TensorBase):
        raise TypeError(f"{op}() takes other and the keyword alpha; the deprecated form is "
                        f"{op}(Number alpha, Tensor other)")
    warnings.warn(f"This overload of {op} is deprecated: {op}(Number alpha, Tensor other); "
                  f"use {op}(Tensor other, *, Number alpha) instead", UserWarning, stacklevel=3)
    return rest[0], first


def _operand(o):
    # (a NumPy scalar first: it is also a numbers.Number, and left as one its
    # own operator would hand the Tensor back to __array_ufunc__ for ever;
    # as a Python scalar it promotes the way PyTorch's scalars do)
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, (TensorBase, numbers.Number)):
        return o
    if isinstance(o, np.ndarray):
        return _core.wrap(o)
    return _wrap_data(o)


def _index(index):
    """A Tensor index as NumPy's, with PyTorch's rules: Tensors become their
    arrays (a uint8 one a bool mask, with PyTorch's deprecation warning), a
    negative slice step raises, and a short list holding a sequence, Tensor,
    slice, None or Ellipsis is a tuple of indices (``x[[i, j]]`` is
    ``x[i, j]`` when i, j are lists or Tensors; a list of ints stays one
    index on dim 0)."""
    t = type(index)
    if t is tuple:
        for i in index:                      # (ints and slices: no new tuple)
            ti = type(i)
            if ti is not int and (ti is not slice or i.step is not None):
                return _index_items(index)
        return index
    if t is int:
        return index
    if t is slice:
        if index.step is not None and index.step < 0:
            raise ValueError("step must be greater than zero")
        return index
    if isinstance(index, TensorBase):
        a = index._array
        return _u8_mask(a) if a.dtype == uint8 else a
    if t is list:
        return _index_list(index)
    return index


def _int_adv_move(idx, ndim):
    """PyTorch applies the ints of an index before its advanced indices
    (``x[0, :, [1, 2]]`` is ``x[0][:, [1, 2]]``, shape (3, 2) for x of shape
    (2, 3, 4)); NumPy counts them as advanced, so an int apart from the array
    indices sends the indexed dims to the front (shape (2, 3)).  Returns
    (nb, p): move NumPy's leading nb dims to position p, or None when both
    agree."""
    kinds = []                               # 'i' int, 'a' array, 'b' basic
    for i in idx:
        if type(i) is int or isinstance(i, np.integer) or (
                isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu"):
            kinds.append('i')                # (a 0-d integer Tensor indexes as an int)
        elif isinstance(i, (np.ndarray, list)) or type(i) is bool:
            kinds.append('a')
        else:
            kinds.append('b')
    if 'i' not in kinds or 'a' not in kinds:
        return None
    adv = [k for k, c in enumerate(kinds) if c != 'b']
    if adv[-1] - adv[0] + 1 == len(adv):     # NumPy's block is contiguous: same result
        return None
    noint = [c for c in kinds if c != 'i']
    arr = [k for k, c in enumerate(noint) if c == 'a']
    if arr[-1] - arr[0] + 1 != len(arr):     # apart even without the ints: front in both
        return None
    used = 0
    for i in idx:
        if i is None or i is Ellipsis:
            continue
        used += np.asarray(i).ndim if isinstance(i, (np.ndarray, list)) and \
            np.asarray(i).dtype == bool else 1
    p, first = 0, kinds.index('a')
    for k in range(first):
        i = idx[k]
        if i is Ellipsis:
            p += ndim - used
        elif kinds[k] == 'b':
            p += 1
    if p == 0:
        return None
    shapes = []
    for i, c in zip(idx, kinds):
        if c == 'i':
            shapes.append(())
        elif isinstance(i, (np.ndarray, list)) or type(i) is bool:
            a = np.asarray(i)
            shapes.append((int(a.sum()),) if a.dtype == bool else a.shape)
    return len(np.broadcast_shapes(*shapes)), p


def _index_items(index):
    out = []
    for i in index:
        if isinstance(i, TensorBase):
            i = _u8_mask(i._array) if i._array.dtype == uint8 else i._array
        elif type(i) is slice and i.step is not None and i.step < 0:
            raise ValueError("step must be greater than zero")
        out.append(i)
    return tuple(out)


def _u8_mask(a):
    warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                  "torch.bool instead.", UserWarning, stacklevel=4)
    return a.astype(bool)


def _index_list(index):
    """A list index: PyTorch's (and NumPy's old) rule for reading a short
    list as a tuple of indices."""
    if len(index) < 32:
        for i in index:
            if isinstance(i, (TensorBase, list, tuple, slice, np.ndarray)) or i is None or \
                    i is Ellipsis:
                warnings.warn("Using a non-tuple sequence for multidimensional indexing is "
                              "deprecated and will be changed in pytorch 2.9; use x[tuple(seq)] "
                              "instead of x[seq]. In pytorch 2.9 this will be interpreted as "
                              "tensor index, x[torch.tensor(seq)], which will result either in "
                              "an error or a different result", UserWarning, stacklevel=4)
                return _index_items(index)
    return index


def _arr(t):
    return t._array if isinstance(t, TensorBase) else np.asarray(t)


def _matmul_dtypes(a, b):
    """PyTorch's refusal of a matrix product of two dtypes (it never promotes)."""
    if isinstance(a, TensorBase) and isinstance(b, TensorBase):
        da, db = a._array.dtype, b._array.dtype
        if da != db:
            if a._array.ndim == 1 and b._array.ndim == 1:
                raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                                   f"{_torch_name(da)} and {_torch_name(db)}")
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{_C_NAMES.get(da, da)} != {_C_NAMES.get(db, db)}")


def matmul(a, b):
    """Matrix product with NumPy/PyTorch ``matmul`` semantics through fnn_gemm."""
    a, b = _operand(a), _operand(b)
    _matmul_dtypes(a, b)
    return L.MatMulFn.apply(a, b)


def _into(out, res, op):
    from .ops.reduction import into
    return into(out, res, op)


def cat(tensors, dim=0, *, axis=None, out=None):
    """Concatenates tensors along an existing dim (``axis``: NumPy's name, as
    PyTorch accepts)."""
    if axis is not None:
        dim = axis
    res = S.CatFn.apply(*[_operand(t) for t in tensors], dim=dim)
    return res if out is None else _into(out, res, "cat")


concat = cat
concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Stacks tensors along a new dim."""
    res = S.StackFn.apply(*[_operand(t) for t in tensors], dim=dim)
    return res if out is None else _into(out, res, "stack")


def _unary(method):
    def f(x, *args, **kwargs):
        return getattr(_operand(x), method)(*args, **kwargs)
    f.__name__ = method
    f.__doc__ = f"Functional form of ``Tensor.{method}``."
    return f


add = _unary("add")
sub = subtract = _unary("sub")
mul = multiply = _unary("mul")
div = divide = _unary("div")
true_divide = _unary("true_divide")
pow = _unary("pow")
neg = negative = _unary("neg")
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
clone = _unary("clone")
softmax = _unary("softmax")
log_softmax = _unary("log_softmax")
eq = _unary("eq")
ne = not_equal = _unary("ne")
gt = greater = _unary("gt")
lt = less = _unary("lt")
ge = greater_equal = _unary("ge")
le = less_equal = _unary("le")
sgn = _unary("sign")


def broadcast_to(input, size):
    """``input.expand(size)`` (a read-only view)."""
    return _operand(input).expand(size)


def broadcast_shapes(*shapes):
    """The broadcast shape of the given shapes (ints count as 1-D shapes)."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape "
                           f"{shapes}") from None


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape."""
    ts = [_operand(t) for t in tensors]
    shape = np.broadcast_shapes(*[t._array.shape for t in ts])
    return tuple(t.expand(shape) for t in ts)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors (``indexing='ij'`` or ``'xy'``)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = [_operand(t).reshape(-1) for t in tensors]
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                         f"received: {indexing}")
    if indexing == "xy" and len(ts) >= 2:
        ts[0], ts[1] = ts[1], ts[0]
    n = len(ts)
    shape = tuple(t._array.shape[0] for t in ts)
    grids = [t.reshape([-1 if i == k else 1 for i in range(n)]).expand(shape)
             for k, t in enumerate(ts)]
    if indexing == "xy" and n >= 2:          # the first two inputs swapped back
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def hstack(tensors):
    """Concatenates along dim 1 (dim 0 for 1-D tensors)."""
    ts = [_operand(t) for t in tensors]
    return cat(ts, dim=0 if ts[0]._array.ndim == 1 else 1)


def vstack(tensors):
    """Concatenates along dim 0, 1-D tensors as rows."""
    return cat([_operand(t).reshape(1, -1) if _operand(t)._array.ndim < 2 else _operand(t)
                for t in tensors], dim=0)


def bincount(input, weights=None, minlength=0):
    """Counts of each value of a 1-D non-negative integer tensor (int64; the
    weights' dtype with ``weights``), no gradient."""
    a = _operand(input)._array
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if a.size and a.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else _operand(weights)._array
    out = np.bincount(a, weights=w, minlength=minlength)
    return _core.wrap(out.astype(np.int64 if w is None else
                                 (w.dtype if w.dtype.kind == "f" else np.float64)))


def is_floating_point(input):
    return input._array.dtype.kind == "f"


def is_nonzero(input):
    """True if the single element of ``input`` is not zero (PyTorch's errors
    for several or no elements)."""
    return _operand(input).is_nonzero()


def is_complex(input):
    return input.is_complex()


def is_signed(input):
    return input.is_signed()


def is_same_size(input, other):
    return input.is_same_size(other)


# The factories live in ops/factories.py (they need the dtype rules above);
# imported here last, so ``fastnn._tensor.zeros`` etc. keep working.
from .ops import factories as _factories  # noqa: E402
from .ops.factories import (arange, as_tensor, empty, empty_like, eye, from_numpy,  # noqa: E402,F401
                            full, full_like, linspace, logspace, ones, ones_like, rand,
                            rand_like, randint, randint_like, randn, randn_like, randperm,
                            scalar_tensor, tensor, zeros, zeros_like)
