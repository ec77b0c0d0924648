"""``torch.autograd.graph``: the graph's node type and version helpers.

Every node of fastnn's graph is a ``fastnn._core.Context`` (one subclass per
node name, ``MulBackward0``...) or, for a leaf, an ``AccumulateGrad``; both
count as ``Node`` here, as PyTorch's C++ nodes count as
``torch.autograd.graph.Node``.  A node offers ``name()``,
``next_functions``, ``metadata``, ``register_hook`` and ``register_prehook``.

``saved_tensors_hooks(pack_hook, unpack_hook)`` intercepts what ops save for
their backward: the engine calls ``pack_hook`` once per saved tensor when an
op is recorded (with grad mode off) and keeps only its result; the backward
uses ``unpack_hook(packed)`` instead of the tensor.  ``save_on_cpu`` is the
PyTorch pair that moves saved tensors to the CPU (fastnn's are already
there).  Hooks are per thread, as PyTorch's.  What a built-in op keeps as
a plain attribute of its node (a mask, an index array) rather than through
``save_for_backward`` is not passed to the hooks.
"""
import abc
import contextlib
import threading

from .. import _core
from .._core import AccumulateGrad, Context

__all__ = ["Node", "increment_version", "saved_tensors_hooks", "save_on_cpu",
           "disable_saved_tensors_hooks"]


class Node(abc.ABC):
    """The abstract type of graph nodes (``isinstance(y.grad_fn, Node)``)."""

    @abc.abstractmethod
    def name(self):
        """The node's name, e.g. 'MulBackward0'."""

    @property
    @abc.abstractmethod
    def next_functions(self):
        """``(node, output index)`` per input of the op."""


Node.register(Context)
Node.register(AccumulateGrad)


def increment_version(tensor):
    """Bumps the version counter of ``tensor`` (or of each Tensor in a
    sequence), as an in-place change would: a backward that saved it then
    raises instead of using changed values."""
    from .._tensor import Tensor
    for t in ([tensor] if isinstance(tensor, Tensor) else tensor):
        t._bump()


_TLS = threading.local()    # .disabled: the message of this thread's disable_saved_tensors_hooks


class saved_tensors_hooks:
    """Context manager: while it is active, a tensor saved for backward is
    replaced by ``pack_hook(tensor)`` and the backward receives
    ``unpack_hook(packed)`` (which must return a Tensor).  Nested managers:
    the innermost pair applies.

    Example
    -------
    >>> import fastnn as torch
    >>> x = torch.ones(3, requires_grad=True)
    >>> with torch.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
    ...     y = (x * x).sum()
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        msg = getattr(_TLS, "disabled", None)
        if msg is not None:
            raise RuntimeError(msg)
        _core.saved_hooks_push(self.pack_hook, self.unpack_hook)
        return None

    def __exit__(self, *exc):
        _core.saved_hooks_pop()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the CPU and brought back to their device
    for the backward.  fastnn's tensors live on the CPU, so without
    ``pin_memory`` the tensor itself is kept; with it, a copy (as PyTorch
    does where pinned memory is unavailable)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack_to_cpu(tensor):
            return (tensor.device, tensor.detach().clone() if pin_memory else tensor.cpu())

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Within it, entering ``saved_tensors_hooks`` raises RuntimeError with
    ``error_message``; entering it while hooks are active raises too."""
    if _core.saved_hooks_top() is not None:
        raise RuntimeError(error_message)
    prev = getattr(_TLS, "disabled", None)
    _TLS.disabled = error_message
    try:
        yield
    finally:
        _TLS.disabled = prev


# ------------------------------------------------------------ shown nodes
class _ShownNode:
    """A node of PyTorch's graph that fastnn computes inside a fused node
    (the ``TBackward0`` of addmm's weight, l1_loss's ``AbsBackward0``): it
    appears in ``next_functions`` with PyTorch's name and edges, so graph
    walks see PyTorch's graph.  Its gradient is computed by the fused node,
    so hooks belong on that node."""
    __slots__ = ("_next", "__weakref__")

    def __init__(self, next_functions):
        self._next = tuple(next_functions)

    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        return self._next

    @property
    def metadata(self):
        return {}

    def _no_hooks(self, *args, **kwargs):
        raise RuntimeError(f"fastnn computes {self.name()} inside the node that lists it in "
                           "next_functions; register the hook on that node instead")

    register_hook = register_prehook = _no_hooks

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


Node.register(_ShownNode)
_SHOWN_TYPES = {}


def _shown(name, next_functions):
    """A shown node named ``name`` (its own class, as PyTorch's node types)
    with the given ``(node, index)`` edges."""
    cls = _SHOWN_TYPES.get(name)
    if cls is None:
        cls = _SHOWN_TYPES[name] = type(name, (_ShownNode,),
                                        {"__slots__": (), "__module__": "builtins"})
    return cls(next_functions)


def _through(name, edge):
    """PyTorch's one-input node ``name`` over ``edge``; no edge stays none
    (PyTorch records nothing for an input that needs no gradient)."""
    return (None, 0) if edge[0] is None else (_shown(name, (edge,)), 0)


def _cached_edges(ctx, build, edges):
    """The shown edges of ``ctx``, built once (the same node objects on
    every look, as PyTorch's graph)."""
    d = ctx.__dict__
    r = d.get("_shown_edges")
    if r is None:
        r = d["_shown_edges"] = tuple(build(ctx, edges))
    return r
