"""``fastnn.cpu.amp``: ``torch.cpu.amp.autocast(enabled=True,
dtype=bfloat16, cache_enabled=True)`` and ``GradScaler`` (see ``fastnn.amp``)."""
from ..amp import _device_api
from ..amp.autocast_mode import bfloat16 as _bfloat16

__all__ = ["autocast", "GradScaler"]

autocast, GradScaler = _device_api("cpu", _bfloat16, __name__, "")
