"""More reductions and statistics: ``nansum``, ``nanmean``, ``aminmax``,
``mode``, ``cov``, ``corrcoef`` and ``renorm``; and the products
``addbmm`` and ``addr``.

``mode`` is an ``autograd.Function`` (the most frequent value along a dim,
the smallest on ties, and the last position holding it, as PyTorch's; all
NaNs count as one value, sorting above the numbers); its gradient goes back
to that position.  The others are compositions of the differentiable ops,
following PyTorch's formulas (``cov``'s frequency and importance weights
and its correction, ``corrcoef`` clipped to [-1, 1], ``renorm`` scaling by
``maxnorm / (norm + 1e-7)``), so their gradients, including those through
the norms and means, are PyTorch's.

Examples
--------
>>> import fastnn
>>> fastnn.nansum(fastnn.tensor([1.0, float("nan"), 2.0]))
tensor(3.)
>>> fastnn.mode(fastnn.tensor([3, 1, 3, 2, 1]))
mode(values=tensor(1), indices=tensor(4))
>>> fastnn.cov(fastnn.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
tensor([[ 1., -1.],
        [-1.,  1.]])
"""
from collections import namedtuple
import numbers
import warnings
from builtins import range as _range

import numpy as np

from .._errors import OutOfRangeError as _OutOfRange

from .._core import TensorBase
from ..autograd.function import Function
from . import _tie_order
from ._common import tensor
from ._util import normalize_dim
from .reduction import amax, amin, into

aminmax_result = namedtuple("aminmax", ["min", "max"])
mode_result = namedtuple("mode", ["values", "indices"])


# ------------------------------------------------------- nansum / nanmean
def _nan_zeroed(x):
    from .pointwise import where
    if x._array.dtype.kind != "f":
        return x
    return where(x != x, 0.0, x)


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """The sum treating NaN as zero (``torch.nansum``); integers sum in int64."""
    x = tensor(input)
    if dtype is not None:
        x = x.type(dtype)
    return into(out, _nan_zeroed(x).sum(_dim(dim), keepdim))


def _dim(dim):
    return None if isinstance(dim, (tuple, list)) and len(dim) == 0 else dim


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """The mean of the non-NaN elements (NaN where there are none)."""
    x = tensor(input)
    if dtype is not None:
        x = x.type(dtype)
    if x._array.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {_TORCH.get(str(x._array.dtype), x._array.dtype)}")
    d = _dim(dim)
    count = (x == x).sum(d, keepdim)
    return into(out, _nan_zeroed(x).sum(d, keepdim) / count.to(x._array.dtype))


_TORCH = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
          "bool": "Bool"}


# ---------------------------------------------------------------- aminmax
def aminmax(input, *, dim=None, keepdim=False, out=None):
    """``(min, max)`` over ``dim`` (all elements by default), in one call."""
    x = tensor(input)
    a = x._array
    if dim is None:
        if a.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
        dims = tuple(range(a.ndim))
    else:
        d = normalize_dim("aminmax", dim, a.ndim)
        if a.ndim and a.shape[d] == 0:
            raise _OutOfRange(f"aminmax(): Expected reduction dim {d} to have non-zero size.")
        dims = (d,) if a.ndim else ()
    if not dims:
        res = aminmax_result(x.clone(), x.clone())
    else:
        res = aminmax_result(amin(x, dims, keepdim), amax(x, dims, keepdim))
    if out is not None:
        return aminmax_result(into(out[0], res.min), into(out[1], res.max))
    return res


