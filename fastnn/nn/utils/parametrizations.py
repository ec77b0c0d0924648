"""``fastnn.nn.utils.parametrizations``: ``spectral_norm`` and
``weight_norm`` on the ``parametrize`` mechanism, with PyTorch's state-dict
keys (``parametrizations.<name>.original`` and ``...0._u`` / ``...0._v``
for spectral_norm; ``parametrizations.<name>.original0`` (g) and
``...original1`` (v) for weight_norm), so checkpoints move between
PyTorch and fastnn.  The hook-style ``fastnn.nn.utils.weight_norm``
(``<name>_g`` / ``<name>_v``) is PyTorch's legacy form and stays separate."""
from ..modules.module import Module
from .parametrize import register_parametrization
from .spectral_norm import _parametrized_spectral_norm as spectral_norm  # noqa: F401
from .spectral_norm import _SpectralNorm  # noqa: F401
from .weight_norm import _norm_except_dim

__all__ = ["weight_norm", "spectral_norm"]


class _WeightNorm(Module):
    """``w = g * v / ||v||`` (the norm over every dim but ``dim``; over the
    whole tensor for dim None / -1), from the originals (g, v)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Weight normalisation of ``module.<name>`` as a parametrization
    (PyTorch's ``torch.nn.utils.parametrizations.weight_norm``): the
    originals ``parametrizations.<name>.original0`` (g, the norms) and
    ``original1`` (v); returns the module.  A legacy state dict (keys
    ``<name>_g`` / ``<name>_v``) still loads, renamed as PyTorch does.

    Examples
    --------
    >>> import fastnn
    >>> m = weight_norm(fastnn.nn.Linear(4, 3))
    >>> list(m.state_dict())
    ['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
    """
    # PyTorch registers this parametrization unsafe (g and v are two tensors
    # of other shapes than the weight) and renames the legacy keys on load.
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _compat_hook(state_dict, prefix, local_metadata, strict, missing_keys,
                     unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_compat_hook)
    return module
