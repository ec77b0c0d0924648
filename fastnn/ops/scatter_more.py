"""Out-of-place writes into a copy of a tensor: ``select_scatter``,
``slice_scatter``, ``diagonal_scatter``, ``index_fill``, ``index_copy``,
``index_reduce``, ``masked_scatter`` and ``put`` (the in-place ``_`` forms
are Tensor methods).

Each validates its arguments as PyTorch does (the source must have the
exact shape of the region it fills, indices are int64 and in range) and
then runs the differentiable index assignment (``IndexPutFn``) or
``scatter_reduce``: the gradient of the input is the upstream gradient
with the overwritten region zeroed, that of the source the upstream
gradient at the positions it went to.

Examples
--------
>>> import fastnn
>>> fastnn.slice_scatter(fastnn.zeros(2, 4), fastnn.ones(2, 2), 1, 1, 3)
tensor([[0., 1., 1., 0.],
        [0., 1., 1., 0.]])
>>> fastnn.zeros(2, 3).index_fill(1, fastnn.tensor([0, 2]), 7.0)
tensor([[7., 0., 7.],
        [7., 0., 7.]])
"""
import numpy as np

from .._core import TensorBase
from ._common import operand, tensor
from ._util import normalize_dim
from .shape import IndexPutFn
from .reduction import into

_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
          "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _n(dt):
    return _NAMES.get(str(dt), str(dt))


def _same_shape(src, view_shape):
    if tuple(src._array.shape) != tuple(view_shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src._array.shape)}, slice size = {list(view_shape)}")


def _like(src, x):
    """src in x's dtype (a differentiable cast, as PyTorch copies into x)."""
    return src if src._array.dtype == x._array.dtype else src.to(x._array.dtype)


def _put(x, src, index, accumulate=False):
    return IndexPutFn.apply(x, src, index, accumulate)


