"""``fastnn.nn.utils.parametrize`` (PyTorch's ``torch.nn.utils.parametrize``):
a tensor of a module computed, on every access, from an ``original`` by a
chain of parametrization modules.

``register_parametrization(module, "weight", P)`` moves the parameter (or
buffer) into ``module.parametrizations.weight.original`` (the same
Parameter object, its value set to ``P.right_inverse(value)`` when P has
one; ``original0``, ``original1``, ... when right_inverse returns a
sequence) and gives the module a subclass ``Parametrized<Class>`` whose
``weight`` property returns ``P(original)`` (assigning to it stores
``right_inverse(value)``).  State-dict keys are PyTorch's:
``parametrizations.weight.original`` and each parametrization's own
parameters and buffers under ``parametrizations.weight.<i>.``.  Inside
``cached()`` each parametrized tensor is computed once.

The hook-style ``weight_norm`` / ``spectral_norm`` of ``fastnn.nn.utils``
(forward pre-hooks, ``weight_g`` / ``weight_orig`` keys) are PyTorch's
legacy forms and stay separate, as in PyTorch.
"""
from contextlib import contextmanager

from ...autograd import no_grad
from ..._tensor import Tensor
from ..modules.container import ModuleDict, ModuleList
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized",
           "cached", "ParametrizationList", "type_before_parametrizations",
           "transfer_parametrizations_and_params"]

_cache_enabled = 0
_cache = {}


@contextmanager
def cached():
    """Within this context each parametrized tensor is computed once (on
    first access) and reused; the cache is dropped on leaving it."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


def _set_value(t, value):
    """Sets t's value to value's, keeping t (PyTorch's ``t.set_(value)``)."""
    arr = value._array if isinstance(value, Tensor) else value
    if t._array.shape == arr.shape and t._array.dtype == arr.dtype:
        t._array[...] = arr
    else:
        t._array = arr.copy()


def _register(module, name, t):
    if isinstance(t, Parameter):
        module.register_parameter(name, t)
    else:
        module.register_buffer(name, t)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, with its ``original`` (or
    ``original0``, ``original1``, ...)."""

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for m in reversed(self):
                if hasattr(m, "right_inverse"):
                    try:
                        new = m.right_inverse(new)
                    except NotImplementedError:
                        pass         # (as PyTorch: taken as the identity here)
        if not isinstance(new, Tensor) and not isinstance(new, (list, tuple)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            with no_grad():
                _set_value(original, new)
            _register(self, "original", original)
        else:
            for i, oi in enumerate(new):
                if not isinstance(oi, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors. Got element {i} of type {type(oi).__name__}")
                if isinstance(original, Parameter):
                    oi = Parameter(oi.detach().clone(), original.requires_grad)
                _register(self, f"original{i}", oi)

    def right_inverse(self, value):
        """Stores ``value`` by running the right inverses in reverse order."""
        with no_grad():
            for m in reversed(self):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(m).__name__} does not implement "
                                       "right_inverse.")
                value = m.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got "
                                     f"{type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype "
                                     f"{value.dtype} while `original` has dtype "
                                     f"{self.original.dtype}")
                _set_value(self.original, value)
            else:
                if not isinstance(value, (list, tuple)) or len(value) != self.ntensors:
                    raise ValueError(f"'right_inverse' must return a sequence of "
                                     f"{self.ntensors} tensors")
                for i, t in enumerate(value):
                    _set_value(getattr(self, f"original{i}"), t)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in list(self)[1:]:
            x = m(x)
        return x


def _parametrized_class(cls):
    """``Parametrized<cls>``: one subclass per class, so properties added for
    one module do not leak to others (each module gets its own)."""
    return type(f"Parametrized{cls.__name__}", (cls,), {"_orig_class": cls})


def _inject_property(module, name):
    def get(self):
        plist = self.parametrizations[name]
        if _cache_enabled:
            key = (id(self), name)
            t = _cache.get(key)
            if t is None:
                t = _cache[key] = plist()
            return t
        return plist()

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)

    setattr(type(module), name, property(get, set_))


def is_parametrized(module, tensor_name=None):
    """True if ``module`` has a parametrization (on ``tensor_name`` if given)."""
    plist = module.__dict__.get("_modules", {}).get("parametrizations")
    if plist is None or not isinstance(plist, ModuleDict):
        return False
    return len(plist) > 0 if tensor_name is None else tensor_name in plist._modules


def type_before_parametrizations(module):
    """The module's class before any parametrization was registered."""
    return type(module)._orig_class if is_parametrized(module) else type(module)


def _check_unchanged(X, Y):
    """A safe parametrization keeps its tensor's dtype and shape (PyTorch's
    check and message)."""
    if not isinstance(X, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(X).__name__}.")
    if X.dtype != Y.dtype or tuple(X.shape) != tuple(Y.shape):
        raise ValueError("Registering a parametrization may not change the dtype or shape of "
                         "the tensor, unless `unsafe` flag is enabled.\n"
                         f"unparametrized dtype: {Y.dtype}\nparametrized dtype: {X.dtype}\n"
                         f"unparametrized shape: {tuple(Y.shape)}\n"
                         f"parametrized shape: {tuple(X.shape)}")


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Parametrizes ``module.<tensor_name>`` by ``parametrization`` (a
    Module taking the original tensor(s)); returns the module.

    Examples
    --------
    >>> import fastnn
    >>> class Sym(fastnn.nn.Module):
    ...     def forward(self, X):
    ...         return X.triu() + X.triu(1).transpose(-1, -2)
    >>> m = register_parametrization(fastnn.nn.Linear(3, 3), "weight", Sym())
    >>> bool((m.weight == m.weight.T).all()), list(m.state_dict())
    (True, ['bias', 'parametrizations.weight.original'])
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            Y = getattr(module, tensor_name)
            _check_unchanged(parametrization(Y), Y)
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        plist = ParametrizationList([parametrization], original, unsafe=unsafe)
        if not unsafe:
            _check_unchanged(plist(), original)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            module.__class__ = _parametrized_class(module.__class__)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = plist
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Removes the parametrizations of ``module.<tensor_name>``: it becomes a
    parameter (or buffer) again holding the parametrized value
    (``leave_parametrized=True``) or the original; returns the module."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
            with no_grad():
                _set_value(original, t.detach())
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a "
                             "tensor that is parametrized in terms of a sequence of tensors.")
        with no_grad():
            t = getattr(module, tensor_name).detach().clone()
        if any(isinstance(getattr(plist, f"original{i}"), Parameter)
               for i in range(plist.ntensors)):
            original = Parameter(t, requires_grad=bool(plist.original0.requires_grad))
        else:
            original = t
    delattr(type(module), tensor_name)
    del module.parametrizations._modules[tensor_name]
    _register(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module)._orig_class
    return module


def transfer_parametrizations_and_params(from_module, to_module, tensor_name=None):
    """Copies the parametrizations (and their originals) of ``from_module``
    onto ``to_module``; returns ``to_module``."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        plist = from_module.parametrizations[name]
        if not hasattr(to_module, name) and name not in to_module._parameters:
            setattr(to_module, name, Parameter(getattr(from_module, name).detach().clone()))
        for p in plist:
            register_parametrization(to_module, name, p, unsafe=plist.unsafe)
        with no_grad():
            if plist.is_tensor:
                _set_value(to_module.parametrizations[name].original, plist.original)
            else:
                for i in range(plist.ntensors):
                    _set_value(getattr(to_module.parametrizations[name], f"original{i}"),
                               getattr(plist, f"original{i}"))
    return to_module
