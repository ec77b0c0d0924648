"""Element-wise losses: one autograd node each, NumPy-level (each is one or
two memory-bound passes, where a C kernel brings no measurable gain; the
stable BCE-with-logits of ``loss.py`` is the exception, in C).

``PointwiseLossFn`` is the one Function: a *rule* object gives the
per-element loss ``l(x, y)`` and its partial derivatives, and the Function
does the rest the same way for every loss — broadcasting input and target,
an optional element weight (``weight * l``), the reduction (``'mean'``
divides by the element count, by the sum of the weights where PyTorch does
so, or by the batch size for ``kl_div``'s ``'batchmean'``) and the
gradients reduced back to each argument's shape.

Formulas (d = x - y, PyTorch's definitions and gradients):

* l1: ``|d|``, d/dx ``sign(d)``;  mse: ``d^2``, ``2 d``
* smooth_l1(beta): ``0.5 d^2 / beta`` if ``|d| < beta`` else ``|d| - beta / 2``
* huber(delta): ``0.5 d^2`` if ``|d| < delta`` else ``delta (|d| - delta / 2)``
* soft_margin: ``log(1 + exp(-y x))``
* binary_cross_entropy: ``-(y log x + (1 - y) log(1 - x))``, logs clamped at -100
* bce_with_logits(pos_weight p): ``(1 - y) x + (1 + (p - 1) y) softplus(-x)``
* kl_div: ``y (log y - x)`` (``xlogy``), or ``exp(y) (y - x)`` with log_target
* poisson_nll: ``exp(x) - y x`` (log_input) or ``x - y log(x + eps)``, plus
  Stirling's ``y log y - y + log(2 pi y) / 2`` where ``y > 1`` when full
* hinge_embedding(margin): ``max(0, margin - x)`` where ``y != 1``, plus ``x``
  where ``y != -1``
"""
import math
import warnings

import numpy as np

from .._errors import ShapeError
from ..autograd.function import Function
from ._reduction import (as_float, broadcast, check_input, check_reduction,
                         legacy_reduction, reduce, reduction_arg, upstream)
from ._util import unbroadcast
from .activation import _t

__all__ = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits_weighted", "kl_div",
           "poisson_nll_loss", "hinge_embedding_loss", "PointwiseLossFn"]


