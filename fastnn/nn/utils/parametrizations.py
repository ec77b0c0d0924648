"""``fastnn.nn.utils.parametrizations``: ``spectral_norm`` on the
``parametrize`` mechanism (PyTorch's keys ``parametrizations.<name>.original``
and ``...0._u`` / ``...0._v``), and ``weight_norm`` with the hook-style
implementation of ``fastnn.nn.utils.weight_norm`` (parameters ``<name>_g`` /
``<name>_v``, not PyTorch's ``parametrizations.<name>.original0/1``
state-dict keys)."""
from .spectral_norm import _parametrized_spectral_norm as spectral_norm  # noqa: F401
from .spectral_norm import _SpectralNorm  # noqa: F401
from .weight_norm import weight_norm  # noqa: F401

__all__ = ["weight_norm", "spectral_norm"]
