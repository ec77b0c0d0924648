"""``torch.jit`` stand-ins for programs that script or trace a model to run
it: fastnn has no TorchScript compiler, so ``script`` and ``trace`` return
the module or function unchanged (it runs eagerly, as ``fastnn.compile``
does) and ``is_scripting()`` / ``is_tracing()`` are False.  A scripted
module's TorchScript-only methods (``.save``, ``.code``, ``.graph``) do
not exist: save a state dict with ``fastnn.save`` instead.

Examples
--------
>>> import fastnn
>>> m = fastnn.nn.Linear(2, 2)
>>> fastnn.jit.script(m) is m
True
"""

__all__ = ["script", "trace", "is_scripting", "is_tracing", "ignore", "unused", "export"]


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Returns ``obj`` (a module or function) unchanged; it runs eagerly."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """Returns ``func`` (a module or function) unchanged; it runs eagerly."""
    return func


def is_scripting():
    return False


def is_tracing():
    return False


def ignore(drop=False, **kwargs):
    """``@torch.jit.ignore`` (with or without arguments): the function unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn
