"""``torch.jit``, for programs that script or trace a model before running
or saving it: fastnn has no compiler, so ``script`` and ``trace`` return
what they are given (it runs as it is, with the same results), and
``jit.save`` / ``jit.load`` store and restore a whole module with
``fastnn.save`` / ``fastnn.load`` (no pickle).  A file written by PyTorch's
``torch.jit.save`` (TorchScript) cannot be read.
"""
__all__ = ["script", "trace", "trace_module", "save", "load", "ignore", "unused", "export",
           "is_scripting", "is_tracing", "annotate", "freeze", "optimize_for_inference",
           "ScriptModule", "ScriptFunction", "Final", "fork", "wait", "interface"]


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Returns ``obj`` (a module, function or class) unchanged."""
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """Returns ``func`` unchanged (after calling it once on the example inputs,
    as tracing does, so a bad example fails here)."""
    if example_inputs is not None:
        args = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
        from .autograd import no_grad
        with no_grad():
            func(*args, **(example_kwarg_inputs or {}))
    return func


def trace_module(mod, inputs, **kwargs):
    for name, args in dict(inputs).items():
        getattr(mod, name)(*(args if isinstance(args, tuple) else (args,)))
    return mod


def save(m, f, _extra_files=None):
    """Saves a whole module with ``fastnn.save`` (load it with ``jit.load``)."""
    from .serialization import save as _save
    _save(m, f)


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """Loads a module saved by ``jit.save`` (``fastnn.load``; no pickle)."""
    from .serialization import load as _load
    return _load(f, map_location=map_location)


def ignore(drop=False, **kwargs):
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def interface(obj):
    return obj


def is_scripting():
    return False


def is_tracing():
    return False


def annotate(the_type, the_value):
    return the_value


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    return mod


def optimize_for_inference(mod, other_methods=None):
    """The module in eval mode."""
    return mod.eval()


def fork(func, *args, **kwargs):
    """Runs func now; ``wait`` returns its result."""
    return _Future(func(*args, **kwargs))


def wait(fut):
    return fut.value


class _Future:
    def __init__(self, value):
        self.value = value


def _module_cls():
    from .nn import Module
    return Module


def __getattr__(name):
    if name in ("ScriptModule", "RecursiveScriptModule", "TopLevelTracedModule"):
        return _module_cls()
    if name == "ScriptFunction":
        return type(script)
    if name == "Final":
        import typing
        return typing.Final
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

