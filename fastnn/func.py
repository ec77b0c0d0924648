"""``torch.func``: function transforms over fastnn's autograd.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd`` and
``hessian`` are built on ``autograd.grad`` with ``create_graph=True``, so
they nest (``grad(grad(f))``) and compose with ``functional_call``.
``vmap`` maps a function over a batch dimension by calling it once per
slice and stacking the results: the same numbers as PyTorch's vectorised
map for the functions it accepts (pure functions of their inputs), at the
cost of a Python loop.  ``functional_call`` runs a module with some of its
parameters and buffers replaced; ``stack_module_state`` stacks the states
of identical modules (for ``vmap`` over model ensembles).
"""
import contextlib

import numpy as np

from ._tensor import Tensor

__all__ = ["functional_call", "stack_module_state", "grad", "grad_and_value", "vjp", "jvp",
           "jacrev", "jacfwd", "hessian", "vmap", "functionalize"]

_LEVEL = [0]       # nesting depth of the gradient transforms


@contextlib.contextmanager
def _level():
    """One level deeper, with grad mode on: as in PyTorch, a transform
    ignores an outer ``no_grad`` (a ``no_grad`` inside the function still
    holds, being entered later)."""
    from .autograd import enable_grad
    _LEVEL[0] += 1
    try:
        with enable_grad():
            yield
    finally:
        _LEVEL[0] -= 1


# ------------------------------------------------------------------ pytrees
def _flatten(tree):
    """The Tensors of a nested tuple/list/dict, and a function rebuilding
    the structure from a list of replacements."""
    if isinstance(tree, Tensor):
        return [tree], lambda xs: xs[0]
    if isinstance(tree, (tuple, list)):
        parts = [_flatten(t) for t in tree]
        sizes = [len(p[0]) for p in parts]

        def build(xs):
            out, k = [], 0
            for (_, b), n in zip(parts, sizes):
                out.append(b(xs[k:k + n]))
                k += n
            return type(tree)(out) if not hasattr(tree, "_fields") else type(tree)(*out)
        return [x for p in parts for x in p[0]], build
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [_flatten(tree[k]) for k in keys]
        sizes = [len(p[0]) for p in parts]

        def build_d(xs):
            out, k = {}, 0
            for key, (_, b), n in zip(keys, parts, sizes):
                out[key] = b(xs[k:k + n])
                k += n
            return out
        return [x for p in parts for x in p[0]], build_d
    return [], lambda xs: tree


# --------------------------------------------------------- functional_call
@contextlib.contextmanager
def _swapped(module, tensors, strict):
    """The module with the named parameters/buffers replaced by tensors."""
    saved = []
    names = dict(module.named_parameters(remove_duplicate=False))
    names.update(dict(module.named_buffers(remove_duplicate=False)))
    if strict:
        missing = sorted(set(names) - set(tensors))
        unexpected = sorted(set(tensors) - set(names))
        if missing or unexpected:
            raise RuntimeError(f"functional_call: missing keys {missing}, unexpected keys "
                               f"{unexpected}")
    try:
        for full, t in tensors.items():
            *path, leaf = full.split(".")
            m = module
            for p in path:
                m = getattr(m, p)
            for reg in ("_parameters", "_buffers"):
                d = m.__dict__[reg]
                if leaf in d:
                    saved.append((d, leaf, d[leaf]))
                    d[leaf] = t if isinstance(t, Tensor) or t is None else Tensor(t)
                    break
            else:
                saved.append((m.__dict__, leaf, m.__dict__.get(leaf, _MISSING)))
                m.__dict__[leaf] = t
        yield module
    finally:
        for d, k, v in reversed(saved):
            if v is _MISSING:
                d.pop(k, None)
            else:
                d[k] = v


_MISSING = object()


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the parameters and buffers named in
    the dict(s) replaced by the given tensors for this call only."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        merged = dict(dicts)
    else:
        merged = {}
        for d in dicts:
            dup = set(merged) & set(d)
            if dup:
                raise ValueError(f"{sorted(dup)[0]} appeared in multiple dictionaries; "
                                 "behavior of functional call is ambiguous")
            merged.update(d)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, merged, strict):
        return module(*args, **(kwargs or {}))


def stack_module_state(models):
    """(params, buffers): each name's tensors from the models stacked along a
    new leading dim (the parameters as leaves that require grad)."""
    from . import stack
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({type(m) for m in models}) != 1 or len({m.training for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class "
                           "and in the same mode (train or eval).")
    params = {k: stack([dict(m.named_parameters())[k].detach() for m in models])
              .requires_grad_(any(dict(m.named_parameters())[k].requires_grad
                                  for m in models))
              for k, _ in models[0].named_parameters()}
    buffers = {k: stack([dict(m.named_buffers())[k] for m in models])
               for k, _ in models[0].named_buffers()}
    return params, buffers


# ------------------------------------------------------ gradient transforms
def _argnums(argnums, n):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for a in nums:
        if not isinstance(a, int) or not -n <= a < n:
            raise RuntimeError(f"Got argnums={argnums} but only {n} positional inputs")
    return single, tuple(a % n for a in nums)


def _track(x):
    """x as a differentiable input of this level: connected to the outer
    levels' graphs when it already requires grad."""
    if not isinstance(x, Tensor):
        raise TypeError(f"expected Tensor inputs to differentiate, got {type(x).__name__}")
    from .autograd import enable_grad
    with enable_grad():
        return x.view_as(x) if x.requires_grad else x.detach().requires_grad_(True)


def _reaches_outer(t, fresh):
    """Whether t's graph reaches a tensor requiring grad that the transform
    did not make itself (a parameter, an input that already required grad):
    then t belongs to the caller's graph, as PyTorch's transforms leave it."""
    own = {id(f) for f in fresh}
    seen = set()
    todo = [t.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        for p in getattr(node, "_parents", None) or ():
            if p is None:
                continue
            if p._grad_fn is None:
                if id(p) not in own:
                    return True
            else:
                todo.append(p._grad_fn)
    return False


def _finish(t, fresh=(), grad_on=False):
    """A transform's result as the caller sees it: inside another transform,
    as it is; at the top level, attached to the caller's graph when grad
    mode is on there and t depends on what requires grad in it (gradient
    penalties, MAML), else detached."""
    if _LEVEL[0] != 0 or not isinstance(t, Tensor):
        return t
    if grad_on and t.requires_grad and _reaches_outer(t, fresh):
        return t
    return t.detach()


def _finish_tree(tree, fresh=(), grad_on=False):
    leaves, build = _flatten(tree)
    return build([_finish(t, fresh, grad_on) for t in leaves])


def _fresh(tracked):
    """The leaves _track made (inputs that did not require grad)."""
    return [t for t in tracked if t.grad_fn is None]


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of func's scalar output with respect to
    the argnums inputs, func's output)."""
    from . import autograd

    def wrapper(*args, **kwargs):
        grad_on = autograd.is_grad_enabled()
        single, nums = _argnums(argnums, len(args))
        args = list(args)
        flat_in = {}
        for a in nums:
            leaves, build = _flatten(args[a])
            tracked = [_track(t) for t in leaves]
            flat_in[a] = (tracked, build)
            args[a] = build(tracked)
        with _level():
            out = func(*args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should "
                                       "be a tuple: (output, aux) if has_aux is True")
                out, aux = out
            if not isinstance(out, Tensor) or out.numel() != 1 or out.ndim != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   "scalar Tensor, got "
                                   + (f"tensor with {out.ndim} dims" if isinstance(out, Tensor)
                                      else type(out).__name__))
            inputs = [t for a in nums for t in flat_in[a][0]]
            if out.requires_grad:
                gs = autograd.grad(out, inputs, create_graph=True, allow_unused=True,
                                   materialize_grads=True)
            else:
                gs = tuple(Tensor._wrap(np.zeros(t._array.shape, t._array.dtype))
                           for t in inputs)
        fresh = _fresh(inputs)
        res, k = [], 0
        for a in nums:
            tracked, build = flat_in[a]
            res.append(build([_finish(g, fresh, grad_on) for g in gs[k:k + len(tracked)]]))
            k += len(tracked)
        g = res[0] if single else tuple(res)
        value = _finish(out, fresh, grad_on)
        if has_aux:
            return g, (value, _finish_tree(aux, fresh, grad_on))
        return g, value
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a scalar function with respect to its argnums inputs."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn): vjp_fn(cotangents) gives the
    vector-Jacobian products with respect to each primal."""
    from . import autograd
    grad_on = autograd.is_grad_enabled()
    tracked = []
    builds = []
    for p in primals:
        leaves, build = _flatten(p)
        tr = [_track(t) for t in leaves]
        tracked.append(tr)
        builds.append(build)
    with _level():
        out = func(*[b(t) for b, t in zip(builds, tracked)])
    aux = None
    if has_aux:
        out, aux = out
    outs, _ = _flatten(out)
    inputs = [t for tr in tracked for t in tr]
    fresh = _fresh(inputs)

    def vjp_fn(cotangents):
        fn_grad_on = autograd.is_grad_enabled()
        cts, _ = _flatten(cotangents)
        if len(cts) != len(outs):
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function ({len(outs)} "
                               f"Tensors, got {len(cts)})")
        live = [(o, c) for o, c in zip(outs, cts) if o.requires_grad]
        with _level():
            if live:
                gs = autograd.grad([o for o, _ in live], inputs, [c for _, c in live],
                                   retain_graph=True, create_graph=True, allow_unused=True,
                                   materialize_grads=True)
            else:
                gs = [Tensor._wrap(np.zeros(t._array.shape, t._array.dtype)) for t in inputs]
        res, k = [], 0
        for tr, b in zip(tracked, builds):
            res.append(b([_finish(g, fresh, fn_grad_on) for g in gs[k:k + len(tr)]]))
            k += len(tr)
        return tuple(res)

    vjp_fn._fresh = fresh
    value = _finish_tree(out, fresh, grad_on)
    return ((value, vjp_fn, _finish_tree(aux, fresh, grad_on)) if has_aux
            else (value, vjp_fn))


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), the Jacobian-vector product with tangents), by
    differentiating a vector-Jacobian product with respect to its vector."""
    from . import autograd
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be "
                           "tuples")
    if len(primals) != len(tangents):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same length")
    grad_on = autograd.is_grad_enabled()
    r = vjp(func, *primals, has_aux=has_aux)
    out = r[0]
    outs, build = _flatten(out)
    with _level():
        us = [Tensor._wrap(np.zeros(o._array.shape, o._array.dtype)).requires_grad_(True)
              for o in outs]
        gs = r[1](build(us))
        gl, _ = _flatten(gs)
        tl, _ = _flatten(tangents)
        live = [(g, t) for g, t in zip(gl, tl) if g.requires_grad]
        if live:
            jv = autograd.grad([g for g, _ in live], us, [t for _, t in live],
                               create_graph=True, allow_unused=True, materialize_grads=True)
        else:
            jv = [Tensor._wrap(np.zeros(u._array.shape, u._array.dtype)) for u in us]
    fresh = r[1]._fresh + us
    res = build([_finish(j, fresh, grad_on) for j in jv])
    return (out, res, r[2]) if has_aux else (out, res)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """The Jacobian of func with respect to its argnums inputs (one reverse
    pass per output element): shape output.shape + input.shape."""
    from . import stack

    def wrapper(*args):
        single, nums = _argnums(argnums, len(args))
        r = vjp(lambda *xs: func(*[xs[nums.index(i)] if i in nums else args[i]
                                   for i in range(len(args))]),
                *[args[i] for i in nums], has_aux=has_aux)
        out, fn = r[0], r[1]
        outs, build = _flatten(out)
        per_out = []
        for k, o in enumerate(outs):
            rows = []
            for j in range(o.numel()):
                cts = []
                for kk, oo in enumerate(outs):
                    z = np.zeros(oo._array.size, oo._array.dtype)
                    if kk == k:
                        z[j] = 1
                    cts.append(Tensor._wrap(z.reshape(oo._array.shape)))
                rows.append(fn(build(cts)))
            jac = []
            for i, a in enumerate(nums):
                leaves, b_in = _flatten(args[a])
                cols = []
                for li, leaf in enumerate(leaves):
                    if rows:
                        parts = [_flatten(row[i])[0][li] for row in rows]
                        J = stack(parts, 0).reshape(tuple(o.shape) + tuple(leaf.shape))
                    else:
                        J = Tensor._wrap(np.zeros(tuple(o.shape) + tuple(leaf.shape),
                                                  leaf._array.dtype))
                    cols.append(J)
                jac.append(b_in(cols))
            per_out.append(jac[0] if single else tuple(jac))
        result = build(per_out)
        return (result, r[2]) if has_aux else result
    return wrapper


