"""Randomized leaky rectifier (PyTorch's ``F.rrelu``).

Training: every element with ``x <= 0`` (PyTorch's rule) is multiplied by
a slope drawn uniformly from ``[lower, upper]`` (fastnn's global generator,
so ``fastnn.manual_seed`` reproduces it, or ``generator=``); the others
pass unchanged.  The backward multiplies the upstream gradient by the same
saved slopes (1 for the passed elements).  Evaluation: ``leaky_relu`` with
slope ``(lower + upper) / 2``.
"""
import numpy as np

from ..autograd.function import Function
from ..random import _numpy_generator
from ._util import check_float
from .activation import _act, _number, leaky_relu

__all__ = ["rrelu", "rrelu_"]


class RReLUFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, lower, upper, gen):
        check_float("rrelu", "input", x)
        neg = x <= 0
        slopes = np.ones_like(x)
        slopes[neg] = gen.uniform(lower, upper, int(np.count_nonzero(neg)))
        ctx.slopes = slopes
        return x * slopes

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.slopes).astype(ctx.slopes.dtype, copy=False), None, None, None


def _bounds(lower, upper):
    lower, upper = _number("rrelu", "lower", lower), _number("rrelu", "upper", upper)
    if lower > upper:
        raise ValueError(f"rrelu: Lower bound should be less than or equal to the upper "
                         f"bound, got lower={lower}, upper={upper}")
    return lower, upper


def _rrelu(input, lower, upper, training, inplace, generator=None):
    lower, upper = _bounds(lower, upper)
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    gen = _numpy_generator(generator)
    return _act(input, inplace, lambda t: RReLUFn.apply(t, lower, upper, gen))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky rectifier: with ``training``, ``x * a`` for ``x <= 0``
    with ``a ~ U(lower, upper)`` drawn per element, ``x`` elsewhere; in
    evaluation ``leaky_relu(x, (lower + upper) / 2)``.  Not gradcheck-able
    in training (random), the gradient is the saved slope.

    Shape
    -----
    Any shape; the output has the input's shape.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.rrelu(fastnn.tensor([-2.0, 3.0]), 0.25, 0.75).numpy()
    array([-1.,  3.], dtype=float32)
    """
    return _rrelu(input, lower, upper, training, inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place ``rrelu``."""
    return _rrelu(input, lower, upper, training, True)
