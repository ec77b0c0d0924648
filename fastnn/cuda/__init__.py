"""``fastnn.cuda``: fastnn has no GPU; these answer as PyTorch's do on a
machine without one, so device-agnostic programs pick the CPU."""

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "amp",
           "synchronize", "empty_cache", "memory_allocated", "max_memory_allocated",
           "memory_reserved", "max_memory_reserved", "is_bf16_supported", "is_initialized",
           "seed", "seed_all", "current_device", "get_device_name", "get_device_capability",
           "get_device_properties", "set_device", "mem_get_info", "reset_peak_memory_stats",
           "get_rng_state", "set_rng_state", "device"]

_NO_CUDA = "Torch not compiled with CUDA enabled"


def is_available():
    """False: fastnn computes on the CPU."""
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Accepted (no CUDA generator to seed)."""


manual_seed_all = manual_seed


def synchronize(device=None):
    """Nothing to wait for."""


def empty_cache():
    """Nothing to free."""


def memory_allocated(device=None):
    """0: no CUDA memory."""
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


def is_bf16_supported(including_emulation=True):
    return False


def is_initialized():
    return False


def seed():
    """Accepted (no CUDA generator)."""


seed_all = seed


def _no_cuda(*args, **kwargs):
    raise AssertionError(_NO_CUDA)


# what needs a device raises as PyTorch's CPU build does
current_device = get_device_name = get_device_capability = get_device_properties = _no_cuda
set_device = mem_get_info = reset_peak_memory_stats = get_rng_state = set_rng_state = _no_cuda


class device:
    """``torch.cuda.device(i)`` as a context manager: needs a GPU."""

    def __init__(self, device):
        raise AssertionError(_NO_CUDA)


def __getattr__(name):
    if name == "amp":                   # fastnn.cuda.amp loads on first use
        import importlib
        return importlib.import_module(f"{__name__}.amp")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
