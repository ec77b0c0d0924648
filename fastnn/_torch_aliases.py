"""Top-level names PyTorch programs call as ``torch.<name>``: the functional
layer ops under their ``torch.*`` spelling (``torch.conv2d``,
``torch.layer_norm``, ``torch.dropout(input, p, train)``, ...) and the
in-place ``torch.<op>_(x)`` forms (``x.<op>_()``)."""
from .nn import functional as _F
from .ops import rrelu as _rrelu

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "layer_norm",
           "group_norm", "rms_norm", "dropout", "dropout_", "alpha_dropout", "alpha_dropout_",
           "feature_alpha_dropout", "relu_", "selu", "selu_", "celu", "celu_", "threshold",
           "threshold_", "prelu", "rrelu", "rrelu_", "pixel_shuffle", "pixel_unshuffle",
           "cosine_similarity", "max_pool1d", "max_pool2d", "max_pool1d_with_indices",
           "avg_pool1d", "adaptive_avg_pool1d", "channel_shuffle", "hardshrink",
           "constant_pad_nd", "ctc_loss", "conv3d", "conv_transpose3d", "max_pool3d"]

conv1d, conv2d = _F.conv1d, _F.conv2d
conv_transpose1d, conv_transpose2d = _F.conv_transpose1d, _F.conv_transpose2d
rms_norm, channel_shuffle, hardshrink = _F.rms_norm, _F.channel_shuffle, _F.hardshrink
relu_, selu, selu_, celu_, threshold_ = _F.relu_, _F.selu, _F.selu_, _F.celu_, _F.threshold_
prelu, pixel_shuffle, pixel_unshuffle = _F.prelu, _F.pixel_shuffle, _F.pixel_unshuffle
cosine_similarity, max_pool1d_with_indices = _F.cosine_similarity, _F.max_pool1d_with_indices
avg_pool1d, adaptive_avg_pool1d = _F.avg_pool1d, _F.adaptive_avg_pool1d
conv3d, conv_transpose3d = _F.conv3d, _F.conv_transpose3d


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5,
               cudnn_enable=True):
    """``F.layer_norm`` (``cudnn_enable`` accepted)."""
    return _F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """``F.group_norm`` (``cudnn_enabled`` accepted)."""
    return _F.group_norm(input, num_groups, weight, bias, eps)


def celu(input, alpha=1.0):
    return _F.celu(input, alpha)


def threshold(input, threshold, value):
    return _F.threshold(input, threshold, value)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """``F.rrelu``: random slopes with ``training`` (from ``generator``, or the
    global generator), ``leaky_relu`` with slope (lower + upper) / 2 otherwise."""
    return _rrelu._rrelu(input, lower, upper, training, False, generator)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """In-place ``torch.rrelu``."""
    return _rrelu._rrelu(input, lower, upper, training, True, generator)


def dropout(input, p, train):
    """``torch.dropout(input, p, train)`` = ``F.dropout(input, p, train)``."""
    return _F.dropout(input, p, train)


def dropout_(input, p, train):
    """In-place ``torch.dropout``: input overwritten by the dropped-out values."""
    return input._inplace(lambda t: _F.dropout(t, p, train), None, (), True)


def alpha_dropout(input, p, train):
    return _F.alpha_dropout(input, p, train)


def alpha_dropout_(input, p, train):
    return input._inplace(lambda t: _F.alpha_dropout(t, p, train), None, (), True)


