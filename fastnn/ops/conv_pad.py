"""Padding for the convolution layers: zeros, 'reflect', 'replicate' and
'circular' padding of the last one or two axes as one autograd op
(``nn.Conv1d`` / ``nn.Conv2d`` with ``padding_mode``, as PyTorch pads and
then convolves with padding 0; and the extra bottom/right zeros of
``padding='same'`` with an even dilated kernel).

The padded array is one gather through per-axis index tables; the backward
adds each padded row / column back onto the pixel it copies, pad columns
and rows one at a time in order (few of them), so it is deterministic.
"""
import numpy as np

from .._errors import ShapeError
from ..autograd.function import Function

__all__ = ["pad", "pad_nd", "PadNdFn"]

MODES = ("constant", "reflect", "replicate", "circular")


def _index(n, lo, hi, mode):
    """Source index of each of the lo + n + hi padded positions of an axis."""
    i = np.arange(-lo, n + hi)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i >= n, 2 * (n - 1) - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    return i % n


def _check(op, x, pads, mode):
    k = len(pads) // 2
    if mode not in MODES:
        raise ValueError(f"{op}: padding_mode must be one of {MODES[1:] + ('zeros',)}, "
                         f"got {mode!r}")
    if mode != "constant" and x.ndim < k + 1:
        raise ShapeError(f"{op}: {mode} padding of {k} dims needs at least {k + 1}-D input, "
                         f"got shape {tuple(x.shape)}")
    for a in range(k):
        n, lo, hi = x.shape[x.ndim - 1 - a], pads[2 * a], pads[2 * a + 1]
        if mode != "constant" and (lo < 0 or hi < 0):
            raise ValueError(f"{op}: negative padding {pads} is not supported")
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ShapeError(f"{op}: padding size should be less than the corresponding input "
                             f"dimension for reflect padding, but got padding ({lo}, {hi}) "
                             f"at dimension {x.ndim - 1 - a} of input {tuple(x.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise ShapeError(f"{op}: padding ({lo}, {hi}) can't be larger than dimension "
                             f"{x.ndim - 1 - a} of input {tuple(x.shape)} for circular padding")


class PadNdFn(Function):
    """x padded on its last len(pads)//2 axes, pads as F.pad orders them
    (last axis first: (left, right[, top, bottom[, front, back]])); mode one
    of MODES; constant mode pads with ``value`` and crops on negative pads."""
    raw = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint
    _affine = True        # (constant padding with a non-zero value)

    @staticmethod
    def forward(ctx, x, pads, mode, value=0.0):
        k = len(pads) // 2
        axes = [x.ndim - 1 - a for a in range(k)]
        ctx.pads, ctx.mode, ctx.shape = pads, mode, x.shape
        if mode == "constant":
            crop = [slice(None)] * x.ndim
            widths = [(0, 0)] * x.ndim
            for a, ax in enumerate(axes):
                lo, hi = pads[2 * a], pads[2 * a + 1]
                crop[ax] = slice(max(-lo, 0), x.shape[ax] - max(-hi, 0))
                widths[ax] = (max(lo, 0), max(hi, 0))
            ctx.crop = tuple(crop)
            return np.pad(x[ctx.crop], widths, constant_values=value)
        idx = [_index(x.shape[ax], pads[2 * a], pads[2 * a + 1], mode)
               for a, ax in reversed(list(enumerate(axes)))]
        ctx.idx = idx
        return np.ascontiguousarray(x[(Ellipsis,) + np.ix_(*idx)])

    @staticmethod
    def backward(ctx, g):
        if ctx.mode == "constant":
            return _constant_backward(ctx, g), None, None, None
        pads, shape = ctx.pads, ctx.shape
        k = len(pads) // 2
        for a in range(k):          # last axis first
            ax = len(shape) - 1 - a
            lo, n = pads[2 * a], shape[ax]
            src = [slice(None)] * g.ndim
            src[ax] = slice(lo, lo + n)
            d = g[tuple(src)].copy()
            idx = ctx.idx[k - 1 - a]
            for j in list(range(lo)) + list(range(lo + n, g.shape[ax])):
                dst = [slice(None)] * g.ndim
                dst[ax], src[ax] = idx[j], j
                d[tuple(dst)] += g[tuple(src)]
            g = d
        return np.ascontiguousarray(g), None, None, None


def _constant_backward(ctx, g):
    """Gradient of constant padding: the kept window of g placed back at the
    cropped window of the input (zeros where the input was cropped away)."""
    pads, shape = ctx.pads, ctx.shape
    inner = [slice(None)] * g.ndim
    for a in range(len(pads) // 2):
        ax, lo = len(shape) - 1 - a, max(pads[2 * a], 0)
        c = ctx.crop[ax]
        inner[ax] = slice(lo, lo + max(c.stop - c.start, 0))
    d = np.zeros(shape, g.dtype)
    d[ctx.crop] = g[tuple(inner)]
    return d


def pad_nd(x, pads, mode, value=0.0):
    """x (a Tensor) padded as PyTorch's F.pad for these modes (the caller's
    op name in errors comes from ``op``-less checks here: 'pad')."""
    _check("pad", x._array, pads, mode)
    return PadNdFn.apply(x, tuple(int(p) for p in pads), mode, float(value))


_NONCONST = ("Supported combinations for non-constant padding:\n"
             "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
             "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
             "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _validate_pad(x, pad, mode):
    """PyTorch's F.pad argument rules; the pads as a tuple of ints."""
    if mode not in MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    try:
        pads = tuple(int(p) for p in pad)
    except TypeError:
        raise TypeError(f"pad(): argument 'pad' must be a tuple of ints, not "
                        f"{type(pad).__name__}") from None
    if len(pads) % 2:
        raise ValueError("Padding length must be divisible by 2")
    k = len(pads) // 2
    if k > x.ndim:
        raise ValueError(f"Padding length should be less than or equal to two times the input "
                         f"dimension but got padding length {len(pads)} and input of "
                         f"dimension {x.ndim}")
    if mode == "constant":
        for a in range(k):
            n = x.shape[x.ndim - 1 - a] + pads[2 * a] + pads[2 * a + 1]
            if n < 0:
                raise ShapeError(f"pad: the input size {x.shape[x.ndim - 1 - a]}, plus negative "
                                 f"padding {pads[2 * a]} and {pads[2 * a + 1]} resulted in a "
                                 f"negative output size, which is invalid")
    elif k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pads)} is not supported for {x.ndim}D "
                                  f"input tensor.\n" + _NONCONST)
    return pads


def pad(input, pad, mode="constant", value=None):
    """PyTorch's ``F.pad``: pads the last ``len(pad) // 2`` dims of input,
    ``pad`` listing (left, right) per dim from the last dim backwards.

    mode 'constant' (fill ``value``, default 0; negative pads crop, any
    number of dims), 'reflect', 'replicate' or 'circular' (the last 1, 2 or 3
    dims of a (k+1)- or (k+2)-D input).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.pad(fastnn.ones(1, 2, 3), (1, 2)).shape
    fastnn.Size([1, 2, 6])
    """
    from ..nn.functional import _t
    x = _t(input)
    pads = _validate_pad(x._array, pad, mode)
    if mode != "constant" and value:
        raise ValueError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    return pad_nd(x, pads, mode, 0.0 if value is None else value)