# ------------------------------------------------------------------- mode
class ModeFn(Function):
    """The most frequent value along dim (smallest on ties) and the position
    PyTorch's kernel reports (the run's last element in its sort order; see
    ``_mode_rows``); the gradient goes to that position."""
    raw = True

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        d = normalize_dim("mode", dim, x.ndim)
        ctx.meta = (x.shape, d, keepdim)
        if x.ndim == 0:
            ctx.save_for_backward(None)
            return x.copy(), np.zeros((), np.int64)
        n = x.shape[d]
        if n == 0:
            raise _OutOfRange(f"mode(): Expected reduction dim {d} to have non-zero size.")
        xm = np.moveaxis(x, d, -1)
        rows = xm.reshape(-1, n)
        vals, idx = _mode_rows(rows)
        shp = xm.shape[:-1]
        vals, idx = vals.reshape(shp), idx.reshape(shp)
        if keepdim:
            vals, idx = np.expand_dims(vals, d), np.expand_dims(idx, d)
        ctx.save_for_backward(idx if keepdim else np.expand_dims(idx, d))
        return vals.astype(x.dtype, copy=False), idx

    @staticmethod
    def backward(ctx, g, *unused):
        (idx,) = ctx.saved_tensors
        shape, d, keepdim = ctx.meta
        if idx is None:
            return g
        gx = np.zeros(shape, g.dtype)
        np.put_along_axis(gx, idx, g if keepdim else np.expand_dims(g, d), axis=d)
        return gx


def _mode_rows(rows):
    """(values, indices) of the mode of each row of a 2-D array."""
    m, n = rows.shape
    if n == 0:
        return np.zeros(m, rows.dtype), np.zeros(m, np.int64)
    order = np.argsort(rows, axis=1, kind="stable")      # NaN last, equal values in order
    s = np.take_along_axis(rows, order, axis=1)
    same = s[:, 1:] == s[:, :-1]
    if rows.dtype.kind == "f":
        same |= np.isnan(s[:, 1:]) & np.isnan(s[:, :-1])
    start = np.concatenate([np.ones((m, 1), bool), ~same], axis=1)
    run_id = np.cumsum(start, axis=1) - 1                   # run number of each position
    pos = np.arange(n)
    run_start = np.maximum.accumulate(np.where(start, pos, 0), axis=1)
    length = pos - run_start + 1                            # length so far within the run
    end = np.concatenate([~same, np.ones((m, 1), bool)], axis=1)
    score = np.where(end, length, 0)
    best = np.argmax(score, axis=1)                         # first longest run = smallest value
    r = np.arange(m)
    members = (run_id == run_id[r, best][:, None])
    last_idx = np.max(np.where(members, order, -1), axis=1)
    vals, idx = s[r, best], last_idx.astype(np.int64)
    # PyTorch's kernel sorts with std::sort, which reorders equal values in
    # runs longer than 16 and treats NaN as unordered: its index (and, with
    # NaN, its value) replayed for those rows
    redo = np.isnan(rows).any(axis=1) if rows.dtype.kind == "f" else np.zeros(m, bool)
    if n > 16:
        redo |= same.any(axis=1)
    redo = np.flatnonzero(redo)
    if redo.size and redo.size * n <= _tie_order.BUDGET:
        for i in redo:
            v, j = _tie_order.mode_pick(rows[i])
            vals[i], idx[i] = v, j
    return vals, idx


def mode(input, dim=-1, keepdim=False, *, out=None):
    """``(values, indices)``: the most frequent value along ``dim``."""
    res = mode_result(*ModeFn.apply(tensor(input), dim, bool(keepdim)))
    if out is not None:
        return mode_result(into(out[0], res.values), into(out[1], res.indices))
    return res


# ------------------------------------------------------------ cov / corrcoef
def _check_weights(name, w, n, integral):
    w = tensor(w)
    a = w._array
    if a.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {a.ndim} dimensions")
    if integral and a.dtype.kind not in "iu":
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} with "
                           f"{_name(a.dtype)} dtype")
    if not integral and a.dtype.kind != "f":
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got "
                           f"{name} with {_name(a.dtype)} dtype")
    if a.size != n:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {a.size} != {n}")
    if a.size and a.min() < 0:
        raise RuntimeError(f"cov(): {name} cannot be negative")
    return w.reshape(-1)


