"""``OptimizedModule``: what ``torch.compile(module)`` returns, as PyTorch
lays it out -- a module holding the original as its child ``_orig_mod``, so
``state_dict()`` keys carry the ``_orig_mod.`` prefix and ``model._orig_mod``
is the module that was compiled.  Attribute reads, writes and deletes that
are not the wrapper's own go to the original module, and ``training`` is the
original's; the call runs the original (fastnn runs eagerly, nothing is
compiled).

Examples
--------
>>> import fastnn
>>> net = fastnn.nn.Linear(2, 1)
>>> c = fastnn.compile(net)
>>> c._orig_mod is net, list(c.state_dict())
(True, ['_orig_mod.weight', '_orig_mod.bias'])
"""
from ..nn.modules.module import Module

__all__ = ["OptimizedModule"]


class OptimizedModule(Module):
    """A compiled module: ``_orig_mod`` run as it is (see the module docstring)."""

    _opt_mod_attributes = frozenset(("_orig_mod", "dynamo_ctx", "_compile_kwargs",
                                     "_super_module_initialized"))

    def __init__(self, mod, dynamo_ctx=None):
        if not isinstance(mod, Module):
            raise TypeError(f"OptimizedModule expects an nn.Module, got {type(mod).__name__}")
        object.__setattr__(self, "_super_module_initialized", False)
        super().__init__()
        object.__setattr__(self, "_super_module_initialized", True)
        self._modules["_orig_mod"] = mod
        object.__setattr__(self, "dynamo_ctx", dynamo_ctx)

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)

    @property
    def training(self):
        return self._orig_mod.training

    @training.setter
    def training(self, value):
        # Module.__init__'s default is ignored: the flag is the original's
        if self.__dict__.get("_super_module_initialized"):
            self._orig_mod.training = value

    def __getattr__(self, name):
        mods = self.__dict__.get("_modules")
        if mods is None or "_orig_mod" not in mods:
            raise AttributeError(f"'OptimizedModule' object has no attribute '{name}'")
        if name == "_orig_mod":
            return mods["_orig_mod"]
        return getattr(mods["_orig_mod"], name)

    def __setattr__(self, name, value):
        if hasattr(type(self), name) or name in self._opt_mod_attributes:
            return super().__setattr__(name, value)
        return setattr(self._orig_mod, name, value)

    def __delattr__(self, name):
        if hasattr(type(self), name) or name in self._opt_mod_attributes:
            return super().__delattr__(name)
        return delattr(self._orig_mod, name)

    def __len__(self):
        try:
            return len(self._orig_mod)
        except TypeError:
            raise TypeError(f"{type(self._orig_mod).__name__} does not support len()") from None

    def __reduce__(self):
        return (type(self), (self._orig_mod, self.dynamo_ctx))

    def __dir__(self):
        own = self._orig_mod.__dir__()
        return own + [a for a in super().__dir__() if a not in own]
