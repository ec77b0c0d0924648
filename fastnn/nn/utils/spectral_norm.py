"""Spectral normalisation: ``W / sigma(W)``, sigma the largest singular
value of W viewed as a matrix (``dim`` first, the rest flattened), estimated
by power iteration on persistent vectors u (rows) and v (columns):

    v = normalize(W^T u),  u = normalize(W v),  sigma = u . (W v)

(u and v carry no gradient).  Two forms, as in PyTorch:

* ``spectral_norm`` / ``remove_spectral_norm`` (legacy, the forward
  pre-hook mechanism of ``weight_norm``): parameter ``<name>_orig``,
  buffers ``<name>_u``, ``<name>_v``; the iteration runs before each
  forward in training mode;
* ``parametrizations.spectral_norm`` (``parametrize``): the module
  ``_SpectralNorm`` with buffers ``_u``, ``_v`` (keys
  ``parametrizations.<name>.original``, ``parametrizations.<name>.0._u``,
  ``...0._v``), 15 iterations at registration.
"""
import numpy as np

from ... import _config
from ...autograd import no_grad
from ..._tensor import Tensor
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["spectral_norm", "remove_spectral_norm"]


def _matrix(weight, dim):
    """weight as (size(dim), -1): a Tensor (differentiable) or an ndarray."""
    if dim != 0:
        perm = (dim,) + tuple(d for d in range(weight.ndim) if d != dim)
        weight = weight.permute(*perm) if isinstance(weight, Tensor) else weight.transpose(perm)
    return weight.reshape(weight.shape[0], -1)


def _normalize(a, eps):
    return a / max(float(np.sqrt((a * a).sum())), eps)


def _power_iteration(wm, u, v, n, eps, v_first):
    """n rounds on the ndarrays u, v (updated in place); wm an ndarray."""
    for _ in range(n):
        if v_first:
            v[...] = _normalize(wm.T @ u, eps)
            u[...] = _normalize(wm @ v, eps)
        else:
            u[...] = _normalize(wm @ v, eps)
            v[...] = _normalize(wm.T @ u, eps)


def _init_uv(wm, eps):
    g = _config.rng()
    h, w = wm.shape
    u = _normalize(g.standard_normal(h).astype(wm.dtype), eps).astype(wm.dtype)
    v = _normalize(g.standard_normal(w).astype(wm.dtype), eps).astype(wm.dtype)
    return u, v


def _sigma_divide(weight, wm, u, v):
    """weight / (u . (W v)) with u, v constants."""
    sigma = (Tensor._wrap(u.copy()) * (wm @ Tensor._wrap(v.copy()))).sum()
    return weight / sigma


def _default_dim(module):
    from ..modules.conv import ConvTranspose1d, ConvTranspose2d
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0


class _SpectralNormHook:
    """The legacy forward pre-hook recomputing ``module.<name>``."""

    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.n, self.dim, self.eps = name, n_power_iterations, dim, eps

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")._array
        v = getattr(module, self.name + "_v")._array
        if do_power_iteration:
            _power_iteration(_matrix(weight._array, self.dim), u, v, self.n, self.eps, True)
        return _sigma_divide(weight, _matrix(weight, self.dim), u, v)

    def __call__(self, module, args):
        setattr(module, self.name, self.compute_weight(module, module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Legacy spectral normalisation of ``module.<name>`` (a forward
    pre-hook); returns the module.

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.utils.spectral_norm(fastnn.nn.Linear(4, 3))
    >>> list(m.state_dict())
    ['bias', 'weight_orig', 'weight_u', 'weight_v']
    """
    hooks = module.__dict__.setdefault("_spectral_norm_hooks", {})
    if name in hooks:
        raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter "
                           f"{name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"spectral_norm: module {type(module).__name__} has no parameter "
                         f"{name!r}")
    if n_power_iterations < 0:
        raise ValueError(f"Expected n_power_iterations to be positive, but got "
                         f"n_power_iterations={n_power_iterations}")
    if dim is None:
        dim = _default_dim(module)
    fn = _SpectralNormHook(name, n_power_iterations, dim, eps)
    u, v = _init_uv(_matrix(weight._array, dim), eps)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", Tensor._wrap(u))
    module.register_buffer(name + "_v", Tensor._wrap(v))
    hooks[name] = (fn, module.register_forward_pre_hook(fn))
    return module


def remove_spectral_norm(module, name="weight"):
    """Removes the legacy spectral normalisation of ``module.<name>``: the
    current normalised weight becomes a Parameter again; returns the module."""
    hooks = module.__dict__.get("_spectral_norm_hooks", {})
    if name not in hooks:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    fn, handle = hooks.pop(name)
    with no_grad():
        weight = fn.compute_weight(module, False).detach()
    handle.remove()
    object.__getattribute__(module, "__dict__").pop(name, None)
    del module._parameters[name + "_orig"]
    del module._buffers[name + "_u"]
    del module._buffers[name + "_v"]
    module.register_parameter(name, Parameter(weight))
    return module


class _SpectralNorm(Module):
    """The parametrization of ``parametrizations.spectral_norm``."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            wm = _matrix(weight._array, self.dim)
            u, v = _init_uv(wm, eps)
            self.register_buffer("_u", Tensor._wrap(u))
            self.register_buffer("_v", Tensor._wrap(v))
            _power_iteration(wm, self._u._array, self._v._array, 15, eps, False)

    def forward(self, weight):
        if weight.ndim == 1:
            from ..functional import normalize
            return normalize(weight, dim=0, eps=self.eps)
        if self.training:
            _power_iteration(_matrix(weight._array, self.dim), self._u._array, self._v._array,
                             self.n_power_iterations, self.eps, False)
        return _sigma_divide(weight, _matrix(weight, self.dim), self._u._array, self._v._array)

    def right_inverse(self, value):
        return value


def _parametrized_spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12,
                                dim=None):
    """Spectral normalisation of ``module.<name>`` as a parametrization
    (``parametrizations.<name>.original``, buffers ``..._u``, ``..._v``);
    returns the module.

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.utils.parametrizations.spectral_norm(fastnn.nn.Linear(4, 3))
    >>> list(m.state_dict())[1:]
    ['parametrizations.weight.original', 'parametrizations.weight.0._u', \
'parametrizations.weight.0._v']
    """
    from . import parametrize
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = _default_dim(module)
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
