"""PyTorch's legacy tensor types and ``autograd.Variable``.

``fastnn.FloatTensor``, ``DoubleTensor``, ``LongTensor``, ``IntTensor``,
``ShortTensor``, ``CharTensor``, ``ByteTensor`` and ``BoolTensor`` behave as
PyTorch's:

* ``FloatTensor([1, 2])`` / ``LongTensor(ndarray)``: the data in that dtype;
* ``FloatTensor(2, 3)`` or ``FloatTensor(fastnn.Size([2, 3]))``: a new
  tensor of that shape (PyTorch leaves it uninitialised; fastnn fills zeros);
* ``FloatTensor()``: an empty 1-D tensor;
* ``FloatTensor(t)`` for a float32 tensor ``t``: ``t`` itself; a tensor of
  another dtype raises TypeError, as in PyTorch;
* ``isinstance(x, fastnn.FloatTensor)`` holds for float32 tensors (the
  result is still a ``fastnn.Tensor``: ``type(x)`` is ``Tensor``);
* ``x.type(fastnn.LongTensor)`` converts, ``x.type()`` is ``'torch.FloatTensor'``.

Examples
--------
>>> import fastnn
>>> fastnn.LongTensor([1, 2])
tensor([1, 2])
>>> fastnn.FloatTensor(2, 3).shape
fastnn.Size([2, 3])
>>> isinstance(fastnn.ones(2), fastnn.FloatTensor)
True
"""
import numpy as np

from ._core import TensorBase
from . import _defaults
from ._tensor import (Tensor, _legacy_array, bool_, float32, float64, int8, int16, int32, int64,
                      uint8)

__all__ = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ShortTensor",
           "CharTensor", "ByteTensor", "BoolTensor", "Variable"]


class _LegacyTensorType(type):
    """Metaclass of the legacy types: construction builds a plain Tensor of
    the type's dtype; ``isinstance`` compares dtypes."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj._array.dtype == cls._fnn_legacy_dtype

    def __subclasscheck__(cls, sub):
        return isinstance(sub, _LegacyTensorType) and \
            sub._fnn_legacy_dtype == cls._fnn_legacy_dtype

    def __call__(cls, *args, device=None):
        if device is not None:
            from .device import device as _device
            _device(device)                         # the CPU only
        dt = cls._fnn_legacy_dtype
        if len(args) == 1 and isinstance(args[0], TensorBase):
            a = args[0]
            if a._array.dtype != dt:
                raise TypeError(f"expected {cls.__name__} (dtype {dt}), got a tensor of "
                                f"dtype {a._array.dtype}")
            return a
        return Tensor._wrap(_legacy_array(args, dt))     # (shared with Tensor(...))

    def __repr__(cls):
        return f"<class 'fastnn.{cls.__name__}'>"


def _legacy(name, dt):
    t = _LegacyTensorType(name, (Tensor,), {"_fnn_legacy_dtype": dt, "dtype": dt,
                                             "__module__": "fastnn",
                                             "__doc__": f"Legacy constructor for {dt} "
                                                        "tensors (see fastnn._legacy)."})
    t.__qualname__ = name
    return t


FloatTensor = _legacy("FloatTensor", float32)
DoubleTensor = _legacy("DoubleTensor", float64)
LongTensor = _legacy("LongTensor", int64)
IntTensor = _legacy("IntTensor", int32)
ShortTensor = _legacy("ShortTensor", int16)
CharTensor = _legacy("CharTensor", int8)
ByteTensor = _legacy("ByteTensor", uint8)
BoolTensor = _legacy("BoolTensor", bool_)


class _VariableType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)

    def __call__(cls, data=None, requires_grad=False, volatile=False):
        if data is None:
            return Tensor._wrap(np.empty(0, _defaults.FLOAT))
        if not isinstance(data, TensorBase):
            raise TypeError(f"Variable data has to be a tensor, but got "
                            f"{type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out


class Variable(metaclass=_VariableType):
    """Legacy ``torch.autograd.Variable(tensor, requires_grad=False, volatile=False)``:
    a new leaf tensor sharing ``tensor``'s data with ``requires_grad`` set
    (``volatile`` is accepted and ignored, as in PyTorch since 0.4).
    ``isinstance(t, Variable)`` holds for every tensor.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.autograd import Variable
    >>> v = Variable(fastnn.ones(2), requires_grad=True)
    >>> v.requires_grad, v.is_leaf
    (True, True)
    """
