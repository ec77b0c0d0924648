"""``torch.nn.utils.prune``: masking parameters to zero.

Pruning ``name`` of a module moves the parameter to ``name + "_orig"``,
adds a buffer ``name + "_mask"`` (1 keep, 0 pruned), and sets ``name`` to
``orig * mask`` before every forward (a forward pre-hook), so gradients
reach the original parameter through the mask, as in PyTorch.  Pruning
the same parameter again combines the masks (a ``PruningContainer``): the
new method sees only the entries still kept.  ``remove`` makes the pruning
permanent.  As in PyTorch, ``compute_mask(t, default_mask)`` receives and
returns Tensors, so a custom method written for torch (``mask =
default_mask.clone(); mask.view(-1)[::2] = 0``) runs unchanged; the built-in
methods compute in NumPy.  Random methods use fastnn's generator (``manual_seed``
reproduces fastnn runs); ties among equal magnitudes may be broken
differently from PyTorch.
"""
import numbers
from abc import ABC, abstractmethod

import numpy as np

from ..._tensor import Tensor
from ...random import _numpy_generator

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
           "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask",
           "identity", "random_unstructured", "l1_unstructured", "random_structured",
           "ln_structured", "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


def _validate_amount(amount):
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and (amount > 1.0 or amount < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or "
                         "a non-negative integer")


def _validate_vs_size(amount, n):
    if isinstance(amount, numbers.Integral) and amount > n:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters "
                         f"to prune={n}")


def _count(amount, n):
    """How many of n entries to prune (a fraction is rounded, as PyTorch)."""
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return int(round(amount * n))


def _arr(t):
    return t._array if isinstance(t, Tensor) else np.asarray(t)


def _ten(a):
    """A Tensor for compute_mask's arguments and results (Tensors pass)."""
    return a if isinstance(a, Tensor) else Tensor._wrap(np.ascontiguousarray(a))


