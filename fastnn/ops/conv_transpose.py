"""Transposed convolutions (``conv_transpose2d``, ``conv_transpose1d``) as
autograd Functions: the convolution's input gradient run forward
(csrc/conv2d.c ``fnn_conv2d_bwd_data``: the flipped-kernel convolution at
stride 1, col2im at larger strides, the direct kernels when depthwise),
the bias added in C.  Its backward is the convolution itself: the input's
gradient is ``conv2d(dy, w)`` and the weight's the convolution's weight
gradient with the roles of input and output gradient swapped.

The weight is (C_in, C_out/groups, kH, kW), as PyTorch; the output size
(H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1.
"""
import numpy as np

from .. import _core
from .._errors import ShapeError
from ..autograd.function import Function
from ._util import nthreads
from .conv import (ConvGeometry, _apply, _arr, _check_dtypes, _check_groups, _check_positive,
                   _check_ranks, _from4d, _kernel_args, _spatial, _t, _to4d, _w4d)

__all__ = ["conv_transpose1d", "conv_transpose2d", "ConvTranspose1dFn", "ConvTranspose2dFn",
           "output_padding_for"]


def _check_channels(op, x, w, b, groups, nd):
    Cin, Cog = w.shape[0], w.shape[1]
    if Cin % groups:
        raise ShapeError(f"{op}: given groups={groups}, expected weight to be divisible by "
                         f"{groups} at dimension 0, but got weight of size {list(w.shape)}")
    if x.shape[-nd - 1] != Cin:
        raise ShapeError(f"{op}: given transposed=1, weight of size {list(w.shape)} expects "
                         f"input {list(x.shape)} to have {Cin} channels, but got "
                         f"{x.shape[-nd - 1]} channels instead")
    if b is not None and (b.ndim != 1 or b.shape[0] != Cog * groups):
        raise ShapeError(f"{op}: bias must have shape ({Cog * groups},) to match weight of size "
                         f"{list(w.shape)} and groups={groups}, got shape {tuple(b.shape)}")


def _check_pads_t(op, pad, opad, stride, dilation, lead=0):
    """A transposed convolution's padding and output padding: not negative,
    output padding below stride or dilation (the per-dim tuples; the first
    ``lead`` entries, added for a 1-D layer, left out of the message)."""
    if min(pad) < 0 or min(opad) < 0:
        raise ValueError(f"{op}: negative padding is not supported, got padding="
                         f"{pad[lead:]}, output_padding={opad[lead:]}")
    if any(o >= max(s, d) for o, s, d in zip(opad, stride, dilation)):
        raise ValueError(f"{op}: output padding must be smaller than either stride or "
                         f"dilation, but got output_padding={opad[lead:]}, stride="
                         f"{stride[lead:]}, dilation={dilation[lead:]}")


def _validate_t(op, x, w, b, stride, padding, output_padding, groups, dilation, nd=2):
    """Ranks, channels, bias, dtypes and geometry of conv_transpose{nd}d;
    returns the :class:`ConvGeometry` of the convolution whose input
    gradient this is (out: the transposed convolution's output size)."""
    _check_ranks(op, x, w, nd)
    groups = _check_groups(op, groups)
    _check_channels(op, x, w, b, groups, nd)
    _check_dtypes(op, x, w, b)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of ints here (no "
                         f"'{padding}' for transposed convolutions)")
    stride = _spatial(op, "stride", stride, nd, 1)
    dilation = _spatial(op, "dilation", dilation, nd, 1)
    _check_positive(op, stride, dilation)
    pad = _spatial(op, "padding", padding, nd, 0)
    opad = _spatial(op, "output_padding", output_padding, nd, 0)
    _check_pads_t(op, pad, opad, stride, dilation, 2 - nd)
    kernel = (w.shape[2], w.shape[3]) if nd == 2 else (1, w.shape[2])
    ih, iw = (x.shape[-2] if nd == 2 else 1), x.shape[-1]
    no_batch = x.ndim == nd + 2 and x.shape[0] == 0   # PyTorch accepts any size then
    if (ih < 1 or iw < 1) and not no_batch:
        raise ShapeError(f"{op}: empty input {tuple(x.shape)}")
    out = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1
                for i, s, p, d, k, o in zip((ih, iw), stride, pad, dilation, kernel, opad))
    if no_batch and min(out) >= 0:
        return ConvGeometry(stride, pad, dilation, groups, out, None, None)
    if min(out) < 1:
        raise ShapeError(f"{op}: the output size {out[2 - nd:]} is too small (input "
                         f"{tuple(x.shape)}, kernel {kernel[2 - nd:]}, stride "
                         f"{stride[2 - nd:]}, padding {pad[2 - nd:]})")
    conv_in = _core.conv2d_out_size(*out, *kernel, *stride, *pad, *dilation)
    xpad = None if conv_in == (ih, iw) else (conv_in[0] - ih, conv_in[1] - iw)
    return ConvGeometry(stride, pad, dilation, groups, out, None, xpad)


def output_padding_for(op, input_size, output_size, stride, padding, kernel, dilation):
    """The output_padding giving output_size (the module's forward(input,
    output_size)), as PyTorch: each must lie within [min, min + stride)."""
    pads = []
    for i, o, s, p, k, d in zip(input_size, output_size, stride, padding, kernel, dilation):
        lo = (i - 1) * s - 2 * p + d * (k - 1) + 1
        if not lo <= o < lo + s:
            raise ValueError(f"{op}: requested an output size of {tuple(output_size)}, but "
                             f"valid sizes range from {lo} to {lo + s - 1} (for an input of "
                             f"{tuple(input_size)})")
        pads.append(o - lo)
    return tuple(pads)


def _convt_forward(x, w, b, g, nd):
    """y = conv_transpose{nd}d(x, w) + b on arrays; also the 4-D operands
    (x extended by g.xpad)."""
    x4, unbatched = _to4d(x, nd)
    w4 = _w4d(w, nd)
    if g.xpad is not None:
        x4 = np.pad(x4, ((0, 0), (0, 0), (0, g.xpad[0]), (0, g.xpad[1])))
    b = None if b is None else np.ascontiguousarray(b)
    y = np.empty((x4.shape[0], w4.shape[1] * g.groups) + tuple(g.out), x4.dtype)
    if x4.shape[0] > 0:
        _core.conv2d_bwd_data(w4, x4, b, y, *_kernel_args(g), *g.dilation, g.groups)
    return _from4d(y, unbatched, nd), x4, w4


def _fn_forward(ctx, x, weight, bias, geom, nd):
    y, x4, w4 = _convt_forward(x, weight, bias, geom, nd)
    ctx.save_for_backward(x4, w4)
    ctx.geom, ctx.nd, ctx.unbatched = geom, nd, x.ndim == nd + 1
    return y


def _fn_backward(ctx, g):
    x4, w4 = ctx.saved_tensors
    geo, nd = ctx.geom, ctx.nd
    nx, nw, nb = (tuple(ctx.needs_input_grad) + (False,) * 3)[:3]
    if not (nx or nw or nb):
        return None, None, None, None
    if x4.shape[0] == 0:   # an empty batch: nothing flows back
        dw = np.zeros(w4.shape[:2] + w4.shape[4 - nd:], w4.dtype) if nw else None
        db = np.zeros(w4.shape[1] * geo.groups, w4.dtype) if nb else None
        return (_from4d(np.empty_like(x4), ctx.unbatched, nd) if nx else None), dw, db, None
    g = np.ascontiguousarray(g.reshape((x4.shape[0], w4.shape[1] * geo.groups) +
                                       tuple(geo.out)), dtype=x4.dtype)
    kw = (*_kernel_args(geo), *geo.dilation, geo.groups)
    dx = dw = db = None
    if nx:   # the convolution of g with w
        dx = np.empty_like(x4)
        _core.conv2d_fwd(g, w4, None, dx, *kw[:5], False, *kw[5:])
        if geo.xpad is not None:
            dx = dx[:, :, :dx.shape[2] - geo.xpad[0], :dx.shape[3] - geo.xpad[1]]
        dx = _from4d(dx, ctx.unbatched, nd)
    if nw:   # the convolution's weight gradient, input g, output gradient x
        dw = np.empty_like(w4)
        _core.conv2d_bwd(g, w4, x4, None, dw, None, *kw)
        if nd == 1:
            dw = dw[:, :, 0, :]
    if nb:
        db = _core.conv2d_bwd_bias(g, np.empty(g.shape[1], g.dtype), nthreads())
    return dx, dw, db, None


