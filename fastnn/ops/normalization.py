"""Batch normalisation as one autograd Function over the compiled core
(``csrc/batchnorm.c``).

The kernel views the input as ``(N, C, HW)`` (``HW = 1`` for 2-D input).  In
training mode the forward returns the batch mean, biased variance and
inverse standard deviation per channel; the running statistics are then
updated here, in place, with the *unbiased* variance, exactly as PyTorch:
``running = (1 - momentum) * running + momentum * batch_stat``.
"""
import numpy as np

from .. import _core
from .._errors import ShapeError
from ..autograd.function import Function, _tensor_cls
from ._util import c_contig, check_float, nthreads
from .activation import _t
from .._core import is_grad_enabled as _grad_enabled

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _vec(op, name, a, C):
    """A per-channel vector as an ndarray of C elements (or None)."""
    if a is None:
        return None
    arr = a._array if isinstance(a, _tensor_cls()) else np.asarray(a)
    if arr.ndim != 1 or arr.shape[0] != C:
        raise ShapeError(f"{op}: {name} must have shape ({C},) to match the {C} channels of "
                         f"the input, got shape {tuple(arr.shape)}")
    return arr


def _in_place_ok(a, dt):
    """a (a running statistic, or None) can be updated in place by the
    compiled core: None, or a C-contiguous array of dtype dt."""
    return a is None or (type(a) is np.ndarray and a.dtype == dt and a.flags.c_contiguous)


def _as(a, dtype):
    return None if a is None else np.ascontiguousarray(a, dtype=dtype)


def _bn_forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps,
                relu):
    """The forward of BatchNorm / BatchNormReLU (relu: ReLU fused into the
    normalisation pass); saves what the backward needs on ctx."""
    op = "batch_norm"
    check_float(op, "input", x)
    if x.ndim < 2:
        raise ShapeError(f"{op}: input must be (N, C) or (N, C, ...) with at least 2 "
                         f"dimensions, got shape {tuple(x.shape)}")
    C = x.shape[1]
    weight = _vec(op, "weight", weight, C)
    bias = _vec(op, "bias", bias, C)
    x = c_contig(x)
    dt = x.dtype
    gamma, beta = _as(weight, dt), _as(bias, dt)
    y = np.empty_like(x)
    invstd = np.empty(C, dtype=dt)
    if training:
        per_chan = x.size // C if C else 0
        if per_chan <= 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, "
                             f"got input size {tuple(x.shape)}")
        mean = np.empty(C, dtype=dt)
        var = np.empty(C, dtype=dt)
        if _in_place_ok(running_mean, dt) and _in_place_ok(running_var, dt):
            # the running statistics updated by the same call (in C, the
            # arithmetic of the NumPy expressions below)
            _core.batchnorm_fwd_train(x, gamma, beta, y, mean, var, invstd, float(eps),
                                      nthreads(), relu, running_mean, running_var,
                                      momentum)
            running_mean = running_var = None
        else:
            _core.batchnorm_fwd_train(x, gamma, beta, y, mean, var, invstd, float(eps),
                                      nthreads(), relu)
        if running_mean is not None:
            running_mean *= (1 - momentum)
            running_mean += momentum * mean.astype(running_mean.dtype, copy=False)
        if running_var is not None:
            unbiased = var.astype(np.float64) * (per_chan / (per_chan - 1))
            running_var *= (1 - momentum)
            running_var += (momentum * unbiased).astype(running_var.dtype, copy=False)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: running_mean and running_var are required when "
                             "training=False")
        mean = _as(running_mean, dt).copy()
        _core.batchnorm_fwd_eval(x, mean, _as(running_var, dt), gamma, beta, y, invstd,
                                 float(eps), nthreads(), relu)
    # the fused backward masks the gradient by the output: y > 0 exactly
    # where the unfused ReLU's input was > 0
    ctx.save_for_backward(x, mean, invstd, gamma, y if relu else None)
    ctx.info = (bool(training), None if weight is None else weight.dtype,
                None if bias is None else bias.dtype)
    return y


def _bn_backward(ctx, g):
    x, mean, invstd, gamma, out = ctx.saved_tensors
    training, wdt, bdt = ctx.info
    nx, nw, nb = ctx.needs_input_grad[:3]
    g = c_contig(g.astype(x.dtype, copy=False))
    C = x.shape[1]
    dgamma = np.empty(C, dtype=x.dtype)
    dbeta = np.empty(C, dtype=x.dtype)
    gx = np.empty_like(x) if nx else None
    _core.batchnorm_bwd(x, g, mean, invstd, gamma, training, gx, dgamma, dbeta, nthreads(),
                        out)
    return (gx, dgamma.astype(wdt, copy=False) if nw else None,
            dbeta.astype(bdt, copy=False) if nb else None, None, None, None, None, None)


