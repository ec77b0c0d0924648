"""``autocast``: accepted and tracked; fastnn computes in float32 throughout.

``fastnn.bfloat16`` and ``fastnn.float16`` (``half``) exist so that
``autocast("cpu", dtype=torch.bfloat16)`` runs unchanged, but fastnn holds
no tensors of those dtypes (``dtype=fastnn.float16`` in a factory raises
TypeError) and autocast changes no result: every op keeps computing in
float32, so values and gradients are those of the same code without
autocast.  As PyTorch does, a CPU autocast with a dtype other than bfloat16
or float16 warns and disables itself, ``device_type="cuda"`` (no GPU here)
warns and disables itself, and an unknown device type raises RuntimeError.

Examples
--------
>>> import fastnn
>>> with fastnn.autocast("cpu"):
...     fastnn.is_autocast_enabled("cpu")
True
>>> fastnn.is_autocast_enabled("cpu")
False
"""
import functools
import threading
import warnings

import numpy as np

from .._dtype import dtype as _FnnDtype

__all__ = ["autocast", "is_autocast_enabled", "is_autocast_available", "get_autocast_dtype",
           "custom_fwd", "custom_bwd", "bfloat16", "float16"]


class _LowPrecisionDtype(_FnnDtype):
    """A dtype fastnn accepts only as autocast's ``dtype=`` (there are no
    tensors of it, and no NumPy dtype behind it): a ``fastnn.dtype`` by
    type, equal only to itself."""

    is_floating_point, is_complex, is_signed = True, False, True
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def __init__(self, name, itemsize):
        self._name, self._itemsize = name, itemsize

    @property
    def itemsize(self):
        return self._itemsize

    @property
    def dtype(self):
        raise AttributeError(f"torch.{self._name} has no NumPy dtype (fastnn computes in float32)")

    def __getattr__(self, name):
        raise AttributeError(name)

    def __repr__(self):
        return f"torch.{self._name}"                  # (PyTorch's text)

    __str__ = __repr__

    def __reduce__(self):
        return (_by_name, (self._name,))


def _by_name(name):
    return bfloat16 if name == "bfloat16" else float16


bfloat16 = _LowPrecisionDtype("bfloat16", 2)
float16 = np.dtype(np.float16)        # NumPy's; fastnn's factories refuse it (TypeError)

_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                 "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")
_DEFAULT_DTYPE = {"cpu": bfloat16}
_local = threading.local()


def _state():
    st = getattr(_local, "st", None)
    if st is None:
        st = _local.st = {}
    return st


def _is_low(dtype):
    return dtype is bfloat16 or (isinstance(dtype, (np.dtype, _FnnDtype)) and dtype == float16) \
        or str(dtype) in ("torch.bfloat16", "torch.float16", "torch.half")


def _check_device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    base = device_type.split(":")[0]
    if base not in _DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start "
                           f"of device string: {device_type}")
    return base


def is_autocast_available(device_type):
    """True for ``'cpu'`` only (fastnn's one device)."""
    return _check_device_type(device_type) == "cpu"


def is_autocast_enabled(device_type=None):
    """Whether an enabled ``autocast`` region for ``device_type`` is active in
    this thread (``None``: ``'cuda'``, as PyTorch's no-argument form)."""
    dev = "cuda" if device_type is None else _check_device_type(device_type)
    return _state().get(dev, (False, None))[0]


def get_autocast_dtype(device_type):
    """The dtype of the innermost autocast region (bfloat16 on the CPU
    outside one; float32 for a device fastnn lacks)."""
    dev = _check_device_type(device_type)
    dt = _state().get(dev, (False, None))[1]
    if dt is not None:
        return dt
    if dev == "cpu":
        return bfloat16
    from .._tensor import float32
    return float32


class autocast:
    """``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``,
    as ``torch.autocast``: a context manager and a decorator.  fastnn keeps
    computing in float32 inside it (see the module docstring).

    Examples
    --------
    >>> import fastnn
    >>> @fastnn.autocast("cpu", dtype=fastnn.bfloat16)
    ... def f(x):
    ...     return x * 2
    >>> f(fastnn.ones(2))
    tensor([2., 2.])
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        self.device = _check_device_type(device_type)
        if not isinstance(enabled, bool):
            enabled = bool(enabled)
        self.fast_dtype = dtype if dtype is not None else _DEFAULT_DTYPE.get(self.device)
        self._cache_enabled = True if cache_enabled is None else bool(cache_enabled)
        if enabled and self.device != "cpu":
            warnings.warn(f"{self.device.upper()} is not available (fastnn runs on the CPU). "
                          "Disabling autocast.", UserWarning, stacklevel=2)
            enabled = False
        if enabled and not _is_low(self.fast_dtype):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of torch.bfloat16, "
                          "torch.float16 currently.", UserWarning, stacklevel=2)
            enabled = False
        self._enabled = enabled
        self._prev = []

    def __enter__(self):
        st = _state()
        self._prev.append(st.get(self.device))
        st[self.device] = (self._enabled, self.fast_dtype if self._enabled else
                           (st.get(self.device) or (False, None))[1])
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        prev = self._prev.pop()
        st = _state()
        if prev is None:
            st.pop(self.device, None)
        else:
            st[self.device] = prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


def custom_fwd(fwd=None, *, device_type="cpu", cast_inputs=None):
    """``torch.amp.custom_fwd``: returns ``fwd`` unchanged (nothing to cast)."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd=None, *, device_type="cpu"):
    """``torch.amp.custom_bwd``: returns ``bwd`` unchanged."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
