"""Weight normalisation (PyTorch's ``torch.nn.utils.weight_norm``):
``w = g * v / ||v||`` with the norm over every dim but ``dim``; the module's
``<name>`` parameter is replaced by ``<name>_g`` and ``<name>_v`` and the
weight is recomputed (a differentiable function of both) before each
forward by a forward pre-hook.  As PyTorch's, it is deprecated in favour of
``nn.utils.parametrizations.weight_norm`` (a FutureWarning on each call)."""
import warnings

from ..parameter import Parameter

__all__ = ["weight_norm", "remove_weight_norm"]


def _norm_except_dim(v, dim):
    """2-norm of v over every dim but ``dim`` (kept as size-1 dims); over the
    whole tensor (a 0-d result) for dim None or -1, as PyTorch."""
    if dim is None or dim == -1:
        return (v * v).sum().sqrt()
    dims = tuple(d for d in range(v.dim()) if d != dim)
    return (v * v).sum(dims, keepdim=True).sqrt() if dims else (v * v).sqrt()


class _WeightNorm:
    """The forward pre-hook recomputing ``module.<name>`` from g and v."""

    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module, args):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Applies weight normalisation to ``module.<name>`` and returns the
    module: parameters ``<name>_g`` (the norms, shape of the weight with size
    1 on every dim but ``dim``; 0-d for dim None) and ``<name>_v`` (the
    direction); ``dim=None`` normalises over the whole tensor.

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.utils.weight_norm(fastnn.nn.Linear(4, 3))
    >>> list(m.state_dict())
    ['bias', 'weight_g', 'weight_v']
    """
    warnings.warn("`fastnn.nn.utils.weight_norm` is deprecated in favor of "
                  "`fastnn.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                  stacklevel=2)
    norms = module.__dict__.setdefault("_weight_norm_hooks", {})
    if name in norms:
        raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"weight_norm: module {type(module).__name__} has no parameter "
                         f"{name!r}")
    if dim is not None and dim < -1:
        dim += weight.dim()
    fn = _WeightNorm(name, dim)
    del module._parameters[name]
    w = weight.detach()
    module.register_parameter(name + "_g", Parameter(_norm_except_dim(w, dim)))
    module.register_parameter(name + "_v", Parameter(w.clone()))
    setattr(module, name, fn.compute_weight(module))
    norms[name] = (fn, module.register_forward_pre_hook(fn))
    return module


def remove_weight_norm(module, name="weight"):
    """Removes the weight normalisation of ``module.<name>``: the current
    weight becomes a Parameter again; returns the module."""
    norms = module.__dict__.get("_weight_norm_hooks", {})
    if name not in norms:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    fn, handle = norms.pop(name)
    weight = fn.compute_weight(module).detach()
    handle.remove()
    object.__getattribute__(module, "__dict__").pop(name, None)
    del module._parameters[name + "_g"]
    del module._parameters[name + "_v"]
    module.register_parameter(name, Parameter(weight))
    return module
