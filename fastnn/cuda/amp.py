"""``fastnn.cuda.amp``: ``torch.cuda.amp.autocast`` and ``GradScaler`` on a
machine without a GPU, as PyTorch's behave there: both warn and disable
themselves (pass-throughs), so device-agnostic programs run on the CPU."""
from ..amp.autocast_mode import autocast as _autocast
from ..amp.autocast_mode import custom_bwd as _custom_bwd
from ..amp.autocast_mode import custom_fwd as _custom_fwd
from ..amp.autocast_mode import float16 as _float16
from ..amp.grad_scaler import GradScaler as _GradScaler

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


class autocast(_autocast):
    """``fastnn.autocast("cuda", ...)``: disabled (no GPU)."""

    def __init__(self, enabled=True, dtype=_float16, cache_enabled=True):
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """``fastnn.amp.GradScaler("cuda", ...)``: disabled (no GPU), a pass-through."""

    def __init__(self, init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    return _custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    return _custom_bwd(bwd, device_type="cuda")
