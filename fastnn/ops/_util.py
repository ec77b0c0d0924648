"""Helpers shared by the op modules."""
import numpy as np

from .._config import state
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
