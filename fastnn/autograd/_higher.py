"""Higher-order gradients: the backward pass with ``create_graph=True``.

The compiled engine (``fastnn/_bind/autograd.pxi``) runs each node's
backward on ndarrays, so its gradients carry no graph.  With
``create_graph=True`` (``backward``, ``autograd.grad``) this engine walks
the same graph instead, in the same order, but computes each node's
gradients from Tensors with grad mode on: every operation of the backward
is recorded, and the gradients it returns can be differentiated again
(gradient penalties, Hessian-vector products, MAML, physics-informed
losses).

A built-in (``raw``) op's backward works on arrays, so each op that
supports a differentiable backward registers a *formula* in
``fastnn/autograd/_double.py``: ``formula(node, *grads) -> gradients``,
written with Tensor operations on the node's inputs (the Tensors of its
graph edges, or its saved arrays as constants) and outputs.  Ops whose
maths is long (losses, normalisations, the smooth activations) give a
*composite* instead, their forward written with simpler ops, and the
engine differentiates that (``composite``).  A user ``Function`` gets its
own ``backward`` called with Tensors, recorded like any code.  An op with
neither raises a NotImplementedError naming it.

The graph is never freed here: PyTorch's ``retain_graph`` defaults to
``create_graph``, and the second backward walks the first's nodes again.
"""
import numpy as np

from .. import _core
from .._tensor import Tensor

_FORMULAS = {}


def formula(*classes):
    """Registers ``f(node, *grads)`` as the differentiable backward of the
    Function classes given (subclasses inherit it unless they register
    their own)."""
    def deco(f):
        for c in classes:
            _FORMULAS[c] = f
        return f
    return deco


def _lookup(fn):
    if not _FORMULAS:
        from . import _double  # noqa: F401  (registers the formulas)
    for c in fn.__mro__:
        f = _FORMULAS.get(c)
        if f is not None:
            return f
    return None


# ------------------------------------------------------------------ helpers
def const(a, dtype=None):
    """A graph-less Tensor of array (or number) a."""
    if isinstance(a, Tensor):
        return a
    arr = np.asarray(a) if dtype is None else np.asarray(a, dtype=dtype)
    return Tensor._wrap(arr)


def inp(node, i, arr=None):
    """The node's i-th input as a Tensor: the graph edge when the input
    requires grad, else the array ``arr`` (what the forward saved) as a
    constant."""
    ps = node._parents
    if i < len(ps) and ps[i] is not None:
        return ps[i]
    if arr is None:
        return None
    return const(arr)


def outp(node, i, arr):
    """The node's i-th output (the saved array ``arr``) as a Tensor of the
    graph: differentiating it leads back through the node."""
    t = Tensor._wrap(arr)
    t._grad_fn = node
    t._out_idx = i
    t._requires_grad = True
    return t


def sum_to(t, shape):
    """t summed down to ``shape`` (the inverse of broadcasting)."""
    shape = tuple(shape)
    if tuple(t.shape) == shape:
        return t
    if shape == ():
        return t.sum()
    return t.sum_to_size(shape)


def _identity_cls():
    from .function import Function

    class IdentityFn(Function):
        raw = True

        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    # a composite's proxies stay in the graph its gradient records, so a
    # later create_graph pass (MAML's second inner step, a third-order
    # derivative) differentiates through them: the identity's gradient
    @formula(IdentityFn)
    def _identity_formula(node, g):
        return (g,)

    return IdentityFn


_ID = []


def _identity(t):
    if not _ID:
        _ID.append(_identity_cls())
    return _ID[0].apply(t)


def _attach_cls():
    from .function import Function

    class AttachFn(Function):
        """t, recorded as depending on x with a zero derivative."""
        raw = True

        @staticmethod
        def forward(ctx, t, x):
            ctx.x_shape, ctx.x_dtype = x.shape, x.dtype
            return t

        @staticmethod
        def backward(ctx, g):
            return g, np.zeros(ctx.x_shape, ctx.x_dtype)

    @formula(AttachFn)
    def _attach_formula(node, g):
        return g, const(np.zeros(node.x_shape, node.x_dtype))

    return AttachFn


_ATTACH = []


def attach(t, x):
    """t (a gradient built from constants: a ReLU's mask, the sign of |x|)
    made to depend on the graph Tensor x with a zero derivative, as PyTorch
    records such a gradient: it then requires grad when x does, and a
    second backward gives x (and what x came from) zeros, not None -- an
    optimiser treats a zero gradient and a missing one differently."""
    if x is None or not x.requires_grad:
        return t
    if not _ATTACH:
        _ATTACH.append(_attach_cls())
    return _ATTACH[0].apply(t, x)


def composite(node, grads, forward, arrays):
    """The gradients of ``node`` computed by differentiating ``forward`` (a
    function of one Tensor per entry of ``arrays``, the node's forward
    inputs by position, None for non-Tensor arguments) with the engine:
    the result is a graph through the node's inputs."""
    needs = node.needs_input_grad
    args, proxies, where = [], [], []
    for i, a in enumerate(arrays):
        if a is None:
            args.append(None)
            continue
        if i < len(needs) and needs[i] and inp(node, i) is not None:
            p = _identity(inp(node, i))
            proxies.append(p)
            where.append(i)
            args.append(p)
        else:
            args.append(const(a))
    out = forward(*args)
    outs = out if isinstance(out, tuple) else (out,)
    roots, gs = [], []
    for o, g in zip(outs, grads):
        if o is not None and g is not None and o.requires_grad:
            roots.append(o)
            gs.append(g)
    res = [None] * len(needs)
    if not roots or not proxies:
        return tuple(res)
    got = run(roots, gs, proxies, stop={p._grad_fn for p in proxies})
    for i, g in zip(where, got):
        res[i] = g
    return tuple(res)


