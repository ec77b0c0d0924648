"""``skip_init`` (PyTorch's ``torch.nn.utils.skip_init``)."""
import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """An instance of ``module_cls(*args, **kwargs)`` whose parameters are to
    be initialised by the caller (``device`` is dropped for classes without
    it).  fastnn has no meta device: the parameters are allocated and
    initialised as usual; their values are unspecified."""
    if not issubclass(module_cls, _Module()):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        kwargs.pop("device", None)
    return module_cls(*args, **kwargs)


def _Module():
    from ..modules.module import Module
    return Module
