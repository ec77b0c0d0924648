"""Loss functions as autograd Functions.

* ``cross_entropy``: one fused log-softmax + NLL kernel in C
  (``csrc/loss.c``): the forward keeps each row's max and log-sum-exp, the backward
  writes ``(softmax - onehot) * g`` in one pass.  Stable for huge logits.
* ``binary_cross_entropy_with_logits``: C kernel of the stable form
  ``max(x, 0) - x*y + log1p(exp(-|x|))``; gradient ``sigmoid(x) - y``.
* ``nll_loss``, ``mse_loss`` and ``binary_cross_entropy`` are NumPy-level:
  each is a gather or one or two memory-bound elementwise passes where a C
  kernel brings no measurable benefit.

Reductions: ``'mean'`` (default), ``'sum'``, ``'none'``; sums are accumulated
in float64.
"""
import numpy as np

from .. import _core
from .._errors import ShapeError
from ..autograd.function import Function
from ._util import c_contig, check_float, nthreads, unbroadcast
from .activation import _t

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss, reduction, dtype):
    """Per-element losses -> the requested reduction (float64 accumulation)."""
    if reduction == "none":
        return loss
    s = float(loss.sum(dtype=np.float64))
    if reduction == "mean":
        s = s / loss.size if loss.size else float("nan")
    return np.array(s, dtype=dtype)


def _grad_scale(g, reduction, n):
    """(per-element gradient array or None, scalar scale) for a reduced loss."""
    if reduction == "none":
        return g, 1.0
    gs = float(np.asarray(g).reshape(()))
    return None, (gs / n if reduction == "mean" else gs) if n else 0.0


def _class_layout(op, x, target, check_range=True):
    """Checks (x, target) of a classification loss and returns
    (x as (M, C) contiguous, target as (M,) int64, target shape)."""
    check_float(op, "input", x)
    if not isinstance(target, np.ndarray):
        target = np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold int64 class indices, got dtype {target.dtype}")
    if x.ndim == 0:
        raise ShapeError(f"{op}: input must have at least 1 dimension (C,) or (N, C, ...), "
                         "got a 0-d array")
    if x.ndim == 1:
        if target.ndim != 0:
            raise ShapeError(f"{op}: for 1-D input of shape {x.shape} the target must be 0-d, "
                             f"got shape {target.shape}")
        exp_t = ()
        x2 = x.reshape(1, -1)
    else:
        exp_t = (x.shape[0],) + x.shape[2:]
        if target.shape != exp_t:
            if target.ndim >= 1 and target.shape[:1] != x.shape[:1]:
                raise ShapeError(f"{op}: expected input batch_size ({x.shape[0]}) to match "
                                 f"target batch_size ({target.shape[0]})")
            raise ShapeError(f"{op}: target shape {target.shape} does not match input shape "
                             f"{x.shape} (expected target shape {exp_t})")
        x2 = x if x.ndim == 2 else np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    t = np.ascontiguousarray(target.reshape(-1), dtype=np.int64)
    if check_range:
        _check_labels(op, t, x2.shape[1])
    return c_contig(x2), t, exp_t


def _check_labels(op, t, C):
    """IndexError naming the first label outside [0, C)."""
    bad = t[(t < 0) | (t >= C)]
    if bad.size:
        raise IndexError(f"{op}: target {int(bad[0])} is out of bounds for {C} classes "
                         f"(valid labels are 0..{C - 1})")


def _restore_layout(g2, x_shape):
    """(M, C) gradient back to the input's layout (class axis 1)."""
    if len(x_shape) <= 2:
        return g2.reshape(x_shape)
    shp = (x_shape[0],) + tuple(x_shape[2:]) + (x_shape[1],)
    return np.moveaxis(g2.reshape(shp), -1, 1)


