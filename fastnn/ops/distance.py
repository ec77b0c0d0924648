"""Vector norms and distances: ``pairwise_distance``, ``cosine_similarity``,
``normalize`` (NumPy-level: each is a reduction over one axis and one or two
element-wise passes; memory-bound, no kernel of its own).

The p-norm of a vector u (``p = 2``: ``sqrt(sum u^2)``; ``1``: ``sum |u|``;
``inf``: ``max |u|``; ``0``: the count of non-zeros; else
``(sum |u|^p)^(1/p)``) and its gradient follow PyTorch's
``linalg.vector_norm``: ``u |u|^(p-2) / n^(p-1)``, 0 where the norm is 0;
for ``inf`` the gradient is shared evenly by the elements of largest
magnitude.
"""
import math

import numpy as np

from .._errors import ShapeError
from ..autograd.function import Function
from ._reduction import broadcast_all, check_input
from ._util import normalize_dim, unbroadcast
from .activation import _t

__all__ = ["pairwise_distance", "cosine_similarity", "normalize", "vector_norm", "cdist", "pdist",
           "vector_norm_grad"]


def vector_norm(u, p, axis, keepdim=False):
    """The p-norm of u along axis (see the module docstring)."""
    a = np.abs(u)
    if p == 2:
        n = np.sqrt(np.sum(u * u, axis=axis, keepdims=True))
    elif p == 1:
        n = np.sum(a, axis=axis, keepdims=True)
    elif p == math.inf:
        n = np.max(a, axis=axis, keepdims=True) if u.shape[axis] else \
            np.zeros(a.sum(axis=axis, keepdims=True).shape, u.dtype)
    elif p == -math.inf:
        n = np.min(a, axis=axis, keepdims=True)
    elif p == 0:
        n = np.sum(a != 0, axis=axis, keepdims=True).astype(u.dtype)
    else:
        n = np.sum(a ** p, axis=axis, keepdims=True) ** (1.0 / p)
    n = n.astype(u.dtype, copy=False)
    return n if keepdim else np.squeeze(n, axis=axis)


def vector_norm_grad(u, n, gn, p, axis):
    """d/du of the p-norm n = ||u|| (n and gn with the axis kept)."""
    if p == 0:
        return np.zeros_like(u)
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 2:
            r = u * (gn / n)
        elif p == 1:
            r = np.sign(u) * gn
        elif abs(p) == math.inf:
            m = (np.abs(u) == n) | np.isnan(u)
            r = np.sign(u) * (gn / np.sum(m, axis=axis, keepdims=True)) * m
        else:
            r = u * np.abs(u) ** (p - 2) * (gn / n ** (p - 1))
        if p != 1 and abs(p) != math.inf:
            r = np.where(n == 0, 0, r)
    return r.astype(u.dtype, copy=False)


def _pair(op, x1, x2):
    """Checks two float inputs; returns their broadcast shape."""
    check_input(op, x1, "x1")
    check_input(op, x2, "x2")
    return broadcast_all(op, ("x1", x1), ("x2", x2))


def _check_p(op, p):
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: p must be a number, got {type(p).__name__}") from None
    if p < 0 and p != -math.inf:
        raise ValueError(f"{op}: p must be >= 0 (or inf / -inf), got {p}")
    return p


