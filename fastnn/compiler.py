"""``torch.compiler`` stand-ins: ``fastnn.compile`` compiles nothing (a
module comes back wrapped as PyTorch's ``OptimizedModule``, run as it is),
so nothing is ever being compiled."""

__all__ = ["is_compiling", "is_dynamo_compiling", "disable", "reset"]


def is_compiling():
    return False


def is_dynamo_compiling():
    return False


def disable(fn=None, recursive=True):
    """``@torch.compiler.disable`` (with or without arguments): fn unchanged."""
    if fn is None:
        return lambda f: f
    return fn


def reset():
    pass
