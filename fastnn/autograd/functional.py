"""``torch.autograd.functional``: Jacobians, Hessians and the products with
them of a function of Tensors, computed by reverse mode (``autograd.grad``,
with ``create_graph=True`` where a second derivative is needed).

``inputs`` is a Tensor or a tuple of Tensors; results follow PyTorch's
nesting: a Tensor where ``inputs`` (or the output) is a single Tensor, a
tuple otherwise.  ``jvp`` and ``hvp`` use the double-backward trick (the
gradient of a vector-Jacobian product with respect to the vector), as
PyTorch's reverse-mode implementations do.
"""
import numpy as np

from .._tensor import Tensor
from . import grad as _grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x, name, fn):
    if isinstance(x, Tensor):
        return False, (x,)
    if isinstance(x, (tuple, list)) and all(isinstance(t, Tensor) for t in x):
        return True, tuple(x)
    raise TypeError(f"The {name} given to {fn} must be either a Tensor or a tuple of Tensors "
                    f"but the given {name} has type {type(x).__name__}.")


def _prepare(inputs, create_graph):
    """The inputs as fresh differentiable Tensors (detached copies of the
    graph unless create_graph keeps them connected)."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(True))
    return tuple(out)


def _grads(outputs, inputs, grad_outputs, create_graph, strict, fn):
    outs = [o for o in outputs]
    gouts = [g for g in grad_outputs]
    live = [(o, g) for o, g in zip(outs, gouts) if o.requires_grad]
    if not live:
        res = [None] * len(inputs)
    else:
        res = list(_grad([o for o, _ in live], inputs, [g for _, g in live],
                         retain_graph=True, create_graph=create_graph, allow_unused=True))
    final = []
    for i, (g, t) in enumerate(zip(res, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode.")
            g = Tensor._wrap(np.zeros(t._array.shape, t._array.dtype))
        elif not create_graph:
            g = g.detach()
        final.append(g)
    return tuple(final)


def _check_v(v, like, name, fn):
    _, vs = _as_tuple(v, name, fn)
    if len(vs) != len(like):
        raise RuntimeError(f"{fn}: v has {len(vs)} Tensors, expected {len(like)}")
    for a, b in zip(vs, like):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"{fn}: v has a Tensor of shape {tuple(a.shape)} where "
                               f"{tuple(b.shape)} is expected")
    return vs


def _ones_for(outputs, fn):
    for o in outputs:
        if o.numel() != 1:
            raise RuntimeError(f"{fn}: The vector v can only be None if the user-provided "
                               "function returns a single Tensor with a single element.")
    return tuple(Tensor._wrap(np.ones(o._array.shape, o._array.dtype)) for o in outputs)


def _detach(ts, create_graph):
    return tuple(t if create_graph else t.detach() for t in ts)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", "vjp")
        vs = _ones_for(outs, "vjp") if v is None else _check_v(v, outs, "v", "vjp")
        res = _grads(outs, ins, vs, create_graph, strict, "vjp")
    outs = _detach(outs, create_graph)
    return (outs if out_tuple else outs[0]), (res if in_tuple else res[0])


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by differentiating
    the vector-Jacobian product with respect to its vector."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "jvp")
    if v is None:
        if any(t.numel() != 1 for t in ins):
            raise RuntimeError("jvp: The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        vs = tuple(Tensor._wrap(np.ones(t._array.shape, t._array.dtype)) for t in ins)
    else:
        vs = _check_v(v, ins, "v", "jvp")
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", "jvp")
        us = tuple(Tensor._wrap(np.zeros(o._array.shape, o._array.dtype)).requires_grad_(True)
                   for o in outs)
        gin = _grads(outs, ins, us, True, strict, "jvp")
        live = [(g, w) for g, w in zip(gin, vs) if g.requires_grad]
        if live:
            res = _grad([g for g, _ in live], us, [w for _, w in live],
                        retain_graph=True, create_graph=create_graph, allow_unused=True)
        else:
            res = (None,) * len(us)
        res = tuple(Tensor._wrap(np.zeros(u._array.shape, u._array.dtype)) if r is None
                    else (r if create_graph else r.detach()) for r, u in zip(res, us))
    outs = _detach(outs, create_graph)
    return (outs if out_tuple else outs[0]), (res if out_tuple else res[0])


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of func at inputs: for each output and input, a Tensor of
    shape output.shape + input.shape (one reverse pass per output element)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function",
                                    "jacobian")
        jac = []
        for o in outs:
            rows = [[] for _ in ins]
            flat = o.reshape(-1)
            for j in range(flat.numel()):
                gs = _grads((flat[j],), ins, (Tensor._wrap(np.ones((), o._array.dtype)),),
                            create_graph, strict, "jacobian")
                for k, g in enumerate(gs):
                    rows[k].append(g)
            per_in = []
            for k, t in enumerate(ins):
                if rows[k]:
                    from .. import stack
                    J = stack(rows[k], 0).reshape(tuple(o.shape) + tuple(t.shape))
                else:
                    J = Tensor._wrap(np.zeros(tuple(o.shape) + tuple(t.shape), t._array.dtype))
                per_in.append(J)
            jac.append(tuple(per_in) if in_tuple else per_in[0])
    return tuple(jac) if out_tuple else jac[0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar func: the Jacobian of its gradient."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor "
                               "with a single element")
        return _grads((out.reshape(()),), xs, (Tensor._wrap(np.ones((), out._array.dtype)),),
                      True, strict, "hessian")

    h = jacobian(gradient, ins, create_graph=create_graph, strict=strict)
    if not in_tuple:
        return h[0][0]
    return h


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar func."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "vhp")
    vs = _check_v(v, ins, "v", "vhp") if v is not None else _ones_for(ins, "vhp")
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out = func(*ins)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to vhp should return a single Tensor with "
                               "a single element")
        g = _grads((out,), ins, (Tensor._wrap(np.ones(out._array.shape, out._array.dtype)),),
                   True, strict, "vhp")
        res = _grads(g, ins, vs, create_graph, strict, "vhp")
    out = out if create_graph else out.detach()
    return out, (res if in_tuple else res[0])


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar func (H is symmetric: the same as vhp)."""
    out, res = vhp(func, inputs, v, create_graph, strict)
    return out, res
