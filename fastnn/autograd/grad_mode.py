"""Whether operations record the graph: ``no_grad``, ``enable_grad``,
``set_grad_enabled``, ``inference_mode``.

The flag is per thread (a C thread-local in the compiled core, as PyTorch's
grad mode): ``no_grad`` in one Python thread does not stop another thread's
training from recording.
"""
import functools
import inspect
import sys
import warnings

from .. import _core
from .._core import is_grad_enabled, is_inference_mode_enabled  # noqa: F401
from .._core import set_grad_enabled_flag as _set_flag

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled"]


def _wrap_generator(make_ctx, gen_fn):
    """A generator function running ``gen_fn``'s body under a fresh context
    each time it resumes, and the caller's grad mode between yields (as
    PyTorch's decorated generators)."""
    @functools.wraps(gen_fn)
    def wrapper(*args, **kwargs):
        gen = gen_fn(*args, **kwargs)
        try:
            with make_ctx():
                value = gen.send(None)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    with make_ctx():
                        gen.close()
                    raise
                except BaseException:
                    with make_ctx():
                        value = gen.throw(*sys.exc_info())
                else:
                    with make_ctx():
                        value = gen.send(sent)
        except StopIteration as stop:
            return stop.value
    return wrapper


class _GradModeContext:
    """Sets grad mode to ``_value`` inside a ``with`` block or a decorated
    function (or generator function), and restores the previous mode on the
    way out."""
    _value = True

    def __enter__(self):
        self._prev = _set_flag(self._value)
        return self

    def __exit__(self, *exc):
        _set_flag(self._prev)
        return False

    def __call__(self, fn):
        if inspect.isclass(fn):
            warnings.warn("Decorating classes is deprecated and will be disabled in future "
                          "versions. You should only decorate functions or methods. To "
                          "preserve the current behavior of class decoration, you can directly "
                          "decorate the `__init__` method and nothing else.", FutureWarning,
                          stacklevel=2)
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(self.clone, fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class _NoParamContext(_GradModeContext):
    """A context that is also a decorator without parentheses:
    ``@no_grad`` is ``@no_grad()`` (``no_grad(fn)`` returns the decorated fn)."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamContext):
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


class enable_grad(_NoParamContext):
    """Context manager and decorator: turns recording back on."""
    _value = True


class inference_mode(_GradModeContext):
    """``torch.inference_mode(mode=True)``: no recording (fastnn's no-grad
    path is already its leanest), as a context manager or decorator."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls()(mode)              # bare @inference_mode on a function
        return super().__new__(cls)

    def __init__(self, mode=True):
        self._mode = bool(mode)
        self._value = not self._mode

    def __enter__(self):
        self._prev_inference = _core.set_inference_flag(self._mode)
        return super().__enter__()

    def __exit__(self, *exc):
        _core.set_inference_flag(self._prev_inference)
        return super().__exit__(*exc)

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

