"""Order statistics and binning: ``median``/``nanmedian``,
``quantile``/``nanquantile``, ``searchsorted``/``bucketize``, ``histc``,
``histogram`` and ``unique_consecutive``.

The order statistics sort along the reduced dim (stably, NaN last, as
PyTorch orders them) and pick from the sorted rows, so gradients go back to
the positions the picked values came from: ``median(x, dim)`` to the index
it returns, ``quantile`` to the two neighbours it interpolates between
(weights ``1 - w`` and ``w``).  ``median(x)`` over all elements shares its
gradient evenly among the elements equal to the median, as PyTorch does.
Among equal values the index returned is the one a stable sort puts at the
median's position (PyTorch documents the index of ties as unspecified).
A NaN in a row makes ``median``/``quantile`` of that row NaN (``median``'s
index is then the first NaN's); the ``nan*`` forms ignore NaNs (NaN only
when the whole row is NaN).  The binning functions have no gradient.

Examples
--------
>>> import fastnn
>>> x = fastnn.tensor([[1.0, 5.0, 2.0, 2.0], [4.0, 3.0, 0.0, 8.0]])
>>> x.median(dim=1)
median(values=tensor([2., 3.]), indices=tensor([2, 1]))
>>> fastnn.quantile(x, 0.5, dim=1)
tensor([2.0000, 3.5000])
>>> fastnn.bucketize(fastnn.tensor([0.5, 2.0, 7.0]), fastnn.tensor([1.0, 2.0, 4.0]))
tensor([0, 1, 3])
"""
import builtins
import numbers
from collections import namedtuple

import numpy as np

from .. import _defaults
from .._errors import OutOfRangeError as _OutOfRange

from .._core import TensorBase, name_node
from .._core import wrap as _wrap
from ..autograd.function import Function
from ._common import tensor
from ._util import normalize_dim

