"""Whether operations record the graph: ``no_grad``, ``enable_grad``,
``set_grad_enabled``, ``inference_mode``.

The flag is per thread (a C thread-local in the compiled core, as PyTorch's
grad mode): ``no_grad`` in one Python thread does not stop another thread's
training from recording.
"""
import functools

from .._core import is_grad_enabled, set_grad_enabled_flag as _set_flag

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled"]


class _GradModeContext:
    """Sets grad mode to ``_value`` inside a ``with`` block or a decorated
    function, and restores the previous mode on the way out."""
    _value = True

    def __enter__(self):
        self._prev = _set_flag(self._value)
        return self

    def __exit__(self, *exc):
        _set_flag(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_GradModeContext):
    """Context manager and decorator: operations inside record nothing.

    Examples
    --------
    >>> import fastnn
    >>> x = fastnn.ones(2, requires_grad=True)
    >>> with fastnn.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """
    _value = False


class enable_grad(_GradModeContext):
    """Context manager and decorator: turns recording back on."""
    _value = True


class inference_mode(_GradModeContext):
    """``torch.inference_mode(mode=True)``: no recording (fastnn's no-grad
    path is already its leanest), as a context manager or decorator."""

    def __init__(self, mode=True):
        if callable(mode) and not isinstance(mode, bool):   # bare @inference_mode
            raise TypeError("use @fastnn.inference_mode() with parentheses")
        self._mode = bool(mode)
        self._value = not self._mode

    def clone(self):
        return self.__class__(self._mode)


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(mode)``: sets grad mode now (as a function call), or
    for a ``with`` block / decorated function, restoring it afterwards."""

    def __init__(self, mode):
        self._value = bool(mode)
        self._prev = _set_flag(self._value)

    def __enter__(self):
        return self

    def __call__(self, fn):
        _set_flag(self._prev)          # as a decorator it changes nothing now
        return super().__call__(fn)

    def clone(self):
        return _Restoring(self._value)


class _Restoring(_GradModeContext):
    def __init__(self, value):
        self._value = value


def is_inference_mode_enabled():
    """False: fastnn has no separate inference-mode tensors."""
    return False
