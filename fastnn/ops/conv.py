"""2-D convolution (``conv2d``) as an autograd Function over csrc/conv2d.c.

The kernel is an implicit GEMM on the GEMM's micro-kernels: no column matrix
is built (the image rows are read in place from a zero-padded copy, or
packed straight into the micro-kernel's panels), the bias goes into the
output tiles.  The backward computes dx as a convolution of dy with the
flipped kernel (stride 1; col2im otherwise), dW and db as one implicit GEMM
over the batch.  Results do not depend on the thread count.  This module
validates arguments with PyTorch-like messages and makes every array
C-contiguous before it reaches C.
"""
import numpy as np

from .. import _core
from .._errors import ShapeError
from ..autograd.function import Function
from ._util import is_float, nthreads, untracked

__all__ = ["conv2d", "conv2d_relu", "Conv2d", "Conv2dReLU", "pair_arg"]


def _as_int(op, name, v):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
    return int(v)


def pair_arg(op, name, v):
    """An int or a pair of ints as a 2-tuple of Python ints (types checked,
    values not)."""
    tv = type(v)
    if tv is int:                                        # the common cases, fast
        return (v, v)
    if tv is tuple and len(v) == 2 and type(v[0]) is int and type(v[1]) is int:
        return v
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            v = (v[0], v[0])
        if len(v) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
        return (_as_int(op, name, v[0]), _as_int(op, name, v[1]))
    v = _as_int(op, name, v)
    return (v, v)


def _check_stride_padding(op, stride, padding):
    if stride[0] <= 0 or stride[1] <= 0:
        raise ValueError(f"{op}: non-positive stride is not supported, got stride={stride}")
    if padding[0] < 0 or padding[1] < 0:
        raise ValueError(f"{op}: negative padding is not supported, got padding={padding}")


