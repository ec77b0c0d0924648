"""3-D pooling (PyTorch's ``max_pool3d``, ``avg_pool3d``,
``adaptive_avg_pool3d``, ``adaptive_max_pool3d``, ``max_unpool3d``),
composed of the 2-D pooling kernels (no kernel of its own).

Each 3-D window is a 2-D window over (H, W) in each depth slice of a
window over D.  So the depth axis is first folded into the channels and
the 2-D op pools every slice, (N, C, D, H, W) -> (N, C*D, OH, OW); then a
reduction over the depth windows finishes the job:

- max pooling: the kD slices of each depth window (padding excluded) are
  stacked and the winner of each window gathered (the first maximum on
  ties, the last NaN if any: the element PyTorch's kernel picks scanning
  d, h, w, since the 2-D op picks the same way within a slice); the
  index is ``d * H * W + (h * W + w)``, PyTorch's flat index in the D*H*W
  volume, from the 2-D op's in-plane index of the winning slice;
- average pooling: the 2-D op sums (``divisor_override=1``), the depth
  windows are summed, and the result divided by PyTorch's divisor, the
  product of a factor per axis (window size clipped to the padded input
  with ``count_include_pad``, to the input without it) or
  ``divisor_override``;
- adaptive average pooling: a (OD, D) averaging matrix applied to the
  2-D result (each box's mean is the mean over its depths of the (h, w)
  means, all of one size);
- adaptive max pooling: per output depth the max over its depth window.

Unpooling needs no geometry of its own: with PyTorch's flat indices it is
the 2-D op's scatter per (n, c) plane.  All of it is differentiable through
the ops it is made of.
"""
import numpy as np

from .._errors import ShapeError
from ._util import check_float
from .conv_pad import pad_nd
from .pooling import (MaxUnpool2dFn, _args, _check_divisor, _key, _t, _unpool_geom,
                      adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d)

__all__ = ["max_pool3d", "max_pool3d_with_indices", "avg_pool3d", "adaptive_avg_pool3d",
           "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices", "max_unpool3d"]


