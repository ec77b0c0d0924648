"""Helpers shared by the distributions: parameter broadcasting,
probabilities <-> logits, and summing rightmost dims."""
from functools import cached_property as lazy_property  # noqa: F401  (the torch name)
from numbers import Number

import numpy as np

from .._core import Size
from .._tensor import Tensor

__all__ = ["broadcast_all", "clamp_probs", "logits_to_probs", "probs_to_logits",
           "lazy_property", "sum_rightmost", "extended_shape", "as_size"]


def as_size(shape):
    """A ``fastnn.Size`` from an int, a tuple/list or a Size."""
    if isinstance(shape, Number):
        return Size((int(shape),))
    return Size(tuple(int(s) for s in shape))


def broadcast_all(*values):
    """Tensors broadcast to one shape.  Python numbers become Tensors of the
    first Tensor argument's dtype (the default dtype when all are numbers), as in PyTorch."""
    import fastnn
    dtype = None
    for v in values:
        if isinstance(v, Tensor):
            if dtype is None and v.is_floating_point():
                dtype = v.dtype
        elif not isinstance(v, Number):
            raise ValueError("Input arguments must all be instances of numbers.Number or "
                             f"fastnn.Tensor, got {type(v).__name__}")
    dtype = fastnn.get_default_dtype() if dtype is None else dtype
    tensors = [v if isinstance(v, Tensor) else fastnn.tensor(float(v), dtype=dtype)
               for v in values]
    if all(t.shape == tensors[0].shape for t in tensors):
        return tuple(tensors)
    return tuple(fastnn.broadcast_tensors(*tensors))


def clamp_probs(probs):
    """Probabilities clamped into [eps, 1 - eps] of their dtype."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    """Sigmoid of binary logits, softmax along the last dim otherwise."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def probs_to_logits(probs, is_binary=False):
    """Log-odds of binary probabilities, log-probabilities otherwise (the
    probabilities clamped away from 0 and 1 first)."""
    p = clamp_probs(probs)
    if is_binary:
        return p.log() - (-p).log1p()
    return p.log()


def sum_rightmost(value, dim):
    """``value`` summed over its rightmost ``dim`` dims."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.ndim - dim]) + (-1,)).sum(-1)


def extended_shape(sample_shape, batch_shape, event_shape):
    return Size(tuple(as_size(sample_shape)) + tuple(batch_shape) + tuple(event_shape))


def uniform01(shape, dtype):
    """Uniform draws in [0, 1) of ``dtype`` from fastnn's global generator
    (float64 draws rounded to float32 are kept below 1)."""
    import fastnn
    u = fastnn.rand(tuple(shape), dtype=fastnn.float64)
    if u.dtype != dtype:
        u = u.to(dtype).clamp(max=float(np.nextafter(np.array(1, dtype=dtype), 0)))
    return u
