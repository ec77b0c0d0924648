"""2-D max and average pooling as autograd Functions over csrc/pool2d.c.

Direct kernels, OpenMP over the N*C planes.  Max pooling saves the int64
argmax of every window in its forward (one pass) and its backward routes each
gradient to that single winner; average pooling counts zero padding in the
divisor (PyTorch's ``count_include_pad=True``).  Output size follows PyTorch
(floor mode): ``(H + 2*padding - kernel) // stride + 1``.
"""
import numpy as np

from .. import _core
from .._errors import ShapeError
from ..autograd.function import _TENSOR, Function, _tensor_cls
from .._core import is_grad_enabled as _grad_enabled
from ._util import is_float, nthreads
from .conv import pair_arg

__all__ = ["max_pool2d", "avg_pool2d", "MaxPool2d", "AvgPool2d", "pool_args"]


def pool_args(op, kernel_size, stride, padding):
    """Normalises and checks (kernel, stride, padding) as pairs of ints."""
    k = pair_arg(op, "kernel_size", kernel_size)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        s = k
    else:
        s = pair_arg(op, "stride", stride)
    p = pair_arg(op, "padding", padding)
    if k[0] <= 0 or k[1] <= 0:
        raise ValueError(f"{op}: kernel size should be greater than zero, but got "
                         f"kernel_size={k}")
    if s[0] <= 0 or s[1] <= 0:
        raise ValueError(f"{op}: stride should be greater than zero, but got stride={s}")
    if p[0] < 0 or p[1] < 0:
        raise ValueError(f"{op}: negative padding is not supported, got padding={p}")
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{op}: pad should be at most half of kernel size, but got "
                         f"padding={p} and kernel_size={k}")
    return k, s, p


def _prepare(op, x, k, s, p):
    """(4-D C-contiguous x, unbatched?, (OH, OW)) after rank/dtype/size checks."""
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                         f"{x.ndim}-D input of shape {tuple(x.shape)}")
    if not is_float(x):
        raise TypeError(f"{op}: input must be float32 or float64, got {x.dtype}")
    unbatched = x.ndim == 3
    x4 = x[None] if unbatched else x
    H, W = x4.shape[2:]
    out = None
    if H >= 1 and W >= 1:
        out = _core.pool2d_out_size(H, W, k[0], k[1], s[0], s[1], p[0], p[1])
    if out is None:
        oh = (H + 2 * p[0] - k[0]) // s[0] + 1
        ow = (W + 2 * p[1] - k[1]) // s[1] + 1
        raise ShapeError(f"{op}: given input size {tuple(x4.shape[1:])}, calculated output "
                         f"size ({x4.shape[1]}, {oh}, {ow}) is too small (kernel_size={k}, "
                         f"stride={s}, padding={p})")
    return np.ascontiguousarray(x4), unbatched, out


class MaxPool2d(Function):
    """y = max over each window; forward(ctx, x, kernel, stride, padding,
    return_indices) with the pairs already checked (``pool_args``)."""
    raw = True

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, return_indices=False):
        x, unbatched, (OH, OW) = _prepare("max_pool2d", x, kernel, stride, padding)
        N, C = x.shape[:2]
        y = np.empty((N, C, OH, OW), x.dtype)
        # the argmax only when a backward or the caller needs it
        needs = ctx.needs_input_grad
        idx = (np.empty((N, C, OH, OW), np.int64)
               if return_indices or not needs or needs[0] else None)
        if y.size:
            _core.max_pool2d_fwd(x, y, idx, *kernel, *stride, *padding, nthreads())
        ctx.save_for_backward(idx)
        ctx.geom = (x.shape, x.dtype, kernel, stride, padding, unbatched)
        if unbatched:
            y, idx = y[0], (None if idx is None else idx[0])
        return (y, idx) if return_indices else y

    @staticmethod
    def backward(ctx, g, g_idx=None):
        (idx,) = ctx.saved_tensors
        shape, dtype, k, s, p, unbatched = ctx.geom
        dx = np.empty(shape, dtype)
        if dx.size:
            g = np.ascontiguousarray(g, dtype=dtype).reshape(idx.shape)
            _core.max_pool2d_bwd(g, idx, dx, *k, *s, *p, nthreads())
        return (dx[0] if unbatched else dx), None, None, None, None