def _name(dt):
    return {"float32": "Float", "float64": "Double", **_TORCH}.get(str(dt), str(dt))


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the rows of ``input`` (variables) over its
    columns (observations); a 1-D input is one variable (a 0-d result)."""
    x = tensor(input)
    a = x._array
    if a.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {a.ndim} dimensions")
    n = a.size if a.ndim < 2 else a.shape[1]
    w = None
    if fweights is not None:
        w = _check_weights("fweights", fweights, n, True)
    aw = None
    if aweights is not None:
        aw = _check_weights("aweights", aweights, n, False)
        w = aw if w is None else w * aw
    x = x.reshape(1, -1) if a.ndim < 2 else x
    from .factories import tensor as _new
    w_sum = w.sum() if w is not None else _new(n)
    avg = (x * w if w is not None else x).sum(1) / w_sum
    if w is not None and correction != 0:
        norm = w_sum - correction * (w * aw).sum() / w_sum if aw is not None else \
            w_sum - correction
    else:
        norm = w_sum - correction
    if bool((norm <= 0)._array if isinstance(norm, TensorBase) else norm <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm = norm * 0
    xc = x - avg.unsqueeze(1)
    c = xc.matmul((xc * w if w is not None else xc).t())
    return (c / norm).squeeze()


def corrcoef(input):
    """The Pearson correlation coefficients of the rows of ``input``
    (``cov`` normalised by the standard deviations, clipped to [-1, 1])."""
    c = cov(input)
    if c._array.ndim == 0:
        return c / c
    s = c.diagonal().sqrt()
    c = c / s.reshape(-1, 1)
    c = c / s.reshape(1, -1)
    return c.clamp(-1, 1)


# ----------------------------------------------------------------- renorm
def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled
    by maxnorm / (norm + 1e-7); the others unchanged."""
    x = tensor(input)
    a = x._array
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"renorm(): argument 'p' must be a number, not {type(p).__name__}")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if a.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {a.ndim} "
                           "dimensions")
    d = normalize_dim("renorm", dim, a.ndim)
    from .reduction import norm
    from .pointwise import where
    n = norm(x, p, tuple(k for k in range(a.ndim) if k != d), True)
    factor = where(n > maxnorm, maxnorm / (n + 1e-7), 1.0)
    return into(out, x * factor)


# ------------------------------------------------------------------ products
def _check_alpha(op, dt, alpha, beta):
    if dt.kind in "iub":
        for name, v in (("alpha", alpha), ("beta", beta)):
            if isinstance(v, float) or isinstance(v, np.floating):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be a "
                                   "floating point number.")


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2) (bool: or / and)."""
    x, a, b = tensor(input), tensor(vec1), tensor(vec2)
    for name, v in (("vec1", a), ("vec2", b)):
        if v._array.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got "
                               f"{v._array.ndim}-D")
    prod = a.reshape(-1, 1) * b.reshape(1, -1)
    shape = prod._array.shape
    try:
        np.broadcast_to(np.empty(x._array.shape, bool), shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({shape[-1]}) must match the "
                           f"existing size ({x._array.shape[-1]}) at non-singleton dimension "
                           f"{len(shape) - 1}.  Target sizes: {list(shape)}.  Tensor sizes: "
                           f"{list(x._array.shape)}") from None
    from ._common import result_type
    dt = result_type(x, a, b)
    _check_alpha("addr", dt, alpha, beta)
    if dt.kind == "b":
        from .pointwise import logical_and, logical_or
        p = logical_and(prod, bool(alpha))
        return into(out, logical_or(p, logical_and(x, bool(beta))).expand(*shape).clone())
    res = prod if alpha == 1 else prod * alpha
    if beta != 0:
        res = res + (x if beta == 1 else x * beta)
    elif tuple(res._array.shape) != shape:
        res = res.expand(*shape)
    return into(out, res)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b] (one GEMM)."""
    x, b1, b2 = tensor(input), tensor(batch1), tensor(batch2)
    for name, v in (("batch1", b1), ("batch2", b2)):
        if v._array.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    (nb, n, m), (nb2, m2, p) = b1._array.shape, b2._array.shape
    if nb != nb2:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {nb} and "
                           f"{nb2}")
    if m != m2:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({n}x{m} and {m2}x{p})")
    if b1._array.dtype != b2._array.dtype or x._array.dtype != b1._array.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{_name(x._array.dtype)} and {_name(b1._array.dtype)}")
    try:
        np.broadcast_to(np.empty(x._array.shape, bool), (n, p))
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({p}) must match the existing "
                           f"size ({x._array.shape[-1]}) at non-singleton dimension 1.  Target "
                           f"sizes: [{n}, {p}].  Tensor sizes: {list(x._array.shape)}") from None
    _check_alpha("addbmm", x._array.dtype, alpha, beta)
    lhs = b1.permute(1, 0, 2).reshape(n, nb * m)
    prod = lhs.matmul(b2.reshape(nb * m, p))
    res = prod if alpha == 1 else prod * alpha
    if beta != 0:
        res = res + (x if beta == 1 else x * beta)
    return into(out, res)


