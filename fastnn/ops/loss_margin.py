"""Margin, embedding and likelihood losses with several inputs (one
autograd Function each, NumPy-level: per-sample reductions over small
rows, memory-bound).

* margin_ranking: ``max(0, -y (x1 - x2) + margin)``
* cosine_embedding: ``1 - cos(x1, x2)`` where y = 1, ``max(0, cos - margin)``
  where y = -1; ``cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))``
* triplet_margin: ``max(0, margin + d(a, p) - d(a, n))``, d the p-norm
  pairwise distance (with swap: ``d(a, n)`` replaced by ``min(d(a, n), d(p, n))``)
* multi_margin (the multi-class SVM loss): per sample
  ``sum_{j != y} w_y max(0, margin - x_y + x_j)^p / C``, p in {1, 2}
* triplet_margin_with_distance: ``max(0, margin + d(a, p) - d(a, n))`` for
  any distance function (default ``pairwise_distance``), a composition of
  differentiable ops
* multilabel_margin: per sample ``sum_{j listed} sum_{i not listed}
  max(0, 1 - (x_j - x_i)) / C``, the list the target row up to its first -1
  (a repeated index counts each time, as PyTorch's kernel)
* multilabel_soft_margin: ``-mean_c w_c (y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c))``
* gaussian_nll: ``0.5 (log v + (x - t)^2 / v)`` (+ ``0.5 log 2 pi`` if full),
  v = var clamped at eps with no effect on its gradient, as PyTorch.

A hinge ``max(0, z)`` passes the gradient where ``z >= 0`` (PyTorch's
clamp_min), multi_margin where ``z > 0`` (its own kernel's rule).
"""
import math

import numpy as np

from .._errors import ShapeError
from ..autograd.function import Function
from ._reduction import (as_float, broadcast_all, check_input, reduce, reduction_arg,
                         upstream)
from ._util import unbroadcast
from .activation import _t
from .distance import _check_p, vector_norm, vector_norm_grad

__all__ = ["margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "multi_margin_loss", "multilabel_soft_margin_loss", "gaussian_nll_loss",
           "multilabel_margin_loss", "triplet_margin_with_distance_loss"]


def _softplus(z):
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _n(shape):
    return int(np.prod(shape)) if len(shape) else 1


class MarginRankingFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, x1, x2, y, margin, reduction):
        op = "margin_ranking_loss"
        check_input(op, x1, "input1")
        if not (x1.ndim == np.ndim(x2) == np.ndim(y)):
            raise ShapeError(f"{op}: All input tensors should have same dimension but got "
                             f"sizes: input1: {tuple(x1.shape)}, input2: {tuple(np.shape(x2))}, "
                             f"target: {tuple(np.shape(y))}")
        x2 = as_float(op, "input2", x2, x1.dtype)
        y = as_float(op, "target", y, x1.dtype)
        shape = broadcast_all(op, ("input1", x1), ("input2", x2), ("target", y))
        d = x1 - x2
        z = -y * d + x1.dtype.type(margin)
        ctx.save_for_backward(d, y, z >= 0)
        ctx.info = (x1.shape, x2.shape, reduction, _n(shape), shape)
        return reduce(np.maximum(z, 0), reduction, x1.dtype)

    @staticmethod
    def backward(ctx, g):
        d, y, m = ctx.saved_tensors
        s1, s2, reduction, n, shape = ctx.info
        gz = upstream(g, reduction, n, shape, d.dtype) * m
        need = ctx.needs_input_grad
        gx1 = unbroadcast(np.broadcast_to(-y * gz, shape), s1) if need[0] else None
        gx2 = unbroadcast(np.broadcast_to(y * gz, shape), s2) if need[1] else None
        gy = unbroadcast(np.broadcast_to(-d * gz, shape), y.shape) if need[2] else None
        return gx1, gx2, gy, None, None


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """Ranking hinge ``max(0, -target * (input1 - input2) + margin)``, target in {1, -1}.

    Shape
    -----
    input1, input2, target of the same rank (broadcastable), usually (N,).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.margin_ranking_loss(fastnn.tensor([1.0]), fastnn.tensor([2.0]),
    ...                       fastnn.tensor([1.0])).item()
    1.0
    """
    reduction = reduction_arg("margin_ranking_loss", size_average, reduce, reduction)
    return MarginRankingFn.apply(_t(input1), _t(input2), _t(target), float(margin), reduction)


class CosineEmbeddingFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, x1, x2, y, margin, reduction):
        op = "cosine_embedding_loss"
        check_input(op, x1, "input1")
        x2 = as_float(op, "input2", x2, x1.dtype)
        y = np.asarray(y)
        if y.ndim not in (0, 1):
            raise ShapeError(f"{op}: 0D or 1D target tensor expected, multi-target not "
                             "supported")
        want = 2 if y.ndim == 1 else 1
        if x1.ndim != want or x2.ndim != want:
            raise ShapeError(f"{op}: {y.ndim}D target tensor expects {want}D input tensors, but "
                             f"found inputs with sizes {tuple(x1.shape)} and "
                             f"{tuple(x2.shape)}")
        if x1.shape != x2.shape or (y.ndim and y.shape[0] != x1.shape[0]):
            raise ShapeError(f"{op}: input1 {tuple(x1.shape)}, input2 {tuple(x2.shape)} and "
                             f"target {tuple(y.shape)} do not match")
        ax = y.ndim
        prod = np.sum(x1 * x2, axis=ax)
        m1 = np.sum(x1 * x1, axis=ax) + x1.dtype.type(1e-12)
        m2 = np.sum(x2 * x2, axis=ax) + x1.dtype.type(1e-12)
        den = np.sqrt(m1 * m2)
        cos = prod / den
        pos, neg = y == 1, y == -1
        z = cos - x1.dtype.type(margin)
        l = np.where(pos, 1 - cos, 0) + np.where(neg, np.maximum(z, 0), 0)
        dcos = np.where(pos, -1, 0) + np.where(neg & (z >= 0), 1, 0)
        ctx.save_for_backward(x1, x2, cos, m1, m2, den)
        ctx.info = (reduction, l.size, l.shape, dcos.astype(x1.dtype), ax)
        return reduce(l.astype(x1.dtype, copy=False), reduction, x1.dtype)

    @staticmethod
    def backward(ctx, g):
        x1, x2, cos, m1, m2, den = ctx.saved_tensors
        reduction, n, shape, dcos, ax = ctx.info
        gc = (upstream(g, reduction, n, shape, x1.dtype) * dcos)
        gc, cos, m1, m2, den = (np.expand_dims(a, ax) for a in
                                (np.broadcast_to(gc, shape), cos, m1, m2, den))
        n1, n2 = ctx.needs_input_grad[:2]
        g1 = (gc * (x2 / den - cos * x1 / m1)).astype(x1.dtype) if n1 else None
        g2 = (gc * (x1 / den - cos * x2 / m2)).astype(x1.dtype) if n2 else None
        return g1, g2, None, None, None


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos(x1, x2)`` for target 1, ``max(0, cos(x1, x2) - margin)`` for -1.

    Shape
    -----
    input1, input2 (N, D) with target (N,), or (D,) with a 0-d target.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.cosine_embedding_loss(fastnn.tensor([[1.0, 0.0]]), fastnn.tensor([[0.0, 1.0]]),
    ...                         fastnn.tensor([1.0])).item()
    1.0
    """
    reduction = reduction_arg("cosine_embedding_loss", size_average, reduce, reduction)
    return CosineEmbeddingFn.apply(_t(input1), _t(input2), _t(target), float(margin), reduction)


class TripletMarginFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, p, n, margin, pn, eps, swap, reduction):
        op = "triplet_margin_loss"
        check_input(op, a, "anchor")
        if not (a.ndim == np.ndim(p) == np.ndim(n)):
            raise ShapeError(f"{op}: The anchor, positive, and negative tensors are expected to "
                             f"have the same number of dimensions, but got: anchor {a.ndim}D, "
                             f"positive {np.ndim(p)}D, and negative {np.ndim(n)}D inputs")
        p, n = as_float(op, "positive", p, a.dtype), as_float(op, "negative", n, a.dtype)
        broadcast_all(op, ("anchor", a), ("positive", p), ("negative", n))
        e = a.dtype.type(eps)
        us = [a - p + e, a - n + e] + ([p - n + e] if swap else [])
        ds = [vector_norm(u, pn, -1, True) for u in us]
        dneg = np.minimum(ds[1], ds[2]) if swap else ds[1]
        z = a.dtype.type(margin) + ds[0] - dneg
        ctx.save_for_backward(*us, *ds)
        ctx.info = (a.shape, p.shape, n.shape, pn, swap, reduction, z >= 0)
        return reduce(np.squeeze(np.maximum(z, 0), -1), reduction, a.dtype)

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        sa, sp, sn, pn, swap, reduction, mask = ctx.info
        k = len(saved) // 2
        us, ds = saved[:k], saved[k:]
        shape = mask.shape[:-1]
        gz = np.expand_dims(np.broadcast_to(upstream(g, reduction, _n(shape), shape,
                                                     us[0].dtype), shape), -1) * mask
        gneg = [-gz, None]
        if swap:      # minimum: the smaller distance takes the gradient, ties share it
            d1, d2 = ds[1], ds[2]
            gneg = [-gz * np.where(d1 < d2, 1, np.where(d1 == d2, 0.5, 0)),
                    -gz * np.where(d2 < d1, 1, np.where(d1 == d2, 0.5, 0))]
        gu = [vector_norm_grad(us[0], ds[0], gz, pn, -1),
              vector_norm_grad(us[1], ds[1], gneg[0], pn, -1)]
        if swap:
            gu.append(vector_norm_grad(us[2], ds[2], gneg[1], pn, -1))
        ga, gp, gn = gu[0] + gu[1], -gu[0], -gu[1]
        if swap:
            gp, gn = gp + gu[2], gn - gu[2]
        need = ctx.needs_input_grad
        return (unbroadcast(ga, sa) if need[0] else None, unbroadcast(gp, sp) if need[1] else None,
                unbroadcast(gn, sn) if need[2] else None, None, None, None, None, None)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """Triplet loss ``max(0, margin + d(a, p) - d(a, n))`` with the p-norm
    pairwise distance ``d(x, y) = ||x - y + eps||_p`` (``swap``: the
    distance swap of Balntas et al.).

    Shape
    -----
    anchor, positive, negative (N, D) or (D,).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> a, b = fastnn.tensor([[0.0, 0.0]]), fastnn.tensor([[3.0, 4.0]])
    >>> round(F.triplet_margin_loss(a, a, b, eps=0.0).item(), 4)
    0.0
    """
    reduction = reduction_arg("triplet_margin_loss", size_average, reduce, reduction)
    if not float(margin) > 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    pn = _check_p("triplet_margin_loss", p)
    return TripletMarginFn.apply(_t(anchor), _t(positive), _t(negative), float(margin), pn,
                                 float(eps), bool(swap), reduction)


def _class_scores(op, x, target):
    """Checks a margin loss's (C,) or (N, C) scores and integer targets;
    returns the targets as an ndarray."""
    check_input(op, x)
    t = np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold int64 class indices, got {t.dtype}")
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ShapeError(f"{op}: Expected non-empty vector or matrix with optional 0-dim "
                         f"batch size, but got: {list(x.shape)}")
    return t


class MultiMarginFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, target, p, margin, weight, reduction):
        op = "multi_margin_loss"
        t = _class_scores(op, x, target)
        x2 = x.reshape(-1, x.shape[-1])
        N, C = x2.shape
        t = t.reshape(-1).astype(np.int64)
        if t.size != N:
            raise ShapeError(f"{op}: inconsistent target size: {tuple(np.shape(target))} for "
                             f"input of size: {tuple(x.shape)}")
        bad = t[(t < 0) | (t >= C)]
        if bad.size:
            raise IndexError(f"{op}: target {int(bad[0])} is out of range for {C} classes")
        w = None
        if weight is not None:
            w = as_float(op, "weight", weight, x.dtype).reshape(-1)
            if w.size != C:
                raise ShapeError(f"{op}: weight must have {C} elements, got {w.size}")
        rows = np.arange(N)
        z = x.dtype.type(margin) - x2[rows, t][:, None] + x2
        z[rows, t] = 0
        act = z > 0
        h = np.where(act, z if p == 1 else z * z, 0)
        wy = w[t][:, None] if w is not None else x.dtype.type(1)
        loss = (h * wy).sum(axis=1) / x.dtype.type(C)
        ctx.save_for_backward(z, act, t)
        ctx.info = (x.shape, p, wy, reduction, N, C)
        return reduce(loss.astype(x.dtype, copy=False).reshape(x.shape[:-1]), reduction,
                      x.dtype)

    @staticmethod
    def backward(ctx, g):
        z, act, t = ctx.saved_tensors
        shape, p, wy, reduction, N, C = ctx.info
        gi = upstream(g, reduction, N, (N,), z.dtype)
        gi = np.broadcast_to(gi, (N,))[:, None]
        d = (act if p == 1 else 2 * z * act) * wy / z.dtype.type(C) * gi
        d = d.astype(z.dtype, copy=False)
        d[np.arange(N), t] = -d.sum(axis=1)
        return d.reshape(shape), None, None, None, None, None


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge (SVM) loss: per sample
    ``sum_{j != y} w_y max(0, margin - x_y + x_j)^p / C``.

    Parameters
    ----------
    p : {1, 2}
    margin : float
    weight : Tensor (C,), optional
        Per-class weight of each sample's terms (by its target class).

    Shape
    -----
    input (N, C) or (C,); target (N,) or () int64; a scalar, or (N,) with
    ``reduction='none'``.

    Examples
    --------
    >>> import numpy as np, fastnn, fastnn.nn.functional as F
    >>> F.multi_margin_loss(fastnn.tensor([[0.1, 0.2, 0.4, 0.8]]), np.array([3])).item()
    0.32499998807907104
    """
    reduction = reduction_arg("multi_margin_loss", size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got {p!r}")
    return MultiMarginFn.apply(_t(input), _t(target), int(p), float(margin), _t(weight),
                               reduction)


class MultiLabelSoftMarginFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, y, w, reduction):
        op = "multilabel_soft_margin_loss"
        check_input(op, x)
        y = as_float(op, "target", y, x.dtype)
        if x.ndim == 0 or y.shape != x.shape:
            raise ShapeError(f"{op}: target size {tuple(y.shape)} must be the same as input "
                             f"size {tuple(x.shape)}")
        w = as_float(op, "weight", w, x.dtype)
        l = y * _softplus(-x) + (1 - y) * _softplus(x)
        if w is not None:
            l = l * w
        C = x.shape[-1]
        per = (l.sum(axis=-1) / x.dtype.type(C)).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, y, w)
        ctx.info = (reduction, per.size, per.shape, C)
        return reduce(per, reduction, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, y, w = ctx.saved_tensors
        reduction, n, shape, C = ctx.info
        gs = np.expand_dims(np.broadcast_to(upstream(g, reduction, n, shape, x.dtype), shape),
                            -1) / x.dtype.type(C)
        if w is not None:
            gs = gs * w
        gx = ((0.5 * (1 + np.tanh(0.5 * x)) - y) * gs).astype(x.dtype, copy=False)
        gy = (-x * gs).astype(x.dtype) if ctx.needs_input_grad[1] else None
        return (gx if ctx.needs_input_grad[0] else None), gy, None, None


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Multi-label one-versus-all logistic loss, averaged over the classes.

    Shape
    -----
    input and target (N, C); weight broadcastable to them; a scalar, or (N,)
    with ``reduction='none'``.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> round(F.multilabel_soft_margin_loss(fastnn.zeros(1, 2), fastnn.ones(1, 2)).item(), 4)
    0.6931
    """
    reduction = reduction_arg("multilabel_soft_margin_loss", size_average, reduce, reduction)
    return MultiLabelSoftMarginFn.apply(_t(input), _t(target), _t(weight), reduction)


class GaussianNllFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, t, var, full, eps, reduction):
        op = "gaussian_nll_loss"
        check_input(op, x)
        t = as_float(op, "target", t, x.dtype)
        v0 = as_float(op, "var", var, x.dtype)
        if bool(np.any(v0 < 0)):
            raise ValueError(f"{op}: var has negative entry/entries")
        v = v0
        if v.shape != x.shape:
            if v.shape == x.shape[:-1]:
                v = v[..., None]
            elif not (v.ndim == x.ndim and sum(b for a, b in zip(x.shape, v.shape)
                                               if a != b) == 1):
                raise ShapeError(f"{op}: var is of incorrect size {tuple(v0.shape)} for input "
                                 f"{tuple(x.shape)}")
        shape = broadcast_all(op, ("input", x), ("target", t), ("var", v))
        vc = np.maximum(v, x.dtype.type(eps))
        d = x - t
        l = 0.5 * (np.log(vc) + d * d / vc)
        if full:
            l = l + 0.5 * math.log(2 * math.pi)
        l = np.broadcast_to(l, shape).astype(x.dtype)
        ctx.save_for_backward(d, vc)
        ctx.info = (x.shape, t.shape, v.shape, v0.shape, reduction, l.size, shape)
        return reduce(l, reduction, x.dtype)

    @staticmethod
    def backward(ctx, g):
        d, vc = ctx.saved_tensors
        sx, st, sv, sv0, reduction, n, shape = ctx.info
        gl = upstream(g, reduction, n, shape, d.dtype)
        need = ctx.needs_input_grad
        gd = np.broadcast_to(d / vc * gl, shape)
        gx = unbroadcast(gd.astype(d.dtype), sx) if need[0] else None
        gt = unbroadcast((-gd).astype(d.dtype), st) if need[1] else None
        gv = None
        if need[2]:
            gvv = np.broadcast_to(0.5 * (1 / vc - d * d / (vc * vc)) * gl, shape)
            gv = unbroadcast(gvv.astype(d.dtype), sv).reshape(sv0)
        return gx, gt, gv, None, None, None


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood ``0.5 (log v + (input - target)^2 / v)``
    with ``v = max(var, eps)`` (``+ 0.5 log(2 pi)`` when ``full``).

    Shape
    -----
    input (N, *) and target broadcastable; var the input's shape, or one
    dimension of it 1, or the input's shape without the last dimension
    (homoscedastic), or a float.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.gaussian_nll_loss(fastnn.zeros(2), fastnn.ones(2), fastnn.ones(2)).item()
    0.5
    """
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"gaussian_nll_loss: {reduction} is not valid")
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        x = _t(input)
        var = np.full(x.shape, float(var), dtype=x.dtype)
    return GaussianNllFn.apply(_t(input), _t(target), _t(var), bool(full), float(eps),
                               reduction)


