"""``fastnn.amp``: PyTorch's automatic-mixed-precision API on a library that
computes in float32.

``autocast`` is accepted (context manager and decorator) and tracked
(``is_autocast_enabled``, ``get_autocast_dtype``), but changes no result:
fastnn has no float16/bfloat16 kernels, so every op still runs in float32.
``GradScaler`` is PyTorch's dynamic loss-scaling algorithm, implemented in
full (scale, unscale, skip a step with inf/NaN gradients, grow or back off
the scale), so a training loop written for it behaves the same.
"""
from .autocast_mode import (autocast, custom_bwd, custom_fwd, get_autocast_dtype,
                            is_autocast_available, is_autocast_enabled)
from .grad_scaler import GradScaler, OptState

__all__ = ["autocast", "GradScaler", "OptState", "is_autocast_enabled",
           "is_autocast_available", "get_autocast_dtype", "custom_fwd", "custom_bwd"]
