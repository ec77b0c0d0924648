"""``fastnn.utils``: what PyTorch programs import from ``torch.utils``.

``fastnn.utils.data`` (datasets, samplers, the ``DataLoader``) and
``fastnn.utils.hooks`` (``RemovableHandle``) and ``fastnn.utils.checkpoint``
(``checkpoint``, ``checkpoint_sequential``).  The submodules load on first
use, so ``import fastnn`` stays light.
"""
import importlib as _importlib

__all__ = ["data", "hooks", "checkpoint"]


def __getattr__(name):
    if name in __all__:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