def _out_size(n, k, s, p, d, ceil):
    """PyTorch's pooling output size along one axis (ceil_mode: the last
    window must start inside the input or its left padding)."""
    span = n + 2 * p - d * (k - 1) - 1
    o = (-(-span // s) if ceil else span // s) + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def _batched(op, x):
    """x as 5-D, and whether it came unbatched (4-D)."""
    if x.ndim not in (4, 5):
        raise ShapeError(f"{op}: expected 4-D (C, D, H, W) or 5-D (N, C, D, H, W) input, got "
                         f"{x.ndim}-D input of shape {tuple(x.shape)}")
    if min(x.shape[-4:]) < 1:
        raise ShapeError(f"{op}: expected input with non-zero sizes for the non-batch "
                         f"dimensions, got shape {tuple(x.shape)}")
    check_float(op, "input", x._array)
    return (x.unsqueeze(0), True) if x.ndim == 4 else (x, False)


def _geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    """The checked triples (k, s, p, d) and the output sizes (OD, OH, OW)."""
    k, s, p, d = _args(op, 3, _key(kernel_size), _key(stride), _key(padding), _key(dilation))
    out = tuple(_out_size(n, *a, bool(ceil_mode)) for n, *a in zip(x.shape[2:], k, s, p, d))
    if min(out) < 1:
        raise ShapeError(f"{op}: given input size {tuple(x.shape[1:])}, the calculated output "
                         f"size {out} is too small (kernel_size={k}, stride={s}, padding={p}, "
                         f"dilation={d}, ceil_mode={bool(ceil_mode)})")
    return k, s, p, d, out


def _depth_windows(t, k, s, p, d, od, fill):
    """t (N, C, D, ...) padded along D by fill (p in front, enough behind
    for the last window), and its k taps: each (N, C, od, ...), tap j
    holding depth o*s - p + j*d for o < od."""
    D = t.shape[2]
    back = max(0, (od - 1) * s + d * (k - 1) + 1 - D - p)
    if p or back:
        zeros = (0, 0) * (t.ndim - 3)
        if isinstance(t, np.ndarray):
            t = np.pad(t, [(0, 0), (0, 0), (p, back)] + [(0, 0)] * (t.ndim - 3),
                       constant_values=fill)
        else:
            t = pad_nd(t, zeros + (p, back), "constant", fill)
    return [t[:, :, j * d: j * d + (od - 1) * s + 1: s] for j in range(k)]


def _argmax(a):
    """PyTorch's max-pooling winner along axis 2: the first maximum, or the
    last NaN when there is one (its kernels take an element when it is
    greater or NaN)."""
    am = np.argmax(a, axis=2)
    nan = np.isnan(a)
    if nan.any():
        last = a.shape[2] - 1 - np.argmax(nan[:, :, ::-1], axis=2)
        am = np.where(nan.any(axis=2), last, am)
    return am


def _depth_argmax(a, k, s, p, d, D):
    """The winning tap of each depth window of the stacked taps a
    (N, C, k, OD, ...), among the taps inside the input; in a window whose
    real taps are all -inf, its first real tap (PyTorch's kernel starts
    from the first element it sees)."""
    OD = a.shape[3]
    pos = np.arange(OD)[None, :] * s - p + np.arange(k)[:, None] * d
    valid = (pos >= 0) & (pos < D)                                   # (k, OD)
    if valid.all():
        return _argmax(a)
    vb = valid.reshape(valid.shape + (1,) * (a.ndim - 4))
    am = _argmax(np.where(vb, a, -np.inf))
    od = np.arange(OD).reshape((1, 1, OD) + (1,) * (a.ndim - 4))
    first = np.argmax(valid, axis=0).reshape(od.shape)
    return np.where(valid[am, od], am, first)


def _empty_windows(n, k, s, p, d, o):
    """Which of the o windows along an axis of size n hold no input element
    (possible with a dilation: every tap in the padding)."""
    pos = np.arange(o)[:, None] * s - p + np.arange(k)[None, :] * d
    return ~((pos >= 0) & (pos < n)).any(axis=1)


def _max_pool3d(op, input, kernel_size, stride, padding, dilation, ceil_mode):
    """(output, flat D*H*W indices as an int64 ndarray) of max pooling."""
    from .._tensor import stack
    x, unbatched = _batched(op, _t(input))
    k, s, p, d, (OD, OH, OW) = _geometry(op, x, kernel_size, stride, padding, dilation,
                                         ceil_mode)
    N, C, D, H, W = x.shape
    if any(_empty_windows(n, *a).any() for n, *a in zip((D, H, W), k, s, p, d, (OD, OH, OW))):
        # (PyTorch gives -inf and an index outside the volume, whose backward
        # writes into the next plane; fastnn's max_pool2d refuses such windows)
        raise ShapeError(f"{op}: given input size {tuple(x.shape[1:])}, a window would hold "
                         f"no input (kernel_size={k}, stride={s}, padding={p}, dilation={d}, "
                         f"ceil_mode={bool(ceil_mode)})")
    y2, i2 = max_pool2d(x.reshape(N, C * D, H, W), k[1:], s[1:], p[1:], d[1:], ceil_mode,
                        True)
    y2, i2 = y2.reshape(N, C, D, OH, OW), i2._array.reshape(N, C, D, OH, OW)
    if k[0] == 1 and s[0] == 1 and p[0] == 0:
        y, dpos = y2, np.arange(D).reshape(1, 1, D, 1, 1)
        idx = i2
    else:
        taps = stack(_depth_windows(y2, k[0], s[0], p[0], d[0], OD, 0.0), 2)
        am = _depth_argmax(taps._array, k[0], s[0], p[0], d[0], D)
        y = taps.gather(2, type(taps)._wrap(am[:, :, None])).squeeze(2)
        itaps = np.stack(_depth_windows(i2, k[0], s[0], p[0], d[0], OD, 0), 2)
        idx = np.take_along_axis(itaps, am[:, :, None], 2)[:, :, 0]
        dpos = np.arange(OD).reshape(1, 1, OD, 1, 1) * s[0] - p[0] + am * d[0]
    idx = dpos * (H * W) + idx
    return (y.squeeze(0), idx[0]) if unbatched else (y, idx)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling over an NCDHW batch (padding acts as -inf).

    Parameters
    ----------
    input : Tensor or ndarray, (N, C, D, H, W) or unbatched (C, D, H, W)
    kernel_size : int or (int, int, int)
    stride : int or (int, int, int), default kernel_size
    padding : int or (int, int, int), at most half the kernel size
    dilation : int or (int, int, int)
    ceil_mode : bool
        Round the output size up (the last window must start inside the
        input or its left padding).
    return_indices : bool
        Also return the int64 flat index ``(d * H + h) * W + w`` of each
        window's maximum within its volume (as PyTorch; for ``max_unpool3d``).

    Shape
    -----
    (N, C, D, H, W) -> (N, C, OD, OH, OW),
    OD = floor or ceil of (D + 2*padding - dilation*(kD-1) - 1) / stride, + 1

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.max_pool3d(fastnn.ones(2, 3, 4, 8, 8), 2).shape
    fastnn.Size([2, 3, 2, 4, 4])
    """
    y, idx = _max_pool3d("max_pool3d", input, kernel_size, stride, padding, dilation,
                         ceil_mode)
    return (y, type(y)._wrap(np.ascontiguousarray(idx))) if return_indices else y


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool3d(..., return_indices=True)``: (output, indices) always."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _avg_factor(n, k, s, p, o, include_pad):
    """PyTorch's divisor factor along one axis for each of the o windows."""
    start = np.arange(o) * s - p
    end = np.minimum(start + k, n + p)
    if include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling over an NCDHW batch.

    Parameters
    ----------
    input : Tensor or ndarray, (N, C, D, H, W) or unbatched (C, D, H, W)
    kernel_size : int or (int, int, int)
    stride : int or (int, int, int), default kernel_size
    padding : int or (int, int, int), at most half the kernel size
    ceil_mode : bool
    count_include_pad : bool
        Count the zero padding in the divisor (default, as PyTorch).
    divisor_override : int, optional
        Divide every window's sum by this instead.

    Shape
    -----
    (N, C, D, H, W) -> (N, C, OD, OH, OW), OD = (D + 2*padding - kD) // stride + 1
    (rounded up with ceil_mode)

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.avg_pool3d(fastnn.ones(1, 2, 4, 4, 4), 2).shape
    fastnn.Size([1, 2, 2, 2, 2])
    """
    op = "avg_pool3d"
    _check_divisor(op, divisor_override)
    x, unbatched = _batched(op, _t(input))
    k, s, p, _, out = _geometry(op, x, kernel_size, stride, padding, 1, ceil_mode)
    N, C, D, H, W = x.shape
    if D < k[0] or H < k[1] or W < k[2]:     # (PyTorch's check: padding not counted)
        raise ShapeError(f"{op}: input image (D: {D} H: {H} W: {W}) smaller than kernel size "
                         f"{k}")
    y2 = avg_pool2d(x.reshape(N, C * D, H, W), k[1:], s[1:], p[1:], ceil_mode, True, 1)
    y2 = y2.reshape(N, C, D, out[1], out[2])            # window sums over (h, w)
    if k[0] == 1 and s[0] == 1 and p[0] == 0:
        y = y2
    else:
        taps = _depth_windows(y2, k[0], s[0], p[0], 1, out[0], 0.0)
        y = taps[0]
        for t in taps[1:]:
            y = y + t
    if divisor_override is not None:
        div = np.asarray(float(divisor_override), x.dtype)
    else:
        f = [_avg_factor(n, ki, si, pi, o, count_include_pad)
             for n, ki, si, pi, o in zip((D, H, W), k, s, p, out)]
        div = (f[0][:, None, None] * f[1][None, :, None] * f[2][None, None, :]).astype(x.dtype)
    y = y / type(y)._wrap(div)
    return y.squeeze(0) if unbatched else y


def _adaptive_sizes(op, x, output_size):
    """The checked (OD, OH, OW) of an adaptive pooling (None keeps the size)."""
    sizes = tuple(x.shape[-3:])
    if output_size is None or isinstance(output_size, (int, np.integer)):
        out = (output_size,) * 3
    elif isinstance(output_size, (tuple, list)) and len(output_size) == 3:
        out = tuple(output_size)
    else:
        raise TypeError(f"{op}: output_size must be an int, None or a tuple of 3 of them, got "
                        f"{output_size!r}")
    out = tuple(n if o is None else o for o, n in zip(out, sizes))
    if any(isinstance(o, bool) or not isinstance(o, (int, np.integer)) or o < 1 for o in out):
        raise ValueError(f"{op}: elements of output_size must be positive ints or None, got "
                         f"{output_size!r}")
    return tuple(int(o) for o in out)


def _bounds(n, o):
    """PyTorch's adaptive windows [floor(i*n/o), ceil((i+1)*n/o)) for i < o."""
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def adaptive_avg_pool3d(input, output_size):
    """Adaptive 3-D average pooling to ``output_size`` (an int, or a triple
    whose None entries keep the input's size); PyTorch's windows
    ``[floor(o*D/OD), ceil((o+1)*D/OD))`` per axis.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.adaptive_avg_pool3d(fastnn.ones(2, 3, 5, 7, 7), 1).shape
    fastnn.Size([2, 3, 1, 1, 1])
    """
    op = "adaptive_avg_pool3d"
    x, unbatched = _batched(op, _t(input))
    OD, OH, OW = _adaptive_sizes(op, x, output_size)
    N, C, D, H, W = x.shape
    y2 = adaptive_avg_pool2d(x.reshape(N, C * D, H, W), (OH, OW)).reshape(N, C, D, OH * OW)
    if OD == D:
        y = y2
    else:
        lo, hi = _bounds(D, OD)
        A = np.zeros((OD, D), x.dtype)
        for o in range(OD):
            A[o, lo[o]:hi[o]] = 1.0 / (hi[o] - lo[o])
        y = type(y2)._wrap(A) @ y2
    y = y.reshape(N, C, OD, OH, OW)
    return y.squeeze(0) if unbatched else y


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Adaptive 3-D max pooling (windows as ``adaptive_avg_pool3d``); with
    ``return_indices`` also the int64 flat argmax ``(d * H + h) * W + w``.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.adaptive_max_pool3d(fastnn.ones(1, 2, 5, 7, 7), (2, 3, None)).shape
    fastnn.Size([1, 2, 2, 3, 7])
    """
    from .._tensor import stack
    op = "adaptive_max_pool3d"
    x, unbatched = _batched(op, _t(input))
    OD, OH, OW = _adaptive_sizes(op, x, output_size)
    N, C, D, H, W = x.shape
    y2, i2 = adaptive_max_pool2d(x.reshape(N, C * D, H, W), (OH, OW), True)
    y2, i2 = y2.reshape(N, C, D, OH, OW), i2._array.reshape(N, C, D, OH, OW)
    lo, hi = _bounds(D, OD)
    ys, idx = [], []
    for o in range(OD):
        seg = y2[:, :, lo[o]:hi[o]]
        am = _argmax(seg._array)
        ys.append(seg.gather(2, type(seg)._wrap(am[:, :, None])).squeeze(2))
        idx.append((lo[o] + am) * (H * W) +
                   np.take_along_axis(i2[:, :, lo[o]:hi[o]], am[:, :, None], 2)[:, :, 0])
    y, idx = stack(ys, 2), np.stack(idx, 2)
    if unbatched:
        y, idx = y.squeeze(0), idx[0]
    return (y, type(y)._wrap(np.ascontiguousarray(idx))) if return_indices else y


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """(output, indices) whatever return_indices says, as PyTorch's."""
    return adaptive_max_pool3d(input, output_size, return_indices=True)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d``: each value put back at its flat
    index (from ``return_indices=True``), zeros elsewhere.

    Shape
    -----
    (N, C, D, H, W) -> (N, C, OD, OH, OW), OD = (D - 1)*stride - 2*padding + kD
    unless output_size says otherwise.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> y, i = F.max_pool3d(fastnn.randn(1, 1, 4, 4, 4), 2, return_indices=True)
    >>> F.max_unpool3d(y, i, 2).shape
    fastnn.Size([1, 1, 4, 4, 4])
    """
    x, ind = _t(input), _t(indices)
    g = _unpool_geom("max_unpool3d", 3, x, ind, kernel_size, stride, padding, output_size)
    return MaxUnpool2dFn.apply(x, ind, g)
