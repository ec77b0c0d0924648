"""Layer modules."""
from .activation import ReLU, Sigmoid, Tanh
from .container import Identity, ModuleDict, ModuleList, Sequential
from .flatten import Flatten
from .linear import Linear
from .module import Module, StateDictError

__all__ = ["Module", "StateDictError", "Sequential", "ModuleList", "ModuleDict", "Identity",
           "Linear", "ReLU", "Sigmoid", "Tanh", "Flatten"]
