"""The process-wide switches training scripts set and read (reproducibility,
threads, warnings, legacy autocast queries), with PyTorch's values, argument
checks and errors.

fastnn's kernels give the same numbers run after run for a given thread
count whatever these say, so the switches are recorded and reported but
change no result: ``use_deterministic_algorithms(True)`` makes
``are_deterministic_algorithms_enabled()`` True (False by default, as in
PyTorch), and ``set_num_interop_threads`` records a count fastnn has no
separate pool for.

>>> import fastnn
>>> fastnn.are_deterministic_algorithms_enabled()
False
>>> fastnn.use_deterministic_algorithms(True, warn_only=True)
>>> fastnn.get_deterministic_debug_mode()
1
>>> fastnn.use_deterministic_algorithms(False)
"""
import warnings

__all__ = ["use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
           "get_deterministic_debug_mode", "set_num_interop_threads",
           "get_num_interop_threads", "set_flush_denormal", "set_warn_always",
           "is_warn_always_enabled", "set_anomaly_enabled", "is_autocast_cpu_enabled",
           "get_autocast_cpu_dtype"]

_STATE = {"deterministic": False, "warn_only": False, "interop": None, "warn_always": False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Records the choice (see the module docstring)."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' (position 1) must be "
                        f"bool, not {type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'warn_only' must be bool, "
                        f"not {type(warn_only).__name__}")
    _STATE["deterministic"], _STATE["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    return _STATE["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _STATE["warn_only"]


def get_deterministic_debug_mode():
    """0 (off), 1 (warn) or 2 (error), as PyTorch numbers them."""
    if not _STATE["deterministic"]:
        return 0
    return 1 if _STATE["warn_only"] else 2


def set_deterministic_debug_mode(debug_mode):
    """``'default'``/0, ``'warn'``/1 or ``'error'``/2."""
    if isinstance(debug_mode, str):
        names = {"default": 0, "warn": 1, "error": 2}
        if debug_mode not in names:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = names[debug_mode]
    elif isinstance(debug_mode, int) and not isinstance(debug_mode, bool):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError("invalid value of debug_mode, expected 0, 1, or 2, but got "
                               f"{debug_mode}")
    else:
        raise TypeError("debug_mode must be str or int, but got "
                        f"{type(debug_mode).__name__}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def set_num_interop_threads(nthreads):
    """Recorded once, as PyTorch allows (fastnn has no inter-op pool)."""
    if not isinstance(nthreads, int) or isinstance(nthreads, bool):
        raise RuntimeError("set_num_interop_threads expects an int, but got "
                           f"{type(nthreads).__name__}")
    if nthreads <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    if _STATE["interop"] is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work "
                           "has started or set_num_interop_threads called")
    _STATE["interop"] = nthreads


def get_num_interop_threads():
    """The recorded count, or fastnn's thread count."""
    if _STATE["interop"] is not None:
        return _STATE["interop"]
    from ._config import get_num_threads
    return get_num_threads()


def set_flush_denormal(mode):
    """Returns False: fastnn's NumPy and C kernels keep denormal numbers (PyTorch
    returns whether the CPU flushes them now)."""
    if not isinstance(mode, bool):
        raise TypeError(f"set_flush_denormal(): argument 'mode' (position 1) must be bool, "
                        f"not {type(mode).__name__}")
    return False


def set_warn_always(b):
    """Recorded: fastnn's one-time warnings already go through Python's
    ``warnings`` filters."""
    _STATE["warn_always"] = bool(b)


def is_warn_always_enabled():
    return _STATE["warn_always"]


def set_anomaly_enabled(enabled, check_nan=True):
    """``torch.set_anomaly_enabled``: anomaly detection on or off globally."""
    from .autograd import anomaly_mode
    anomaly_mode._STATE.update(enabled=bool(enabled), check_nan=bool(check_nan))


def is_autocast_cpu_enabled():
    """Deprecated as in PyTorch: ``is_autocast_enabled('cpu')``."""
    warnings.warn("torch.is_autocast_cpu_enabled() is deprecated. Please use "
                  "torch.is_autocast_enabled('cpu') instead.", DeprecationWarning, stacklevel=2)
    from .amp import is_autocast_enabled
    return is_autocast_enabled("cpu")


def get_autocast_cpu_dtype():
    """Deprecated as in PyTorch: ``get_autocast_dtype('cpu')``."""
    warnings.warn("torch.get_autocast_cpu_dtype() is deprecated. Please use "
                  "torch.get_autocast_dtype('cpu') instead.", DeprecationWarning, stacklevel=2)
    from .amp import get_autocast_dtype
    return get_autocast_dtype("cpu")