class AvgPool2d(Function):
    """y = mean over each window, zero padding counted; forward(ctx, x,
    kernel, stride, padding)."""
    raw = True

    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        x, unbatched, (OH, OW) = _prepare("avg_pool2d", x, kernel, stride, padding)
        N, C = x.shape[:2]
        y = np.empty((N, C, OH, OW), x.dtype)
        if y.size:
            _core.avg_pool2d_fwd(x, y, *kernel, *stride, *padding, nthreads())
        ctx.geom = (x.shape, x.dtype, kernel, stride, padding, unbatched)
        return y[0] if unbatched else y

    @staticmethod
    def backward(ctx, g):
        shape, dtype, k, s, p, unbatched = ctx.geom
        dx = np.empty(shape, dtype)
        if dx.size:
            g = np.ascontiguousarray(g, dtype=dtype).reshape(shape[:2] + g.shape[-2:])
            _core.avg_pool2d_bwd(g, dx, *k, *s, *p, nthreads())
        return (dx[0] if unbatched else dx), None, None, None


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def max_pool2d_infer(x, kernel_size, stride, padding):
    """``max_pool2d`` (values only) straight on the arrays when nothing is
    to be recorded for backward (grad mode off, or x does not require
    grad): no graph node, no argmax, the same kernel call as the full path.
    kernel_size, stride and padding: ints (stride None: the kernel size).
    Returns a Tensor, or None when the call is not the plain case (a 3-D or
    empty input, a dtype or layout to convert, arguments or a geometry the
    full path must check and report) and must take the full path
    (``max_pool2d``).  ``nn.MaxPool2d`` tries it first."""
    T = _TENSOR[0] if _TENSOR else _tensor_cls()
    if not isinstance(x, T) or (_grad_enabled() and x.requires_grad):
        return None
    if stride is None:
        stride = kernel_size
    if type(kernel_size) is not int or type(stride) is not int or type(padding) is not int:
        return None
    xd = x._array
    dt = xd.dtype
    if xd.ndim != 4 or not (dt == _F32 or dt == _F64) or not xd.flags.c_contiguous \
            or xd.size == 0:
        return None
    N, C, H, W = xd.shape
    k, s, p = kernel_size, stride, padding
    out = _core.pool2d_out_size(H, W, k, k, s, s, p, p)   # None: invalid geometry
    if out is None:
        return None
    y = np.empty((N, C) + out, dt)
    _core.max_pool2d_fwd(xd, y, None, k, k, s, s, p, p, nthreads())
    return T._wrap(y)


_T = []


def _t(x):
    if not _T:
        from ..nn.functional import _t as wrap
        _T.append(wrap)
    return _T[0](x)


def _unsupported(op, name, value, default):
    if value != default:
        raise NotImplementedError(f"{op}: {name}={value!r} is not supported (only {default!r})")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over an NCHW batch (padding acts as -inf).

    Parameters
    ----------
    input : Tensor or ndarray, (N, C, H, W) or unbatched (C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), default kernel_size
    padding : int or (int, int), at most half the kernel size
    dilation, ceil_mode : only the defaults (1, False) are supported
    return_indices : bool
        Also return the int64 flat index ``ih * W + iw`` of each window's
        maximum within its plane (as PyTorch).

    Shape
    -----
    (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*padding - kernel) // stride + 1

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.max_pool2d(fastnn.ones(2, 3, 8, 8), 2).shape
    (2, 3, 4, 4)
    """
    _unsupported("max_pool2d", "dilation", dilation, 1)
    _unsupported("max_pool2d", "ceil_mode", bool(ceil_mode), False)
    k, s, p = pool_args("max_pool2d", kernel_size, stride, padding)
    return MaxPool2d.apply(_t(input), k, s, p, bool(return_indices))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over an NCHW batch; zero padding is counted in
    the divisor (PyTorch's default ``count_include_pad=True``).

    Parameters
    ----------
    input : Tensor or ndarray, (N, C, H, W) or unbatched (C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), default kernel_size
    padding : int or (int, int), at most half the kernel size
    ceil_mode, count_include_pad, divisor_override : only the defaults

    Shape
    -----
    (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*padding - kernel) // stride + 1

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.avg_pool2d(fastnn.ones(2, 3, 8, 8), 2).shape
    (2, 3, 4, 4)
    """
    _unsupported("avg_pool2d", "ceil_mode", bool(ceil_mode), False)
    _unsupported("avg_pool2d", "count_include_pad", bool(count_include_pad), True)
    _unsupported("avg_pool2d", "divisor_override", divisor_override, None)
    k, s, p = pool_args("avg_pool2d", kernel_size, stride, padding)
    return AvgPool2d.apply(_t(input), k, s, p)
