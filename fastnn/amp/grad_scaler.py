"""``GradScaler``: PyTorch's dynamic loss scaling, in full.

``scale(outputs)`` multiplies by the scale (a float32 number);
``unscale_(optimizer)`` multiplies that optimizer's gradients in place by
the float32 reciprocal of the scale and records whether any was inf or
NaN; ``step(optimizer)`` unscales if that was not done and skips
``optimizer.step()`` when a gradient was not finite; ``update()`` halves
the scale (``backoff_factor``) after a skipped step, or multiplies it by
``growth_factor`` after ``growth_interval`` finite steps in a row.  The
scale is kept in float32 as PyTorch keeps it, so the trajectories agree
bit for bit.  ``enabled=False`` makes every method a pass-through.

fastnn's gradients are float32 whatever the scale, so scaling is not needed
for accuracy here; it is implemented so that programs using it (and their
skipped steps) behave as under PyTorch.

Examples
--------
>>> import fastnn
>>> scaler = fastnn.amp.GradScaler()
>>> scaler.scale(fastnn.tensor(2.0))
tensor(131072.)
"""
import warnings
from enum import Enum

import numpy as np

__all__ = ["GradScaler", "OptState"]


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _new_state():
    return {"stage": OptState.READY, "found_inf": None}


class GradScaler:
    """``GradScaler(device='cpu', init_scale=65536.0, growth_factor=2.0,
    backoff_factor=0.5, growth_interval=2000, enabled=True)``, as
    ``torch.amp.GradScaler`` (see the module docstring).  ``device='cuda'``
    (no GPU here) warns and disables the scaler, as PyTorch does on a
    machine without CUDA."""

    def __init__(self, device="cpu", init_scale=65536.0, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = str(getattr(device, "type", device)).split(":")[0]
        if enabled and self._device != "cpu":
            warnings.warn(f"torch.amp.GradScaler is enabled, but {self._device.upper()} is not "
                          "available (fastnn runs on the CPU). Disabling.", UserWarning,
                          stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        if self._enabled:
            if not growth_factor > 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if not backoff_factor < 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None                      # float32, made on first use
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = {}

    # ----------------------------------------------------------------- helpers
    def _lazy_init(self):
        if self._scale is None:
            self._scale = np.float32(self._init_scale)
            self._growth_tracker = self._init_growth_tracker

    def _check(self, funcname):
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  This may indicate "
                                 "your script did not use scaler.scale(loss or outputs) "
                                 "earlier in the iteration.")

    def _opt_state(self, optimizer):
        return self._per_optimizer_states.setdefault(id(optimizer), _new_state())

    # ------------------------------------------------------------------ public
    def scale(self, outputs):
        """``outputs`` (a tensor or nested lists/tuples of them) times the scale."""
        if not self._enabled:
            return outputs
        self._lazy_init()
        s = float(self._scale)
        from .._core import TensorBase

        def apply(v):
            if isinstance(v, TensorBase):
                return v * s
            if isinstance(v, (list, tuple)):
                return type(v)(apply(x) for x in v)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        return apply(outputs)

    def unscale_(self, optimizer):
        """Divides ``optimizer``'s gradients by the scale, in place, and
        records whether any of them is inf or NaN."""
        if not self._enabled:
            return
        self._check("unscale_")
        st = self._opt_state(optimizer)
        if st["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = np.float32(np.float64(1.0) / np.float64(self._scale))
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._array
                if not found and not np.isfinite(g).all():
                    found = True
                if inv_scale != 1:
                    np.multiply(g, g.dtype.type(inv_scale), out=g)
        st["found_inf"] = 1.0 if found else 0.0
        st["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)`` unless a gradient was inf/NaN
        (unscaling first if ``unscale_`` was not called); returns its value."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check("step")
        st = self._opt_state(optimizer)
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if st["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if st["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        if not st["found_inf"]:
            retval = optimizer.step(*args, **kwargs)
        st["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None):
        """Updates the scale: ``new_scale`` if given, else backoff after a
        skipped step or growth after ``growth_interval`` good ones."""
        if not self._enabled:
            return
        self._check("update")
        if new_scale is not None:
            from .._core import TensorBase
            if isinstance(new_scale, TensorBase):
                if new_scale._array.size != 1:
                    raise AssertionError("new_scale should be a float or a 1-element tensor.")
                if new_scale._requires_grad:
                    raise AssertionError("new_scale should not require grad.")
                new_scale = new_scale._array.reshape(-1)[0]
            self._scale = np.float32(new_scale)
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values()
                     if s["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            if sum(found):
                self._scale = np.float32(self._scale * np.float32(self._backoff_factor))
                self._growth_tracker = 0
            else:
                good = self._growth_tracker + 1
                if good == self._growth_interval:
                    grown = np.float32(self._scale * np.float32(self._growth_factor))
                    if np.isfinite(grown):
                        self._scale = grown
                    good = 0
                self._growth_tracker = good
        self._per_optimizer_states = {}

    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return float(self._init_scale if self._scale is None else self._scale)

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None \
            else int(self._growth_tracker)

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval``
        and ``_growth_tracker`` (empty when disabled), as PyTorch's."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale = np.float32(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker = state_dict["_growth_tracker"]