# ----------------------------------------------- distances, histograms, norms
def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcast) as a 0-d tensor."""
    from .reduction import norm
    x = tensor(input)
    return norm(x - tensor(other), p)


histogramdd_result = namedtuple("histogramdd", ["hist", "bin_edges"])


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """The D-dimensional histogram of the points in the last dim of
    ``input`` (``bins``: an int, one int per dim, or one edge tensor per
    dim; ``range``: [min0, max0, min1, max1, ...]); no gradient."""
    from .._core import wrap
    x = tensor(input)._array
    if x.dtype.kind != "f":
        raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have the "
                           f"same dtype, but got input {_name(x.dtype)}")
    if x.ndim < 1:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 1 dimension")
    d = x.shape[-1]
    pts = x.reshape(-1, d)
    if isinstance(bins, TensorBase) or isinstance(bins, numbers.Integral):
        bins = [bins] * d if isinstance(bins, numbers.Integral) else [bins]
    bins = [b._array if isinstance(b, TensorBase) else int(b) for b in bins]
    if len(bins) != d:
        raise RuntimeError(f"torch.histogramdd: expected {d} sequences of bin edges for each of "
                           f"the {d} dimensions of input but got {len(bins)}")
    rng = None
    if range is not None:
        r = [float(v) for v in range]
        if len(r) != 2 * d:
            raise RuntimeError(f"torch.histogramdd: for a {d}-dimensional histogram range "
                               f"should have {2 * d} elements, but got {len(r)}")
        rng = [(r[2 * k], r[2 * k + 1]) for k in _range(d)]
    w = None if weight is None else tensor(weight)._array.reshape(-1)
    hist, edges = np.histogramdd(pts, bins=bins, range=rng, weights=w, density=density)
    return histogramdd_result(wrap(hist.astype(x.dtype)),
                              tuple(wrap(np.asarray(e, x.dtype)) for e in edges))


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim except ``dim`` (kept with
    size 1 elsewhere); ``dim=-1``: the norm of all elements."""
    from .reduction import norm
    x = tensor(v)
    if dim == -1:
        return norm(x, pow)
    d = normalize_dim("norm_except_dim", dim, x._array.ndim)
    return norm(x, pow, tuple(k for k in _range(x._array.ndim) if k != d), True)


def embedding_renorm_(input, indices, max_norm, norm_type):
    """In place, without gradient: the rows of ``input`` at ``indices``
    whose ``norm_type``-norm exceeds ``max_norm`` scaled down to it."""
    w = tensor(input)
    a = w._array
    rows = np.unique(tensor(indices)._array.reshape(-1))
    sub = a[rows]
    n = np.linalg.norm(sub.reshape(len(rows), -1), ord=norm_type, axis=1) if rows.size else \
        np.zeros(0)
    scale = np.where(n > max_norm, max_norm / (n + 1e-7), 1.0).astype(a.dtype)
    a[rows] = sub * scale.reshape((-1,) + (1,) * (a.ndim - 1))
    w._bump()
    return w
