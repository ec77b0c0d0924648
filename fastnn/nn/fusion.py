"""The fusion pass that ``nn.Sequential`` applies.

Two pairs of layers that follow each other in a ``Sequential`` run as one
op, with the ReLU applied inside the first op's kernel while its output tile
is still in cache (one pass less over the activations, forward and
backward):

=================================  ===================================
pair                               fused op
=================================  ===================================
``nn.Conv2d`` then ``nn.ReLU``     ``fastnn.ops.conv.conv2d_relu``
``nn.BatchNorm1d/2d`` then ReLU    ``fastnn.ops.normalization.batch_norm_relu``
=================================  ===================================

The fused ops are bitwise the two modules run one after the other: the same
output, the same gradients (tests/nn/test_fusion.py).  A pair fuses only when
both modules are plain: the layer's class keeps the library's ``forward``
(a subclass overriding it is run as written), the ReLU is exactly
``nn.ReLU``, neither module has a forward/backward hook (PyTorch's hooks see
every call) or a ``forward``/``__call__`` replaced on the instance.  The pairs
are found once per arrangement of the Sequential (``plan``, cached by the
modules' identities); the plainness test (``fusable``) runs on every call, so
a hook registered later switches the fusion off at once.
"""
from .modules.activation import ReLU
from .modules.conv import Conv2d
from .modules.module import Module
from .modules.normalization import _BatchNorm

__all__ = ["plan", "fusable", "run"]

_BN, _CONV = 0, 1


def plan(modules):
    """A Sequential's modules as ``(module, next_relu, kind)`` triples:
    ``next_relu`` is the ``nn.ReLU`` directly after a batch norm (kind 0) or
    an ``nn.Conv2d`` (kind 1) that may fuse with it, else None (kind -1)."""
    out = []
    i, n = 0, len(modules)
    while i < n:
        m = modules[i]
        if i + 1 < n and type(modules[i + 1]) is ReLU:
            kind = _BN if isinstance(m, _BatchNorm) else _CONV if isinstance(m, Conv2d) else -1
            if kind >= 0:
                out.append((m, modules[i + 1], kind))
                i += 2
                continue
        out.append((m, None, -1))
        i += 1
    return tuple(out)


def _plain(m, d):
    """m (instance dict d) runs its class's forward through Module.__call__
    with no hooks."""
    return ("forward" not in d and "__call__" not in d and not d.get("_call_hooks")
            and type(m).__call__ is Module.__call__)


def fusable(a, b, kind):
    """Whether the pair ``plan`` found may run fused on this call."""
    ta = type(a)
    if kind == _BN:
        if ta.forward is not _BatchNorm.forward or ta._forward is not _BatchNorm._forward:
            return False
    elif ta.forward is not Conv2d.forward or ta._forward is not Conv2d._forward:
        return False
    return type(b) is ReLU and _plain(a, a.__dict__) and _plain(b, b.__dict__)


def run(steps, x):
    """Runs a plan on x: fused pairs as one op, everything else as called."""
    for m, relu, kind in steps:
        if relu is None:
            x = m(x)
        elif fusable(m, relu, kind):
            x = m._forward(x, True)
        else:
            x = relu(m(x))
    return x
