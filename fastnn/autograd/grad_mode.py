"""Whether operations record the graph: ``no_grad`` and ``enable_grad``."""
import functools


class _GradMode:
    enabled = True


mode = _GradMode()


def is_grad_enabled():
    """True when operations are being recorded for backward."""
    return mode.enabled


class _SetGrad:
    _value = True

    def __enter__(self):
        self._prev = mode.enabled
        mode.enabled = self._value
        return self

    def __exit__(self, *exc):
        mode.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_SetGrad):
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


class enable_grad(_SetGrad):
    """Context manager and decorator: turns recording back on."""
    _value = True
