"""A readable pure-Python autograd backward: the test oracle of the compiled
engine (``fastnn/_bind/autograd.pxi``).

``gradients(outputs, grad_outputs, inputs)`` walks the same graph the
compiled engine walks — each node's ``_parents``, ``_out_meta`` and its
Function's ``backward`` — in reverse topological order, and returns the
gradient reaching each of ``inputs``.  It keeps the graph (nothing is freed)
and touches no ``.grad``, so a test can run it and then the real engine on
the same graph and compare (tests/autograd/test_engine.py).
"""
import numpy as np

__all__ = ["gradients"]


def _toposort(roots):
    """Nodes reachable from the roots, parents before children."""
    order, seen = [], set()

    def visit(node):
        if node in seen:
            return
        seen.add(node)
        for p in node._parents:
            if p is not None and p._grad_fn is not None:
                visit(p._grad_fn)
        order.append(node)

    for r in roots:
        visit(r)
    return order


def _call_backward(node, grads):
    from .._tensor import Tensor
    fn = node._fn
    if fn.raw:
        res = fn.backward(node, *grads)
    else:
        res = fn.backward(node, *[None if g is None else Tensor._wrap(g) for g in grads])
    if not isinstance(res, (tuple, list)):
        res = (res,)
    res = tuple(r._array if isinstance(r, Tensor) else r for r in res)
    return res + (None,) * (len(node._parents) - len(res))


def gradients(outputs, grad_outputs, inputs):
    """The gradient of sum(outputs[i] * grad_outputs[i]) with respect to each
    of ``inputs`` (ndarrays, or None for an input no gradient reaches)."""
    def key(t):         # a leaf is itself; a computed tensor is (its node, output)
        return id(t) if t._grad_fn is None else (t._grad_fn, t._out_idx)

    want = {key(t): k for k, t in enumerate(inputs)}
    found = [None] * len(inputs)

    def deliver(t, g):
        k = want.get(key(t))
        if k is not None:
            found[k] = g if found[k] is None else found[k] + g

    pending = {}
    for t, g in zip(outputs, grad_outputs):
        g = np.asarray(g, dtype=t._array.dtype)
        deliver(t, g)
        if t._grad_fn is not None:
            slots = pending.setdefault(t._grad_fn, [None] * len(t._grad_fn._out_meta))
            slots[t._out_idx] = g if slots[t._out_idx] is None else slots[t._out_idx] + g
    for node in reversed(_toposort(list(pending))):
        gouts = pending.pop(node, None)
        if gouts is None:
            continue
        if not node._no_materialize:
            gouts = [np.zeros(m[0], m[1]) if g is None and m is not None else g
                     for g, m in zip(gouts, node._out_meta)]
        for parent, g in zip(node._parents, _call_backward(node, gouts)):
            if parent is None or g is None:
                continue
            g = np.asarray(g).astype(parent._array.dtype, copy=False)
            if parent._grad_fn is None:
                deliver(parent, g)
                continue
            deliver(parent, g)
            slots = pending.setdefault(parent._grad_fn, [None] * len(parent._grad_fn._out_meta))
            k = parent._out_idx
            slots[k] = g if slots[k] is None else slots[k] + g
    return found
