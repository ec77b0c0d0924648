"""Normalisation ops as autograd Functions over the compiled core: batch
norm (``csrc/batchnorm.c``), layer and group norm (``csrc/norm.c``),
instance norm (group norm with one channel a group, or batch norm's eval
pass on running statistics) and local response norm (composed).

Batch norm: the kernel views the input as ``(N, C, HW)`` (``HW = 1`` for 2-D
input).  In training mode the forward returns the batch mean, biased
variance and inverse standard deviation per channel; the running statistics
are then updated here, in place, with the *unbiased* variance, exactly as
PyTorch: ``running = (1 - momentum) * running + momentum * batch_stat``.
Without weight and bias (``affine=False``) the kernel applies no affine
step; without running statistics (``track_running_stats=False``) the batch
statistics serve in evaluation too (the module passes ``training=True``).
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


def _bn_channels(op, x):
    """C of a batch-norm input (N, C) or (N, C, ...); ShapeError otherwise."""
    if x.ndim < 2:
        raise ShapeError(f"{op}: input must be (N, C) or (N, C, ...) with at least 2 "
                         f"dimensions, got shape {tuple(x.shape)}")
    return x.shape[1]


def _bn_forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps,
                relu):
    """The forward of BatchNorm / BatchNormReLU (relu: ReLU fused into the
    normalisation pass); saves what the backward needs on ctx."""
    op = "batch_norm"
    check_float(op, "input", x)
    C = _bn_channels(op, x)
    weight = _vec(op, "weight", weight, C)
    bias = _vec(op, "bias", bias, C)
    x = c_contig(x)
    dt = x.dtype
    gamma, beta = _as(weight, dt), _as(bias, dt)   # None: no affine step (affine=False)
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
    ctx.eps = eps
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


class BatchNormFn(Function):
    raw = True
    relu = False           # BatchNormReLUFn: the ReLU applied in the same pass

    @classmethod
    def forward(cls, ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        return _bn_forward(ctx, x, weight, bias, running_mean, running_var, training,
                           momentum, eps, cls.relu)

    @staticmethod
    def backward(ctx, g):
        return _bn_backward(ctx, g)


class BatchNormReLUFn(BatchNormFn):
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
    return _batch_norm(BatchNormFn, input, running_mean, running_var, weight, bias, training,
                       momentum, eps)


def _batch_norm(fn, input, running_mean, running_var, weight, bias, training, momentum, eps):
    """The one entry of batch_norm / batch_norm_relu (fn.relu): in eval mode
    with nothing to record, the kernel straight on the arrays (``_bn_eval_untracked``);
    otherwise checked arguments and the Function."""
    if not training:
        y = _bn_eval_untracked(input, running_mean, running_var, weight, bias, eps, fn.relu)
        if y is not None:
            return y
    x, rm, rv, momentum, eps = _bn_args("batch_norm", input, running_mean, running_var,
                                        momentum, eps, training)
    return fn.apply(x, _t(weight), _t(bias), rm, rv, bool(training), momentum, eps)


def _bn_eval_untracked(x, running_mean, running_var, weight, bias, eps, relu=False):
    """The no-graph branch of the eval-mode entry: ``batch_norm`` (then ReLU
    when relu) when nothing is to be recorded for backward: the kernel
    straight on the arrays, no graph node and nothing saved.  Returns a
    Tensor, or None when the call is not the plain case (grad mode on with
    an input that requires grad; a dtype, shape or layout to convert or
    report) and must take the full path, which also raises the errors."""
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


def _bn_args(op, input, running_mean, running_var, momentum, eps, training=False):
    x = _t(input)
    C = _bn_channels(op, x)
    rm = _running(op, "running_mean", running_mean, C)
    rv = _running(op, "running_var", running_var, C)
    if (rm is None) != (rv is None):   # (training would update one statistic only)
        raise ValueError(f"{op}: running_mean and running_var must either both be None or "
                         "neither be None")
    if momentum is None:
        momentum = 0.0
    if not eps >= 0:
        raise ValueError(f"{op}: eps must be >= 0, got {eps}")
    if training and not eps > 0:   # (a constant channel would divide by zero)
        raise ValueError(f"{op}: eps must be positive during training, but got {eps}")
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
    return _batch_norm(BatchNormReLUFn, input, running_mean, running_var, weight, bias,
                       training, momentum, eps)


# ---------------------------------------------------------------- layer norm

def _float_number(op, name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a number, got {type(v).__name__}")
    return float(v)


def _eps(op, eps):
    """eps as a float >= 0 (TypeError for a non-number, ValueError below 0)."""
    eps = _float_number(op, "eps", eps)
    if not eps >= 0:
        raise ValueError(f"{op}: eps must be >= 0, got {eps}")
    return eps


def _affine(op, name, a, shape, dt):
    """weight / bias as a C-contiguous array of the input's dtype and the
    given shape (or None)."""
    if a is None:
        return None
    if tuple(a.shape) != tuple(shape):
        raise ShapeError(f"{op}: {name} must have shape {tuple(shape)}, got "
                         f"{tuple(a.shape)}")
    if a.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a float array, got {a.dtype}")
    return np.ascontiguousarray(a, dtype=dt)


def _ln_validate(x, normalized_shape, eps, op="layer_norm"):
    """(normalized_shape as a tuple, M, D, eps): x viewed as M rows of D."""
    check_float(op, "input", x)
    if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape,
                                                                          bool):
        ns = (int(normalized_shape),)
    else:
        try:
            ns = tuple(int(d) for d in normalized_shape)
        except TypeError:
            raise TypeError(f"{op}: normalized_shape must be an int or a sequence of ints, got "
                            f"{normalized_shape!r}") from None
    if len(ns) == 0 or x.ndim < len(ns) or tuple(x.shape[x.ndim - len(ns):]) != ns:
        raise ShapeError(f"{op}: given normalized_shape={list(ns)}, expected input with shape "
                         f"[*, {', '.join(map(str, ns))}], but got input of size "
                         f"{list(x.shape)}")
    eps = _eps(op, eps)
    D = int(np.prod(ns))
    return ns, (x.size // D if D else 0), D, eps


class LayerNormFn(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the trailing
    ``normalized_shape`` dims; forward(ctx, x, weight, bias,
    normalized_shape, eps); mean and rstd per row saved for the backward."""
    raw = True

    @staticmethod
    def forward(ctx, x, weight, bias, normalized_shape, eps):
        ns, M, D, eps = _ln_validate(x, normalized_shape, eps)
        x = c_contig(x)
        dt = x.dtype
        w = _affine("layer_norm", "weight", weight, ns, dt)
        b = _affine("layer_norm", "bias", bias, ns, dt)
        y = np.empty_like(x)
        mean, rstd = np.empty(M, dt), np.empty(M, dt)
        if x.size:
            _core.layer_norm_fwd(x, w, b, eps, y, mean, rstd, M, D, nthreads())
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(x, w, mean, rstd)
            ctx.info = (ns, M, D, None if weight is None else weight.dtype,
                        None if bias is None else bias.dtype)
            ctx.eps = eps
        return y

    @staticmethod
    def backward(ctx, g):
        x, w, mean, rstd = ctx.saved_tensors
        ns, M, D, wdt, bdt = ctx.info
        nx, nw, nb = ctx.needs_input_grad[:3]
        g = c_contig(g.astype(x.dtype, copy=False))
        gx = np.empty_like(x) if nx else None
        dw = np.zeros(D, x.dtype) if nw else None
        db = np.zeros(D, x.dtype) if nb else None
        if x.size:
            _core.layer_norm_bwd(x, g, mean, rstd, w, gx, dw, db, M, D, nthreads())
        return (gx, None if dw is None else dw.reshape(ns).astype(wdt, copy=False),
                None if db is None else db.reshape(ns).astype(bdt, copy=False), None, None)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing ``normalized_shape`` dims:
    ``(x - mean) / sqrt(var + eps) * weight + bias`` (biased variance).

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64), shape (*, *normalized_shape)
    normalized_shape : int or sequence of ints
    weight, bias : Tensor or ndarray of shape normalized_shape, optional
    eps : float

    Shape
    -----
    Any shape ending in normalized_shape; output the same.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.layer_norm(fastnn.tensor([[1.0, 3.0]]), (2,)).numpy().round(3)
    array([[-1.,  1.]], dtype=float32)
    """
    return LayerNormFn.apply(_t(input), _t(weight), _t(bias), normalized_shape, eps)


# ---------------------------------------------------------------- group norm

def _gn_validate(x, num_groups, eps):
    """(N, C, HW, G, eps) of x (N, C, *) in num_groups groups of channels."""
    op = "group_norm"
    check_float(op, "input", x)
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)):
        raise TypeError(f"{op}: num_groups must be an int, got {type(num_groups).__name__}")
    G = int(num_groups)
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected input of at least 2 dimensions (N, C, *), got shape "
                         f"{tuple(x.shape)}")
    N, C = x.shape[:2]
    if G < 1 or C % G != 0:
        raise ShapeError(f"{op}: expected number of channels in input to be divisible by "
                         f"num_groups, but got input of shape {list(x.shape)} and "
                         f"num_groups={G}")
    eps = _eps(op, eps)
    HW = int(np.prod(x.shape[2:])) if x.ndim > 2 else 1
    return N, C, HW, G, eps


def _gn_forward(ctx, x, weight, bias, num_groups, eps):
    """The forward of group norm (and of instance norm): y, and mean, rstd
    (N, G) saved on ctx."""
    N, C, HW, G, eps = _gn_validate(x, num_groups, eps)
    x = c_contig(x)
    dt = x.dtype
    w = _affine("group_norm", "weight", weight, (C,), dt)
    b = _affine("group_norm", "bias", bias, (C,), dt)
    y = np.empty_like(x)
    mean, rstd = np.empty(N * G, dt), np.empty(N * G, dt)
    if x.size:
        _core.group_norm_fwd(x, w, b, eps, y, mean, rstd, N, C, HW, G, nthreads())
    if any(ctx.needs_input_grad):
        ctx.save_for_backward(x, w, mean, rstd)
        ctx.info = ((N, C, HW, G), None if weight is None else weight.dtype,
                    None if bias is None else bias.dtype)
        ctx.eps = eps
    return y, mean, rstd


class GroupNormFn(Function):
    """Group normalisation; forward(ctx, x, weight, bias, num_groups, eps)."""
    raw = True

    @staticmethod
    def forward(ctx, x, weight, bias, num_groups, eps):
        return _gn_forward(ctx, x, weight, bias, num_groups, eps)[0]

    @staticmethod
    def backward(ctx, g):
        x, w, mean, rstd = ctx.saved_tensors
        (N, C, HW, G), wdt, bdt = ctx.info
        nx, nw, nb = ctx.needs_input_grad[:3]
        g = c_contig(g.astype(x.dtype, copy=False))
        gx = np.empty_like(x) if nx else None
        dw = np.zeros(C, x.dtype) if nw else None
        db = np.zeros(C, x.dtype) if nb else None
        if x.size:
            _core.group_norm_bwd(x, g, mean, rstd, w, gx, dw, db, N, C, HW, G, nthreads())
        return (gx, None if dw is None else dw.astype(wdt, copy=False),
                None if db is None else db.astype(bdt, copy=False)) + (
                    (None,) * (len(ctx.needs_input_grad) - 3))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation: the channels of each sample split into
    ``num_groups`` groups, each normalised over its channels and spatial
    positions, then a per-channel ``weight`` and ``bias``.

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64), (N, C, *)
    num_groups : int, dividing C
    weight, bias : Tensor or ndarray of shape (C,), optional
    eps : float

    Shape
    -----
    (N, C, *) -> the same.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.group_norm(fastnn.tensor([[[1.0], [3.0]]]), 1).numpy().round(3).ravel()
    array([-1.,  1.], dtype=float32)
    """
    return GroupNormFn.apply(_t(input), _t(weight), _t(bias), num_groups, eps)


