"""Reverse-mode automatic differentiation: ``Function``, grad mode,
``backward``, ``grad`` and ``gradcheck``.  The engine itself is compiled
(``fastnn/_bind/autograd.pxi``)."""
import numpy as np

from .. import _core
from .function import Context, Function, once_differentiable
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled, no_grad, set_grad_enabled)
from .gradcheck import gradcheck, gradgradcheck
from . import anomaly_mode
from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: F401

__all__ = ["Function", "Context", "once_differentiable", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "gradcheck", "gradgradcheck", "backward", "grad", "Variable",
           "detect_anomaly", "set_detect_anomaly"]


def __getattr__(name):
    if name == "Variable":           # legacy; defined with the Tensor (fastnn._legacy)
        from .._legacy import Variable
        return Variable
    if name in ("functional", "profiler", "graph"):
        import importlib
        return importlib.import_module(__name__ + "." + name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _seq(x):
    from .._tensor import Tensor
    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _owned(g):
    """g, or a copy when g is a root's read-only view of the caller's array
    (a gradient captured at a root)."""
    return g if g.flags.writeable else g.copy()


def _root_grads(outputs, grad_outputs, op):
    """The initial gradients: given ones converted, ones for scalars."""
    from .._tensor import _root_grad
    grads = _seq(grad_outputs)
    if grads is None:
        grads = [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"{op}: got {len(grads)} gradients for {len(outputs)} outputs")
    out = []
    for t, g in zip(outputs, grads):
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not "
                               "have a grad_fn")
        a = t._array
        if g is None:
            if a.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            out.append(np.ones(a.shape, a.dtype))
            continue
        ga = g._array if hasattr(g, "_array") else np.asarray(g)
        if ga.shape != a.shape:
            raise RuntimeError(f"{op}: mismatch in shape: grad_output has a shape of "
                               f"{tuple(ga.shape)} and output has a shape of {tuple(a.shape)}")
        out.append(_root_grad(ga, a))
    return out


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates into the leaves' ``.grad`` the gradient of ``tensors``
    (each weighted by its ``grad_tensors`` entry; omitted for scalars)."""
    outs = _seq(tensors)
    if create_graph:
        ins = _seq(inputs)
        from . import _higher
        got = _higher.run(outs, _graph_root_grads(outs, grad_tensors, "backward"), ins)
        for t, g in zip(ins or (), got or ()):
            if g is not None:
                t.grad = g if t._grad is None else t._grad + g
        return
    grads = _root_grads(outs, grad_tensors, "backward")
    if inputs is not None:
        ins = _seq(inputs)
        anomaly_mode.prepare(outs)
        got = _core.run_backward(outs, grads, bool(retain_graph), ins)
        for t, g in zip(ins, got):
            if g is not None:
                t.grad = _owned(g) if t._grad is None else t._grad._array + g
        return
    anomaly_mode.prepare(outs)
    _core.run_backward(outs, grads, bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple of
    Tensors; no ``.grad`` is touched.

    Examples
    --------
    >>> import fastnn
    >>> x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    >>> (g,) = fastnn.autograd.grad((x * x).sum(), x)
    >>> g
    tensor([2., 4.])
    """
    from .._tensor import Tensor
    if is_grads_batched:
        return _grad_batched(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    outs = _seq(outputs)
    ins = _seq(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not "
                               "require grad")
    if create_graph:
        from . import _higher
        got = _higher.run(outs, _graph_root_grads(outs, grad_outputs, "grad"), ins)
    else:
        anomaly_mode.prepare(outs)
        got = _core.run_backward(outs, _root_grads(outs, grad_outputs, "grad"),
                                 bool(retain_graph), ins)
    result = []
    for t, g in zip(ins, got):
        if g is None:
            if materialize_grads:
                g = np.zeros(t._array.shape, t._array.dtype)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is "
                                   "the desired behavior.")
            else:
                result.append(None)
                continue
        if isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(Tensor._wrap(_owned(np.asarray(g, dtype=t._array.dtype))))
    return tuple(result)


def _grad_batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """``grad(..., is_grads_batched=True)``: the first dimension of each
    grad_output is a batch; one backward per entry (the graph kept until the
    last), the gradients stacked along a new first dimension."""
    from .._tensor import Tensor
    outs = _seq(outputs)
    gos = list(_seq(grad_outputs) or [None] * len(outs))
    if len(gos) != len(outs):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                           f"got {len(gos)} grad_outputs for {len(outs)} outputs")
    sizes = set()
    for k, (o, g) in enumerate(zip(outs, gos)):
        if g is None:
            continue
        gshape = tuple(g.shape)
        if len(gshape) == 0 or gshape[1:] != tuple(o.shape):
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each "
                "grad_output as the batch dimension. The sizes of the remaining dimensions "
                "are expected to match the shape of corresponding output, but a mismatch "
                f"was detected: grad_output[{k}] has a shape of {gshape[1:]} and output[{k}] "
                f"has a shape of {tuple(o.shape)}.")
        sizes.add(gshape[0])
    if len(sizes) != 1:
        raise RuntimeError("is_grads_batched=True: the grad_outputs must be given and share "
                           "their first (batch) dimension")
    B = sizes.pop()
    keep = create_graph if retain_graph is None else retain_graph
    per = []
    for b in range(B):
        per.append(grad(outs, inputs, [None if g is None else g[b] for g in gos],
                        retain_graph=True if b < B - 1 else keep, create_graph=create_graph,
                        allow_unused=allow_unused, materialize_grads=materialize_grads))
    ins = _seq(inputs)
    result = []
    for k, t in enumerate(ins):
        col = [p[k] for p in per]
        if all(c is None for c in col):
            result.append(None)
            continue
        col = [Tensor._wrap(np.zeros(t._array.shape, t._array.dtype)) if c is None else c
               for c in col]
        from .._tensor import stack
        result.append(stack(col, 0))
    return tuple(result)


def _graph_root_grads(outputs, grad_outputs, op):
    """The initial gradients as Tensors for a backward that records its own
    graph: a given Tensor is kept as it is (it may require grad itself)."""
    from .._tensor import Tensor
    arrays = _root_grads(outputs, grad_outputs, op)
    given = _seq(grad_outputs) or [None] * len(outputs)
    return [g if isinstance(g, Tensor) and g._array.dtype == a.dtype
            else Tensor._wrap(np.array(a)) for g, a in zip(given, arrays)]