def feature_alpha_dropout(input, p, train):
    return _F.feature_alpha_dropout(input, p, train)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``torch.max_pool1d`` (``stride`` empty: the kernel size)."""
    return _F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``torch.max_pool2d`` (``stride`` empty: the kernel size)."""
    return _F.max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``torch.max_pool3d`` (``stride`` empty: the kernel size)."""
    return _F.max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def constant_pad_nd(input, pad, value=0):
    """``F.pad(input, pad, 'constant', value)``."""
    return _F.pad(input, pad, "constant", value)


def _inplace_alias(name):
    def f(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``input.{name}(...)`` (``torch.{name}``)."
    return f


_INPLACE = ("abs_", "acos_", "arccos_", "asin_", "arcsin_", "atan_", "arctan_", "asinh_",
            "arcsinh_", "acosh_", "arccosh_", "atanh_", "arctanh_", "ceil_", "clip_", "cos_",
            "cosh_", "erf_", "erfc_", "exp_", "exp2_", "expm1_", "fill_", "fix_", "floor_",
            "frac_", "log_", "log10_", "log1p_", "log2_", "nan_to_num_", "neg_", "negative_",
            "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinh_", "sqrt_", "square_",
            "tan_", "tanh_", "trunc_", "zero_")
for _n in _INPLACE:
    globals()[_n] = _inplace_alias(_n)
__all__ += list(_INPLACE)


# --- more torch.* spellings of the functional layer (branch lazy): the
# --- normalisations, embedding, bilinear, the losses (PyTorch's int
# --- ``reduction``: 0 'none', 1 'mean', 2 'sum'; omitted, it is 0 in torch.*'s
# --- spellings, unlike F's 'mean'), feature dropout, typename.
from .ops import dropout as _dropout  # noqa: E402
from .ops import loss_pointwise as _lp  # noqa: E402

__all__ += ["typename", "batch_norm", "instance_norm", "embedding", "bilinear",
            "cosine_embedding_loss", "hinge_embedding_loss", "kl_div", "margin_ranking_loss",
            "poisson_nll_loss", "triplet_margin_loss", "adaptive_max_pool1d", "frobenius_norm",
            "feature_dropout", "feature_dropout_", "feature_alpha_dropout_", "addmv_"]

bilinear = _F.bilinear
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(reduction, op):
    """PyTorch's Reduction enum (0, 1, 2) as F's string (a string passes)."""
    if isinstance(reduction, str):
        return reduction
    if isinstance(reduction, bool) or reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 0 (none), 1 (mean) or 2 (sum), got "
                         f"{reduction!r}")
    return _REDUCTIONS[int(reduction)]


def typename(obj, /):
    """The type of ``obj`` as a dotted name; a tensor's legacy type name
    (``'torch.FloatTensor'``), as ``torch.typename``."""
    from ._tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    """``F.batch_norm`` in ``torch.batch_norm``'s argument order."""
    return _F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                         eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    """``F.instance_norm`` in ``torch.instance_norm``'s argument order."""
    return _F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                            momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``F.embedding(indices, weight, ...)``; a negative ``padding_idx`` is none."""
    return _F.embedding(indices, weight, padding_idx if padding_idx >= 0 else None, None, 2.0,
                        scale_grad_by_freq, sparse)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return _F.cosine_embedding_loss(input1, input2, target, margin,
                                    reduction=_reduction(reduction, "cosine_embedding_loss"))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return _F.hinge_embedding_loss(input, target, margin,
                                   reduction=_reduction(reduction, "hinge_embedding_loss"))


def kl_div(input, target, reduction=0, *, log_target=False):
    """``F.kl_div``; reduction 1 is the element mean, without F's warning."""
    r = _reduction(reduction, "kl_div")
    if r == "mean":
        return _lp._apply(_lp._KlDiv(bool(log_target)), input, target, None, "mean")
    return _F.kl_div(input, target, reduction=r, log_target=log_target)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return _F.margin_ranking_loss(input1, input2, target, margin,
                                  reduction=_reduction(reduction, "margin_ranking_loss"))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return _F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                               reduction=_reduction(reduction, "poisson_nll_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False,
                        reduction=0):
    return _F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                  reduction=_reduction(reduction, "triplet_margin_loss"))


def adaptive_max_pool1d(input, output_size):
    """``(output, indices)``, as ``torch.adaptive_max_pool1d``."""
    return _F.adaptive_max_pool1d_with_indices(input, output_size)


def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """Deprecated in PyTorch (its warning): the 2-norm over ``dim`` (at most two dims)."""
    import warnings
    from .ops.reduction import norm
    warnings.warn("at::frobenius_norm is deprecated and it is just left for JIT compatibility. "
                  "It will be removed in a future PyTorch release. Please use "
                  "`linalg.vector_norm(A, 2., dim, keepdim)` instead", UserWarning,
                  stacklevel=2)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions "
                           "instead.")
    return norm(input, 2, dims, keepdim)


def feature_dropout(input, p, train):
    """Dropout of whole channels (one keep bit per sample and channel)."""
    return _dropout._masked(input, p, train, True, False)


def feature_dropout_(input, p, train):
    return input._inplace(lambda t: _dropout._masked(t, p, train, True, False), None, (), True)


def feature_alpha_dropout_(input, p, train):
    return input._inplace(lambda t: _F.feature_alpha_dropout(t, p, train), None, (), True)


def addmv_(input, mat, vec, *, beta=1, alpha=1):
    """``input.addmv_(mat, vec, beta=beta, alpha=alpha)``."""
    return input.addmv_(mat, vec, beta=beta, alpha=alpha)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1,
             zero_infinity=False):
    """``torch.ctc_loss``: ``F.ctc_loss`` with the reduction as PyTorch's enum
    (0 'none', 1 'mean', 2 'sum') or its name."""
    if not isinstance(reduction, str):
        reduction = {0: "none", 1: "mean", 2: "sum"}.get(reduction, reduction)
    return _F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                       zero_infinity)


