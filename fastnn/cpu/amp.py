"""``fastnn.cpu.amp``: ``torch.cpu.amp.autocast(enabled=True,
dtype=bfloat16, cache_enabled=True)`` and ``GradScaler`` (see ``fastnn.amp``)."""
from ..amp.autocast_mode import autocast as _autocast
from ..amp.autocast_mode import bfloat16 as _bfloat16
from ..amp.grad_scaler import GradScaler as _GradScaler

__all__ = ["autocast", "GradScaler"]


class autocast(_autocast):
    """``fastnn.autocast("cpu", ...)`` with PyTorch's ``torch.cpu.amp`` signature."""

    def __init__(self, enabled=True, dtype=_bfloat16, cache_enabled=True):
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """``fastnn.amp.GradScaler("cpu", ...)``."""

    def __init__(self, init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)
