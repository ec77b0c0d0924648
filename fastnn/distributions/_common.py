"""Small helpers shared by the distributions added after the first set:
``expand``'s instance check, value conversion, dtype limits."""
import numpy as np

import fastnn

from .._tensor import Tensor

__all__ = ["checked_instance", "as_value", "finfo", "EULER", "init_count_probs",
           "expand_count_probs"]

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


def init_count_probs(self, total_count, probs, logits):
    """Binomial-like parameters: a count and exactly one of probs / logits,
    broadcast together (the count in their dtype); returns the batch shape."""
    from .utils import broadcast_all
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    name, p = ("probs", probs) if probs is not None else ("logits", logits)
    count, param = broadcast_all(total_count, p)
    self.total_count = count.type_as(param)
    setattr(self, name, param)
    self._param = param
    return param.shape


def expand_count_probs(self, new, batch_shape):
    """``expand`` of a binomial-like distribution into ``new``."""
    from .distribution import Distribution
    shape = tuple(batch_shape)
    new.total_count = self.total_count.expand(shape)
    for name in ("probs", "logits"):
        if name in self.__dict__:
            setattr(new, name, getattr(self, name).expand(shape))
            new._param = getattr(new, name)
    Distribution.__init__(new, batch_shape, validate_args=False)
    new._validate_args = self._validate_args
    return new
