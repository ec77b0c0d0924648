"""``fastnn.cpu``: what PyTorch programs use from ``torch.cpu``
(``torch.cpu.amp.autocast``, ``is_available``, ``device_count``)."""
from . import amp

__all__ = ["amp", "is_available", "device_count", "synchronize", "current_device"]


def is_available():
    """True: fastnn computes on the CPU."""
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def synchronize(device=None):
    """Nothing to wait for."""
