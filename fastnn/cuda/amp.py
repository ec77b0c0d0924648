"""``fastnn.cuda.amp``: ``torch.cuda.amp.autocast`` and ``GradScaler`` on a
machine without a GPU, as PyTorch's behave there: both warn and disable
themselves (pass-throughs), so device-agnostic programs run on the CPU."""
from ..amp import _device_api
from ..amp.autocast_mode import custom_bwd as _custom_bwd
from ..amp.autocast_mode import custom_fwd as _custom_fwd
from ..amp.autocast_mode import float16 as _float16

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]

autocast, GradScaler = _device_api("cuda", _float16, __name__,
                                   ": disabled (no GPU), a pass-through")


def custom_fwd(fwd=None, *, cast_inputs=None):
    return _custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    return _custom_bwd(bwd, device_type="cuda")