# ---------------------------------------------------------------- instance norm

class InstanceNormFn(GroupNormFn):
    """Instance normalisation with the input's statistics: group norm with
    one channel a group; forward(ctx, x, weight, bias, running_mean,
    running_var, momentum, eps) also updates the running statistics (when
    given) in place with the mean over the batch of each instance's mean
    and unbiased variance, as PyTorch."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        C = x.shape[1] if x.ndim >= 2 else 0
        y, mean, rstd = _gn_forward(ctx, x, weight, bias, C, eps)
        if (running_mean is not None or running_var is not None) and x.size:
            N, L = x.shape[0], x.size // max(x.shape[0] * C, 1)
            m = mean.astype(np.float64).reshape(N, C)
            var = (1.0 / np.square(rstd.astype(np.float64)) - float(eps)).reshape(N, C)
            var *= L / max(L - 1, 1)
            for r, stat in ((running_mean, m), (running_var, var)):
                if r is not None:
                    r *= (1 - momentum)
                    r += (momentum * stat.mean(axis=0)).astype(r.dtype, copy=False)
        return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalisation: each channel of each sample normalised over
    its spatial positions (``use_input_stats``; the running statistics, when
    given, updated in place), or by the running statistics otherwise.

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64), (N, C, *)
    running_mean, running_var : Tensor or ndarray (C,), optional
    weight, bias : Tensor or ndarray (C,), optional
    use_input_stats : bool
    momentum, eps : float

    Shape
    -----
    (N, C, *) -> the same.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.instance_norm(fastnn.tensor([[[1.0, 3.0]]])).numpy().round(3)
    array([[[-1.,  1.]]], dtype=float32)
    """
    op = "instance_norm"
    x = _t(input)
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected input of at least 2 dimensions (N, C, *), got shape "
                         f"{tuple(x.shape)}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: expected running_mean and running_var to be defined when "
                             "use_input_stats is false")
        return batch_norm(x, running_mean, running_var, weight, bias, False, 0.0, eps)
    C = x.shape[1]
    rm = _running(op, "running_mean", running_mean, C)
    rv = _running(op, "running_var", running_var, C)
    momentum = 0.0 if momentum is None else _float_number(op, "momentum", momentum)
    return InstanceNormFn.apply(x, _t(weight), _t(bias), rm, rv, momentum, eps)