class PairwiseDistanceFn(Function):
    """``||x1 - x2 + eps||_p`` along the last dimension (broadcasting)."""
    raw = True

    @staticmethod
    def forward(ctx, x1, x2, p, eps, keepdim):
        op = "pairwise_distance"
        shape = _pair(op, x1, x2)
        if len(shape) == 0:
            raise ShapeError(f"{op}: inputs must have at least 1 dimension")
        u = (np.subtract(x1, x2, dtype=x1.dtype) + x1.dtype.type(eps)).astype(x1.dtype)
        n = vector_norm(u, p, -1, keepdim=True)
        ctx.save_for_backward(u, n)
        ctx.info = (x1.shape, x2.shape, p, keepdim)
        return n if keepdim else np.squeeze(n, -1)

    @staticmethod
    def backward(ctx, g):
        u, n = ctx.saved_tensors
        s1, s2, p, keepdim = ctx.info
        gn = g if keepdim else np.expand_dims(g, -1)
        gu = vector_norm_grad(u, n, gn, p, -1)
        n1, n2 = ctx.needs_input_grad[:2]
        return (unbroadcast(gu, s1) if n1 else None, unbroadcast(-gu, s2) if n2 else None,
                None, None, None)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """p-norm distance between the rows of x1 and x2: ``||x1 - x2 + eps||_p``
    over the last dimension.

    Shape
    -----
    x1 (N, D) or (D,), x2 broadcastable to it -> (N,) (or (N, 1) with keepdim).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.pairwise_distance(fastnn.tensor([[3.0, 0.0]]), fastnn.tensor([[0.0, 4.0]]),
    ...                     eps=0.0).numpy()
    array([5.], dtype=float32)
    """
    p = _check_p("pairwise_distance", p)
    return PairwiseDistanceFn.apply(_t(x1), _t(x2), p, float(eps), bool(keepdim))


class CosineSimilarityFn(Function):
    """``sum((x1 / max(||x1||, eps)) * (x2 / max(||x2||, eps)), dim)``."""
    raw = True

    @staticmethod
    def forward(ctx, x1, x2, dim, eps):
        op = "cosine_similarity"
        shape = _pair(op, x1, x2)
        d = normalize_dim(op, dim, len(shape))
        dt = np.result_type(x1, x2)
        a = np.broadcast_to(x1, shape).astype(dt, copy=False)
        b = np.broadcast_to(x2, shape).astype(dt, copy=False)
        t1, t2 = vector_norm(a, 2, d, True), vector_norm(b, 2, d, True)
        e = dt.type(eps)
        c1, c2 = np.maximum(t1, e), np.maximum(t2, e)
        cos = np.sum((a / c1) * (b / c2), axis=d, keepdims=True)
        ctx.save_for_backward(a, b, t1, t2, c1, c2, cos)
        ctx.info = (x1.shape, x2.shape, d)
        return np.squeeze(cos, d)

    @staticmethod
    def backward(ctx, g):
        a, b, t1, t2, c1, c2, cos = ctx.saved_tensors
        s1, s2, d = ctx.info
        g = np.expand_dims(g, d)
        n1, n2 = ctx.needs_input_grad[:2]
        with np.errstate(divide="ignore", invalid="ignore"):
            r1 = np.where(t1 == 0, 0, 1 / t1)
            r2 = np.where(t2 == 0, 0, 1 / t2)
            # the clamped norms' derivative is the true norm's, as PyTorch's
            ga = g * (b / (c1 * c2) - cos * a * (r1 / c1)) if n1 else None
            gb = g * (a / (c1 * c2) - cos * b * (r2 / c2)) if n2 else None
        return (unbroadcast(ga.astype(a.dtype), s1) if n1 else None,
                unbroadcast(gb.astype(a.dtype), s2) if n2 else None, None, None)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine similarity along ``dim``: ``x1 . x2 / (max(||x1||, eps) max(||x2||, eps))``.

    Shape
    -----
    x1, x2 broadcastable; output the broadcast shape without ``dim``.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.cosine_similarity(fastnn.tensor([[1.0, 0.0]]), fastnn.tensor([[1.0, 1.0]])).numpy()
    array([0.70710677], dtype=float32)
    """
    return CosineSimilarityFn.apply(_t(x1), _t(x2), dim, float(eps))


class NormalizeFn(Function):
    """``x / max(||x||_p, eps)`` along ``dim``."""
    raw = True

    @staticmethod
    def forward(ctx, x, p, dim, eps):
        op = "normalize"
        check_input(op, x)
        d = normalize_dim(op, dim, x.ndim)
        if x.ndim == 0:
            raise ShapeError(f"{op}: input must have at least 1 dimension")
        n = vector_norm(x, p, d, True)
        c = np.maximum(n, x.dtype.type(eps))
        ctx.save_for_backward(x, n, c)
        ctx.info = (p, d, eps)
        return x / c

    @staticmethod
    def backward(ctx, g):
        x, n, c = ctx.saved_tensors
        p, d, eps = ctx.info
        gc = -np.sum(g * x, axis=d, keepdims=True) / (c * c)
        gn = np.where(n >= x.dtype.type(eps), gc, 0)           # clamp_min passes n >= eps
        gx = g / c + vector_norm_grad(x, n, gn, p, d)
        return gx.astype(x.dtype, copy=False), None, None, None


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim`` (unit vectors).

    Shape
    -----
    Any with at least one dimension; output the same.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.normalize(fastnn.tensor([[3.0, 4.0]])).numpy()
    array([[0.6, 0.8]], dtype=float32)
    """
    if out is not None:
        raise TypeError("normalize: out= is not supported; assign the result instead")
    p = _check_p("normalize", p)
    return NormalizeFn.apply(_t(input), p, dim, float(eps))


