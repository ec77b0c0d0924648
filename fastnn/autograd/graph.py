"""``torch.autograd.graph``: the graph's node type and version helpers.

Every node of fastnn's graph is a ``fastnn._core.Context`` (one subclass per
node name, ``MulBackward0``...) or, for a leaf, an ``AccumulateGrad``; both
count as ``Node`` here, as PyTorch's C++ nodes count as
``torch.autograd.graph.Node``.  A node offers ``name()``,
``next_functions``, ``metadata``, ``register_hook`` and ``register_prehook``.
"""
import abc

from .._core import AccumulateGrad, Context

__all__ = ["Node", "increment_version"]


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
