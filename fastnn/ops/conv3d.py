"""3-D convolutions, ``conv3d`` and ``conv_transpose3d``, composed of the
2-D kernels and the sliding-block ops (no kernel of their own).

conv3d: the depth taps are folded into the channels.  ``unfold`` with a
(kD, 1) window over the (D, H*W) view gathers, for every output depth od,
the kD input slices the kernel reads (zero depth padding included), in the
order (channel, tap) that the weight (K, C/groups, kD, kH, kW) already has;
the od axis is then folded into the batch, so one ``conv2d`` with the weight
viewed as (K, C/groups*kD, kH, kW) does all the work:

    x (N, C, D, H, W) -> cols (N*OD, C*kD, H, W) -> conv2d -> (N*OD, K, OH, OW)
    -> (N, K, OD, OH, OW)

conv_transpose3d runs the same path backwards: one ``conv_transpose2d`` per
input depth slice (folded into the batch) with the weight viewed as
(C_in, C_out/groups*kD, kH, kW) gives every tap's contribution, and ``fold``
(col2im) with a (kD, 1) window sums them into their output depths, cropping
the depth padding.  The bias is added once at the end.

Everything is a composition of differentiable ops (unfold/fold, reshape,
permute, the 2-D convolutions), so gradients of input, weight and bias --
and their double backward -- come from theirs.
"""
import numpy as np

from .._errors import ShapeError
from .conv import _check_dtypes, _check_groups, _t, conv2d
from .conv_pad import pad_nd
from .conv_transpose import _check_pads_t, conv_transpose2d
from .fold import fold, unfold

__all__ = ["conv3d", "conv_transpose3d"]


def _triple(op, name, v):
    """An int or a 3-sequence of ints as a 3-tuple of Python ints."""
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            v = tuple(v) * 3
        if len(v) != 3:
            raise ValueError(f"{op}: {name} must be an int or a tuple of 3 ints, got {v!r}")
    else:
        v = (v,) * 3
    for e in v:
        if isinstance(e, (bool, np.bool_)) or not isinstance(e, (int, np.integer)):
            raise TypeError(f"{op}: {name} must be an int or a tuple of 3 ints, got {v!r}")
    return tuple(int(e) for e in v)


def _check_common(op, x, w, b, groups, transposed):
    if w.ndim != 5:
        raise ShapeError(f"{op}: weight must be 5-D ({'in' if transposed else 'out'}_channels, "
                         f"{'out' if transposed else 'in'}_channels/groups, kD, kH, kW), got "
                         f"shape {tuple(w.shape)}")
    if x.ndim not in (4, 5):
        raise ShapeError(f"{op}: expected 4-D (unbatched) or 5-D (batched) input, got "
                         f"{x.ndim}-D input of shape {tuple(x.shape)}")
    groups = _check_groups(op, groups)
    if w.shape[0] % groups:
        raise ShapeError(f"{op}: given groups={groups}, expected weight to be divisible by "
                         f"{groups} at dimension 0, but got weight of size {list(w.shape)}")
    C = x.shape[-4]
    want = w.shape[0] if transposed else w.shape[1] * groups
    if C != want:
        raise ShapeError(f"{op}: given groups={groups}, weight of size {list(w.shape)} expects "
                         f"input {list(x.shape)} to have {want} channels, but got {C} "
                         "channels instead")
    K = w.shape[1] * groups if transposed else w.shape[0]
    if b is not None and (b.ndim != 1 or b.shape[0] != K):
        raise ShapeError(f"{op}: bias must have shape ({K},) to match weight of size "
                         f"{list(w.shape)}, got shape {tuple(b.shape)}")
    _check_dtypes(op, x._array, w._array, None if b is None else b._array)
    if min(x.shape[-3:]) < 1:
        raise ShapeError(f"{op}: expected non-empty spatial sizes, got input {tuple(x.shape)}")
    return groups


def _positive(op, stride, dilation):
    if min(stride) <= 0:
        raise ValueError(f"{op}: non-positive stride is not supported, got stride={stride}")
    if min(dilation) <= 0:
        raise ValueError(f"{op}: dilation should be greater than zero, got dilation={dilation}")


