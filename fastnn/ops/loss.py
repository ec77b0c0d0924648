"""Classification losses as autograd Functions.

* ``cross_entropy``: fused log-softmax + NLL in C.  The plain case (class
  indices, no weight, no label smoothing, no ignored target) is
  ``csrc/loss.c``'s kernel; class weights, ``ignore_index``, label smoothing
  and probability targets run ``csrc/xent.c``'s (one pass per row forward,
  one backward, the same stable ``(m - x) + log-sum-exp`` form).
* ``binary_cross_entropy_with_logits``: C kernel of the stable form
  ``max(x, 0) - x*y + log1p(exp(-|x|))``; gradient ``sigmoid(x) - y``
  (with ``weight``/``pos_weight``: the NumPy form of ``loss_pointwise``).
* ``nll_loss`` is a gather (NumPy-level), with weights and ``ignore_index``.
* The element-wise losses (``mse_loss``, ``l1_loss``, ``binary_cross_entropy``
  ...) are in ``loss_pointwise``; the margin and embedding losses in
  ``loss_margin``.

Reductions: ``'mean'`` (default), ``'sum'``, ``'none'``; sums are accumulated
in float64.  With class weights the 'mean' divides by the sum of the
weights of the non-ignored targets (all ignored: 0/0, NaN, as PyTorch).
"""
import numpy as np

from .. import _core
from .._errors import DTypeError, ShapeError
from ..autograd.function import Function
from ._reduction import (as_float, check_input, check_reduction, grad_scale,
                         reduce as _reduce, reduction_arg)
from ._util import c_contig, nthreads, rows
from .activation import _t
from .loss_margin import (cosine_embedding_loss, margin_ranking_loss,  # noqa: F401
                          multi_margin_loss, multilabel_soft_margin_loss, gaussian_nll_loss,
                          triplet_margin_loss)
from .loss_pointwise import (binary_cross_entropy, binary_cross_entropy_with_logits_weighted,
                             hinge_embedding_loss, huber_loss, kl_div, l1_loss,  # noqa: F401
                             mse_loss, poisson_nll_loss, smooth_l1_loss, soft_margin_loss)


def _check_reduction(op, reduction):
    check_reduction(op, reduction)


def _class_layout(op, x, target, check_range=True, prob=False):
    """Checks (x, target) of a classification loss and returns
    (x as (M, C) contiguous, target as (M,) int64 -- or (M, C) probabilities
    with prob --, the per-sample loss shape)."""
    check_input(op, x)
    if not isinstance(target, np.ndarray):
        target = np.asarray(target)
    if x.ndim == 0:
        raise ShapeError(f"{op}: input must have at least 1 dimension (C,) or (N, C, ...), "
                         "got a 0-d array")
    if prob:
        y2 = _rows(np.asarray(target, dtype=x.dtype))
        return c_contig(_rows(x)), np.ascontiguousarray(y2), _sample_shape(x)
    if target.dtype.kind not in "iu":
        raise DTypeError(f"{op}: expected target dtype to be int64 class indices (or "
                         f"probabilities of the input's shape {tuple(x.shape)}), got dtype "
                         f"{target.dtype} and shape {tuple(target.shape)}")
    exp_t = _sample_shape(x)
    if x.ndim == 1:
        if target.ndim != 0:
            raise ShapeError(f"{op}: for 1-D input of shape {x.shape} the target must be 0-d, "
                             f"got shape {target.shape}")
    elif target.shape != exp_t:
        if target.ndim >= 1 and target.shape[:1] != x.shape[:1]:
            raise ShapeError(f"{op}: Expected input batch_size ({x.shape[0]}) to match "
                             f"target batch_size ({target.shape[0]})")
        raise ShapeError(f"{op}: target shape {target.shape} does not match input shape "
                         f"{x.shape} (expected target shape {exp_t})")
    t = np.ascontiguousarray(target.reshape(-1), dtype=np.int64)
    if check_range:
        _check_labels(op, t, x.shape[1] if x.ndim > 1 else x.shape[0])
    return c_contig(_rows(x)), t, exp_t