median_result = namedtuple("median", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
histogram_result = namedtuple("histogram", ["hist", "bin_edges"])

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _sorted_last(x):
    """(stable argsort along the last axis (NaN last), the sorted values)."""
    idx = np.argsort(x, axis=-1, kind="stable")
    return idx, np.take_along_axis(x, idx, axis=-1)


# ------------------------------------------------------------------ median
class MedianAllFn(Function):
    """The lower median of all elements (NaN if any is NaN, or if empty);
    the gradient shared evenly by the elements equal to it."""
    raw = True

    @staticmethod
    def forward(ctx, x, ignore_nan):
        flat = x.reshape(-1)
        if ignore_nan and x.dtype.kind == "f":
            flat = flat[~np.isnan(flat)]
        elif x.dtype.kind == "f" and np.isnan(flat).any():
            flat = flat[:0]
        if flat.size == 0:
            out = np.array(np.nan, x.dtype if x.dtype.kind == "f" else _defaults.FLOAT)
        else:
            out = np.asarray(np.partition(flat, (flat.size - 1) // 2)[(flat.size - 1) // 2])
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        mask = np.isnan(x) if np.isnan(out) else (x == out)
        n = mask.sum()
        return mask * (g / n) if n else np.zeros_like(x)


class MedianDimFn(Function):
    """The lower median along a dim and its index; the gradient goes to
    that index."""
    raw = True

    @staticmethod
    def forward(ctx, x, dim, keepdim, ignore_nan, op):
        d = normalize_dim(op, dim, x.ndim)
        xx = x if x.ndim else x.reshape(1)
        n = xx.shape[d]
        if n == 0:
            raise _OutOfRange(f"{op}(): Expected reduction dim {d} to have non-zero size.")
        xs = np.moveaxis(xx, d, -1)
        idx, sv = _sorted_last(xs)
        if x.dtype.kind == "f":
            nnan = np.isnan(sv).sum(axis=-1, keepdims=True)
            k = n - nnan
            if ignore_nan:
                pos = np.where(k > 0, (k - 1) // 2, 0)
            else:
                pos = np.where(nnan > 0, k, (n - 1) // 2)   # a NaN row: its first NaN
        else:
            pos = np.full(xs.shape[:-1] + (1,), (n - 1) // 2, np.int64)
        pos = pos.astype(np.intp)
        vals = np.take_along_axis(sv, pos, axis=-1)
        ind = np.take_along_axis(idx, pos, axis=-1)
        vals, ind = np.moveaxis(vals, -1, d), np.moveaxis(ind, -1, d)
        ctx.meta = (x.shape, d)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(ind)
        if not keepdim or x.ndim == 0:
            vals, ind = np.squeeze(vals, d), np.squeeze(ind, d)
        if x.ndim == 0:
            vals, ind = vals.reshape(()), ind.reshape(())
        return np.array(vals, order="C"), np.array(ind, np.int64, order="C")

    @staticmethod
    def backward(ctx, g, *unused):
        (ind,) = ctx.saved_tensors
        shape, d = ctx.meta
        gx = np.zeros(shape if shape else (1,), g.dtype)
        np.put_along_axis(gx, ind, g.reshape(ind.shape), axis=d)
        return gx.reshape(shape)


def _median(op, result, input, dim, keepdim, ignore_nan):
    x = tensor(input)
    stem = "NanmedianBackward" if ignore_nan else "MedianBackward"
    if dim is None:
        return name_node(MedianAllFn.apply(x, ignore_nan), x, stem + "0")
    vals, idx = MedianDimFn.apply(x, dim, bool(keepdim), ignore_nan, op)
    return result(name_node(vals, x, stem + "1"), idx)


def median(input, dim=None, keepdim=False):
    """The lower median of all elements, or ``(values, indices)`` along ``dim``."""
    return _median("median", median_result, input, dim, keepdim, False)


def nanmedian(input, dim=None, keepdim=False):
    """``median`` ignoring NaNs (NaN only for an all-NaN row)."""
    return _median("nanmedian", nanmedian_result, input, dim, keepdim, True)


# ---------------------------------------------------------------- quantile
def _lerp(lo, hi, w):
    """PyTorch's lerp formula (from the nearer end)."""
    with np.errstate(invalid="ignore"):
        return np.where(w < 0.5, lo + w * (hi - lo), hi - (hi - lo) * (1 - w))


class QuantileFn(Function):
    """The q-quantiles along a dim (or of all elements) by sorting and
    interpolating between the two neighbouring order statistics."""
    raw = True

    @staticmethod
    def forward(ctx, x, q, dim, keepdim, interpolation, ignore_nan):
        qv = q.reshape(-1)
        xx = x.reshape(-1) if dim is None else (x if x.ndim else x.reshape(1))
        d = 0 if dim is None else dim
        xs = np.moveaxis(xx, d, -1)
        n = xs.shape[-1]
        idx, sv = _sorted_last(xs)
        rows = xs.shape[:-1]
        isn = np.isnan(sv)
        if ignore_nan:
            k = (n - isn.sum(axis=-1)).astype(sv.dtype)
            ranks = qv.reshape((-1,) + (1,) * len(rows)) * (k - 1)
            ranks = np.maximum(ranks, 0)
        else:
            ranks = np.broadcast_to(qv.reshape((-1,) + (1,) * len(rows)) * (n - 1),
                                    (qv.size,) + rows)
            ranks = np.where(isn.any(axis=-1), sv.dtype.type(n - 1), ranks)
        ranks = np.broadcast_to(ranks, (qv.size,) + rows)
        if interpolation == "lower":
            lo = hi = np.floor(ranks)
        elif interpolation == "higher":
            lo = hi = np.ceil(ranks)
        elif interpolation == "nearest":
            lo = hi = np.round(ranks)
        else:
            lo, hi = np.floor(ranks), np.ceil(ranks)
        if interpolation == "linear":
            w = (ranks - lo).astype(sv.dtype)
        elif interpolation == "midpoint":
            w = np.where(hi > lo, 0.5, 0.0).astype(sv.dtype)
        else:
            w = np.zeros(ranks.shape, sv.dtype)
        lo, hi = lo.astype(np.intp), hi.astype(np.intp)
        svb = np.broadcast_to(sv, (qv.size,) + sv.shape)
        below = np.take_along_axis(svb, lo[..., None], axis=-1)[..., 0]
        above = np.take_along_axis(svb, hi[..., None], axis=-1)[..., 0]
        if interpolation in ("lower", "higher", "nearest"):
            out = np.asarray(below, sv.dtype)     # the element itself (an inf stays inf)
        else:
            out = np.asarray(_lerp(below, above, w), sv.dtype)
        ctx.meta = (x.shape, dim, keepdim, q.ndim)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(idx, lo, hi, w)
        return _quantile_shape(out, x.ndim, dim, keepdim, q.ndim)

    @staticmethod
    def backward(ctx, g, *unused):
        idx, lo, hi, w = ctx.saved_tensors
        shape, dim, keepdim, qdim = ctx.meta
        g = g.reshape(lo.shape)
        gs = np.zeros(idx.shape, g.dtype)
        for i in range(lo.shape[0]):
            for pos, wt in ((lo[i], 1 - w[i]), (hi[i], w[i])):
                p = pos[..., None]
                cur = np.take_along_axis(gs, p, axis=-1)
                np.put_along_axis(gs, p, cur + (g[i] * wt)[..., None], axis=-1)
        gx = np.zeros(idx.shape, g.dtype)
        np.put_along_axis(gx, idx, gs, axis=-1)
        if dim is None:
            return gx.reshape(shape), None
        gx = np.moveaxis(gx, -1, dim)
        return gx.reshape(shape), None


def _quantile_shape(out, ndim, dim, keepdim, qdim):
    """(nq, *rows) -> PyTorch's layout: the q dim first (dropped for a
    scalar q), the reduced dim kept as size 1 with keepdim."""
    if keepdim:
        if dim is None:
            out = out.reshape((out.shape[0],) + (1,) * ndim)
        elif ndim:
            out = np.expand_dims(out, dim + 1)
    if qdim == 0:
        out = out[0]
    return np.array(out, order="C")


def _quantile(op, input, q, dim, keepdim, interpolation, ignore_nan):
    x = tensor(input)
    a = x._array
    if a.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if isinstance(q, TensorBase):
        qa = q._array
        if qa.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
        if qa.dtype != a.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
    elif isinstance(q, numbers.Real) and not isinstance(q, builtins.bool):
        qa = np.array(q, a.dtype)
    elif isinstance(q, (list, tuple)):
        qa = np.asarray(q, a.dtype)
        if qa.ndim != 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
    else:
        raise TypeError(f"{op}(): argument 'q' must be a float or a Tensor, not "
                        f"{type(q).__name__}")
    if qa.size and (np.isnan(qa).any() or qa.min() < 0 or qa.max() > 1):
        bad = qa.reshape(-1)[np.argmax(~((qa.reshape(-1) >= 0) & (qa.reshape(-1) <= 1)))]
        raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {bad}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if dim is not None:
        dim = normalize_dim(op, dim, a.ndim)
        if a.ndim == 0:                # a 0-d input: dim 0 is the whole tensor
            dim = None
    if a.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    return QuantileFn.apply(x, qa, dim, bool(keepdim), interpolation, ignore_nan)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The q-th quantiles of ``input`` along ``dim`` (all elements when None);
    ``q`` a float or a 1-D tensor (its values form a new leading dim)."""
    from .reduction import into
    return into(out, _quantile("quantile", input, q, dim, keepdim, interpolation, False))


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """``quantile`` ignoring NaNs (NaN only for an all-NaN row)."""
    from .reduction import into
    return into(out, _quantile("nanquantile", input, q, dim, keepdim, interpolation, True))


# ---------------------------------------------------------- searchsorted
def _index_dtype(out_int32):
    return np.int32 if out_int32 else np.int64


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Indices where the values ``input`` would be inserted into
    ``sorted_sequence`` (its last dim; the leading dims of an N-D sequence
    match ``input``'s), the first such place, or the last with
    ``right=True``/``side='right'``."""
    from .reduction import into
    values = input
    seq = tensor(sorted_sequence)._array
    scalar = not isinstance(values, (TensorBase, np.ndarray, list, tuple))
    v = np.asarray(values) if scalar else tensor(values)._array
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' "
                               f"but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to "
                               "opposites, got side of left while right was True")
        right = side == "right"
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    if seq.ndim > 1 and (scalar or v.ndim != seq.ndim or v.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension "
                           f"or the first N-1 dimensions of boundaries tensor and input "
                           f"value tensor must match, but we got boundaries tensor "
                           f"{list(seq.shape)} and input value tensor {list(v.shape)}")
    if sorter is not None:
        srt = tensor(sorter)._array
        if srt.shape != seq.shape or srt.dtype.kind not in "iu":
            raise RuntimeError("torch.searchsorted(): sorter must be an int64 tensor of the "
                               "same shape as sorted_sequence")
        if srt.size and (srt.min() < 0 or srt.max() >= seq.shape[-1]):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        seq = np.take_along_axis(seq, srt.astype(np.intp), axis=-1)
    s = "right" if right else "left"
    if seq.ndim == 1:
        res = np.searchsorted(seq, v, side=s)
    else:
        s2, v2 = seq.reshape(-1, seq.shape[-1]), v.reshape(-1, v.shape[-1])
        res = np.empty(v2.shape, np.int64)
        for i in range(s2.shape[0]):
            res[i] = np.searchsorted(s2[i], v2[i], side=s)
        res = res.reshape(v.shape)
    return into(out, _wrap(np.asarray(res, _index_dtype(out_int32))))


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each element of ``input`` for the 1-D ``boundaries``:
    i with ``boundaries[i-1] < x <= boundaries[i]`` (``<=``/``<`` swapped
    with ``right=True``)."""
    b = tensor(boundaries)._array
    if b.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim("
                           f"{b.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


# --------------------------------------------------------------- histograms
def histc(input, bins=100, min=0, max=0, *, out=None):
    """A histogram of ``bins`` equal bins over ``[min, max]`` (the data's
    range when both are 0); elements outside are ignored; no gradient."""
    from .reduction import into
    a = tensor(input)._array
    if a.dtype.kind != "f":
        raise RuntimeError(f"\"histogram_cpu\" not implemented for '{a.dtype}'")
    if isinstance(bins, builtins.bool) or not isinstance(bins, (int, np.integer)) or bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins}")
    lo, hi = a.dtype.type(min), a.dtype.type(max)
    flat = a.reshape(-1)
    if lo == hi and flat.size:
        lo, hi = flat.min(), flat.max()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc(): range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise RuntimeError("torch.histc(): max must be larger than min")
    keep = flat[(flat >= lo) & (flat <= hi)]
    pos = ((keep - lo) * a.dtype.type(bins) / (hi - lo)).astype(np.int64)
    pos = np.minimum(pos, bins - 1)
    return into(out, _wrap(np.bincount(pos, minlength=bins).astype(a.dtype)))


def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    """``(hist, bin_edges)``: a histogram with ``bins`` equal bins (over
    ``range`` or the data's range) or with the given 1-D edges tensor."""
    a = tensor(input)._array
    if a.dtype.kind != "f":
        raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the "
                           f"same dtype, but got input {a.dtype}")
    w = None if weight is None else tensor(weight)._array
    if w is not None and w.shape != a.shape:
        raise RuntimeError("torch.histogram: if weight tensor is provided it should have the "
                           "same shape as the input tensor")
    if isinstance(bins, TensorBase):
        edges = bins._array
        if edges.ndim != 1 or edges.size < 1:
            raise RuntimeError("torch.histogram(): bins tensor should have one dimension and "
                               "at least 1 element")
    else:
        if not isinstance(bins, (int, np.integer)) or bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins}")
        if range is not None:
            lo, hi = (a.dtype.type(r) for r in range)
        else:        # (an empty input without a range: PyTorch's [0, 1])
            lo, hi = (a.min(), a.max()) if a.size else (a.dtype.type(0), a.dtype.type(1))
        if lo > hi:
            raise RuntimeError("torch.histogram(): max must be larger than min")
        if lo == hi:
            lo, hi = lo - a.dtype.type(0.5), hi + a.dtype.type(0.5)   # NumPy's rule
        # the edges bit for bit as torch.linspace makes them (data that falls
        # on an edge, say values rounded to 0.1, lands in PyTorch's bin)
        from .factories import _linspace
        edges = _linspace(float(lo), float(hi), int(bins) + 1, a.dtype)
    hist, _ = np.histogram(a.reshape(-1), bins=edges.astype(np.float64),
                           weights=None if w is None else w.reshape(-1), density=density)
    return histogram_result(_wrap(hist.astype(a.dtype)), _wrap(np.array(edges, a.dtype)))


# --------------------------------------------------------- unique_consecutive
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapses runs of equal consecutive values (of the flattened input,
    or of slices along ``dim``); optionally with the inverse indices and
    the run lengths; no gradient."""
    a = tensor(input)._array
    if dim is None:
        flat = a.reshape(-1)
        change = flat[1:] != flat[:-1]
        shape_inv = a.shape
        take = lambda starts: flat[starts]          # noqa: E731
    else:
        d = normalize_dim("unique_consecutive", dim, a.ndim)
        if a.ndim == 0:
            raise IndexError("unique_consecutive: dim out of range for a 0-d tensor")
        m = np.moveaxis(a, d, 0).reshape(a.shape[d], -1)
        change = (m[1:] != m[:-1]).any(axis=1)
        shape_inv = (a.shape[d],)
        take = lambda starts: np.take(a, starts, axis=d)   # noqa: E731
    n = len(change) + 1 if (a.size if dim is None else a.shape[d]) else 0
    starts = np.flatnonzero(np.concatenate([[True], change])) if n else \
        np.zeros(0, np.int64)
    out = [_wrap(np.ascontiguousarray(take(starts)))]
    if return_inverse:
        inv = np.cumsum(np.concatenate([[0], change.astype(np.int64)])) if n else \
            np.zeros(0, np.int64)
        out.append(_wrap(inv.astype(np.int64).reshape(shape_inv)))
    if return_counts:
        out.append(_wrap(np.diff(np.append(starts, n)).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)
