"""``Function``: the one way ops enter the graph, built-in and user-defined.

A Function subclass defines static ``forward(ctx, *args)`` and
``backward(ctx, *grads)``; ``Fn.apply(*args)`` runs the forward and, when
any Tensor argument requires grad (and grad mode is on), records the
context ``ctx`` as the graph node of the outputs.

Two calling conventions share the same engine:

* user Functions (the default, as in PyTorch) receive Tensors in
  ``forward`` (run under ``no_grad``) and Tensors of gradients in
  ``backward``;
* built-in ops set ``raw = True``: ``forward`` receives the ndarrays behind
  Tensor arguments and returns ndarrays, ``backward`` receives and returns
  ndarrays.  This keeps the per-op overhead of the hot ops small.

``backward`` returns one gradient (or None) per positional argument of
``forward``.
"""
from . import grad_mode
from .grad_mode import mode as _mode
from .._errors import ShapeError  # noqa: F401  (re-exported for ops)


class Context:
    """State an op keeps from its forward for its backward (``ctx``).

    Defaults live on the class so creating a context per op costs one
    allocation; the graph node of an op's outputs is its context."""

    needs_input_grad = ()
    _saved = ()
    _freed = False
    _fn = None
    _parents = ()
    _out_meta = ()
    _retained = None

    def save_for_backward(self, *tensors):
        """Keeps tensors (or arrays) for the backward."""
        self._saved = tensors

    @property
    def saved_tensors(self):
        """What ``save_for_backward`` kept; an error once the graph is freed."""
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access "
                "saved tensors after they have already been freed). Saved intermediate "
                "values of the graph are freed when you call .backward(). Specify "
                "retain_graph=True if you need to backward through the graph a second time.")
        return self._saved

    def mark_non_differentiable(self, *tensors):
        """Accepted for PyTorch compatibility; integer outputs never get gradients."""
        self._non_diff = tensors

    @property
    def name(self):
        return self._fn.__name__ if self._fn is not None else "Function"

    def __repr__(self):
        return f"<{self.name}Backward>"


_PyContext = Context
try:  # the compiled Context (fastnn/_bind/engine.pxi): same attributes, faster
    from .._core import Context  # noqa: F811
except ImportError:  # pragma: no cover - a tree built before engine.pxi
    pass


class Function:
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
    array([6.], dtype=float32)
    """

    raw = False

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function subclasses must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("Function subclasses must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args, **kwargs):
        Tensor = _TENSOR[0] if _TENSOR else _tensor_cls()
        record = _mode.enabled
        needs = []
        any_grad = False
        ctx = Context()
        if cls.raw:
            fargs = []
            for a in args:
                if isinstance(a, Tensor):
                    fargs.append(a.data)
                    r = record and a.requires_grad
                    needs.append(r)
                    if r:
                        any_grad = True
                else:
                    fargs.append(a)
                    needs.append(False)
            ctx.needs_input_grad = needs
            out = cls.forward(ctx, *fargs, **kwargs)
        else:
            for a in args:
                r = record and isinstance(a, Tensor) and a.requires_grad
                needs.append(r)
                if r:
                    any_grad = True
            ctx.needs_input_grad = tuple(needs)
            _mode.enabled = False
            try:
                out = cls.forward(ctx, *args, **kwargs)
            finally:
                _mode.enabled = record
        wrap = Tensor._wrap
        if type(out) is not tuple:
            if not any_grad:
                return out if isinstance(out, Tensor) else wrap(out)
            arr = out.data if isinstance(out, Tensor) else out
            t = wrap(arr)
            ctx._fn = cls
            ctx._parents = [a if n else None for a, n in zip(args, needs)]
            ctx._out_meta = ((arr.shape, arr.dtype),)
            if arr.dtype.kind == "f":
                t.requires_grad = True
                t._grad_fn = ctx
            return t
        if not any_grad:
            return tuple(o if (o is None or isinstance(o, Tensor)) else wrap(o) for o in out)
        ctx._fn = cls
        ctx._parents = [a if n else None for a, n in zip(args, needs)]
        wrapped = []
        meta = []
        for i, o in enumerate(out):
            if o is None:
                wrapped.append(None)
                meta.append(None)
                continue
            arr = o.data if isinstance(o, Tensor) else o
            t = wrap(arr)
            if arr.dtype.kind == "f":
                t.requires_grad = True
                t._grad_fn = ctx
                t._out_idx = i
            meta.append((arr.shape, arr.dtype))
            wrapped.append(t)
        ctx._out_meta = tuple(meta)
        return tuple(wrapped)


_py_apply = Function.__dict__["apply"].__func__

_TENSOR = []


def _tensor_cls():
    if not _TENSOR:
        from ..tensor import Tensor
        _TENSOR.append(Tensor)
    return _TENSOR[0]


class once_differentiable:  # pragma: no cover - PyTorch-compatible no-op decorator
    def __new__(cls, fn):
        return fn
