"""``fastnn.nn.utils`` (PyTorch's ``torch.nn.utils``): gradient clipping and
parameter-vector helpers (``clip_grad``, ``convert_parameters``), packed
sequences (``rnn``), weight normalisation (``weight_norm``,
``parametrizations``), ``skip_init`` and conv / linear + batch-norm folding
(``fusion``)."""
from . import (clip_grad, convert_parameters, fusion, parametrizations,  # noqa: F401
               parametrize, prune, rnn, stateless)
from .clip_grad import *  # noqa: F401,F403
from .clip_grad import __all__ as _clip_all
from .clip_grad import _arr, _norm_type, _param_list, _vector_norm, _writable_grad  # noqa: F401
from .fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,
                     fuse_linear_bn_weights)
from .init import skip_init
from .weight_norm import remove_weight_norm, weight_norm
from .spectral_norm import remove_spectral_norm, spectral_norm

__all__ = list(_clip_all) + ["clip_grad_norm", "convert_parameters", "rnn", "fusion",
                             "stateless", "prune",
                             "parametrizations", "weight_norm", "remove_weight_norm",
                             "skip_init", "fuse_conv_bn_eval", "fuse_conv_bn_weights",
                             "fuse_linear_bn_eval", "fuse_linear_bn_weights", "parametrize",
                             "spectral_norm", "remove_spectral_norm"]


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated PyTorch spelling of :func:`clip_grad_norm_` (warns as PyTorch's)."""
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite,  # noqa: F405
                           foreach)
