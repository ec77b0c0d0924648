"""Inverted dropout over the compiled core (``csrc/dropout.c``).

The keep mask is a pure function of ``(seed, stream, element index)`` (a
splitmix64 hash), so it does not depend on the thread count, and the
backward regenerates it instead of storing it.  ``seed`` is
``fastnn.manual_seed``'s value and ``stream`` a counter incremented by every
training-mode call, so a seeded run draws the same masks again.
"""
import numpy as np

from .. import _core
from .._config import state
from ..autograd.function import Function
from ._util import c_contig, check_float, nthreads
from .activation import _t

_M64 = (1 << 64) - 1


def next_stream():
    """(seed, stream) for the next dropout call; advances the counter."""
    s = state.dropout_counter
    state.dropout_counter = s + 1
    return state.seed & _M64, s & _M64


class Dropout(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, p, seed, stream):
        check_float("dropout", "input", x)
        x = c_contig(x)
        ctx.key = (p, seed, stream)
        return _core.dropout_fwd(x, np.empty_like(x), p, seed, stream, nthreads())

    @staticmethod
    def backward(ctx, g):
        p, seed, stream = ctx.key
        g = np.ascontiguousarray(g)
        return _core.dropout_fwd(g, np.empty_like(g), p, seed, stream, nthreads()), None, None, \
            None


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: in training, each element is zeroed with probability
    ``p`` and the kept ones are scaled by ``1 / (1 - p)``; identity otherwise.

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64)
    p : float in [0, 1]
        Drop probability (``p = 1`` gives zeros).
    training : bool
        When False the input is returned unchanged.
    inplace : bool
        Accepted for PyTorch compatibility; the result is always a new tensor.

    Shape
    -----
    Any shape; the output has the input's shape.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> y = F.dropout(fastnn.ones(1000), p=0.5)
    >>> sorted(set(y.numpy().tolist()))
    [0.0, 2.0]
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.number)):
        raise TypeError(f"dropout: p must be a number, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _t(input)
    if not training or p == 0:
        return x
    seed, stream = next_stream()
    return Dropout.apply(x, float(p), seed, stream)