def _same_padding(op, wshape, stride):
    """padding='same' (stride 1, odd kernels: (k - 1) / 2 on both sides)."""
    if stride != (1, 1):
        raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                         f"(stride={stride})")
    if len(wshape) != 4:
        raise ShapeError(f"{op}: weight must be 4-D, got shape {tuple(wshape)}")
    r, s = wshape[-2:]
    if r % 2 == 0 or s % 2 == 0:
        raise NotImplementedError(f"{op}: padding='same' needs an odd kernel size here, got "
                                  f"({r}, {s})")
    return ((r - 1) // 2, (s - 1) // 2)


def _validate(x, w, b, stride, padding):
    """Ranks, channels, bias length, dtypes and geometry; returns (OH, OW)."""
    if w.ndim != 4:
        raise ShapeError(f"conv2d: weight must be 4-D (out_channels, in_channels, kH, kW), got "
                         f"shape {tuple(w.shape)}")
    if x.ndim != 4:
        raise ShapeError(f"conv2d: expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                         f"{x.ndim}-D input of shape {tuple(x.shape)}")
    K, C, R, S = w.shape
    if x.shape[1] != C:
        raise ShapeError(f"conv2d: weight of size {list(w.shape)} expects input "
                         f"{list(x.shape)} to have {C} channels, but got {x.shape[1]} channels "
                         "instead")
    if b is not None and (b.ndim != 1 or b.shape[0] != K):
        raise ShapeError(f"conv2d: bias must have shape ({K},) to match weight of size "
                         f"{list(w.shape)}, got shape {tuple(b.shape)}")
    if not is_float(x) or x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
        raise TypeError(f"conv2d: input ({x.dtype}), weight ({w.dtype})"
                        + (f" and bias ({b.dtype})" if b is not None else "")
                        + " must share one float dtype (float32 or float64)")
    if min(w.shape) < 1 or x.shape[2] < 1 or x.shape[3] < 1:
        raise ShapeError(f"conv2d: empty weight {tuple(w.shape)} or input {tuple(x.shape)}")
    _check_stride_padding("conv2d", stride, padding)
    ph_, pw_ = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if R > ph_ or S > pw_:
        raise ShapeError(f"conv2d: kernel size ({R} x {S}) can't be greater than the padded "
                         f"input size ({ph_} x {pw_}) (input {tuple(x.shape)}, "
                         f"padding={padding})")
    return _core.conv2d_out_size(x.shape[2], x.shape[3], R, S, *stride, *padding)


def _conv_forward(ctx, x, weight, bias, stride, padding, relu):
    """The forward of Conv2d / Conv2dReLU (relu: ReLU fused into the
    kernel's epilogue); saves what the backward needs on ctx."""
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    OH, OW = _validate(x, weight, bias, stride, padding)
    x = np.ascontiguousarray(x)
    w = np.ascontiguousarray(weight)
    b = None if bias is None else np.ascontiguousarray(bias)
    y = np.empty((x.shape[0], w.shape[0], OH, OW), x.dtype)
    if x.shape[0] > 0:
        _core.conv2d_fwd(x, w, b, y, stride[0], stride[1], padding[0], padding[1],
                         nthreads(), relu)
    # the fused backward masks the gradient by the output: y > 0 exactly
    # where the unfused ReLU's input was > 0
    if relu:
        ctx.save_for_backward(x, w, y)
    else:
        ctx.save_for_backward(x, w)
    ctx.geom = (stride[0], stride[1], padding[0], padding[1])
    ctx.unbatched = unbatched
    return y[0] if unbatched else y


def _conv_backward(ctx, g):
    saved = ctx.saved_tensors
    x, w = saved[0], saved[1]
    nx, nw, nb = (tuple(ctx.needs_input_grad) + (False,) * 3)[:3]
    if not (nx or nw or nb):
        return None, None, None, None, None
    g = np.ascontiguousarray(g.reshape((x.shape[0], w.shape[0]) + g.shape[-2:]),
                             dtype=x.dtype)
    if len(saved) == 3:   # fused ReLU: g where y > 0, else 0 (as fnn_relu_bwd)
        y = saved[2]
        g = _core.relu_bwd(y, g, np.empty_like(y), nthreads())
    dx = np.empty_like(x) if nx else None
    dw = np.empty_like(w) if nw else None
    db = np.empty(w.shape[0], w.dtype) if nb else None
    _core.conv2d_bwd(x, w, g, dx, dw, db, *ctx.geom, nthreads())
    if dx is not None and ctx.unbatched:
        dx = dx[0]
    return dx, dw, db, None, None


class Conv2d(Function):
    """y = conv2d(x, w) + b; x (N, C, H, W), w (K, C, R, S), b (K,) or None.

    forward(ctx, x, weight, bias, stride, padding) with stride and padding
    already normalised to pairs of ints; a 3-D x is one unbatched image."""
    raw = True

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        return _conv_forward(ctx, x, weight, bias, stride, padding, False)

    @staticmethod
    def backward(ctx, g):
        return _conv_backward(ctx, g)


class Conv2dReLU(Function):
    """Convolution followed by ReLU as one node: ``relu(conv2d(x, w) + b)``
    with the ReLU applied in the kernel's epilogue (to each output tile once
    it holds its full sum and bias), and a backward that masks the gradient
    by the saved output (``y > 0``) before the convolution's backward.
    Bitwise the same output and gradients as the two ops in sequence.
    Arguments as :class:`Conv2d`."""
    raw = True

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        return _conv_forward(ctx, x, weight, bias, stride, padding, True)

    @staticmethod
    def backward(ctx, g):
        return _conv_backward(ctx, g)


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def conv2d_infer(x, weight, bias, stride, padding, relu=False):
    """``conv2d`` (then ReLU when relu) straight on the arrays when nothing
    is to be recorded for backward (grad mode off, or no argument requires
    grad): no graph node, nothing saved, the same kernel call as the full
    path.  Returns a Tensor, or None when the call is not the plain case
    (an argument to convert, wrap or report: a 3-D or empty input, a dtype,
    layout or geometry the full path must check) and must take the full
    path (``conv2d`` / ``conv2d_relu``), which also raises the errors.
    ``nn.Conv2d`` tries it first."""
    T = untracked(x, weight, bias)
    if T is None:
        return None
    if type(stride) is not tuple or type(padding) is not tuple:
        return None
    xd, wd = x._array, weight._array
    dt = xd.dtype
    if (xd.ndim != 4 or wd.ndim != 4 or not (dt == _F32 or dt == _F64) or wd.dtype != dt
            or not xd.flags.c_contiguous or not wd.flags.c_contiguous):
        return None
    N, C, H, W = xd.shape
    K, Cw, R, S = wd.shape
    if C != Cw or N < 1 or xd.size == 0 or wd.size == 0:
        return None
    bd = None
    if bias is not None:
        bd = bias._array
        if (bd.ndim != 1 or bd.shape[0] != K or bd.dtype != dt
                or not bd.flags.c_contiguous):
            return None
    if len(stride) != 2 or len(padding) != 2:
        return None
    sh, sw = stride
    ph, pw = padding
    if type(sh) is not int or type(sw) is not int or type(ph) is not int or \
            type(pw) is not int:
        return None
    out = _core.conv2d_out_size(H, W, R, S, sh, sw, ph, pw)   # None: invalid geometry
    if out is None:
        return None
    y = np.empty((N, K) + out, dt)
    _core.conv2d_fwd(xd, wd, bd, y, sh, sw, ph, pw, nthreads(), relu)
    return T._wrap(y)


_T = []


def _t(x):
    if not _T:
        from ..nn.functional import _t as wrap
        _T.append(wrap)
    return _T[0](x)


def _geometry(op, weight, stride, padding):
    """stride and padding normalised to pairs of ints and checked."""
    stride = pair_arg(op, "stride", stride)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            padding = _same_padding(op, tuple(np.shape(_t(weight)._array)), stride)
        else:
            raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', "
                             f"got {padding!r}")
    else:
        padding = pair_arg(op, "padding", padding)
    _check_stride_padding(op, stride, padding)
    return stride, padding


def conv2d(input, weight, bias=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, as PyTorch's) over an NCHW batch.

    Parameters
    ----------
    input : Tensor or ndarray, (N, C, H, W) or unbatched (C, H, W)
    weight : Tensor or ndarray, (K, C, R, S)
    bias : Tensor or ndarray, (K,), optional
    stride : int or (int, int)
    padding : int, (int, int), 'valid' or 'same' (stride 1, odd kernel)
        Zero padding added to both sides of each spatial axis.

    Returns
    -------
    Tensor, (N, K, OH, OW) with OH = (H + 2*padding[0] - R) // stride[0] + 1
    and OW likewise.

    Shape
    -----
    input (N, C, H, W), weight (K, C, R, S), bias (K,) -> (N, K, OH, OW)

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.conv2d(fastnn.ones(2, 3, 8, 8), fastnn.ones(4, 3, 3, 3), padding=1).shape
    fastnn.Size([2, 4, 8, 8])
    """
    stride, padding = _geometry("conv2d", weight, stride, padding)
    return Conv2d.apply(_t(input), _t(weight), _t(bias), stride, padding)


def conv2d_relu(input, weight, bias=None, stride=1, padding=0):
    """``relu(conv2d(input, weight, bias, stride, padding))`` as one fused op.

    Bitwise the same results (output and every gradient) as
    ``F.relu(F.conv2d(...))``, with one pass less over the output each way:
    the ReLU is applied to each output tile inside the convolution kernel,
    while the tile is in cache, and autograd records one node
    (:class:`Conv2dReLU`) whose backward masks the incoming gradient by the
    output before the convolution's backward.  ``nn.Sequential`` uses it for
    an ``nn.Conv2d`` directly followed by ``nn.ReLU``.

    Parameters
    ----------
    input : Tensor or ndarray, (N, C, H, W) or unbatched (C, H, W)
    weight : Tensor or ndarray, (K, C, R, S)
    bias : Tensor or ndarray, (K,), optional
    stride : int or (int, int)
    padding : int, (int, int), 'valid' or 'same' (stride 1, odd kernel)

    Returns
    -------
    Tensor, (N, K, OH, OW), every element >= 0 (NaN passed through).

    Shape
    -----
    input (N, C, H, W), weight (K, C, R, S), bias (K,) -> (N, K, OH, OW)

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.ops.conv import conv2d_relu
    >>> y = conv2d_relu(fastnn.ones(1, 1, 3, 3), -fastnn.ones(2, 1, 1, 1),
    ...                 fastnn.tensor([0.5, 3.0]))
    >>> y.shape, y.numpy()[:, :, 0, 0].tolist()
    (fastnn.Size([1, 2, 3, 3]), [[0.0, 2.0]])
    """
    stride, padding = _geometry("conv2d", weight, stride, padding)
    return Conv2dReLU.apply(_t(input), _t(weight), _t(bias), stride, padding)