class MultiLabelMarginFn(Function):
    """Dense over (sample, listed slot k < K, class i), K the longest list
    in the batch: memory N * K * C."""
    raw = True

    @staticmethod
    def forward(ctx, x, target, reduction):
        op = "multilabel_margin_loss"
        t = _class_scores(op, x, target)
        if t.shape != x.shape:
            raise ShapeError(f"{op}: inconsistent target size: {list(t.shape)} for input of "
                             f"size: {list(x.shape)}")
        x2, t2 = x.reshape(-1, x.shape[-1]), t.reshape(-1, x.shape[-1]).astype(np.int64)
        N, C = x2.shape
        bad = t2[(t2 < -1) | (t2 >= C)]
        if bad.size:
            raise IndexError(f"{op}: target {int(bad[0])} is out of range for {C} classes "
                             "(expected -1 <= target < C)")
        listed = np.cumsum(t2 == -1, axis=1) == 0          # slots before the first -1
        K = int(listed.sum(axis=1).max()) if N else 0
        listed, tk = listed[:, :K], np.where(listed, t2, 0)[:, :K]
        rows = np.arange(N)[:, None]
        other = np.ones((N, C), bool)
        other[np.broadcast_to(rows, tk.shape)[listed], tk[listed]] = False
        z = x.dtype.type(1) - x2[rows, tk][:, :, None] + x2[:, None, :]
        act = (z > 0) & listed[:, :, None] & other[:, None, :]
        loss = np.where(act, z, 0).sum(axis=(1, 2)) / x.dtype.type(C)
        ctx.save_for_backward(act, tk)
        ctx.info = (x.shape, reduction, N, C, x.dtype)
        return reduce(loss.astype(x.dtype, copy=False).reshape(x.shape[:-1]), reduction,
                      x.dtype)

    @staticmethod
    def backward(ctx, g):
        act, tk = ctx.saved_tensors
        shape, reduction, N, C, dt = ctx.info
        gi = np.broadcast_to(upstream(g, reduction, N, (N,), dt), (N,))
        w = act.astype(dt)
        d = w.sum(axis=1)                                   # +1 for each active (j, i)
        rows = np.broadcast_to(np.arange(N)[:, None], tk.shape)
        np.subtract.at(d, (rows, tk), w.sum(axis=2))        # -1 for each, at class j
        d = (d * (gi / dt.type(C))[:, None]).astype(dt, copy=False)
        return d.reshape(shape), None, None


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-class multi-label hinge loss: per sample
    ``sum_{j in y} sum_{i not in y} max(0, 1 - (x_j - x_i)) / C``, y the
    target row's class indices up to its first -1.

    Shape
    -----
    input (C,) or (N, C); target int64 of the same shape; a scalar, or ()
    / (N,) with ``reduction='none'``.

    Examples
    --------
    >>> import numpy as np, fastnn, fastnn.nn.functional as F
    >>> x = fastnn.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> round(F.multilabel_margin_loss(x, np.array([[3, 0, -1, 1]])).item(), 4)
    0.85
    """
    reduction = reduction_arg("multilabel_margin_loss", size_average, reduce, reduction)
    return MultiLabelMarginFn.apply(_t(input), _t(target), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """Triplet loss ``max(0, margin + d(a, p) - d(a, n))`` for a distance
    function ``d(x, y)`` returning one non-negative distance per sample
    (default ``pairwise_distance``); ``swap``: ``d(a, n)`` replaced by
    ``min(d(a, n), d(p, n))``.  Composed of differentiable ops, so any
    differentiable ``distance_function`` gets its gradient.

    Shape
    -----
    anchor, positive, negative (N, D) or (D,) (whatever the distance takes);
    a scalar, or d's output shape with ``reduction='none'``.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> a, b = fastnn.tensor([[0.0, 0.0]]), fastnn.tensor([[3.0, 4.0]])
    >>> round(F.triplet_margin_with_distance_loss(b, a, b).item(), 4)
    6.0
    """
    from .distance import pairwise_distance
    from .pointwise import clamp, minimum
    op = "triplet_margin_with_distance_loss"
    reduction = reduction_arg(op, None, None, reduction)
    if not float(margin) > 0:
        raise ValueError(f"{op}: expected margin to be greater than 0, got {margin} instead")
    a, p, n = _t(anchor), _t(positive), _t(negative)
    if not (a.ndim == p.ndim == n.ndim):
        raise ShapeError(f"{op}: The anchor, positive, and negative tensors are expected to "
                         f"have the same number of dimensions, but got: anchor {a.ndim}D, "
                         f"positive {p.ndim}D, and negative {n.ndim}D inputs")
    d = distance_function if distance_function is not None else pairwise_distance
    dist_pos, dist_neg = d(a, p), d(a, n)
    if swap:
        dist_neg = minimum(dist_neg, d(p, n))
    loss = clamp(dist_pos - dist_neg + float(margin), min=0)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss
