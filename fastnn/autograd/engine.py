"""The backward pass: walks the graph from an output in reverse topological
order, calls each node's backward once with the sum of the gradients that
reached it, and accumulates into the ``.grad`` of leaves.

Gradients are ndarrays throughout.  Unless ``retain_graph`` is set, each
node's saved values are freed after its backward, and a second backward
through it raises.

This module is the readable pure-Python reference.  The engine in use is the
compiled one (``fastnn/_bind/engine.pxi``: ``Function.apply`` and
``run_backward``), which computes the same gradients with less overhead per
op and also avoids two copies this one makes: a gradient that reaches a leaf
first becomes its ``.grad`` without a copy when only the engine holds it (an
op may hand one array to several inputs, keep it in ``ctx`` or in a cache:
then its reference count shows it and the array is copied), and gradients
meeting at a non-leaf are summed in place when only the engine holds the
running sum.  ``use_compiled(False)`` (or ``FASTNN_PY_ENGINE=1``) switches to
this one.  ``_install`` also turns on the compiled core's buffer cache (NumPy
allocations of large blocks reuse freed ones instead of page-faulting fresh
memory every step; ``FASTNN_BUFFER_CACHE=0`` turns it off).
"""
import numpy as np

from . import grad_mode
from .function import _tensor_cls

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward(). Specify retain_graph=True if you "
    "need to backward through the graph a second time.")


def _toposort(root):
    """Nodes reachable from root, parents before children (post-order)."""
    order = []
    seen = {root}
    stack = [(root, 0)]
    while stack:
        node, i = stack[-1]
        parents = node._parents
        n = len(parents)
        pushed = False
        while i < n:
            p = parents[i]
            i += 1
            if p is not None:
                g = p._grad_fn
                if g is not None and g not in seen:
                    seen.add(g)
                    stack[-1] = (node, i)
                    stack.append((g, 0))
                    pushed = True
                    break
        if not pushed:
            stack.pop()
            order.append(node)
    return order


def _accumulate_leaf(t, g):
    if g.shape != t.data.shape:
        raise RuntimeError(f"backward: gradient of shape {g.shape} does not match "
                           f"the tensor's shape {t.data.shape}")
    if t.grad is None:
        t.grad = np.array(g, dtype=t.data.dtype, copy=True)
    else:
        t.grad += g
    hooks = t._post_accumulate_grad_hooks
    if hooks:
        # Called after each accumulation into t.grad (fastnn.distributed starts
        # its gradient allreduce from here while the backward goes on).
        for hook in tuple(hooks):
            hook(t)


def _call_backward(node, grads):
    fn = node._fn
    if fn.raw:
        res = fn.backward(node, *grads)
    else:
        res = fn.backward(node, *[_tensor_cls()._wrap(g) for g in grads])
    if not isinstance(res, tuple):
        res = (res,)
    if len(res) < len(node._parents):
        if all(p is None for p in node._parents[len(res):]):
            return tuple(res) + (None,) * (len(node._parents) - len(res))
        raise RuntimeError(f"function {fn.__name__}.backward returned {len(res)} gradients, "
                           f"expected {len(node._parents)} (one per forward input)")
    return res


def run_backward(root_tensor, grad, retain_graph=False):
    """Backpropagates ``grad`` (an ndarray of the root's shape) from root_tensor."""
    Tensor = _tensor_cls()
    root = root_tensor._grad_fn
    if root is None:
        _accumulate_leaf(root_tensor, grad)
        return
    order = _toposort(root)
    pending = {root: [None] * len(root._out_meta)}
    pending[root][root_tensor._out_idx] = grad
    prev = grad_mode.mode.enabled
    grad_mode.mode.enabled = False
    try:
        for node in reversed(order):
            gouts = pending.pop(node, None)
            if gouts is None:
                continue
            if node._freed:
                raise RuntimeError(_FREED_MSG)
            for i, g in enumerate(gouts):
                if g is None and node._out_meta[i] is not None:
                    shape, dtype = node._out_meta[i]
                    gouts[i] = np.zeros(shape, dtype)
            if node._retained is not None:
                for i, t in node._retained.items():
                    _accumulate_leaf(t, gouts[i])
            gins = _call_backward(node, gouts)
            for parent, g in zip(node._parents, gins):
                if parent is None or g is None:
                    continue
                if isinstance(g, Tensor):
                    g = g.data
                elif not isinstance(g, np.ndarray):
                    g = np.asarray(g)
                if g.dtype != parent.data.dtype:
                    g = g.astype(parent.data.dtype)
                pnode = parent._grad_fn
                if pnode is None:
                    _accumulate_leaf(parent, g)
                    continue
                if g.shape != parent.data.shape:
                    raise RuntimeError(
                        f"{node.name}.backward returned a gradient of shape {g.shape} "
                        f"for an input of shape {parent.data.shape}")
                slots = pending.get(pnode)
                if slots is None:
                    slots = pending[pnode] = [None] * len(pnode._out_meta)
                k = parent._out_idx
                slots[k] = g if slots[k] is None else slots[k] + g
            if not retain_graph:
                node._freed = True
                node._saved = ()
    finally:
        grad_mode.mode.enabled = prev


_py_run_backward = run_backward


def use_compiled(flag=True):
    """Switches between the compiled engine (fastnn/_bind/engine.pxi, the
    default) and this pure-Python reference engine: ``Function.apply`` and
    ``run_backward`` both.  Returns whether the compiled engine is now in use.

    The two compute the same gradients; the compiled one also hands a fresh
    gradient array that only the engine holds to a leaf's ``.grad`` without
    copying it.  ``FASTNN_PY_ENGINE=1`` in the environment selects the Python
    engine at import."""
    global run_backward
    from .function import Function, _py_apply
    from .. import _core
    fast = bool(flag) and hasattr(_core, "function_apply")
    if fast:
        Function.apply = classmethod(_core.function_apply)
        run_backward = _core.run_backward
    else:
        Function.apply = classmethod(_py_apply)
        run_backward = _py_run_backward
    return fast


def _install(tensor_cls):
    """Called once by fastnn.tensor when the Tensor class exists."""
    import os
    from .. import _core
    if hasattr(_core, "_engine_setup"):
        _core._engine_setup(tensor_cls, grad_mode.mode)
    use_compiled(os.environ.get("FASTNN_PY_ENGINE", "") in ("", "0"))
    if hasattr(_core, "buffer_cache") and os.environ.get("FASTNN_BUFFER_CACHE", "") in ("", "1"):
        _core.buffer_cache(True)
