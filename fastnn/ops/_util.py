"""Helpers shared by the op modules."""
import numpy as np

from .._config import state
from .._core import TensorBase, is_grad_enabled
from .._core import wrap as _core_wrap
from .._errors import ShapeError

FLOAT_KINDS = (np.dtype(np.float32), np.dtype(np.float64))


def nthreads():
    return state.threads


def unbroadcast(g, shape):
    """Sums a broadcast gradient back to ``shape`` (the input's shape)."""
    if g.shape == shape:
        return g
    nd = g.ndim - len(shape)
    if nd > 0:
        g = g.sum(axis=tuple(range(nd)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def rows(a, k=None, lead=1):
    """``a`` viewed as ``(rows, *a.shape[-lead:])`` (or ``(rows, k)``): the
    leading dims merged, with the row count spelled out, because NumPy cannot
    infer a ``-1`` when the array is empty (``zeros(0).reshape(-1, 0)``)."""
    tail = a.shape[a.ndim - lead:] if k is None else (k,)
    n = 1
    for s in a.shape[:a.ndim - lead]:
        n *= s
    return a.reshape((n,) + tuple(tail))


def untracked(x, weight, bias):
    """The Tensor class when x and weight are Tensors, bias is a Tensor or
    None, and autograd would record nothing for them (grad mode off, or
    none requires grad): the no-graph fast paths of the layer ops may run.
    None otherwise (the full path converts, records or reports)."""
    T = TensorBase
    if not isinstance(x, T) or not isinstance(weight, T) or (
            bias is not None and not isinstance(bias, T)):
        return None
    if is_grad_enabled() and (x._requires_grad or weight._requires_grad or
                              (bias is not None and bias._requires_grad)):
        return None
    return _Wrapper


class _Wrapper:
    """What ``untracked`` returns: ``_wrap(array)`` makes the result Tensor."""
    _wrap = staticmethod(_core_wrap)


def is_float(a):
    return a.dtype == FLOAT_KINDS[0] or a.dtype == FLOAT_KINDS[1]


def c_contig(a):
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def check_float(op, name, a):
    """Raises TypeError unless a is a float32/float64 array."""
    if not is_float(a):
        raise TypeError(f"{op}: {name} must be float32 or float64, got {a.dtype}")


def broadcast_shape(op, a, b):
    try:
        return np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        raise ShapeError(f"{op}: shapes {tuple(np.shape(a))} and {tuple(np.shape(b))} "
                         f"cannot be broadcast together") from None


def normalize_dim(op, dim, ndim):
    """A dim (int, may be negative) checked against ndim; returns 0 <= d < ndim."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of {ndim} dimensions "
                         f"(expected in [{-n}, {n - 1}])")
    return dim % n


def arr(x):
    """The ndarray behind a Tensor argument (anything else through
    ``numpy.asarray``)."""
    return x._array if isinstance(x, TensorBase) else np.asarray(x)
