"""Sliding blocks: ``unfold`` (im2col) and ``fold`` (col2im), PyTorch's
``F.unfold`` / ``F.fold``.

For an image (C, H, W), a kernel (kh, kw), dilation (dh, dw), zero padding
(ph, pw) and stride (sh, sw), the block grid is

    OH = (H + 2 ph - dh (kh - 1) - 1) // sh + 1     (OW likewise)

and ``unfold`` gives (C*kh*kw, OH*OW) with row ``(c*kh + r)*kw + s`` and
column ``oh*OW + ow`` holding ``x[c, oh*sh - ph + r*dh, ow*sw - pw + s*dw]``
(0 in the padding).  ``fold`` is its adjoint (overlapping entries are summed),
so each one's backward is the other.  ``fold`` runs in C
(``fnn_fold_fwd``, csrc/im2col.h); ``unfold`` is one strided NumPy view
of the padded image, copied once.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _core
from .._errors import ShapeError
from ..autograd.function import Function
from ._util import c_contig, check_float, nthreads
from .activation import _t

__all__ = ["unfold", "fold"]


def _pair(op, name, v):
    if isinstance(v, (list, tuple)):
        if len(v) != 2:
            raise ShapeError(f"{op}: it is expected {name} equals to 2, but got size {len(v)}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _geometry(op, kernel_size, dilation, padding, stride):
    """(kernel, dilation, padding, stride) pairs, checked as PyTorch does."""
    k = _pair(op, "kernel_size", kernel_size)
    d = _pair(op, "dilation", dilation)
    p = _pair(op, "padding", padding)
    s = _pair(op, "stride", stride)
    if k[0] <= 0 or k[1] <= 0:
        raise ValueError(f"{op}: kernel size should be greater than zero, but got "
                         f"kernel_height: {k[0]} kernel_width: {k[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise ValueError(f"{op}: dilation should be greater than zero, but got "
                         f"dilation_height: {d[0]} dilation_width: {d[1]}")
    if p[0] < 0 or p[1] < 0:
        raise ValueError(f"{op}: padding should be non-negative, but got pad_height: {p[0]} "
                         f"pad_width: {p[1]}")
    if s[0] <= 0 or s[1] <= 0:
        raise ValueError(f"{op}: stride should be greater than zero, but got stride_height: "
                         f"{s[0]} stride_width: {s[1]}")
    return k, d, p, s


def _blocks(H, W, k, d, p, s):
    return ((H + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1,
            (W + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1)


def _im2col(x, k, d, p, s, OH, OW):
    """(N, C, H, W) -> (N, C*kh*kw, OH*OW) (NumPy: one strided view, one copy)."""
    N, C = x.shape[:2]
    if p[0] or p[1]:
        x = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    else:
        x = c_contig(x)
    sn, sc, sh, sw = x.strides
    v = as_strided(x, (N, C, k[0], k[1], OH, OW),
                   (sn, sc, sh * d[0], sw * d[1], sh * s[0], sw * s[1]), writeable=False)
    return np.ascontiguousarray(v).reshape(N, C * k[0] * k[1], OH * OW)


def _col2im(col, H, W, k, d, p, s):
    """(N, C*kh*kw, L) -> (N, C, H, W): the scatter-add of the blocks (C)."""
    N = col.shape[0]
    C = col.shape[1] // (k[0] * k[1])
    out = np.empty((N, C, H, W), col.dtype)
    return _core.fold_fwd(c_contig(col), out, k, d, p, s, nthreads())


class UnfoldFn(Function):
    """(N, C, H, W) -> (N, C*kh*kw, L); backward: fold."""
    raw = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint

    @staticmethod
    def forward(ctx, x, k, d, p, s):
        check_float("unfold", "input", x)
        if x.ndim not in (3, 4):
            raise ShapeError(f"unfold: Input Error: Only 3D or 4D input Tensors are supported "
                             f"(got {x.ndim}D)")
        batched = x.ndim == 4
        if not batched:
            x = x[None]
        H, W = x.shape[2:]
        OH, OW = _blocks(H, W, k, d, p, s)
        if OH < 1 or OW < 1:
            raise ShapeError(f"unfold: Given input with spatial size ({H}, {W}), kernel_size="
                             f"{k}, dilation={d}, padding={p}, calculated shape of the array of "
                             f"sliding blocks as ({OH}, {OW}), but its components must be at "
                             f"least one.")
        if x.shape[1] == 0:
            raise ShapeError(f"unfold: expected non-empty channels, got input {x.shape}")
        ctx.info = (H, W, k, d, p, s, batched)
        out = _im2col(x, k, d, p, s, OH, OW)
        return out if batched else out[0]

    @staticmethod
    def backward(ctx, g):
        H, W, k, d, p, s, batched = ctx.info
        gx = _col2im(g if batched else g[None], H, W, k, d, p, s)
        return (gx if batched else gx[0]), None, None, None, None


class FoldFn(Function):
    """(N, C*kh*kw, L) -> (N, C, H, W); backward: unfold."""
    raw = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint

    @staticmethod
    def forward(ctx, x, size, k, d, p, s):
        check_float("fold", "input", x)
        if x.ndim not in (2, 3) or 0 in x.shape[x.ndim - 2:]:
            raise ShapeError(f"fold: Expected 2D or 3D (batch mode) tensor for input with "
                             f"possibly 0 batch size and non-zero dimensions for input, but "
                             f"got: {list(x.shape)}")
        batched = x.ndim == 3
        if not batched:
            x = x[None]
        kk = k[0] * k[1]
        if x.shape[1] % kk:
            raise ShapeError(f"fold: Expected size of input's dimension 1 to be divisible by the "
                             f"product of kernel_size, but got input.size(1)={x.shape[1]} and "
                             f"kernel_size={k}.")
        H, W = size
        OH, OW = _blocks(H, W, k, d, p, s)
        if OH < 1 or OW < 1 or OH * OW != x.shape[2]:
            raise ShapeError(f"fold: Given output_size={size}, kernel_size={k}, dilation={d}, "
                             f"padding={p}, stride={s}, expected size of input's dimension 2 to "
                             f"match the calculated number of sliding blocks {max(OH, 0)} * "
                             f"{max(OW, 0)} = {max(OH, 0) * max(OW, 0)}, but got "
                             f"input.size(2)={x.shape[2]}.")
        ctx.info = (OH, OW, k, d, p, s, batched)
        out = _col2im(x, H, W, k, d, p, s)
        return out if batched else out[0]

    @staticmethod
    def backward(ctx, g):
        OH, OW, k, d, p, s, batched = ctx.info
        gx = _im2col(g if batched else g[None], k, d, p, s, OH, OW)
        return (gx if batched else gx[0]), None, None, None, None, None


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extracts sliding local blocks: (N, C, H, W) -> (N, C*kh*kw, L) (or
    (C, H, W) -> (C*kh*kw, L)), L the number of blocks.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.unfold(fastnn.zeros(2, 3, 5, 5), 2).shape
    fastnn.Size([2, 12, 16])
    """
    k, d, p, s = _geometry("unfold", kernel_size, dilation, padding, stride)
    return UnfoldFn.apply(_t(input), k, d, p, s)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combines sliding local blocks into an image, summing overlaps:
    (N, C*kh*kw, L) -> (N, C, *output_size) (or unbatched (C*kh*kw, L)).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.fold(fastnn.ones(1, 4, 4), (3, 3), 2)[0, 0]
    tensor([[1., 2., 1.],
            [2., 4., 2.],
            [1., 2., 1.]])
    """
    size = _pair("fold", "output_size", output_size)
    k, d, p, s = _geometry("fold", kernel_size, dilation, padding, stride)
    return FoldFn.apply(_t(input), size, k, d, p, s)