# ------------------------------------------------------------------- cdist
_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")
_CHUNK = 1 << 21          # elements of one (B, rows, R, M) difference block


def _cdist_validate(x1, x2, p, compute_mode):
    """The checked (p, batch shape, use_mm) of a ``cdist`` call."""
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{x.dtype}")
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{x.ndim}D")
    if x1.dtype != x2.dtype:
        raise RuntimeError(f"cdist: X1 and X2 must have the same dtype, got {x1.dtype} and "
                           f"{x2.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise TypeError(f"cdist: p must be a number, got {type(p).__name__}") from None
    if not p >= 0:
        raise RuntimeError("cdist only supports non-negative p values")
    try:
        batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise ShapeError(f"cdist: the batch dims of X1 {tuple(x1.shape[:-2])} and X2 "
                         f"{tuple(x2.shape[:-2])} cannot be broadcast together") from None
    P, R = x1.shape[-2], x2.shape[-2]
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or
                         (compute_mode == _CDIST_MODES[0] and (P > 25 or R > 25)))
    return p, batch, use_mm


def _row_chunks(B, P, R, M):
    step = max(1, _CHUNK // max(1, B * R * M))
    return range(0, P, step), step


def _cdist_direct(a, b, p):
    """(B, P, M) x (B, R, M) -> (B, P, R) p-norm distances, from the
    differences, a block of rows at a time."""
    B, P, M = a.shape
    R = b.shape[1]
    out = np.empty((B, P, R), a.dtype)
    starts, step = _row_chunks(B, P, R, M)
    for i in starts:
        u = a[:, i:i + step, None, :] - b[:, None, :, :]
        if p == 0:
            r = np.count_nonzero(u, axis=-1)
        elif p == 1:
            r = np.abs(u).sum(-1)
        elif p == 2:
            r = np.sqrt((u * u).sum(-1))
        elif p == math.inf:
            r = np.abs(u).max(-1) if M else np.zeros(u.shape[:-1], a.dtype)
        else:
            r = (np.abs(u) ** p).sum(-1) ** (1.0 / p)
        out[:, i:i + step] = r
    return out


def _cdist_mm(a, b):
    """Euclidean distances by ``|a|^2 + |b|^2 - 2 a.b`` (one matmul)."""
    an = (a * a).sum(-1)[:, :, None]
    bn = (b * b).sum(-1)[:, None, :]
    d2 = an + bn - 2.0 * np.matmul(a, b.transpose(0, 2, 1))
    return np.sqrt(np.maximum(d2, 0, out=d2), out=d2)


def _cdist_grads(a, b, d, g, p):
    """Gradients of sum(g * cdist(a, b)) for (B, P, M), (B, R, M); pairs at
    zero distance contribute nothing (PyTorch's rule)."""
    ga, gb = np.zeros_like(a), np.zeros_like(b)
    if p == 0:
        return ga, gb
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 2:
            w = np.where(d == 0, 0, g / d).astype(a.dtype)
            ga = a * w.sum(-1)[..., None] - np.matmul(w, b)
            gb = b * w.sum(-2)[..., None] - np.matmul(w.transpose(0, 2, 1), a)
            return ga, gb
        B, P, M = a.shape
        starts, step = _row_chunks(B, P, b.shape[1], M)
        for i in starts:
            u = a[:, i:i + step, None, :] - b[:, None, :, :]
            gg, dd = g[:, i:i + step, :, None], d[:, i:i + step, :, None]
            if p == 1:
                t = np.sign(u) * gg
            elif p == math.inf:
                t = np.sign(u) * (np.abs(u) == dd) * gg
            elif p < 2:
                t = np.sign(u) * np.abs(u) ** (p - 1) * gg / dd ** (p - 1)
                t = np.where((dd == 0) | ((u == 0) & (p < 1)), 0, t)
            else:
                t = u * np.abs(u) ** (p - 2) * gg / dd ** (p - 1)
                t = np.where(dd == 0, 0, t)
            ga[:, i:i + step] = t.sum(2)
            gb -= t.sum(1)
    return ga, gb


class CdistFn(Function):
    """``cdist``: the p-norm distance between each row of x1 and each row
    of x2, batched over (broadcast) leading dims."""
    raw = True

    @staticmethod
    def forward(ctx, x1, x2, p, compute_mode):
        p, batch, use_mm = _cdist_validate(x1, x2, p, compute_mode)
        P, R, M = x1.shape[-2], x2.shape[-2], x1.shape[-1]
        a = np.broadcast_to(x1, batch + (P, M)).reshape(-1, P, M)
        b = np.broadcast_to(x2, batch + (R, M)).reshape(-1, R, M)
        d = _cdist_mm(a, b) if use_mm else _cdist_direct(a, b, p)
        ctx.meta = (p, batch, x1.shape, x2.shape)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.save_for_backward(x1, x2, d)
        return d.reshape(batch + (P, R))

    @staticmethod
    def backward(ctx, g):
        x1, x2, d = ctx.saved_tensors
        p, batch, s1, s2 = ctx.meta
        P, R, M = s1[-2], s2[-2], s1[-1]
        a = np.broadcast_to(x1, batch + (P, M)).reshape(-1, P, M)
        b = np.broadcast_to(x2, batch + (R, M)).reshape(-1, R, M)
        ga, gb = _cdist_grads(a, b, d, g.reshape(d.shape), p)
        n1, n2 = ctx.needs_input_grad[:2]
        return (unbroadcast(ga.reshape(batch + (P, M)), s1) if n1 else None,
                unbroadcast(gb.reshape(batch + (R, M)), s2) if n2 else None, None, None)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Batched pairwise p-norm distances: x1 (..., P, M), x2 (..., R, M) ->
    (..., P, R) (``torch.cdist``; ``p = 2`` by a matrix product when either
    side has more than 25 rows, unless ``compute_mode`` says otherwise).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.cdist(fastnn.tensor([[0.0, 0.0]]), fastnn.tensor([[3.0, 4.0], [1.0, 0.0]]))
    tensor([[5., 1.]])
    """
    return CdistFn.apply(_t(x1), _t(x2), p, compute_mode)


class PdistFn(Function):
    """The upper triangle (row by row) of ``cdist(x, x)`` for x (N, M)."""
    raw = True

    @staticmethod
    def forward(ctx, x, p):
        if x.ndim != 2:
            raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
        p, _, _ = _cdist_validate(x, x, p, _CDIST_MODES[2])
        a = x[None]
        d = _cdist_direct(a, a, p)[0]
        iu = np.triu_indices(x.shape[0], 1)
        ctx.meta = (p, iu)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, d)
        return np.ascontiguousarray(d[iu])

    @staticmethod
    def backward(ctx, g):
        x, d = ctx.saved_tensors
        p, iu = ctx.meta
        G = np.zeros(d.shape, g.dtype)
        G[iu] = g
        ga, gb = _cdist_grads(x[None], x[None], d[None], G[None], p)
        return ga[0] + gb[0], None


def pdist(input, p=2):
    """``F.pdist``: the distances between every pair of rows of input (N, M),
    the upper triangle of ``cdist(input, input)`` as N (N - 1) / 2 values."""
    return PdistFn.apply(_t(input), p)
