"""Small helpers shared by the distributions added after the first set:
``expand``'s instance check, value conversion, dtype limits."""
import numpy as np

import fastnn

from .._tensor import Tensor

__all__ = ["checked_instance", "as_value", "finfo", "EULER"]

EULER = 0.57721566490153286060


def checked_instance(self, cls, _instance):
    """The object ``expand`` fills: ``_instance`` when a subclass passes one,
    else a bare instance of ``type(self)``.  A subclass with its own
    ``__init__`` must define ``expand`` (as in PyTorch)."""
    if _instance is None and type(self).__init__ != cls.__init__:
        raise NotImplementedError(
            f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
            "__init__ method must also define a custom .expand() method.")
    return type(self).__new__(type(self)) if _instance is None else _instance


def as_value(value, like):
    """``value`` as a Tensor of ``like``'s dtype when it is a number or an
    array (PyTorch's ``torch.as_tensor(value, dtype=...)``); Tensors pass."""
    if isinstance(value, Tensor):
        return value
    return fastnn.tensor(np.asarray(value, dtype=like._array.dtype))


def finfo(t):
    """``np.finfo`` of a floating Tensor's dtype."""
    return np.finfo(t._array.dtype)
