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

``use_reentrant`` left out warns and means True, as in PyTorch 2.x; and the
reentrant form keeps PyTorch's rule that its output records a graph only
when a tensor argument requires grad.  So a first block checkpointed on a
plain input (``checkpoint(self.block, x)``) gets no gradients, as in
PyTorch (with its warning "None of the inputs have requires_grad=True").
``checkpoint_sequential`` checkpoints its segments the same way.

Examples
--------
>>> import fastnn
>>> from fastnn.utils.checkpoint import checkpoint
>>> x = fastnn.ones(2, requires_grad=True)
>>> checkpoint(lambda a, b: a * b, x, 3.0, use_reentrant=False).sum().backward()
>>> x.grad
tensor([3., 3.])
"""

import warnings

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad

__all__ = ["checkpoint", "checkpoint_sequential", "noop_context_fn"]


def noop_context_fn():
    """The default ``context_fn``: two context managers that do nothing."""
    import contextlib
    return contextlib.nullcontext(), contextlib.nullcontext()


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True, **kwargs):
    """``function(*args, **kwargs)``, recorded as usual (see the module docstring)."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. use_reentrant=False is recommended, but if you need to "
                      "preserve the current default behavior, you can pass "
                      "use_reentrant=True.", stacklevel=2)
        use_reentrant = True
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
        if not any(a.requires_grad for a in args if isinstance(a, Tensor)):
            # PyTorch's reentrant checkpoint is a Function run under no_grad:
            # with no input requiring grad its output records nothing
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)
            with no_grad():
                return function(*args)
        return function(*args)
    fwd_ctx, _ = context_fn()
    with fwd_ctx:
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Runs ``functions`` (a ``Sequential``, or a list of callables) in order
    on ``input`` as PyTorch's ``checkpoint_sequential``: the first
    ``segments - 1`` chunks of ``len(functions) // segments`` through
    :func:`checkpoint`, the rest directly."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant "
                      "parameter should be passed explicitly. use_reentrant=False is "
                      "recommended, but if you need to preserve the current default "
                      "behavior, you can pass use_reentrant=True.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)
    if not isinstance(segments, int) or segments <= 0:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got "
                         f"{segments!r}")

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