class _ConvTFn(Function):
    raw = True

    @classmethod
    def arrays(cls, x, w, b, geom):
        return _convt_forward(x, w, b, geom, cls._nd)[0]

    @staticmethod
    def backward(ctx, g):
        return _fn_backward(ctx, g)


class ConvTranspose2dFn(_ConvTFn):
    """conv_transpose2d as one graph node: forward(ctx, x, weight, bias,
    geom), x (N, C_in, H, W) or unbatched, weight (C_in, C_out/groups, kH,
    kW), bias (C_out,) or None, geom from ``_validate_t``."""
    _nd = 2

    @staticmethod
    def forward(ctx, x, weight, bias, geom):
        return _fn_forward(ctx, x, weight, bias, geom, 2)


class ConvTranspose1dFn(_ConvTFn):
    """conv_transpose1d as one graph node (the 2-D kernels with H = 1)."""
    _nd = 1

    @staticmethod
    def forward(ctx, x, weight, bias, geom):
        return _fn_forward(ctx, x, weight, bias, geom, 1)


def _convt(fn, op, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, w, b = _t(input), _t(weight), _t(bias)
    geom = _validate_t(op, x._array, w._array, _arr(b), stride, padding, output_padding,
                       groups, dilation, fn._nd)
    return _apply(fn, x, w, b, geom)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2-D transposed convolution ("deconvolution"): the gradient of
    ``conv2d`` with respect to its input, as PyTorch's.

    Parameters
    ----------
    input : Tensor or ndarray, (N, C_in, H, W) or unbatched (C_in, H, W)
    weight : Tensor or ndarray, (C_in, C_out/groups, kH, kW)
    bias : Tensor or ndarray, (C_out,), optional
    stride, padding, dilation : int or (int, int)
        Those of the convolution this is the transpose of (padding removes
        rows/columns from the output).
    output_padding : int or (int, int)
        Rows/columns added at the bottom/right of the output (smaller than
        the stride or the dilation), to pick one of the input sizes a
        strided convolution maps to the same output size.
    groups : int

    Shape
    -----
    (N, C_in, H, W) -> (N, C_out, OH, OW),
    OH = (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.conv_transpose2d(fastnn.ones(2, 4, 8, 8), fastnn.ones(4, 3, 4, 4), stride=2,
    ...                    padding=1).shape
    fastnn.Size([2, 3, 16, 16])
    """
    return _convt(ConvTranspose2dFn, "conv_transpose2d", input, weight, bias, stride, padding,
                  output_padding, groups, dilation)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1-D transposed convolution: arguments as :func:`conv_transpose2d`
    with ints (or 1-tuples), input (N, C_in, L) or (C_in, L), weight (C_in,
    C_out/groups, kW).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.conv_transpose1d(fastnn.ones(2, 4, 8), fastnn.ones(4, 3, 4), stride=2).shape
    fastnn.Size([2, 3, 18])
    """
    return _convt(ConvTranspose1dFn, "conv_transpose1d", input, weight, bias, stride, padding,
                  output_padding, groups, dilation)