jacfwd = jacrev


def hessian(func, argnums=0):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    return jacrev(jacrev(func, argnums), argnums)


# --------------------------------------------------------------------- vmap
def _slice(x, d, i):
    return x.select(d, i)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dimension in_dims of its inputs (None: not mapped),
    the results stacked along out_dims."""
    from . import stack
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    def wrapper(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                             f"compatible with the structure of inputs ({len(args)} inputs)")
        flat = []
        for a, d in zip(args, dims):
            leaves, build = _flatten(a)
            ds = [d] * len(leaves) if not isinstance(d, (tuple, list, dict)) else \
                _flatten_dims(d, a)
            flat.append((leaves, build, ds))
        sizes = {lf.shape[d] for leaves, _, ds in flat for lf, d in zip(leaves, ds)
                 if d is not None}
        if not sizes:
            raise ValueError("vmap(f, in_dims=...)(<inputs>): at least one input must be "
                             "mapped over (got in_dims with no non-None entry)")
        if len(sizes) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sorted(sizes)} for the mapped dimension")
        n = sizes.pop()
        results = []
        for i in range(n):
            call = []
            for leaves, build, ds in flat:
                call.append(build([lf if d is None else _slice(lf, d, i)
                                   for lf, d in zip(leaves, ds)]))
            results.append(func(*call, **kwargs))
        outs0, build_out = _flatten(results[0])
        per = [_flatten(r)[0] for r in results]
        od = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(outs0)
        stacked = [stack([p[k] for p in per], od[k]) for k in range(len(outs0))]
        return build_out(stacked)
    return wrapper


def _flatten_dims(d, a):
    if isinstance(d, dict):
        return [x for k in a for x in (_flatten_dims(d[k], a[k]) if isinstance(d[k], (
            tuple, list, dict)) else [d[k]] * len(_flatten(a[k])[0]))]
    out = []
    for dd, aa in zip(d, a):
        if isinstance(dd, (tuple, list, dict)):
            out += _flatten_dims(dd, aa)
        else:
            out += [dd] * len(_flatten(aa)[0])
    return out


def functionalize(func, *, remove="mutations"):
    """Accepted for PyTorch compatibility: fastnn runs func as it is."""
    return func
