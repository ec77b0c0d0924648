"""``LazyModuleMixin``: modules whose parameter shapes come from their first
input, as ``torch.nn.modules.lazy``.

A lazy module (``LazyLinear``, ``LazyConv2d``, ``LazyBatchNorm2d``, ...)
holds ``UninitializedParameter`` / ``UninitializedBuffer`` placeholders.
A forward pre-hook, registered by the mixin, calls
``initialize_parameters(*args, **kwargs)`` on the first call: it infers
the missing size (``in_features``, ``in_channels``, ``num_features``),
materialises the placeholders in place and runs the ordinary
``reset_parameters``; the hook is then removed and the module's class
becomes ``cls_to_become`` (``LazyLinear`` becomes ``Linear``), so after a
dry run the model is an ordinary one and an optimiser made then sees the
parameters.  ``state_dict`` before then holds the placeholders themselves;
``load_state_dict`` materialises them from the loaded shapes (the module
stays lazy until its first forward, which checks the input against them).

The hook is removed through the module's own hook dicts (by its id), so a
deep copy of an uninitialised lazy module initialises on its own.
"""
from ..parameter import is_lazy

__all__ = ["LazyModuleMixin"]


class LazyModuleMixin:
    """Mixin of the modules that infer their parameters' shapes from their
    first input (see the module docstring)."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters,
                                                               with_kwargs=True)

    def initialize_parameters(self, *args, **kwargs):
        """Infers the parameters' shapes from the input and materialises them."""
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {self.__class__.__name__}")

    def has_uninitialized_params(self):
        """Whether a parameter or buffer of this module is still uninitialised."""
        return any(is_lazy(v) for v in (*self._parameters.values(), *self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        d = module.__dict__
        handle = d.pop("_initialize_hook", None)
        if handle is not None:
            for name in ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs"):
                hooks = d.get(name)
                if hooks:
                    hooks.pop(handle.id, None)
            module._update_call_hooks()
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _replicate_for_data_parallel(self):
        raise RuntimeError("Modules with uninitialized parameters can't be used with "
                           "`DataParallel`. Run a dummy forward pass to correctly initialize "
                           "the modules")
