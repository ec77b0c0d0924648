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

__all__ = ["pairwise_distance", "cosine_similarity", "normalize", "vector_norm",
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