def _padding3(op, padding, kernel, stride, dilation):
    """((lo, hi) per axis) for ints, 'valid' or 'same' (PyTorch's rule:
    total dil*(k-1), the smaller half in front)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * 3
        if padding != "same":
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                             "('valid', 'same')")
        if stride != (1, 1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride={stride})")
        tot = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((t // 2, t - t // 2) for t in tot)
    pad = _triple(op, "padding", padding)
    if min(pad) < 0:
        raise ValueError(f"{op}: negative padding is not supported, got padding={pad}")
    return tuple((p, p) for p in pad)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (cross-correlation, as PyTorch's) over an NCDHW batch.

    Parameters
    ----------
    input : Tensor or ndarray, (N, C, D, H, W) or unbatched (C, D, H, W)
    weight : Tensor or ndarray, (K, C/groups, kD, kH, kW)
    bias : Tensor or ndarray, (K,), optional
    stride, dilation : int or (int, int, int)
    padding : int, (int, int, int), 'valid' or 'same'
    groups : int

    Shape
    -----
    (N, C, D, H, W) -> (N, K, OD, OH, OW),
    OD = (D + 2*padding - dilation*(kD - 1) - 1) // stride + 1 (OH, OW likewise)

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.conv3d(fastnn.ones(2, 3, 4, 6, 6), fastnn.ones(5, 3, 3, 3, 3), padding=1).shape
    fastnn.Size([2, 5, 4, 6, 6])
    """
    op = "conv3d"
    x, w, b = _t(input), _t(weight), _t(bias)
    groups = _check_common(op, x, w, b, groups, False)
    stride = _triple(op, "stride", stride)
    dilation = _triple(op, "dilation", dilation)
    _positive(op, stride, dilation)
    kernel = tuple(w.shape[2:])
    pads = _padding3(op, padding, kernel, stride, dilation)
    if min(kernel) < 1:
        raise ShapeError(f"{op}: empty kernel {kernel}")
    unbatched = x.ndim == 4
    if unbatched:
        x = x.unsqueeze(0)
    sizes = tuple(x.shape[2:])
    eff = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(sizes, pads))
    if any(e > n for e, n in zip(eff, padded)):
        raise ShapeError(f"{op}: kernel size ({' x '.join(map(str, eff))}, dilation included) "
                         f"can't be greater than the padded input size "
                         f"({' x '.join(map(str, padded))}) (input {tuple(input.shape)})")
    if any(lo != hi for lo, hi in pads):       # padding='same', even dilated kernel
        x = pad_nd(x, (0, pads[2][1] - pads[2][0], 0, pads[1][1] - pads[1][0],
                       0, pads[0][1] - pads[0][0]), "constant")
    N, C, D, H, W = x.shape
    K, Cg, kD, kH, kW = w.shape
    pD = pads[0][0]
    OD = (D + 2 * pD - eff[0]) // stride[0] + 1
    if kD == 1 and pD == 0 and stride[0] == 1:
        x2 = x.permute(0, 2, 1, 3, 4).reshape(N * D, C, H, W)
    else:
        cols = unfold(x.reshape(N, C, D, H * W), (kD, 1), (dilation[0], 1), (pD, 0),
                      (stride[0], 1))                                  # (N, C*kD, OD*H*W)
        x2 = cols.reshape(N, C * kD, OD, H, W).permute(0, 2, 1, 3, 4).reshape(
            N * OD, C * kD, H, W)
    y = conv2d(x2, w.reshape(K, Cg * kD, kH, kW), b, stride[1:], (pads[1][0], pads[2][0]),
               dilation[1:], groups)                                   # (N*OD, K, OH, OW)
    y = y.reshape(N, OD, K, *y.shape[2:]).permute(0, 2, 1, 3, 4).contiguous()
    return y.squeeze(0) if unbatched else y


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """3-D transposed convolution (the gradient of ``conv3d`` with respect
    to its input, run forward), as PyTorch's.

    Parameters
    ----------
    input : Tensor or ndarray, (N, C_in, D, H, W) or unbatched (C_in, D, H, W)
    weight : Tensor or ndarray, (C_in, C_out/groups, kD, kH, kW)
    bias : Tensor or ndarray, (C_out,), optional
    stride, padding, dilation : int or (int, int, int)
    output_padding : int or (int, int, int)
        Extra planes at the back/bottom/right (smaller than the stride or
        the dilation).
    groups : int

    Shape
    -----
    (N, C_in, D, H, W) -> (N, C_out, OD, OH, OW),
    OD = (D - 1)*stride - 2*padding + dilation*(kD - 1) + output_padding + 1

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.conv_transpose3d(fastnn.ones(1, 4, 2, 3, 3), fastnn.ones(4, 2, 2, 2, 2),
    ...                    stride=2).shape
    fastnn.Size([1, 2, 4, 6, 6])
    """
    op = "conv_transpose3d"
    x, w, b = _t(input), _t(weight), _t(bias)
    groups = _check_common(op, x, w, b, groups, True)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of ints here (no "
                         f"'{padding}' for transposed convolutions)")
    stride = _triple(op, "stride", stride)
    dilation = _triple(op, "dilation", dilation)
    _positive(op, stride, dilation)
    pad = _triple(op, "padding", padding)
    opad = _triple(op, "output_padding", output_padding)
    _check_pads_t(op, pad, opad, stride, dilation)
    unbatched = x.ndim == 4
    if unbatched:
        x = x.unsqueeze(0)
    N, Cin, D, H, W = x.shape
    _, Cog, kD, kH, kW = w.shape
    out = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1 for i, s, p, d, k, o in
                zip((D, H, W), stride, pad, dilation, (kD, kH, kW), opad))
    if min(out) < 1:
        raise ShapeError(f"{op}: the output size {out} is too small (input "
                         f"{tuple(input.shape)}, kernel {(kD, kH, kW)}, stride {stride}, "
                         f"padding {pad})")
    Cout, OD = Cog * groups, out[0]
    x2 = x.permute(0, 2, 1, 3, 4).reshape(N * D, Cin, H, W)
    y2 = conv_transpose2d(x2, w.reshape(Cin, Cog * kD, kH, kW), None, stride[1:], pad[1:],
                          opad[1:], groups, dilation[1:])          # (N*D, Cout*kD, OH, OW)
    OH, OW = y2.shape[2], y2.shape[3]
    if kD == 1 and stride[0] == 1 and pad[0] == 0 and opad[0] == 0:
        y = y2.reshape(N, D, Cout, OH, OW).permute(0, 2, 1, 3, 4).contiguous()
    else:
        cols = y2.reshape(N, D, Cout * kD, OH * OW).permute(0, 2, 1, 3)
        extra = opad[0] // stride[0]   # blocks past the input (output_padding >= stride)
        if extra:
            cols = pad_nd(cols, (0, 0, 0, extra), "constant")
        cols = cols.reshape(N, Cout * kD, (D + extra) * OH * OW)
        y = fold(cols, (OD, OH * OW), (kD, 1), (dilation[0], 1), (pad[0], 0),
                 (stride[0], 1)).reshape(N, Cout, OD, OH, OW)
    if b is not None:
        y = y + b.reshape(1, Cout, 1, 1, 1)
    return y.squeeze(0) if unbatched else y
