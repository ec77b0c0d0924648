"""Neural-network layers (``fastnn.nn``)."""
from . import functional, init, utils
from .parameter import Parameter
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _mods

__all__ = ["functional", "init", "utils", "Parameter"] + list(_mods)