# --- torch.<op>(input, ...) forms of the Tensor methods: the first argument
# --- also as ``input=`` (PyTorch's keyword), ``out=`` writing into a given
# --- tensor.  The positional call is one method lookup, as before.
from numbers import Number as _Number  # noqa: E402

from ._tensor import _operand, matmul as _matmul  # noqa: E402
from .ops import linalg_func as _lf, linalg_solve as _ls  # noqa: E402
from .ops.reduction import into as _into  # noqa: E402


def _method_fn(method, name=None):
    name = name or method

    def f(input, *args, out=None, **kwargs):
        r = getattr(_operand(input), method)(*args, **kwargs)
        return r if out is None else _into(out, r, name)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``input.{method}(...)`` (``torch.{name}``; ``out=`` writes into a tensor)."
    return f


def _binary_fn(method, name=None):
    name = name or method

    def f(input, other, *, out=None):
        r = getattr(_operand(input), method)(other)
        return r if out is None else _into(out, r, name)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``input.{method}(other)`` (``torch.{name}``)."
    return f


_METHOD_FNS = ("neg", "negative", "exp", "log", "abs", "absolute", "sqrt", "relu", "sigmoid",
               "tanh", "sum", "mean", "max", "min", "argmax", "argmin", "flatten", "transpose",
               "swapdims", "unsqueeze", "squeeze", "clone", "softmax", "log_softmax")
for _n in _METHOD_FNS:
    globals()[_n] = _method_fn({"negative": "neg", "absolute": "abs",
                                "swapdims": "transpose"}.get(_n, _n), _n)
sgn = _method_fn("sign", "sgn")
for _n in ("mul", "multiply", "true_divide", "eq", "ne", "not_equal", "gt", "greater", "lt",
           "less", "ge", "greater_equal", "le", "less_equal"):
    globals()[_n] = _binary_fn({"multiply": "mul", "not_equal": "ne", "greater": "gt",
                                "less": "lt", "greater_equal": "ge",
                                "less_equal": "le"}.get(_n, _n), _n)


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other (``torch.add``)."""
    r = _operand(input).add(other, alpha=alpha)
    return r if out is None else _into(out, r, "add")


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other (``torch.sub``)."""
    r = _operand(input).sub(other, alpha=alpha)
    return r if out is None else _into(out, r, "sub")


subtract = sub


def div(input, other, *, rounding_mode=None, out=None):
    """input / other, ``rounding_mode`` None, 'trunc' or 'floor' (``torch.div``)."""
    r = _operand(input).div(other, rounding_mode=rounding_mode)
    return r if out is None else _into(out, r, "div")


divide = div


def pow(input, exponent, *, out=None):
    """input ** exponent; ``input`` may be a number with a Tensor exponent
    (``torch.pow(2, t)``)."""
    if isinstance(input, _Number) and not isinstance(exponent, _Number):
        r = _operand(exponent).__rpow__(input)
    else:
        r = _operand(input).pow(exponent)
    return r if out is None else _into(out, r, "pow")


def matmul(input, other, *, out=None):
    """Matrix product with broadcasting (``torch.matmul``)."""
    r = _matmul(input, other)
    return r if out is None else _into(out, r, "matmul")


def reshape(input, shape):
    return _operand(input).reshape(shape)


def permute(input, dims):
    return _operand(input).permute(dims)


def swapaxes(input, axis0, axis1):
    return _operand(input).transpose(axis0, axis1)


def t(input):
    """The transpose of a tensor of at most 2 dims (``torch.t``)."""
    return _operand(input).t()


def numel(input):
    """The number of elements (``torch.numel``)."""
    return input.numel()


def det(input):
    """``linalg.det`` (``torch.det``)."""
    return _ls.det(input)


def logdet(input):
    """log det of a square matrix (NaN for a negative determinant; ``torch.logdet``)."""
    return _ls.logdet(input)


def inverse(input, *, out=None):
    """``linalg.inv`` (``torch.inverse``)."""
    r = _ls.inv(input)
    return r if out is None else _into(out, r, "inverse")


def matrix_power(input, n, *, out=None):
    """``linalg.matrix_power`` (``torch.matrix_power``)."""
    r = _lf.matrix_power(input, n)
    return r if out is None else _into(out, r, "matrix_power")


def orgqr(input, input2):
    """``linalg.householder_product(input, tau=input2)`` (``torch.orgqr``)."""
    return _lf.householder_product(input, input2)


