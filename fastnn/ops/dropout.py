"""Inverted dropout over the compiled core (``csrc/dropout.c``).

The keep mask is a pure function of ``(seed, stream, element index)`` (a
splitmix64 hash), so it does not depend on the thread count, and the
backward regenerates it instead of storing it.  ``seed`` is
``fastnn.manual_seed``'s value and ``stream`` a counter incremented by every
training-mode call, so a seeded run draws the same masks again.

The channel-wise variants (``dropout1d/2d/3d``, ``feature_alpha_dropout``)
draw one keep bit per (sample, channel) from the same generator and
broadcast it over the spatial dims; ``alpha_dropout`` keeps the SELU
self-normalising statistics: kept units become ``a x + a alpha p``, dropped
ones ``-a alpha (1 - p)``, ``a = ((alpha^2 p + 1)(1 - p))^(-1/2)``
(PyTorch's formulas).
"""
import math
import warnings

import numpy as np

from .. import _core
from .._config import state
from .._errors import ShapeError
from ..autograd.function import Function
from ._util import c_contig, check_float, nthreads
from .activation import _t

_M64 = (1 << 64) - 1


def next_stream():
    """(seed, stream) for the next dropout call; advances the counter."""
    s = state.dropout_counter
    state.dropout_counter = s + 1
    return state.seed & _M64, s & _M64


class DropoutFn(Function):
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
        g = c_contig(g)   # (np.ascontiguousarray would make a 0-d gradient 1-d)
        return _core.dropout_fwd(g, np.empty_like(g), p, seed, stream, nthreads()), None, None, \
            None


def _check_p(p):
    if isinstance(p, bool) or not isinstance(p, (int, float, np.number)):
        raise TypeError(f"dropout: p must be a number, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


_SELU_ALPHA = 1.7580993408473766      # -selu's alpha * scale


class MaskDropoutFn(Function):
    """y = x * scale (+ bias) with one keep bit per element of ``mask_shape``
    (broadcast over the rest): channel-wise dropout and alpha dropout."""
    raw = True

    @staticmethod
    def forward(ctx, x, p, seed, stream, mask_shape, alpha):
        check_float("dropout", "input", x)
        n = int(np.prod(mask_shape))
        keep = _core.dropout_mask(n, p, seed, stream, nthreads()).reshape(mask_shape)
        T = x.dtype.type
        if alpha:
            a = 1.0 / math.sqrt((_SELU_ALPHA ** 2 * p + 1) * (1 - p))
            scale = np.where(keep, T(a), T(0))
            bias = np.where(keep, T(0), T(-_SELU_ALPHA * a)) + T(_SELU_ALPHA * a * p)
            y = x * scale + bias
        else:
            scale = np.where(keep, T(1) / T(1 - p), T(0))
            y = x * scale
        ctx.save_for_backward(scale)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (scale,) = ctx.saved_tensors
        return (g * scale).astype(g.dtype, copy=False), None, None, None, None, None


def _tensor_arg(op, input):
    x = _t(input)
    if x is None:
        raise TypeError(f"{op}: input must be a Tensor, got None")
    return x


def _masked(input, p, training, feature, alpha):
    p = _check_p(p)
    x = _tensor_arg("dropout", input)
    if not training or p == 0 or x.numel() == 0:
        return x
    if p == 1:
        return x * 0.0
    shape = x.shape[:2] + (1,) * (x.ndim - 2) if feature else x.shape
    seed, stream = next_stream()
    return MaskDropoutFn.apply(x, p, seed, stream, shape, alpha)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout for (N, C, L) or (C, L) input: each channel is
    zeroed with probability ``p``, the kept ones scaled by 1/(1-p).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> y = F.dropout1d(fastnn.ones(2, 64, 5), 0.5)
    >>> bool(((y.numpy() == 0).all(-1) | (y.numpy() == 2).all(-1)).all())
    True
    """
    x = _tensor_arg("dropout1d", input)
    if x.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: Expected 2D or 3D input, but received a {x.ndim}D input. "
                         "Note that dropout1d exists to provide channel-wise dropout on inputs "
                         "with 1 spatial dimension, a channel dimension, and an optional batch "
                         "dimension (i.e. 2D or 3D inputs).")
    if x.ndim == 2 and training and _check_p(p) != 0:
        return _masked(x.unsqueeze(0), p, training, True, False).squeeze(0)
    return _masked(x, p, training, True, False)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout for (N, C, H, W) input (one keep bit per sample
    and channel, PyTorch's scaling).  A 3-D input is read as (N, C, L), with
    PyTorch's warning.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.dropout2d(fastnn.ones(2, 3, 4, 4), 0.5, training=False).shape
    fastnn.Size([2, 3, 4, 4])
    """
    x = _tensor_arg("dropout2d", input)
    if x.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {x.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead.",
                      UserWarning, stacklevel=2)
    if x.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim.", UserWarning, stacklevel=2)
    return _masked(x, p, training, x.ndim >= 2, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout for (N, C, D, H, W) or (C, D, H, W) input."""
    x = _tensor_arg("dropout3d", input)
    if x.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {x.ndim}-D input to dropout3d, which is "
                      "deprecated and will result in an error in a future release.",
                      UserWarning, stacklevel=2)
    if x.ndim == 4 and training and _check_p(p) != 0:
        return _masked(x.unsqueeze(0), p, training, True, False).squeeze(0)
    return _masked(x, p, training, x.ndim >= 2, False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout (for SELU networks): keeps zero mean and unit variance.
    Note PyTorch's default ``training=False`` in the functional form.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> x = fastnn.randn(100000)
    >>> y = F.alpha_dropout(x, 0.2, training=True).numpy()
    >>> abs(float(y.mean())) < 0.05, round(float(y.std()), 1)
    (True, 1.0)
    """
    return _masked(input, p, training, False, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (one keep bit per sample and channel)."""
    return _masked(input, p, training, True, True)


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
    return DropoutFn.apply(x, float(p), seed, stream)
