"""``torch.nn.attention``: choosing the kernel behind
``F.scaled_dot_product_attention``.

fastnn has one CPU attention kernel, so the choice changes no number: the
math and flash backends (the two PyTorch offers on the CPU) both run it,
and with neither of them allowed ``scaled_dot_product_attention`` raises
PyTorch's "No viable backend" error.  ``sdpa_kernel`` sets the same switches
as ``fastnn.backends.cuda.enable_*_sdp`` for the duration of a ``with``
block (or a decorated function) and restores them afterwards.

>>> import fastnn, fastnn.nn.functional as F
>>> from fastnn.nn.attention import SDPBackend, sdpa_kernel
>>> q = fastnn.zeros(1, 2, 3, 4)
>>> with sdpa_kernel(SDPBackend.MATH):
...     F.scaled_dot_product_attention(q, q, q).shape
fastnn.Size([1, 2, 3, 4])
"""
import contextlib
import enum

from ...backends import cuda as _cuda

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.Enum):
    """The scaled-dot-product-attention backends, with PyTorch's values."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self):
        return self.value

    __index__ = __int__


# backend -> the switch in fastnn.backends.cuda that allows it
_SWITCH = {SDPBackend.MATH: "math", SDPBackend.FLASH_ATTENTION: "flash",
           SDPBackend.EFFICIENT_ATTENTION: "mem_efficient",
           SDPBackend.CUDNN_ATTENTION: "cudnn", SDPBackend.OVERRIDEABLE: "overrideable"}


class _BackendTypeError(TypeError, AssertionError):
    """(PyTorch asserts; a TypeError is what the mistake is.)"""


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Allows only ``backends`` (an ``SDPBackend`` or a list of them) inside
    the block; the previous switches come back on exit.  ``set_priority``
    (the order to try them in) is accepted: fastnn has one kernel."""
    if isinstance(backends, SDPBackend):
        backends = [backends]
    if not isinstance(backends, (list, tuple)) or \
            not all(isinstance(b, SDPBackend) for b in backends):
        got = backends if not isinstance(backends, (list, tuple)) else \
            next(b for b in backends if not isinstance(b, SDPBackend))
        raise _BackendTypeError("Backend must be an instance of SDPBackend or a list of "
                                f"SDPBackend instances, got {type(got).__name__}")
    saved = dict(_cuda._sdp)
    try:
        for b, key in _SWITCH.items():
            _cuda._sdp[key] = b in backends
        yield {}
    finally:
        _cuda._sdp.clear()
        _cuda._sdp.update(saved)
