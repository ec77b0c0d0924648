"""``fastnn.cuda``: fastnn has no GPU; these answer as PyTorch's do on a
machine without one, so device-agnostic programs pick the CPU."""

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all", "amp",
           "synchronize", "empty_cache"]


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


def __getattr__(name):
    if name == "amp":                   # fastnn.cuda.amp loads on first use
        import importlib
        return importlib.import_module(f"{__name__}.amp")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