# ------------------------------------------------------------------- engine
def _toposort(roots, stop):
    """Nodes reachable from the roots, parents before children; the nodes
    in ``stop`` are included but not expanded."""
    order, seen = [], set()
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(() if root in stop else root._parents))]
        while stack:
            node, it = stack[-1]
            for p in it:
                if p is None:
                    continue
                gf = p._grad_fn
                if gf is not None and gf not in seen:
                    seen.add(gf)
                    stack.append((gf, iter(() if gf in stop else gf._parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def _add(a, b):
    return b if a is None else a + b


def _as_tensor(g, like):
    if g is None:
        return None
    if not isinstance(g, Tensor):
        g = const(g)
    if g._array.dtype != like._array.dtype:
        g = g.to(like._array.dtype)
    return g


class _Walk:
    def __init__(self, inputs):
        self.pending = {}
        self.leaf_sums = {}            # id(leaf) -> (leaf, summed gradient)
        self.leaf, self.inner = {}, {}
        self.got = None
        if inputs is not None:
            self.got = [None] * len(inputs)
            for k, t in enumerate(inputs):
                if t._grad_fn is None:
                    self.leaf[id(t)] = k
                else:
                    self.inner[(t._grad_fn, t._out_idx)] = k

    def to_node(self, node, idx, g):
        slots = self.pending.get(node)
        if slots is None:
            slots = self.pending[node] = [None] * len(node._out_meta)
        slots[idx] = _add(slots[idx], g)

    def to_leaf(self, t, g):
        if g.shape != t._array.shape:
            raise RuntimeError(f"backward: gradient of shape {tuple(g.shape)} does not match "
                               f"the tensor's shape {tuple(t._array.shape)}")
        if self.got is not None:
            k = self.leaf.get(id(t))
            if k is not None:
                self.got[k] = _add(self.got[k], g)
            return
        # summed over the leaf's uses; hooks and accumulation once, at the
        # end (PyTorch's AccumulateGrad: one call with the total)
        cur = self.leaf_sums.get(id(t))
        self.leaf_sums[id(t)] = (t, g if cur is None else _add(cur[1], g))

    def finish(self, inputs):
        """The leaves' hooks and accumulation (or, for captured leaves, their
        tensor hooks), once each."""
        for t, g in self.leaf_sums.values():
            for hook in tuple(t._hooks or ()):
                r = hook(g)
                if r is not None:
                    g = _as_tensor(r, t)
            t._grad = g if t._grad is None else t._grad + g
            for hook in tuple(t._post_accumulate_grad_hooks or ()):
                hook(t)
        if self.got is not None:
            for k, t in enumerate(inputs):
                if t._grad_fn is None and t._hooks and self.got[k] is not None:
                    g = self.got[k]
                    for hook in tuple(t._hooks):
                        r = hook(g)
                        if r is not None:
                            g = _as_tensor(r, t)
                    self.got[k] = g

    def send(self, parent, g):
        g = _as_tensor(g, parent)
        if parent._grad_fn is None:
            self.to_leaf(parent, g)
        else:
            if tuple(g.shape) != parent._array.shape:
                raise RuntimeError(f"backward returned a gradient of shape {tuple(g.shape)} "
                                   f"for an input of shape {parent._array.shape}")
            self.to_node(parent._grad_fn, parent._out_idx, g)


def _node_grads(node, gouts):
    """One node's input gradients as Tensors with their graph."""
    if node._freed:
        raise RuntimeError("Trying to backward through the graph a second time; specify "
                           "retain_graph=True on the first backward")
    # hooks and retain_grad first: an output no gradient reached shows None
    if node._hooks is not None:
        for i, hooks in node._hooks.items():
            for hook in tuple(hooks):
                r = hook(gouts[i])
                if r is not None:
                    gouts[i] = r if isinstance(r, Tensor) else const(r)
    if node._retained is not None:
        for i, t in node._retained.items():
            if gouts[i] is not None:      # (summed over backward calls)
                t._grad = gouts[i] if t._grad is None else t._grad + gouts[i]
    if not node._no_materialize:
        for i, m in enumerate(node._out_meta):
            if gouts[i] is None and m is not None:
                gouts[i] = const(np.zeros(m[0], m[1]))
    fn = node._fn
    if not fn.raw:
        r = fn.backward(node, *gouts)
    else:
        f = _lookup(fn)
        if f is None:
            raise NotImplementedError(
                f"create_graph=True: the backward of {fn.__name__} is not differentiable in "
                "fastnn yet (higher-order gradients cover the arithmetic, math, shape, "
                "reduction, matmul/linear, convolution, pooling, activation, softmax, "
                "normalisation and loss ops)")
        r = f(node, *gouts)
    if isinstance(r, (tuple, list)):
        return tuple(r)
    return (r,)


def _not_needed(order, walk):
    """The nodes of ``order`` (parents first) on no path to an input of
    ``autograd.grad``: as in PyTorch, they are not run (the graph below the
    inputs is neither differentiated again nor touched)."""
    needed = set()
    for node in order:
        for p in node._parents:
            if p is None:
                continue
            gf = p._grad_fn
            if (id(p) in walk.leaf if gf is None
                    else gf in needed or (gf, p._out_idx) in walk.inner):
                needed.add(node)
                break
    return set(order) - needed


def run(roots, grads, inputs=None, stop=frozenset()):
    """Backpropagates Tensors ``grads`` from Tensors ``roots`` recording the
    backward.  With ``inputs``, returns the gradients reaching them (None
    where none does); else accumulates into the leaves' ``.grad``."""
    w = _Walk(inputs)
    for t, g in zip(roots, grads):
        g = _as_tensor(g, t)
        if t._grad_fn is None:
            w.to_leaf(t, g)
        else:
            w.to_node(t._grad_fn, t._out_idx, g)
    order = _toposort(list(w.pending), stop)
    skip = _not_needed(order, w) if inputs is not None else ()
    prev = _core.set_grad_enabled_flag(True)
    try:
        for node in reversed(order):
            gouts = w.pending.pop(node, None)
            if gouts is None:
                continue
            if w.inner:
                for i, g in enumerate(gouts):
                    k = w.inner.get((node, i))
                    if k is not None and g is not None:
                        w.got[k] = _add(w.got[k], g)
            if node in stop or node in skip:
                continue
            res = _node_grads(node, gouts)
            parents = node._parents
            if len(res) < len(parents) and any(p is not None for p in parents[len(res):]):
                raise RuntimeError(f"function {node.name()} returned {len(res)} "
                                   f"gradients, expected {len(parents)}")
            for p, g in zip(parents, res):
                if p is not None and g is not None:
                    w.send(p, g)
        w.finish(inputs)
    finally:
        _core.set_grad_enabled_flag(prev)
    return w.got