def _sample_shape(x):
    return () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]


def _rows(x):
    """(N, C, d1, ...) -> (N * d1 * ..., C); (C,) -> (1, C)."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    return x if x.ndim == 2 else rows(np.moveaxis(x, 1, -1))


def _check_labels(op, t, C, ignore_index=None):
    """IndexError naming the first label outside [0, C) (ignore_index allowed)."""
    bad = (t < 0) | (t >= C)
    if ignore_index is not None:
        bad &= t != ignore_index
    bad = t[bad]
    if bad.size:
        raise IndexError(f"{op}: Target {int(bad[0])} is out of bounds: target {int(bad[0])} "
                         f"is out of bounds for {C} classes (valid labels are 0..{C - 1})")


def _restore_layout(g2, x_shape):
    """(M, C) gradient back to the input's layout (class axis 1)."""
    if len(x_shape) <= 2:
        return g2.reshape(x_shape)
    shp = (x_shape[0],) + tuple(x_shape[2:]) + (x_shape[1],)
    return np.moveaxis(g2.reshape(shp), -1, 1)


def _class_weight(op, weight, C, dtype):
    """The class weights as a contiguous (C,) array of dtype, or None."""
    if weight is None:
        return None
    w = as_float(op, "weight", weight, dtype)
    if w.shape != (C,):
        raise ShapeError(f"{op}: weight tensor should be defined either for all {C} classes or "
                         f"no classes but got weight tensor of shape: {list(w.shape)}")
    return np.ascontiguousarray(w)


class CrossEntropyFn(Function):
    """Fused log-softmax + NLL with class-index targets (csrc/loss.c for the
    plain case, csrc/xent.c with weights, ignore_index or label smoothing)."""
    raw = True

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, label_smoothing, reduction):
        op = "cross_entropy"
        x2, t, tshape = _class_layout(op, x, target, check_range=False)
        M, C = x2.shape
        w = _class_weight(op, weight, C, x2.dtype)
        general = w is not None or label_smoothing != 0.0 or (
            0 <= ignore_index < C and bool((t == ignore_index).any()))
        loss = np.empty(M, dtype=x2.dtype)
        stats = np.empty((M, 2), dtype=x2.dtype)
        denom = M
        if not general:
            try:
                _core.cross_entropy_fwd(x2, t, loss, stats, nthreads())
            except IndexError:
                _check_labels(op, t, C, ignore_index)
                general = True       # only ignored targets were out of range
        if general:
            wt = np.empty(M, dtype=x2.dtype)
            try:
                _core.xent_index_fwd(x2, t, w, loss, wt, stats, ignore_index, label_smoothing,
                                     nthreads())
            except IndexError:
                _check_labels(op, t, C, ignore_index)
                raise
            denom = float(wt.sum(dtype=np.float64))
        ctx.save_for_backward(x2, t, stats, w)
        ctx.info = (x.shape, reduction, denom, general, ignore_index, label_smoothing)
        return _reduce(loss.reshape(tshape), reduction, x.dtype, denom)

    @staticmethod
    def backward(ctx, g):
        x2, t, stats, w = ctx.saved_tensors
        shape, reduction, denom, general, ig, ls = ctx.info
        gv, scale = grad_scale(g, reduction, denom)
        if gv is not None:
            gv = np.ascontiguousarray(gv.reshape(-1), dtype=x2.dtype)
        gx = np.empty_like(x2)
        if general:
            _core.xent_index_bwd(x2, t, w, stats, gv, scale, gx, ig, ls, nthreads())
        else:
            _core.cross_entropy_bwd(x2, t, stats, gv, scale, gx, nthreads())
        return _restore_layout(gx, shape), None, None, None, None, None


