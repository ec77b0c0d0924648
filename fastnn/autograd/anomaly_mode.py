"""Anomaly detection (``torch.autograd.detect_anomaly`` /
``set_detect_anomaly``): while it is on, every backward checks what each
node's backward returns and raises, naming the node, at the first NaN.

The compiled engine is not slowed for it: when the mode is on, a backward
first swaps each node's Function for a checking subclass of it (same name,
same backward, plus the check), then runs as usual.
"""
import warnings

import numpy as np

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]

_STATE = {"enabled": False, "check_nan": True}
_CHECKED = {}


def is_anomaly_enabled():
    return _STATE["enabled"]


def is_anomaly_check_nan_enabled():
    return _STATE["check_nan"]


class detect_anomaly:
    """Context manager (and decorator) turning anomaly detection on."""

    def __init__(self, check_nan=True):
        self.check_nan = bool(check_nan)
        self.prev = None
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        self.prev = dict(_STATE)
        _STATE.update(enabled=True, check_nan=self.check_nan)
        return self

    def __exit__(self, *exc):
        _STATE.update(self.prev)
        return False

    def __call__(self, fn):
        def wrapped(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        wrapped.__name__ = getattr(fn, "__name__", "wrapped")
        wrapped.__doc__ = getattr(fn, "__doc__", None)
        return wrapped


class set_detect_anomaly:
    """Turns anomaly detection on or off (at once; as a context manager the
    previous mode comes back on exit)."""

    def __init__(self, mode, check_nan=True):
        self.prev = dict(_STATE)
        _STATE.update(enabled=bool(mode), check_nan=bool(check_nan))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _STATE.update(self.prev)
        return False


def _checked(fn):
    """A subclass of Function fn whose backward checks its results for NaN."""
    c = _CHECKED.get(fn)
    if c is not None:
        return c
    base = fn.backward

    def backward(ctx, *grads):
        try:
            res = base(ctx, *grads)
            items = res if isinstance(res, (tuple, list)) else (res,)
            for i, g in enumerate(items):
                a = getattr(g, "_array", g)
                if isinstance(a, np.ndarray) and a.dtype.kind == "f" and np.isnan(a).any():
                    raise RuntimeError(f"Function '{ctx.name()}' returned nan values in "
                                       f"its {i}th output.")
        except Exception:
            # PyTorch's warning naming the node (fastnn keeps no forward traceback)
            import warnings
            warnings.warn(f"Error detected in {ctx.name()}. (The traceback of the forward "
                          "call is not recorded by fastnn.)", UserWarning, stacklevel=2)
            raise
        return res

    c = type(fn.__name__, (fn,), {"backward": staticmethod(backward),
                                  "__module__": fn.__module__, "_anomaly_checked": True})
    _CHECKED[fn] = c
    return c


def prepare(roots):
    """Before a backward from ``roots`` (Tensors) in anomaly mode: every node
    reachable gets the checking Function."""
    if not (_STATE["enabled"] and _STATE["check_nan"]):
        return
    seen = set()
    stack = [t._grad_fn for t in roots if getattr(t, "_grad_fn", None) is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        fn = node._fn
        if fn is not None and not getattr(fn, "_anomaly_checked", False):
            node._fn = _checked(fn)
        for p in node._parents:
            if p is not None and p._grad_fn is not None:
                stack.append(p._grad_fn)
