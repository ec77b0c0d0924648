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
           "constant_pad_nd", "ctc_loss"]

conv1d, conv2d = _F.conv1d, _F.conv2d
conv_transpose1d, conv_transpose2d = _F.conv_transpose1d, _F.conv_transpose2d
rms_norm, channel_shuffle, hardshrink = _F.rms_norm, _F.channel_shuffle, _F.hardshrink
relu_, selu, selu_, celu_, threshold_ = _F.relu_, _F.selu, _F.selu_, _F.celu_, _F.threshold_
prelu, pixel_shuffle, pixel_unshuffle = _F.prelu, _F.pixel_shuffle, _F.pixel_unshuffle
cosine_similarity, max_pool1d_with_indices = _F.cosine_similarity, _F.max_pool1d_with_indices
avg_pool1d, adaptive_avg_pool1d = _F.avg_pool1d, _F.adaptive_avg_pool1d


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


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1,
             zero_infinity=False):
    """``torch.ctc_loss``: ``F.ctc_loss`` with the reduction as PyTorch's enum
    (0 'none', 1 'mean', 2 'sum') or its name."""
    if not isinstance(reduction, str):
        reduction = {0: "none", 1: "mean", 2: "sum"}.get(reduction, reduction)
    return _F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                       zero_infinity)