class CrossEntropy(Function):
    """Fused log-softmax + NLL (csrc/loss.c)."""
    raw = True

    @staticmethod
    def forward(ctx, x, target, reduction):
        # the kernel checks the label range itself (FNN_EINDEX): no extra pass here
        x2, t, tshape = _class_layout("cross_entropy", x, target, check_range=False)
        M = x2.shape[0]
        loss = np.empty(M, dtype=x.dtype)
        lse = np.empty((M, 2), dtype=x.dtype)
        try:
            _core.cross_entropy_fwd(x2, t, loss, lse, nthreads())
        except IndexError:
            _check_labels("cross_entropy", t, x2.shape[1])
            raise
        ctx.save_for_backward(x2, t, lse)
        ctx.info = (x.shape, reduction, M)
        return _reduce(loss.reshape(tshape), reduction, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x2, t, lse = ctx.saved_tensors
        shape, reduction, M = ctx.info
        gv, scale = _grad_scale(g, reduction, M)
        if gv is not None:
            gv = np.ascontiguousarray(gv.reshape(-1), dtype=x2.dtype)
        gx = _core.cross_entropy_bwd(x2, t, lse, gv, scale, np.empty_like(x2), nthreads())
        return _restore_layout(gx, shape), None, None


class NllLoss(Function):
    """loss_i = -logp[i, target_i] (a gather; NumPy-level)."""
    raw = True

    @staticmethod
    def forward(ctx, logp, target, reduction):
        x2, t, tshape = _class_layout("nll_loss", logp, target)
        loss = -x2[np.arange(t.size), t]
        ctx.save_for_backward(t)
        ctx.info = (logp.shape, x2.shape, reduction, logp.dtype)
        return _reduce(loss.reshape(tshape), reduction, logp.dtype)

    @staticmethod
    def backward(ctx, g):
        (t,) = ctx.saved_tensors
        shape, shape2, reduction, dt = ctx.info
        gv, scale = _grad_scale(g, reduction, t.size)
        gx = np.zeros(shape2, dtype=dt)
        gx[np.arange(t.size), t] = -(gv.reshape(-1) if gv is not None else 1.0) * scale
        return _restore_layout(gx, shape), None, None


class MseLoss(Function):
    """(x - y)^2 with broadcasting (NumPy-level: one memory-bound pass)."""
    raw = True

    @staticmethod
    def forward(ctx, x, y, reduction):
        check_float("mse_loss", "input", x)
        y = np.asarray(y)
        try:
            shape = np.broadcast_shapes(x.shape, y.shape)
        except ValueError:
            raise ShapeError(f"mse_loss: input shape {x.shape} and target shape {y.shape} "
                             "cannot be broadcast together") from None
        d = np.subtract(x, y, dtype=x.dtype)
        ctx.save_for_backward(d)
        ctx.info = (x.shape, y.shape, reduction, shape)
        return _reduce(d * d, reduction, x.dtype)

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved_tensors
        xs, ys, reduction, shape = ctx.info
        gv, scale = _grad_scale(g, reduction, d.size)
        gd = 2 * d * scale if gv is None else 2 * d * gv
        gd = gd.astype(d.dtype, copy=False)
        nx, ny = ctx.needs_input_grad[:2]
        return (unbroadcast(gd, xs) if nx else None,
                unbroadcast(-gd, ys) if ny else None, None)


def _same_shape(op, x, y):
    if x.shape != y.shape:
        raise ShapeError(f"{op}: target size {tuple(y.shape)} must be the same as input size "
                         f"{tuple(x.shape)}")


class BinaryCrossEntropy(Function):
    """-(y log p + (1-y) log(1-p)), logs clamped to >= -100 like PyTorch
    (NumPy-level: elementwise passes)."""
    raw = True

    @staticmethod
    def forward(ctx, p, y, reduction):
        check_float("binary_cross_entropy", "input", p)
        y = np.asarray(y, dtype=p.dtype)
        _same_shape("binary_cross_entropy", p, y)
        if p.size and not bool(np.all((p >= 0) & (p <= 1))):
            raise ValueError("binary_cross_entropy: all elements of input should be between "
                             f"0 and 1 (min {np.nanmin(p) if not np.isnan(p).all() else 'nan'}, "
                             f"max {np.nanmax(p) if not np.isnan(p).all() else 'nan'}, "
                             f"NaN present: {bool(np.isnan(p).any())})")
        with np.errstate(divide="ignore"):
            lp = np.maximum(np.log(p), -100)
            l1p = np.maximum(np.log1p(-p), -100)
        ctx.save_for_backward(p, y, lp, l1p)
        ctx.reduction = reduction
        return _reduce(-(y * lp + (1 - y) * l1p), reduction, p.dtype)

    @staticmethod
    def backward(ctx, g):
        p, y, lp, l1p = ctx.saved_tensors
        gv, scale = _grad_scale(g, ctx.reduction, p.size)
        w = gv * scale if gv is not None else scale
        np_, ny = ctx.needs_input_grad[:2]
        gp = gy = None
        if np_:
            eps = np.asarray(1e-12, dtype=p.dtype)
            gp = (w * (p - y) / np.maximum((1 - p) * p, eps)).astype(p.dtype, copy=False)
        if ny:
            gy = (w * (l1p - lp)).astype(p.dtype, copy=False)
        return gp, gy, None


class BceWithLogits(Function):
    """Stable BCE on logits in C (csrc/loss.c)."""
    raw = True

    @staticmethod
    def forward(ctx, x, y, reduction):
        check_float("binary_cross_entropy_with_logits", "input", x)
        y = np.asarray(y)
        _same_shape("binary_cross_entropy_with_logits", x, y)
        x = c_contig(x)
        y = np.ascontiguousarray(y, dtype=x.dtype)
        loss = _core.bce_logits_fwd(x, y, np.empty_like(x), nthreads())
        ctx.save_for_backward(x, y)
        ctx.reduction = reduction
        return _reduce(loss, reduction, x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gv, scale = _grad_scale(g, ctx.reduction, x.size)
        if gv is not None:
            gv = np.ascontiguousarray(gv, dtype=x.dtype)
        nx, ny = ctx.needs_input_grad[:2]
        gx = _core.bce_logits_bwd(x, y, gv, scale, np.empty_like(x), nthreads()) if nx else None
        gy = None
        if ny:
            gy = (-x * (gv * scale if gv is not None else scale)).astype(x.dtype, copy=False)
        return gx, gy, None


def _target_arg(target):
    """Targets may be Tensors (passed through) or array-likes."""
    t = _t(target)
    return t


def cross_entropy(input, target, reduction="mean"):
    """Cross-entropy between logits and integer class targets (log-softmax
    followed by negative log-likelihood, fused).

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64)
        Unnormalised logits.
    target : Tensor or ndarray of int64
        Class indices in ``[0, C)``.
    reduction : {'mean', 'sum', 'none'}

    Shape
    -----
    input (N, C) or (N, C, d1, ...) or (C,); target (N,) or (N, d1, ...) or ();
    output a scalar, or the target's shape with ``reduction='none'``.

    Raises
    ------
    IndexError
        A target outside ``[0, C)``.
    ShapeError
        The target's batch size or shape does not match the input's.

    Examples
    --------
    >>> import numpy as np, fastnn, fastnn.nn.functional as F
    >>> F.cross_entropy(fastnn.zeros(2, 4), np.array([0, 3])).item()  # log(4)
    1.3862943649291992
    """
    _check_reduction("cross_entropy", reduction)
    return CrossEntropy.apply(_t(input), _target_arg(target), reduction)


def nll_loss(input, target, reduction="mean"):
    """Negative log-likelihood of log-probabilities: ``-input[i, target_i]``.

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64), log-probabilities
    target : int64 class indices in ``[0, C)``
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
    _check_reduction("nll_loss", reduction)
    return NllLoss.apply(_t(input), _target_arg(target), reduction)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error ``(input - target)^2`` (broadcasting like PyTorch).

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
    _check_reduction("mse_loss", reduction)
    return MseLoss.apply(_t(input), _t(target), reduction)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """Binary cross-entropy of probabilities ``input`` in [0, 1]:
    ``-(y log p + (1 - y) log(1 - p))`` with each log clamped to >= -100.

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
    if weight is not None:
        raise NotImplementedError("binary_cross_entropy: weight is not supported")
    _check_reduction("binary_cross_entropy", reduction)
    return BinaryCrossEntropy.apply(_t(input), _t(target), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean"):
    """Binary cross-entropy on logits, computed stably as
    ``max(x, 0) - x*y + log1p(exp(-|x|))``.

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
    if weight is not None:
        raise NotImplementedError("binary_cross_entropy_with_logits: weight is not supported")
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    return BceWithLogits.apply(_t(input), _t(target), reduction)
