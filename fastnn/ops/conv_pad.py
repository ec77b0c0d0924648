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

__all__ = ["pad_nd", "PadNdFn"]

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
    if x.ndim < k + 1:
        raise ShapeError(f"{op}: {mode} padding of {k} dims needs at least {k + 1}-D input, "
                         f"got shape {tuple(x.shape)}")
    for a in range(k):
        n, lo, hi = x.shape[x.ndim - 1 - a], pads[2 * a], pads[2 * a + 1]
        if lo < 0 or hi < 0:
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
    (last axis first: (left, right[, top, bottom])); mode one of MODES."""
    raw = True

    @staticmethod
    def forward(ctx, x, pads, mode):
        k = len(pads) // 2
        widths = [(0, 0)] * (x.ndim - k) + [(pads[2 * a], pads[2 * a + 1])
                                             for a in reversed(range(k))]
        ctx.pads, ctx.mode, ctx.shape = pads, mode, x.shape
        if mode == "constant":
            return np.pad(x, widths)
        idx = [_index(x.shape[x.ndim - k + i], *widths[x.ndim - k + i], mode) for i in range(k)]
        ctx.idx = idx
        if k == 1:
            return np.ascontiguousarray(x[..., idx[0]])
        return np.ascontiguousarray(x[..., idx[0][:, None], idx[1][None, :]])

    @staticmethod
    def backward(ctx, g):
        pads, shape = ctx.pads, ctx.shape
        k = len(pads) // 2
        for a in range(k):          # last axis first
            ax = len(shape) - 1 - a
            lo, n = pads[2 * a], shape[ax]
            src = [slice(None)] * g.ndim
            src[ax] = slice(lo, lo + n)
            d = g[tuple(src)].copy()
            if ctx.mode != "constant":
                idx = ctx.idx[k - 1 - a]
                for j in list(range(lo)) + list(range(lo + n, g.shape[ax])):
                    dst = [slice(None)] * g.ndim
                    dst[ax], src[ax] = idx[j], j
                    d[tuple(dst)] += g[tuple(src)]
            g = d
        return np.ascontiguousarray(g), None, None


def pad_nd(x, pads, mode):
    """x (a Tensor) padded as PyTorch's F.pad for these modes (the caller's
    op name in errors comes from ``op``-less checks here: 'pad')."""
    _check("pad", x._array, pads, mode)
    return PadNdFn.apply(x, tuple(int(p) for p in pads), mode)