class BatchNorm(Function):
    raw = True
    relu = False           # BatchNormReLU: the ReLU applied in the same pass

    @classmethod
    def forward(cls, ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        return _bn_forward(ctx, x, weight, bias, running_mean, running_var, training,
                           momentum, eps, cls.relu)

    @staticmethod
    def backward(ctx, g):
        return _bn_backward(ctx, g)


class BatchNormReLU(BatchNorm):
    """Batch norm followed by ReLU as one node: ``relu(batch_norm(x))`` with the
    ReLU applied in the normalisation pass, and a backward that masks the
    gradient by the output inside the batch-norm backward.  Bitwise the same
    output and gradients as the two ops in sequence."""
    relu = True


def _running(op, name, a, C):
    """The ndarray behind a running statistic (updated in place), checked."""
    arr = _vec(op, name, a, C)
    if arr is not None:
        if arr.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be a float array, got {arr.dtype}")
        if not arr.flags.writeable:
            raise ValueError(f"{op}: {name} is read-only and cannot be updated in place")
    return arr


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation over the channel axis 1.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` per channel, with the
    batch statistics (biased variance) in training mode, the running
    estimates otherwise.  In training mode ``running_mean`` and
    ``running_var`` (Tensors or ndarrays, may be None) are updated in place:
    ``r = (1 - momentum) * r + momentum * stat``, with the unbiased batch
    variance, as PyTorch does.

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64)
    running_mean, running_var : Tensor or ndarray of shape (C,), or None
    weight, bias : Tensor or ndarray of shape (C,), optional
    training : bool
    momentum : float
    eps : float

    Shape
    -----
    input (N, C), (N, C, L) or (N, C, H, W); output the same.

    Examples
    --------
    >>> import numpy as np, fastnn, fastnn.nn.functional as F
    >>> rm, rv = np.zeros(2, np.float32), np.ones(2, np.float32)
    >>> y = F.batch_norm(fastnn.tensor([[0.0, 1.0], [2.0, 3.0]]), rm, rv, training=True)
    >>> y.numpy().round(3).tolist(), rm.tolist()
    ([[-1.0, -1.0], [1.0, 1.0]], [0.10000000149011612, 0.20000000298023224])
    """
    x, rm, rv, momentum, eps = _bn_args("batch_norm", input, running_mean, running_var,
                                        momentum, eps)
    return BatchNorm.apply(x, _t(weight), _t(bias), rm, rv, bool(training), momentum, eps)


def batch_norm_infer(x, running_mean, running_var, weight, bias, eps, relu=False):
    """Eval-mode ``batch_norm`` (then ReLU when relu) when nothing is to be
    recorded for backward: the kernel straight on the arrays, no graph node
    and nothing saved.  Returns a Tensor, or None when the call is not the
    plain case (grad mode on with an input that requires grad; a dtype,
    shape or layout to convert or report) and must take the full path
    (``batch_norm`` / ``batch_norm_relu``), which also raises the errors."""
    T = _tensor_cls()
    if type(x) is not T or (_grad_enabled() and (
            x.requires_grad or (weight is not None and weight.requires_grad) or
            (bias is not None and bias.requires_grad))):
        return None
    xd = x._array
    dt = xd.dtype
    if xd.ndim < 2 or not (dt == _F32 or dt == _F64) or not xd.flags.c_contiguous:
        return None
    C = xd.shape[1]
    arrs = []
    for a in (running_mean, running_var, weight, bias):
        if a is not None:
            a = a._array if isinstance(a, T) else a
            if (type(a) is not np.ndarray or a.dtype != dt or a.shape != (C,) or
                    not a.flags.c_contiguous):
                return None
        arrs.append(a)
    if arrs[0] is None or arrs[1] is None or not eps >= 0:
        return None
    # per call, not a shared scratch: the kernel reads back what it writes
    # here, and two Python threads may run inference at once
    inv = np.empty(C, dt)
    y = np.empty_like(xd)
    _core.batchnorm_fwd_eval(xd, arrs[0], arrs[1], arrs[2], arrs[3], y, inv, float(eps),
                             nthreads(), relu)
    return T._wrap(y)


def _bn_args(op, input, running_mean, running_var, momentum, eps):
    x = _t(input)
    if x.ndim < 2:
        raise ShapeError(f"{op}: input must be (N, C) or (N, C, ...) with at least 2 "
                         f"dimensions, got shape {tuple(x.shape)}")
    C = x.shape[1]
    rm = _running(op, "running_mean", running_mean, C)
    rv = _running(op, "running_var", running_var, C)
    if momentum is None:
        momentum = 0.0
    if not eps >= 0:
        raise ValueError(f"{op}: eps must be >= 0, got {eps}")
    return x, rm, rv, float(momentum), float(eps)


def batch_norm_relu(input, running_mean, running_var, weight=None, bias=None, training=False,
                    momentum=0.1, eps=1e-5):
    """``relu(batch_norm(input, ...))`` as one fused op.

    Same arguments, running-statistics update and results (bitwise, forward
    and every gradient) as ``F.relu(F.batch_norm(...))``, in one pass less
    over the data each way: the ReLU is applied while normalising and its
    mask is taken from the output inside the batch-norm backward.
    ``nn.Sequential`` uses it for a ``BatchNorm`` directly followed by
    ``nn.ReLU``.

    Parameters
    ----------
    As :func:`batch_norm`.

    Shape
    -----
    input (N, C), (N, C, L) or (N, C, H, W); output the same.

    Examples
    --------
    >>> import numpy as np, fastnn
    >>> from fastnn.ops.normalization import batch_norm_relu
    >>> rm, rv = np.zeros(2, np.float32), np.ones(2, np.float32)
    >>> y = batch_norm_relu(fastnn.tensor([[0.0, 1.0], [2.0, 3.0]]), rm, rv, training=True)
    >>> y.numpy().round(3).tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    """
    x, rm, rv, momentum, eps = _bn_args("batch_norm", input, running_mean, running_var,
                                        momentum, eps)
    return BatchNormReLU.apply(x, _t(weight), _t(bias), rm, rv, bool(training), momentum, eps)
