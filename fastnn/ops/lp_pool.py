"""Power-average pooling (PyTorch's ``F.lp_pool1d`` / ``2d`` / ``3d``):
``(sum over the window of x^p)^(1/p)``, computed as PyTorch does from the
average pool of ``x^p`` (no padding): ``(sign(a) relu(|a|) k)^(1/p)``, a
the average and k the window size; ``p = inf`` is the max pool of ``|x|``,
``p = -inf`` the min pool of ``|x|``.  A composition of differentiable ops,
so the gradient (and its zero/NaN behaviour) follows from theirs."""
import numpy as np

from .activation import _t
from .pooling import _args, _key, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .pooling3d import avg_pool3d, max_pool3d

__all__ = ["lp_pool1d", "lp_pool2d", "lp_pool3d"]


def _norm(op, norm_type):
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float, np.integer,
                                                                 np.floating)):
        raise TypeError(f"{op}: norm_type must be a number, got {type(norm_type).__name__}")
    return norm_type


def _lp(op, n, pool, input, norm_type, kernel_size, stride, ceil_mode):
    norm_type = _norm(op, norm_type)
    k, s, _, _ = _args(op, n, _key(kernel_size), _key(stride), 0, 1)
    x = _t(input)
    if abs(norm_type) == float("inf"):       # the largest / smallest |x| of each window
        mp = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}[n]
        return mp(x.abs(), k, s, 0, 1, ceil_mode) if norm_type > 0 else \
            -mp(-x.abs(), k, s, 0, 1, ceil_mode)
    a = pool(x.pow(norm_type), k, s, 0, ceil_mode)
    return (a.sign() * a.abs().relu()).mul(int(np.prod(k))).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling of (N, C, L) or (C, L) input:
    ``(sum_window x^p)^(1/p)`` (``p = norm_type``; stride defaults to the
    kernel size; no padding).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.lp_pool1d(fastnn.tensor([[3.0, 4.0]]), 2, 2).numpy()
    array([[5.]], dtype=float32)
    """
    return _lp("lp_pool1d", 1, avg_pool1d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling of (N, C, H, W) or (C, H, W) input:
    ``(sum_window x^p)^(1/p)`` (``p = norm_type``; stride defaults to the
    kernel size; no padding).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.lp_pool2d(fastnn.ones(1, 2, 2), 1, 2).numpy()
    array([[[4.]]], dtype=float32)
    """
    return _lp("lp_pool2d", 2, avg_pool2d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling of (N, C, D, H, W) or (C, D, H, W) input:
    ``(sum_window x^p)^(1/p)`` (``p = norm_type``; stride defaults to the
    kernel size; no padding).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.lp_pool3d(fastnn.ones(1, 2, 2, 2), 1, 2).numpy()
    array([[[[8.]]]], dtype=float32)
    """
    return _lp("lp_pool3d", 3, avg_pool3d, input, norm_type, kernel_size, stride, ceil_mode)