__all__ += list(_METHOD_FNS) + [
    "sgn", "mul", "multiply", "true_divide", "eq", "ne", "not_equal", "gt", "greater", "lt",
    "less", "ge", "greater_equal", "le", "less_equal", "add", "sub", "subtract", "div",
    "divide", "pow", "matmul", "reshape", "permute", "swapaxes", "t", "numel", "det", "logdet",
    "inverse", "matrix_power", "orgqr"]


# --- torch._foreach_*: the list forms EMA and optimiser code call, as loops
# --- over the tensors (the in-place ones change and return the given list).
def _per_tensor(op, tensors, other):
    """``other`` for each of ``tensors``: a list or tuple gives one each (its
    length checked); a number or a Tensor is shared by all."""
    if isinstance(other, (list, tuple)):
        if len(other) != len(tensors):
            raise RuntimeError(f"{op}: Tensor lists must have the same number of tensors, got "
                               f"{len(tensors)} and {len(other)}")
        return other
    from ._tensor import Tensor
    if isinstance(other, Tensor) and other.ndim == 1 and op.startswith("_foreach_addc") \
            and other.numel() == len(tensors):
        return other.tolist()           # (addcmul/addcdiv: a 1-D tensor of scalars)
    return (other,) * len(tensors)


def _foreach_add_(self, other, *, alpha=1):
    for t, o in zip(self, _per_tensor("_foreach_add_", self, other)):
        t.add_(o, alpha=alpha)
    return self


def _foreach_sub_(self, other, *, alpha=1):
    for t, o in zip(self, _per_tensor("_foreach_sub_", self, other)):
        t.sub_(o, alpha=alpha)
    return self


def _foreach_mul_(self, other):
    for t, o in zip(self, _per_tensor("_foreach_mul_", self, other)):
        t.mul_(o)
    return self


def _foreach_div_(self, other):
    for t, o in zip(self, _per_tensor("_foreach_div_", self, other)):
        t.div_(o)
    return self


def _foreach_lerp_(self, tensors1, weight):
    for t, e, w in zip(self, _per_tensor("_foreach_lerp_", self, tensors1),
                       _per_tensor("_foreach_lerp_", self, weight)):
        t.lerp_(e, w)
    return self


def _foreach_addcmul_(self, tensor1, tensor2, value=1):
    for t, a, b, v in zip(self, _per_tensor("_foreach_addcmul_", self, tensor1),
                          _per_tensor("_foreach_addcmul_", self, tensor2),
                          _per_tensor("_foreach_addcmul_", self, value)):
        t.addcmul_(a, b, value=v)
    return self


def _foreach_addcdiv_(self, tensor1, tensor2, value=1):
    for t, a, b, v in zip(self, _per_tensor("_foreach_addcdiv_", self, tensor1),
                          _per_tensor("_foreach_addcdiv_", self, tensor2),
                          _per_tensor("_foreach_addcdiv_", self, value)):
        t.addcdiv_(a, b, value=v)
    return self


def _foreach_copy_(self, src, non_blocking=False):
    for t, s in zip(self, _per_tensor("_foreach_copy_", self, src)):
        t.copy_(s)
    return self


def _foreach_zero_(self):
    for t in self:
        t.zero_()
    return self


def _foreach_norm(self, ord=2, dtype=None):
    """The vector norm of each tensor (a tuple of 0-d tensors)."""
    from .ops.reduction import vector_norm
    return tuple(vector_norm(t, ord, dtype=dtype) for t in self)


def _foreach_add(self, other, *, alpha=1):
    return tuple(t.add(o, alpha=alpha) for t, o in zip(self, _per_tensor("_foreach_add", self,
                                                                          other)))


def _foreach_sub(self, other, *, alpha=1):
    return tuple(t.sub(o, alpha=alpha) for t, o in zip(self, _per_tensor("_foreach_sub", self,
                                                                          other)))


def _foreach_mul(self, other):
    return tuple(t.mul(o) for t, o in zip(self, _per_tensor("_foreach_mul", self, other)))


def _foreach_div(self, other):
    return tuple(t.div(o) for t, o in zip(self, _per_tensor("_foreach_div", self, other)))


def _foreach_lerp(self, tensors1, weight):
    return tuple(t.lerp(e, w) for t, e, w in zip(self, _per_tensor("_foreach_lerp", self,
                                                                   tensors1),
                                                  _per_tensor("_foreach_lerp", self, weight)))


__all__ += ["_foreach_add_", "_foreach_sub_", "_foreach_mul_", "_foreach_div_",
            "_foreach_lerp_", "_foreach_addcmul_", "_foreach_addcdiv_", "_foreach_copy_",
            "_foreach_zero_", "_foreach_norm", "_foreach_add", "_foreach_sub", "_foreach_mul",
            "_foreach_div", "_foreach_lerp"]