# ------------------------------------------------------- *_scatter views
def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``src`` written at ``index`` along ``dim``."""
    x, s = tensor(input), tensor(src)
    nd = x._array.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = normalize_dim("select_scatter", dim, nd)
    n = x._array.shape[d]
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{list(x._array.shape)} at dimension {d}")
    idx = (slice(None),) * d + (i % n,)
    _same_shape(s, x._array[idx].shape)
    return _put(x, _like(s, x), idx)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``src`` written into the slice
    ``start:end:step`` of ``dim``."""
    x, s = tensor(input), tensor(src)
    nd = x._array.ndim
    d = normalize_dim("slice_scatter", dim, nd)
    if int(step) <= 0:
        raise RuntimeError("slice step must be positive")
    idx = (slice(None),) * d + (slice(start, end, int(step)),)
    _same_shape(s, x._array[idx].shape)
    return _put(x, _like(s, x), idx)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``src`` written on the ``offset`` diagonal
    of dims (dim1, dim2) (src has that diagonal's shape, the diagonal last)."""
    x, s = tensor(input), tensor(src)
    nd = x._array.ndim
    if nd < 2:
        raise RuntimeError(f"diagonal(): input must have at least 2 dimensions, got {nd}")
    d1, d2 = normalize_dim("diagonal", dim1, nd), normalize_dim("diagonal", dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = int(offset)
    _same_shape(s, np.diagonal(x._array, offset, d1, d2).shape)
    from .shape import movedim
    xm = movedim(x, (d1, d2), (nd - 2, nd - 1))
    k = s._array.shape[-1]
    i = np.arange(k)
    idx = (Ellipsis, i + max(-offset, 0), i + max(offset, 0))
    return movedim(_put(xm, _like(s, x), idx), (nd - 2, nd - 1), (d1, d2))


# ------------------------------------------------------------ index_*
def _index_vector(op, index, size, d, allow_negative):
    if not isinstance(index, TensorBase):
        index = tensor(index)
    a = index._array
    if a.dtype.kind not in "iu":
        raise IndexError(f"{op}(): Expected dtype int64 for index.")
    if a.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    a = a.reshape(-1).astype(np.int64, copy=False)
    lo = -size if allow_negative else 0
    bad = (a < lo) | (a >= size)
    if bad.any():
        v = int(a[bad][0])
        raise IndexError(f"{op}(): index {v} is out of bounds for dimension {d} with size "
                         f"{size}" if op != "index_fill_" else
                         f"index {v} is out of bounds for dimension {d} with size {size}")
    return np.where(a < 0, a + size, a)


def index_fill(input, dim, index, value):
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) at
    positions ``index`` along ``dim``."""
    x, v = tensor(input), operand(value)
    nd = x._array.ndim
    d = normalize_dim("index_fill", dim, nd)
    if isinstance(v, TensorBase) and v._array.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {v._array.ndim} dimension(s).")
    n = x._array.shape[d] if nd else 1
    a = np.unique(_index_vector("index_fill_", index, n, d, True))
    if isinstance(v, TensorBase):
        v = _like(v, x)
    else:
        v = tensor(np.asarray(v).astype(x._array.dtype))
    if not nd:
        return _put(x, v, ()) if a.size else x.clone()
    return _put(x, v, (slice(None),) * d + (a,))


def index_copy(input, dim, index, source, *, out=None):
    """A copy of ``input`` with the slices of ``source`` along ``dim``
    written at positions ``index`` (source.size(dim) == len(index))."""
    x, s = tensor(input), tensor(source)
    nd = x._array.ndim
    d = normalize_dim("index_copy_", dim, nd)
    if s._array.dtype != x._array.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {_n(x._array.dtype)} and (source) "
                           f"{_n(s._array.dtype)}")
    n = x._array.shape[d] if nd else 1
    a = _index_vector("index_copy_", index, n, d, False)
    ns = s._array.shape[d] if s._array.ndim else 1
    if a.size != ns:
        raise IndexError(f"index_copy_(): Number of indices ({a.size}) should be equal to "
                         f"source.size(dim) ({ns})")
    if not nd:
        return into(out, s.reshape(()).clone())
    idx = (slice(None),) * d + (a,)
    _same_shape(s, x._array[idx].shape)
    return into(out, _put(x, s, idx))


_REDUCES = ("prod", "mean", "amax", "amin")


def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """``input`` with the slices of ``source`` along ``dim`` reduced into
    positions ``index`` by 'prod', 'mean', 'amax' or 'amin'."""
    x, s = tensor(input), tensor(source)
    if reduce not in _REDUCES:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    nd = x._array.ndim
    d = normalize_dim("index_reduce", dim, nd)
    if s._array.dtype != x._array.dtype:
        raise RuntimeError(f"index_reduce_(): self and source expected to have the same dtype, "
                           f"but got (self) {_n(x._array.dtype)} and (source) "
                           f"{_n(s._array.dtype)}")
    n = x._array.shape[d] if nd else 1
    a = _index_vector("index_reduce_", index, n, d, False)
    ns = s._array.shape[d] if s._array.ndim else 1
    if a.size != ns or s._array.ndim != nd or any(
            s._array.shape[k] != x._array.shape[k] for k in range(nd) if k != d):
        raise RuntimeError(f"index_reduce_(): Number of indices ({a.size}) should be equal to "
                           f"source.size(dim) ({ns}) and source must have self's shape outside "
                           f"dim {d}")
    from .misc import scatter_reduce
    shp = [1] * nd
    if nd:
        shp[d] = a.size
    full = np.broadcast_to(a.reshape(shp), s._array.shape) if nd else a.reshape(())
    return into(out, scatter_reduce(x, d, tensor(np.ascontiguousarray(full)), s, reduce,
                                    include_self=include_self))


# ------------------------------------------------------- masked / put
def masked_scatter(input, mask, source):
    """A copy of ``input`` (broadcast with ``mask``) with the first
    elements of ``source`` written, in order, where ``mask`` is True."""
    x, m, s = tensor(input), tensor(mask), tensor(source)
    if m._array.dtype.kind != "b":
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {_n(m._array.dtype)}")
    if s._array.dtype != x._array.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got{_n(x._array.dtype)} and {_n(s._array.dtype)}")
    try:
        shape = np.broadcast_shapes(x._array.shape, m._array.shape)
    except ValueError:
        raise RuntimeError(f"masked_scatter: the shape of the mask {list(m._array.shape)} and "
                           f"of self {list(x._array.shape)} cannot be broadcast "
                           "together") from None
    return _masked_scatter(x, m, s, shape)


def _masked_scatter(x, m, s, shape):
    mb = np.broadcast_to(m._array, shape)
    k = int(mb.sum())
    if k > s._array.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    xb = x if tuple(x._array.shape) == tuple(shape) else x.expand(*shape)
    return _put(xb, s.reshape(-1)[:k], np.ascontiguousarray(mb))


def put(input, index, source, accumulate=False):
    """A copy of ``input`` with ``source`` written at the flat positions
    ``index`` (negative from the end); ``accumulate`` adds instead."""
    x, s = tensor(input), tensor(source)
    a = _arr_index("put_", index)
    if s._array.size != a.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {s._array.size}, index.numel() = "
                         f"{a.size}")
    if s._array.dtype != x._array.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {_n(x._array.dtype)} and source.dtype = "
                           f"{_n(s._array.dtype)}")
    n = x._array.size
    a = a.reshape(-1)
    bad = (a < -n) | (a >= n)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {int(a[bad][0])} on a tensor of "
                         f"{n} elements.")
    flat = x.reshape(-1)
    res = _put(flat, s.reshape(-1), np.where(a < 0, a + n, a), bool(accumulate))
    return res.reshape(x._array.shape)


def _arr_index(op, index):
    a = index._array if isinstance(index, TensorBase) else np.asarray(index)
    if a.dtype.kind not in "iu":
        raise IndexError(f"{op}(): Expected a long tensor for index, but got "
                         f"{_n(a.dtype)}")
    return a.astype(np.int64, copy=False)
