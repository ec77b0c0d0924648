"""``Function``: the one way ops enter the graph, built-in and user-defined.

A Function subclass defines static ``forward(ctx, *args)`` and
``backward(ctx, *grads)``; ``Fn.apply(*args)`` runs the forward and, when
any Tensor argument requires grad (and grad mode is on), records the
context ``ctx`` as the graph node of the outputs.  ``apply`` and ``Context``
are compiled (``fastnn/_bind/autograd.pxi``): this class only adds the
Python-facing defaults.

Two calling conventions share the engine:

* user Functions (the default, as in PyTorch) receive Tensors in
  ``forward`` (run under ``no_grad``) and Tensors of gradients in
  ``backward``;
* built-in ops set ``raw = True``: ``forward`` receives the ndarrays behind
  Tensor arguments and returns ndarrays, ``backward`` receives and returns
  ndarrays.  This keeps the per-op overhead of the hot ops small.

``backward`` returns one gradient (or None) per positional argument of
``forward``.  An op whose output is a view of its first argument (reshape,
permute, indexing with slices) sets ``_view = True``: the output then shares
its base's version counter, so an in-place change through either is seen by
the backward of whoever saved the other.
"""
import functools

from .._core import Context, FunctionBase
from .._errors import ShapeError  # noqa: F401  (re-exported for ops)

__all__ = ["Function", "Context", "once_differentiable"]


class Function(FunctionBase):
    """Base class of differentiable operations.

    Examples
    --------
    >>> import fastnn
    >>> class Square(fastnn.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * g
    >>> x = fastnn.tensor([3.0], requires_grad=True)
    >>> Square.apply(x).backward(fastnn.ones(1))
    >>> x.grad
    tensor([6.])
    """

    raw = False
    _view = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # PyTorch's second style: forward(*args) without ctx, and
        # setup_context(ctx, inputs, output) saving what backward needs
        setup = cls.__dict__.get("setup_context")
        fwd = cls.__dict__.get("forward")
        if setup is not None and fwd is not None:
            setup_fn = setup.__func__ if isinstance(setup, staticmethod) else setup
            fwd_fn = fwd.__func__ if isinstance(fwd, staticmethod) else fwd

            def forward(ctx, *args, **kwargs):
                out = fwd_fn(*args, **kwargs)
                setup_fn(ctx, args, out)
                return out
            cls.forward = staticmethod(forward)
    _keep_args = False    # linear ops: the node keeps its other arguments (ctx._args)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function subclasses must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("Function subclasses must define backward(ctx, *grads)")


def once_differentiable(fn):
    """PyTorch's decorator for a backward that is not itself differentiable:
    it runs without recording a graph, so a second derivative through it
    fails ("does not require grad") instead of silently coming out of the
    Tensor ops the backward happens to use."""
    @functools.wraps(fn)
    def wrapped(ctx, *grads):
        from .grad_mode import no_grad
        with no_grad():
            return fn(ctx, *grads)
    return wrapped


_TENSOR = []


def _tensor_cls():
    """The Tensor class (imported on first use: fastnn._tensor imports the ops)."""
    if not _TENSOR:
        from .._tensor import Tensor
        _TENSOR.append(Tensor)
    return _TENSOR[0]