class BasePruningMethod(ABC):
    """A way to compute a mask; subclasses set ``PRUNING_TYPE``
    ('unstructured', 'structured' or 'global') and ``compute_mask``."""
    _tensor_name = None
    PRUNING_TYPE = "unstructured"

    def __call__(self, module, inputs):
        object.__setattr__(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask (a Tensor of t's shape) given the importance scores
        t and the mask already applied (Tensors)."""

    def apply_mask(self, module):
        """The pruned tensor: ``name_orig * name_mask`` (with its graph)."""
        name = self._tensor_name
        orig = getattr(module, name + "_orig")
        mask = getattr(module, name + "_mask")
        return orig * mask.to(orig.dtype)

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prunes ``module.name`` with this method (combining with earlier
        prunings of it) and returns the method instance."""
        old = None
        hooks = module.__dict__.get("_forward_pre_hooks") or {}
        found = 0
        for k, hook in list(hooks.items()):
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                old = hook
                del hooks[k]
                found += 1
        if found > 1:
            raise RuntimeError(f"More than one pruning hook on {name}")
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old is not None:
            container = old if isinstance(old, PruningContainer) else PruningContainer(old)
            container.add_pruning_method(method)
            method = container
        orig = getattr(module, name)
        scores = orig if importance_scores is None else importance_scores
        if tuple(_arr(scores).shape) != tuple(_arr(orig).shape):
            raise ValueError(f"importance_scores should have the same shape as parameter "
                             f"{name} of {module}")
        if old is None:
            module.register_parameter(name + "_orig", orig)
            module._parameters.pop(name, None)
            default = np.ones(_arr(orig).shape, _arr(orig).dtype)
        else:
            default = _arr(getattr(module, name + "_mask")).copy()
        try:
            mask = method.compute_mask(_ten(scores), default_mask=_ten(default))
        except Exception:
            if old is None:          # as PyTorch: the parameter goes back unpruned
                module._parameters.pop(name + "_orig", None)
                module.register_parameter(name, orig)
            raise
        module.register_buffer(name + "_mask",
                               Tensor._wrap(np.asarray(_arr(mask), _arr(orig).dtype)))
        object.__setattr__(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """t with this method's mask applied (no module involved)."""
        a = _arr(t)
        scores = a if importance_scores is None else _arr(importance_scores)
        dm = np.ones(a.shape, a.dtype) if default_mask is None else _arr(default_mask)
        mask = self.compute_mask(_ten(scores), default_mask=_ten(dm))
        return t * Tensor._wrap(np.asarray(_arr(mask), a.dtype))

    def remove(self, module):
        """Makes the pruning permanent: ``name`` becomes a parameter holding
        ``orig * mask``; ``name_orig`` and ``name_mask`` go."""
        name = self._tensor_name
        if name is None:
            raise RuntimeError(f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        module.__dict__.pop(name, None)
        orig = module._parameters[name + "_orig"]
        orig._array = np.ascontiguousarray(weight._array)
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        module.register_parameter(name, orig)


class PruningContainer(BasePruningMethod):
    """Successive prunings of one parameter: each new mask is computed on the
    entries (unstructured) or slices (structured) the earlier ones kept."""

    def __init__(self, *args):
        self._pruning_methods = tuple()
        if len(args) == 1 and not isinstance(args[0], tuple):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for m in (args[0] if len(args) == 1 else args):
                self.add_pruning_method(m)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, i):
        return self._pruning_methods[i]

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        kind = method.PRUNING_TYPE
        t, default_mask = _arr(t), _arr(default_mask)
        new = np.array(default_mask, copy=True)
        if kind == "unstructured":
            keep = default_mask == 1
            part = method.compute_mask(_ten(t[keep]), default_mask=_ten(default_mask[keep]))
            new[keep] = _arr(part) * default_mask[keep]
        elif kind == "structured":
            dim = method.dim if method.dim >= 0 else method.dim + t.ndim
            axes = tuple(i for i in range(t.ndim) if i != dim)
            alive = np.flatnonzero(default_mask.sum(axis=axes) != 0)
            sl = [slice(None)] * t.ndim
            sl[dim] = alive
            sl = tuple(sl)
            part = method.compute_mask(_ten(t[sl]), default_mask=_ten(default_mask[sl]))
            new[sl] = _arr(part) * default_mask[sl]
        elif kind == "global":
            new = _arr(method.compute_mask(_ten(t), default_mask=_ten(default_mask))) * default_mask
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")
        return _ten(new.astype(default_mask.dtype, copy=False))


class Identity(BasePruningMethod):
    """Prunes nothing (a mask of ones)."""
    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return _ten(default_mask)

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


def _drop_lowest(scores, amount, default_mask):
    """default_mask with the entries of the ``amount`` lowest scores zeroed."""
    _validate_vs_size(amount, scores.size)
    k = _count(amount, scores.size)
    mask = np.array(default_mask, copy=True)
    if k:
        mask.reshape(-1)[np.argsort(scores, kind="stable")[:k]] = 0
    return mask


def _slices(t, dim, amount):
    """(dim normalised, the number of slices along it to prune)."""
    if t.ndim <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional "
                         f"tensors. Found tensor of shape {tuple(t.shape)} with {t.ndim} dims")
    d = dim % t.ndim
    _validate_vs_size(amount, t.shape[d])
    return d, _count(amount, t.shape[d])


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` entries at random."""
    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        t, default_mask = _arr(t), _arr(default_mask)
        return _ten(_drop_lowest(_numpy_generator(None).random(t.size), self.amount,
                                 default_mask))

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` entries of smallest magnitude."""
    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        t, default_mask = _arr(t), _arr(default_mask)
        return _ten(_drop_lowest(np.abs(t).reshape(-1), self.amount, default_mask))

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _channel_mask(t, dim, drop):
    mask = np.ones(t.shape, t.dtype)
    sl = [slice(None)] * t.ndim
    sl[dim] = drop
    mask[tuple(sl)] = 0
    return mask


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` whole slices along ``dim`` at random."""
    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _validate_amount(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t, default_mask):
        t, default_mask = _arr(t), _arr(default_mask)
        d, k = _slices(t, self.dim, self.amount)
        drop = np.argsort(_numpy_generator(None).random(t.shape[d]), kind="stable")[:k]
        return _ten(_channel_mask(t, d, drop) * default_mask)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` slices along ``dim`` of smallest L``n`` norm."""
    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _validate_amount(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t, default_mask):
        t, default_mask = _arr(t), _arr(default_mask)
        d, k = _slices(t, self.dim, self.amount)
        axes = tuple(i for i in range(t.ndim) if i != d)
        a = np.abs(t.astype(np.float64))
        p = self.n
        if p in ("fro", 2):
            norms = np.sqrt((a * a).sum(axis=axes))
        elif p == np.inf or p == float("inf"):
            norms = a.max(axis=axes)
        elif p == -np.inf or p == float("-inf"):
            norms = a.min(axis=axes)
        elif p == 0:
            norms = (a != 0).sum(axis=axes).astype(np.float64)
        else:
            norms = (a ** p).sum(axis=axes) ** (1.0 / p)
        drop = np.argsort(norms, kind="stable")[:k]
        return _ten(_channel_mask(t, d, drop) * default_mask)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Applies a given mask."""
    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        m, default_mask = _arr(self.mask), _arr(default_mask)
        if m.shape != default_mask.shape:
            raise ValueError(f"mask of shape {m.shape} does not match the parameter's "
                             f"{default_mask.shape}")
        return _ten(default_mask * m.astype(default_mask.dtype))

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    """Registers the pruning machinery on ``module.name`` without pruning."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prunes the (module, name) pairs together: ``pruning_method`` (an
    unstructured method class) decides on all their entries at once."""
    params = list(parameters)
    if not params or not all(isinstance(p, tuple) and len(p) == 2 for p in params):
        raise TypeError("global_unstructured(): parameters must be an iterable of "
                        "(module, name) tuples")
    importance_scores = importance_scores or {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be a dict")
    scores, masks = [], []
    for module, name in params:
        t = _arr(importance_scores.get((module, name), getattr(module, name)))
        scores.append(t.reshape(-1))
        m = module._buffers.get(name + "_mask")
        masks.append(np.ones(t.size, t.dtype) if m is None else _arr(m).reshape(-1))
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    vec, dmask = np.concatenate(scores), np.concatenate(masks)
    keep = dmask == 1
    final = np.array(dmask, copy=True)
    final[keep] = _arr(method.compute_mask(_ten(vec[keep]), default_mask=_ten(dmask[keep])))
    start = 0
    for (module, name), s in zip(params, scores):
        n = s.size
        custom_from_mask(module, name, mask=Tensor._wrap(final[start:start + n].reshape(
            _arr(getattr(module, name)).shape)))
        start += n


def remove(module, name):
    """Makes the pruning of ``module.name`` permanent and removes its hook."""
    hooks = module.__dict__.get("_forward_pre_hooks") or {}
    for k, hook in list(hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del hooks[k]
            module._update_call_hooks()
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     "can be removed")


def is_pruned(module):
    """True if any submodule of ``module`` has a pruning hook."""
    for _, sub in module.named_modules():
        for hook in (sub.__dict__.get("_forward_pre_hooks") or {}).values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False