# ---------------------------------------------------------------- local response norm

def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across channels, composed of recorded
    ops as PyTorch does: ``x / (k + alpha * mean of x^2 over size
    neighbouring channels) ** beta`` (zero padding at the channel ends).

    Shape
    -----
    (N, C, *) with at least 3 dimensions -> the same.
    """
    from .pooling import avg_pool2d
    x = _t(input)
    if x.ndim < 3:
        raise ShapeError(f"local_response_norm: expected 3D or higher dimensionality input "
                         f"(got {x.ndim} dimensions)")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    if x.numel() == 0:
        return x
    N, C = x.shape[:2]
    L = x.numel() // (N * C)
    T = _tensor_cls()
    div = (x * x).reshape(N, 1, C, L)
    lo, hi = size // 2, (size - 1) // 2
    parts = ([T._wrap(np.zeros((N, 1, lo, L), x.dtype))] if lo else []) + [div] + (
        [T._wrap(np.zeros((N, 1, hi, L), x.dtype))] if hi else [])
    if len(parts) > 1:
        import fastnn
        div = fastnn.cat(parts, dim=2)
    div = avg_pool2d(div, (size, 1), stride=1).reshape(x.shape)
    return x / (div * alpha + k) ** beta


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation over the trailing ``normalized_shape``
    dims: ``x / sqrt(mean(x**2) + eps) * weight``; ``eps`` None is the
    machine epsilon of the input's dtype (as PyTorch).  A composition of
    compiled element-wise and reduction ops.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.rms_norm(fastnn.tensor([[3.0, 4.0]]), (2,), eps=0.0).numpy().round(4)
    array([[0.8485, 1.1314]], dtype=float32)
    """
    x = _t(input)
    if eps is None:
        check_float("rms_norm", "input", x._array)
        eps = float(np.finfo(x.dtype).eps)
    ns, _, _, eps = _ln_validate(x._array, normalized_shape, eps, "rms_norm")
    if weight is not None and tuple(_t(weight).shape) != ns:
        raise ShapeError(f"rms_norm: weight of shape {list(_t(weight).shape)} does not match "
                         f"normalized_shape {list(ns)}")
    dims = tuple(range(x.dim() - len(ns), x.dim()))
    y = x * ((x * x).mean(dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else y * _t(weight)
