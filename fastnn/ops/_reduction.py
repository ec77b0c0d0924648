"""Reduction helpers shared by the loss ops (``'none' | 'mean' | 'sum'``,
PyTorch's legacy ``size_average``/``reduce`` mapping, argument checks)."""
import warnings

import numpy as np

from .._errors import ShapeError
from ._util import check_float

REDUCTIONS = ("mean", "sum", "none")


def legacy_reduction(size_average, reduce, reduction, extra=()):
    """The reduction string: ``reduction``, or the one PyTorch derives from
    the deprecated ``size_average``/``reduce`` flags (with its warning)."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  "reduction='mean', 'sum' or 'none' instead.", UserWarning, stacklevel=3)
    try:
        size_average = True if size_average is None else bool(size_average)
        reduce = True if reduce is None else bool(reduce)
    except (TypeError, ValueError):
        raise TypeError("size_average and reduce must be None or booleans") from None
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def reduction_arg(op, size_average, reduce, reduction, extra=()):
    """The checked reduction of a loss call (legacy flags mapped first)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction, extra)
    return reduction


def broadcast_all(op, *named):
    """The broadcast shape of the (name, array) pairs, or a ShapeError naming them."""
    try:
        return np.broadcast_shapes(*(np.shape(a) for _, a in named))
    except ValueError:
        what = ", ".join(f"{n} of shape {tuple(np.shape(a))}" for n, a in named)
        raise ShapeError(f"{op}: {what} cannot be broadcast together") from None


def check_reduction(op, reduction, extra=()):
    """ValueError unless reduction is one of 'mean', 'sum', 'none' (or extra)."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS + tuple(extra):
        allowed = ", ".join(repr(r) for r in REDUCTIONS + tuple(extra))
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction "
                         f"(expected one of {allowed})")


def reduce(loss, reduction, dtype, denom=None):
    """Per-element losses -> the requested reduction (float64 accumulation);
    'mean' divides by ``denom`` (default: the element count; 0/0 gives NaN)."""
    if reduction == "none":   # (np.ascontiguousarray would make a 0-d loss 1-d)
        return loss if loss.dtype == dtype and loss.flags.c_contiguous else \
            np.array(loss, dtype=dtype)
    s = float(loss.sum(dtype=np.float64))
    if reduction == "mean":
        n = loss.size if denom is None else denom
        s = s / n if n else float("nan")
    return np.array(s, dtype=dtype)


def grad_scale(g, reduction, n):
    """(per-element gradient array or None, scalar scale) for a reduced loss
    whose 'mean' divided by n."""
    if reduction == "none":
        return g, 1.0
    gs = float(np.asarray(g).reshape(()))
    if reduction == "mean":
        return None, gs / n if n else float("nan")
    return None, gs


def upstream(g, reduction, n, shape, dtype):
    """The upstream gradient of every element of a loss of ``shape`` (an
    array, or a scalar for reduced losses), mean dividing by n."""
    gv, scale = grad_scale(g, reduction, n)
    if gv is not None:
        return np.asarray(gv, dtype=dtype).reshape(shape)
    return dtype.type(scale)


def broadcast(op, x, y, strict=False, what="target"):
    """The broadcast shape of input x and target y; with strict, the shapes
    must be equal (PyTorch's BCE rule)."""
    if strict:
        if x.shape != y.shape:
            raise ShapeError(f"{op}: {what} size {tuple(y.shape)} must be the same as input "
                             f"size {tuple(x.shape)}")
        return x.shape
    try:
        return np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ShapeError(f"{op}: input shape {tuple(x.shape)} and {what} shape "
                         f"{tuple(y.shape)} cannot be broadcast together") from None


def as_float(op, name, a, dtype):
    """a as an ndarray of the input's float dtype (None passes through)."""
    if a is None:
        return None
    a = np.asarray(a)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{op}: {name} must be a real tensor, got dtype {a.dtype}")
    return a.astype(dtype, copy=False)


def check_input(op, x, name="input"):
    """TypeError unless x is a float32/float64 array (None: a missing tensor)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    check_float(op, name, x)