def _softplus(z):
    """log(1 + exp(z)), stable."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


class _Rule:
    """A per-element loss: ``forward(x, y) -> (l, cache)`` and
    ``backward(cache, g, need_x, need_y) -> (gx, gy)`` with g the upstream
    gradient of each element (array or scalar).  ``strict``: input and
    target must have equal shapes; ``target_grad``: False when the target is
    a label (no gradient)."""
    op = "loss"
    strict = False
    target_grad = True

    def backward(self, cache, g, nx, ny):
        raise NotImplementedError


class _L1(_Rule):
    op = "l1_loss"

    def forward(self, x, y):
        d = np.subtract(x, y, dtype=x.dtype)
        return np.abs(d), d

    def backward(self, d, g, nx, ny):
        gx = np.sign(d) * g
        return gx, (-gx if ny else None)


class _Mse(_Rule):
    op = "mse_loss"

    def forward(self, x, y):
        d = np.subtract(x, y, dtype=x.dtype)
        return d * d, d

    def backward(self, d, g, nx, ny):
        gx = 2 * d * g
        return gx, (-gx if ny else None)


class _SmoothL1(_Rule):
    op = "smooth_l1_loss"

    def __init__(self, beta):
        self.beta = beta

    def forward(self, x, y):
        d = np.subtract(x, y, dtype=x.dtype)
        ad = np.abs(d)
        b = x.dtype.type(self.beta)
        if self.beta == 0:
            return ad, d
        return np.where(ad < b, x.dtype.type(0.5) * d * d / b, ad - x.dtype.type(0.5) * b), d

    def backward(self, d, g, nx, ny):
        b = d.dtype.type(self.beta)
        s = np.sign(d) if self.beta == 0 else np.where(np.abs(d) < b, d / b, np.sign(d))
        gx = s * g
        return gx, (-gx if ny else None)


class _Huber(_Rule):
    op = "huber_loss"

    def __init__(self, delta):
        self.delta = delta

    def forward(self, x, y):
        d = np.subtract(x, y, dtype=x.dtype)
        ad = np.abs(d)
        k, h = x.dtype.type(self.delta), x.dtype.type(0.5)
        return np.where(ad < k, h * d * d, k * (ad - h * k)), d

    def backward(self, d, g, nx, ny):
        k = d.dtype.type(self.delta)
        gx = np.clip(d, -k, k) * g
        return gx, (-gx if ny else None)


class _SoftMargin(_Rule):
    op = "soft_margin_loss"

    def forward(self, x, y):
        z = -y * x
        return _softplus(z).astype(x.dtype, copy=False), (x, y, _sigmoid(z))

    def backward(self, c, g, nx, ny):
        x, y, s = c
        return -y * s * g, (-x * s * g if ny else None)


class _Bce(_Rule):
    op = "binary_cross_entropy"
    strict = True

    def forward(self, p, y):
        if p.size and not bool(np.all((p >= 0) & (p <= 1))):
            raise ValueError("binary_cross_entropy: all elements of input should be between "
                             f"0 and 1 (min {np.nanmin(p) if not np.isnan(p).all() else 'nan'}, "
                             f"max {np.nanmax(p) if not np.isnan(p).all() else 'nan'}, "
                             f"NaN present: {bool(np.isnan(p).any())})")
        with np.errstate(divide="ignore"):
            lp = np.maximum(np.log(p), -100)
            l1p = np.maximum(np.log1p(-p), -100)
        return -(y * lp + (1 - y) * l1p), (p, y, lp, l1p)

    def backward(self, c, g, nx, ny):
        p, y, lp, l1p = c
        gp = g * (p - y) / np.maximum((1 - p) * p, p.dtype.type(1e-12)) if nx else None
        gy = None
        if ny:      # unclamped logs, as PyTorch's target gradient (inf at 0 and 1)
            with np.errstate(divide="ignore"):
                gy = g * (np.log1p(-p) - np.log(p))
        return gp, gy


class _BceLogits(_Rule):
    op = "binary_cross_entropy_with_logits"
    strict = True

    def __init__(self, pos_weight):
        self.pw = pos_weight

    def forward(self, x, y):
        sp = _softplus(-x)                     # -log sigmoid(x)
        if self.pw is None:
            return (1 - y) * x + sp, (x, y, sp)
        lw = 1 + (self.pw - 1) * y
        return (1 - y) * x + lw * sp, (x, y, sp)

    def backward(self, c, g, nx, ny):
        x, y, sp = c
        s = _sigmoid(x)
        if self.pw is None:
            return (s - y) * g, (-x * g if ny else None)
        lw = 1 + (self.pw - 1) * y
        gx = (lw * s - self.pw * y) * g
        return gx, ((-x + (self.pw - 1) * sp) * g if ny else None)


class _KlDiv(_Rule):
    op = "kl_div"

    def __init__(self, log_target):
        self.log_target = log_target

    def forward(self, x, y):
        # (0 * -inf is NaN, as in PyTorch, which says nothing: neither does NumPy here)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.log_target:
                e = np.exp(y)
                return e * (y - x), (x, y, e)
            xlogy = np.where(y == 0, y.dtype.type(0), y * np.log(y))
            return xlogy - y * x, (x, y, None)

    def backward(self, c, g, nx, ny):
        x, y, e = c
        if self.log_target:
            return -e * g, (e * (y - x + 1) * g if ny else None)
        gy = None
        if ny:
            with np.errstate(divide="ignore", invalid="ignore"):
                # d/dy xlogy(y, y) is 0/0 at y = 0 in PyTorch: NaN, kept
                gy = (np.where(y == 0, np.nan, np.log(y) + 1) - x) * g
        return -y * g, gy


class _PoissonNll(_Rule):
    op = "poisson_nll_loss"

    def __init__(self, log_input, full, eps):
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, x, y):
        if self.log_input:
            e = np.exp(x)
            lx = x
            l = e - y * x
        else:
            e = None
            lx = np.log(x + x.dtype.type(self.eps))
            l = x - y * lx
        if self.full:
            with np.errstate(divide="ignore", invalid="ignore"):
                st = y * np.log(y) - y + 0.5 * np.log(2 * math.pi * y)
            l = l + np.where(y > 1, st, 0).astype(l.dtype, copy=False)
        return l, (x, y, e, lx)

    def backward(self, c, g, nx, ny):
        x, y, e, lx = c
        if self.log_input:
            gx = (e - y) * g
        else:
            gx = (1 - y / (x + x.dtype.type(self.eps))) * g
        gy = None
        if ny:
            gy = -lx
            if self.full:
                with np.errstate(divide="ignore", invalid="ignore"):
                    gy = gy + np.where(y > 1, np.log(y) + 0.5 / y, 0)
            gy = gy * g
        return gx, gy


class _HingeEmbedding(_Rule):
    op = "hinge_embedding_loss"
    target_grad = False

    def __init__(self, margin):
        self.margin = margin

    def forward(self, x, y):
        z = x.dtype.type(self.margin) - x
        on_m, on_x = y != 1, y != -1
        l = np.where(on_m, np.maximum(z, 0), 0) + np.where(on_x, x, 0)
        return l.astype(x.dtype, copy=False), (z, on_m, on_x)

    def backward(self, c, g, nx, ny):
        z, on_m, on_x = c
        d = np.where(on_m & (z >= 0), -1, 0) + np.where(on_x, 1, 0)
        return (d * g).astype(z.dtype, copy=False), None


class PointwiseLossFn(Function):
    """``reduce(weight * rule(input, target))`` as one graph node; see the
    module docstring.  ``mean_by``: 'count', 'weight' (sum of the weights)
    or 'batch' (the input's first dimension)."""
    raw = True

    @staticmethod
    def _torch_name(ctx):
        """The loss's own node name ('MseLossBackward0', ...), as PyTorch's;
        where PyTorch composes the loss (l1_loss, and the weighted l1, mse
        and huber losses), the name of the last node it records."""
        top = _composed_top(ctx)
        if top is not None:
            return top
        return "".join(p.capitalize() for p in ctx.info[0].op.split("_")) + "Backward0"

    @staticmethod
    def _torch_edges(ctx, edges):
        """Where PyTorch composes the loss, the nodes it records below the
        last one (Abs/Pow over Sub, Mul by the weight, Sum, ...)."""
        if _composed_top(ctx) is None:
            return edges
        from ..autograd.graph import _cached_edges
        return _cached_edges(ctx, _composed_edges, edges)

    @staticmethod
    def forward(ctx, x, y, w, rule, reduction, mean_by="count"):
        op = rule.op
        check_input(op, x)
        if y is None:
            raise TypeError(f"{op}: target must be a Tensor, got None")
        y = as_float(op, "target", y, x.dtype)
        shape = broadcast(op, x, y, rule.strict)
        if w is not None:
            w = as_float(op, "weight", w, x.dtype)
            try:
                np.broadcast_shapes(w.shape, shape)
            except ValueError:
                raise ShapeError(f"{op}: weight of shape {tuple(w.shape)} cannot be broadcast "
                                 f"to the input's shape {tuple(shape)}") from None
        l, cache = rule.forward(x, y)
        l = np.asarray(l, dtype=x.dtype)
        lw = l * w if w is not None else l
        if mean_by == "weight" and w is not None:
            denom = float(np.broadcast_to(w, lw.shape).sum(dtype=np.float64))
        elif mean_by == "batch":
            denom = x.shape[0] if x.ndim else 1
        else:
            denom = lw.size
        out = reduce(lw, reduction, x.dtype, denom)
        # (the unweighted loss only for the weight's gradient: PyTorch's mse,
        # smooth_l1 and huber nodes save input and target, and so do these)
        ctx.save_for_backward(x, y, w, l if w is not None else None)
        ctx.has_weight = w is not None
        # a 'mean' over the weights also depends on the weights through the sum
        ctx.info = (rule, cache, reduction, denom, lw.shape,
                    out if mean_by == "weight" and reduction == "mean" else None)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y, w, l = ctx.saved_tensors
        rule, cache, reduction, denom, shape, wmean = ctx.info
        if ctx._packed is not None:
            # under saved_tensors_hooks the backward uses what unpack gave
            # for input and target, as PyTorch's: the cache is made again
            l2, cache = rule.forward(x, y)
            if l is not None:
                l = np.asarray(l2, dtype=x.dtype)
        nx, ny, nw = ctx.needs_input_grad[:3]
        gl = upstream(g, reduction, denom, shape, x.dtype)
        glw = gl * w if w is not None else gl
        gx, gy = rule.backward(cache, glw, nx, ny and rule.target_grad)
        gx = unbroadcast(np.broadcast_to(gx, shape).astype(x.dtype), x.shape) if nx else None
        if gy is not None and ny:
            gy = unbroadcast(np.broadcast_to(gy, shape).astype(x.dtype), y.shape)
        else:
            gy = None
        gw = None
        if nw and w is not None:
            gl_w = l * gl if wmean is None else (l - wmean) * gl
            gw = unbroadcast(np.broadcast_to(gl_w, shape).astype(x.dtype), w.shape)
        return gx, gy, gw, None, None, None


def _composed_top(ctx):
    """The name of PyTorch's last node where it composes this loss from
    other ops, else None (the loss is one node there too).  PyTorch 2.13:
    l1_loss is (input - target).abs() then the reduction; with a weight,
    l1 and mse multiply by it and divide the sum by the weights' sum
    ('mean'), huber multiplies its own node's result and takes the mean."""
    kind, red = type(ctx.info[0]), ctx.info[2]
    if not ctx.has_weight:
        if kind is _L1:
            return {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(red, "AbsBackward0")
        return None
    if kind is _L1 or kind is _Mse:
        return {"mean": "DivBackward0", "sum": "SumBackward0"}.get(red, "MulBackward0")
    if kind is _Huber:
        return {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(red, "MulBackward0")
    return None


def _composed_edges(ctx, edges):
    from ..autograd.graph import _shown, _through
    kind, red = type(ctx.info[0]), ctx.info[2]
    if kind is _Huber:
        core = (_shown("HuberLossBackward0", edges[:2]), 0)
    else:
        sub = (_shown("SubBackward0", edges[:2]), 0)
        core = (_shown("AbsBackward0" if kind is _L1 else "PowBackward0", (sub,)), 0)
    if not ctx.has_weight:                         # l1_loss
        return (core,) if red in ("mean", "sum") else core[0].next_functions
    if red == "none":
        return (core, edges[2])
    mul = (_shown("MulBackward0", (core, edges[2])), 0)
    if red == "sum" or kind is _Huber:
        return (mul,)
    return ((_shown("SumBackward0", (mul,)), 0), _through("SumBackward0", edges[2]))


def _apply(rule, input, target, weight, reduction, mean_by="count"):
    check_reduction(rule.op, reduction)
    return PointwiseLossFn.apply(_t(input), _t(target), _t(weight), rule, reduction, mean_by)


def _same_size_weight(op, weight, input):
    """PyTorch's mse/l1/huber weight rule: exactly the input's size."""
    if weight is not None and tuple(np.shape(weight)) != tuple(np.shape(input)):
        raise ShapeError(f"{op}: Weights and input must have the same size (weight "
                         f"{tuple(np.shape(weight))}, input {tuple(np.shape(input))})")


def _warn_size(op, input, target):
    if tuple(np.shape(input)) != tuple(np.shape(target)):
        warnings.warn(f"{op}: Using a target size ({tuple(np.shape(target))}) that is different "
                      f"to the input size ({tuple(np.shape(input))}). This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the same "
                      "size.", UserWarning, stacklevel=3)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|`` (broadcasting like PyTorch).

    With ``weight`` (the input's shape) the 'mean' is ``sum(w l) / sum(w)``.

    Shape
    -----
    input and target broadcastable; a scalar, or the broadcast shape with
    ``reduction='none'``.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.l1_loss(fastnn.tensor([1.0, -3.0]), fastnn.tensor([0.0, 0.0])).item()
    2.0
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _warn_size("l1_loss", input, target)
    _same_size_weight("l1_loss", weight, input)
    return _apply(_L1(), input, target, weight, reduction, "weight")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(input - target)^2`` (broadcasting like PyTorch).

    With ``weight`` (the input's shape) the 'mean' is ``sum(w l) / sum(w)``.

    Shape
    -----
    input and target of broadcastable shapes; a scalar, or the broadcast
    shape with ``reduction='none'``.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.mse_loss(fastnn.tensor([1.0, 3.0]), fastnn.tensor([0.0, 0.0])).item()
    5.0
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _same_size_weight("mse_loss", weight, input)
    return _apply(_Mse(), input, target, weight, reduction, "weight")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1: ``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``
    (``beta = 0`` is the L1 loss).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.smooth_l1_loss(fastnn.tensor([0.5, 3.0]), fastnn.zeros(2), reduction="sum").item()
    2.625
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not float(beta) >= 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta!r}")
    _warn_size("smooth_l1_loss", input, target)
    return _apply(_SmoothL1(float(beta)), input, target, None, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss: ``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``.

    With ``weight`` (the input's shape) each element is scaled; the 'mean'
    stays the mean over elements (PyTorch's huber rule, unlike mse/l1).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.huber_loss(fastnn.tensor([0.5, 3.0]), fastnn.zeros(2), reduction="sum").item()
    2.625
    """
    if not float(delta) > 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta!r}")
    _warn_size("huber_loss", input, target)
    _same_size_weight("huber_loss", weight, input)
    return _apply(_Huber(float(delta)), input, target, weight, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss ``log(1 + exp(-y x))`` for targets y in {1, -1}.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> round(F.soft_margin_loss(fastnn.zeros(2), fastnn.tensor([1.0, -1.0])).item(), 4)
    0.6931
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _apply(_SoftMargin(), input, target, None, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross-entropy of probabilities ``input`` in [0, 1]:
    ``-w (y log p + (1 - y) log(1 - p))`` with each log clamped to >= -100.

    Parameters
    ----------
    weight : Tensor, optional
        Rescales each element (broadcast to the input's shape); the 'mean'
        stays the mean over elements, as in PyTorch.

    Shape
    -----
    input and target of the same shape; a scalar, or that shape with
    ``reduction='none'``.

    Raises
    ------
    ValueError
        An input element outside [0, 1] (or NaN).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> round(F.binary_cross_entropy(fastnn.tensor([0.5]), fastnn.tensor([1.0])).item(), 4)
    0.6931
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _apply(_Bce(), input, target, weight, reduction)


def binary_cross_entropy_with_logits_weighted(input, target, weight, reduction, pos_weight):
    """``binary_cross_entropy_with_logits`` with element ``weight`` and/or
    ``pos_weight`` (the NumPy-level form; the plain case runs in C)."""
    return _apply(_BceLogits(None if pos_weight is None else
                             np.asarray(getattr(pos_weight, "_array", pos_weight))),
                  input, target, weight, reduction)


_KL_MEAN_WARNING = ("reduction: 'mean' divides the total loss by both the batch size and the "
                    "support size.'batchmean' divides only by the batch size, and aligns with "
                    "the KL div math definition.'mean' will be changed to behave the same as "
                    "'batchmean' in the next major release.")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence of log-probabilities ``input`` from the
    distribution ``target``: ``target (log target - input)`` per element
    (``exp(target) (target - input)`` with ``log_target``).

    ``reduction='batchmean'`` divides the sum by the batch size (the true
    KL divergence); 'mean' divides by the element count, with PyTorch's warning.

    Examples
    --------
    >>> import numpy as np, fastnn, fastnn.nn.functional as F
    >>> p = fastnn.tensor([[0.5, 0.5]])
    >>> F.kl_div(p.log(), p, reduction="batchmean").item()
    0.0
    """
    reduction = reduction_arg("kl_div", size_average, reduce, reduction, ("batchmean",))
    if reduction == "mean":
        warnings.warn(_KL_MEAN_WARNING, UserWarning, stacklevel=2)
    if reduction == "batchmean":
        return PointwiseLossFn.apply(_t(input), _t(target), None, _KlDiv(bool(log_target)),
                                     "mean", "batch")
    return _apply(_KlDiv(bool(log_target)), input, target, None, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Poisson negative log-likelihood: ``exp(input) - target * input`` with
    ``log_input`` (else ``input - target * log(input + eps)``), plus the
    Stirling term where ``target > 1`` when ``full``.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.poisson_nll_loss(fastnn.zeros(2), fastnn.ones(2)).item()
    1.0
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _apply(_PoissonNll(bool(log_input), bool(full), float(eps)), input, target, None,
                  reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """Hinge embedding loss for targets in {1, -1}: ``input`` where the target
    is 1, ``max(0, margin - input)`` where it is -1.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.hinge_embedding_loss(fastnn.tensor([0.3, 0.3]), fastnn.tensor([1.0, -1.0]),
    ...                        reduction="sum").item()
    1.0
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _apply(_HingeEmbedding(float(margin)), input, target, None, reduction)
