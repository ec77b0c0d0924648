"""``fastnn.amp``: PyTorch's automatic-mixed-precision API on a library that
computes in float32.

``autocast`` is accepted (context manager and decorator) and tracked
(``is_autocast_enabled``, ``get_autocast_dtype``), but changes no result:
fastnn has no float16/bfloat16 kernels, so every op still runs in float32.
``GradScaler`` is PyTorch's dynamic loss-scaling algorithm, implemented in
full (scale, unscale, skip a step with inf/NaN gradients, grow or back off
the scale), so a training loop written for it behaves the same.
"""
import warnings

from .autocast_mode import (autocast, custom_bwd, custom_fwd, get_autocast_dtype,
                            is_autocast_available, is_autocast_enabled)
from .grad_scaler import GradScaler, OptState

__all__ = ["autocast", "GradScaler", "OptState", "is_autocast_enabled",
           "is_autocast_available", "get_autocast_dtype", "custom_fwd", "custom_bwd"]


def _device_api(device, default_dtype, module, note):
    """``torch.<device>.amp``'s autocast and GradScaler classes: the ones
    above with the device fixed, as PyTorch's device modules spell them."""
    def deprecated(name):   # (PyTorch 2.4+ warns so for the device modules' classes)
        warnings.warn(f"`torch.{device}.amp.{name}(args...)` is deprecated. Please use "
                      f"`torch.amp.{name}('{device}', args...)` instead.", FutureWarning,
                      stacklevel=3)

    class _Autocast(autocast):
        def __init__(self, enabled=True, dtype=default_dtype, cache_enabled=True):
            deprecated("autocast")
            super().__init__(device, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    class _Scaler(GradScaler):
        def __init__(self, init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5,
                     growth_interval=2000, enabled=True):
            deprecated("GradScaler")
            super().__init__(device, init_scale, growth_factor, backoff_factor,
                             growth_interval, enabled)

    for cls, name, base in ((_Autocast, "autocast", "fastnn.autocast"),
                            (_Scaler, "GradScaler", "fastnn.amp.GradScaler")):
        cls.__name__ = cls.__qualname__ = name
        cls.__module__ = module
        cls.__doc__ = f"``{base}({device!r}, ...)``{note}."
    return _Autocast, _Scaler
