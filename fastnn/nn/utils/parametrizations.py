"""``fastnn.nn.utils.parametrizations``: only ``weight_norm`` for now, with
the hook-style implementation of ``fastnn.nn.utils.weight_norm`` (parameters
``<name>_g`` / ``<name>_v``, not PyTorch's
``parametrizations.<name>.original0/1`` state-dict keys)."""
from .weight_norm import weight_norm  # noqa: F401

__all__ = ["weight_norm"]
