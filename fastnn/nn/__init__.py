"""Neural-network layers (``fastnn.nn``)."""
from . import functional, init, utils
from . import parameter
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _mods
from . import parallel
from . import attention
from .parallel import DataParallel

__all__ = ["functional", "init", "utils", "parameter", "Parameter", "Buffer",
           "UninitializedParameter", "UninitializedBuffer", "parallel",
           "DataParallel"] + list(_mods)