class CrossEntropyProbFn(Function):
    """Cross-entropy with probability targets (csrc/xent.c):
    ``-sum_c w_c y'_c log softmax(x)_c``, ``y' = (1 - e) y + e / C``."""
    raw = True

    @staticmethod
    def forward(ctx, x, y, weight, label_smoothing, reduction):
        op = "cross_entropy"
        x2, y2, tshape = _class_layout(op, x, y, prob=True)
        M, C = x2.shape
        w = _class_weight(op, weight, C, x2.dtype)
        loss = np.empty(M, dtype=x2.dtype)
        stats = np.empty((M, 2), dtype=x2.dtype)
        _core.xent_prob_fwd(x2, y2, w, loss, stats, label_smoothing, nthreads())
        ctx.save_for_backward(x2, y2, stats, w)
        ctx.info = (x.shape, reduction, M, label_smoothing)
        return _reduce(loss.reshape(tshape), reduction, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x2, y2, stats, w = ctx.saved_tensors
        shape, reduction, M, ls = ctx.info
        gv, scale = grad_scale(g, reduction, M)
        if gv is not None:
            gv = np.ascontiguousarray(gv.reshape(-1), dtype=x2.dtype)
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = _restore_layout(_core.xent_prob_bwd(x2, y2, w, stats, gv, scale,
                                                     np.empty_like(x2), ls, nthreads()), shape)
        if ctx.needs_input_grad[1]:
            # d/dy_c = -(1 - e) w_c log p_c, log p_c = (x_c - m) - ls
            logp = (x2 - stats[:, :1]) - stats[:, 1:]
            gs = (gv[:, None] * scale) if gv is not None else scale
            gy = -(1 - ls) * logp * gs
            if w is not None:
                gy = gy * w
            gy = _restore_layout(gy.astype(x2.dtype, copy=False), shape)
        return gx, gy, None, None, None


class NllLossFn(Function):
    """loss_i = -w[t_i] logp[i, t_i], 0 where t_i == ignore_index (a gather;
    NumPy-level).  'mean' divides by the sum of the gathered weights."""
    raw = True

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        op = "nll_loss"
        x2, t, tshape = _class_layout(op, logp, target, check_range=False)
        M, C = x2.shape
        _check_labels(op, t, C, ignore_index)
        w = _class_weight(op, weight, C, x2.dtype)
        keep = t != ignore_index
        tt = np.where(keep, t, 0)
        wt = keep.astype(x2.dtype) if w is None else np.where(keep, w[tt], 0).astype(x2.dtype)
        loss = -x2[np.arange(M), tt] * wt
        denom = float(wt.sum(dtype=np.float64))
        ctx.save_for_backward(tt, wt, keep)
        ctx.info = (logp.shape, x2.shape, reduction, denom, logp.dtype)
        return _reduce(loss.reshape(tshape), reduction, logp.dtype, denom)

    @staticmethod
    def backward(ctx, g):
        tt, wt, keep = ctx.saved_tensors
        shape, shape2, reduction, denom, dt = ctx.info
        gv, scale = grad_scale(g, reduction, denom)
        gx = np.zeros(shape2, dtype=dt)
        with np.errstate(invalid="ignore"):
            coef = -(gv.reshape(-1) if gv is not None else 1.0) * scale * wt
        gx[np.arange(tt.size), tt] = np.where(keep, coef, 0)   # ignored rows: 0, never NaN
        return _restore_layout(gx, shape), None, None, None, None


class BceWithLogitsFn(Function):
    """Stable BCE on logits in C (csrc/loss.c)."""
    raw = True

    @staticmethod
    def forward(ctx, x, y, reduction):
        op = "binary_cross_entropy_with_logits"
        check_input(op, x)
        y = np.asarray(y)
        if x.shape != y.shape:
            raise ShapeError(f"{op}: Target size {tuple(y.shape)} must be the same as input "
                             f"size {tuple(x.shape)}")
        x = c_contig(x)
        y = np.ascontiguousarray(y, dtype=x.dtype)
        loss = _core.bce_logits_fwd(x, y, np.empty_like(x), nthreads())
        ctx.save_for_backward(x, y)
        ctx.reduction = reduction
        return _reduce(loss, reduction, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gv, scale = grad_scale(g, ctx.reduction, x.size)
        if gv is not None:
            gv = np.asarray(gv, dtype=x.dtype, order="C")   # (ascontiguousarray makes 0-d 1-d)
        nx, ny = ctx.needs_input_grad[:2]
        gx = _core.bce_logits_bwd(x, y, gv, scale, np.empty_like(x), nthreads()) if nx else None
        gy = None
        if ny:
            gy = (-x * (gv * scale if gv is not None else scale)).astype(x.dtype, copy=False)
        return gx, gy, None


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits and class targets (log-softmax followed
    by negative log-likelihood, fused in C).

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64)
        Unnormalised logits.
    target : Tensor or ndarray
        int64 class indices in ``[0, C)`` (or ``ignore_index``), or class
        probabilities of the input's shape (float).
    weight : Tensor of shape (C,), optional
        Per-class weights; the 'mean' divides by the summed weights of the
        targets (probability targets: by the sample count).
    ignore_index : int
        Targets with this value contribute nothing (class indices only).
    reduction : {'mean', 'sum', 'none'}
    label_smoothing : float in [0, 1]
        Mixes the target with the uniform distribution.
    size_average, reduce : deprecated
        PyTorch's legacy flags, mapped to ``reduction``.

    Shape
    -----
    input (N, C) or (N, C, d1, ...) or (C,); target (N,) or (N, d1, ...) or ()
    (or the input's shape for probabilities); output a scalar, or the
    per-sample shape with ``reduction='none'``.

    Raises
    ------
    IndexError
        A target outside ``[0, C)`` that is not ``ignore_index``.
    ShapeError
        The target's batch size or shape does not match the input's, or the
        weight is not (C,).

    Examples
    --------
    >>> import numpy as np, fastnn, fastnn.nn.functional as F
    >>> F.cross_entropy(fastnn.zeros(2, 4), np.array([0, 3])).item()  # log(4)
    1.3862943649291992
    """
    reduction = reduction_arg("cross_entropy", size_average, reduce, reduction)
    ls = float(label_smoothing)
    if not 0.0 <= ls <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: "
                         f"{label_smoothing}")
    x, t = _t(input), _t(target)
    if t.dtype.kind == "f" and t.shape == x.shape:
        if ignore_index != -100:
            raise ValueError("cross_entropy: ignore_index is not supported for floating point "
                             "target")
        return CrossEntropyProbFn.apply(x, t, _t(weight), ls, reduction)
    return CrossEntropyFn.apply(x, t, _t(weight), int(ignore_index), ls, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of log-probabilities: ``-weight[t] * input[i, t]``.

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64), log-probabilities
    target : int64 class indices in ``[0, C)`` or ``ignore_index``
    weight : Tensor of shape (C,), optional
        The 'mean' divides by the summed weights of the non-ignored targets.
    ignore_index : int
    reduction : {'mean', 'sum', 'none'}

    Shape
    -----
    As ``cross_entropy``.

    Examples
    --------
    >>> import numpy as np, fastnn, fastnn.nn.functional as F
    >>> F.nll_loss(fastnn.tensor([[-1.0, -2.0]]), np.array([1])).item()
    2.0
    """
    reduction = reduction_arg("nll_loss", size_average, reduce, reduction)
    return NllLossFn.apply(_t(input), _t(target), _t(weight), int(ignore_index), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross-entropy on logits, computed stably as
    ``max(x, 0) - x*y + log1p(exp(-|x|))``.

    Parameters
    ----------
    weight : Tensor, optional
        Rescales each element (broadcast to the input's shape).
    pos_weight : Tensor, optional
        Weight of the positive term, per class (broadcast along the last
        dimension): ``-(p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))``.

    Shape
    -----
    input and target of the same shape; a scalar, or that shape with
    ``reduction='none'``.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> round(F.binary_cross_entropy_with_logits(fastnn.tensor([0.0]),
    ...                                          fastnn.tensor([1.0])).item(), 4)
    0.6931
    """
    reduction = reduction_arg("binary_cross_entropy_with_logits", size_average, reduce,
                              reduction)
    if weight is not None or pos_weight is not None:
        return binary_cross_entropy_with_logits_weighted(input, target, weight, reduction,
                                                         pos_weight)
    return BceWithLogitsFn.apply(_t(input), _t(target), reduction)
