"""``fastnn.utils.checkpoint``: PyTorch's activation-checkpointing API.

``checkpoint(function, *args, **kwargs)`` returns ``function(*args,
**kwargs)`` with the graph recorded as usual, so values and gradients are
those of calling the function directly.  PyTorch's memory saving (dropping
the activations and recomputing them in the backward) is not reproduced:
fastnn keeps the activations.  PyTorch's keyword arguments
(``use_reentrant``, ``context_fn``, ``determinism_check``, ``debug``,
``early_stop``, ``preserve_rng_state``) are accepted; with
``use_reentrant=True`` other keyword arguments raise ValueError, as in
PyTorch.

Examples
--------
>>> import fastnn
>>> from fastnn.utils.checkpoint import checkpoint
>>> x = fastnn.ones(2, requires_grad=True)
>>> checkpoint(lambda a, b: a * b, x, 3.0, use_reentrant=False).sum().backward()
>>> x.grad
tensor([3., 3.])
"""

__all__ = ["checkpoint", "checkpoint_sequential", "noop_context_fn"]


def noop_context_fn():
    """The default ``context_fn``: two context managers that do nothing."""
    import contextlib
    return contextlib.nullcontext(), contextlib.nullcontext()


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True, **kwargs):
    """``function(*args, **kwargs)``, recorded as usual (see the module docstring)."""
    preserve_rng_state = kwargs.pop("preserve_rng_state", True)   # noqa: F841 (accepted)
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    if use_reentrant:
        if context_fn is not noop_context_fn or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return function(*args)
    fwd_ctx, _ = context_fn()
    with fwd_ctx:
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Runs ``functions`` (a ``Sequential``, or a list of callables) in order
    on ``input``, as PyTorch's ``checkpoint_sequential`` computes it
    (``segments`` only decides what PyTorch would recompute)."""
    kwargs.pop("preserve_rng_state", None)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)
    if not isinstance(segments, int) or segments <= 0:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got "
                         f"{segments!r}")
    for f in functions:
        input = f(input)
    return input
