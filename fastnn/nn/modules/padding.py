"""Padding layers (``ZeroPad``, ``ConstantPad``, ``ReflectionPad``,
``ReplicationPad`` and ``CircularPad`` in 1/2/3-D): ``F.pad`` over the last
one, two or three dims."""
from .. import functional as F
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]


def _padding(padding, n):
    """An int repeated over the 2n sides, or a 2n-tuple as given."""
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    padding = tuple(int(p) for p in padding)
    if len(padding) != 2 * n:
        raise ValueError(f"padding must be an int or a {2 * n}-tuple, got {padding}")
    return padding


class _PadNd(Module):
    """F.pad(input, self.padding, mode) (the mode and dim count per subclass)."""
    _mode = "constant"
    _n = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(padding, self._n)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with ``value``; padding an int or (left, right).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.ConstantPad1d((1, 2), 3.5)(fastnn.zeros(1, 2, 4)).shape
    fastnn.Size([1, 2, 7])
    """
    _n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with ``value``; padding an int or
    (left, right, top, bottom)."""
    _n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with ``value``; padding an int or a 6-tuple."""
    _n = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Zero padding of the last dim."""
    _n = 1


class ZeroPad2d(_ZeroPadNd):
    """Zero padding of the last 2 dims; padding an int or (left, right, top, bottom).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.ZeroPad2d(2)(fastnn.zeros(1, 1, 3, 3)).shape
    fastnn.Size([1, 1, 7, 7])
    """
    _n = 2


class ZeroPad3d(_ZeroPadNd):
    """Zero padding of the last 3 dims."""
    _n = 3


class ReflectionPad1d(_PadNd):
    """Reflection of the input at the border of the last dim (2-D or 3-D input)."""
    _mode, _n = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Reflection padding of the last 2 dims (3-D or 4-D input)."""
    _mode, _n = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Reflection padding of the last 3 dims (4-D or 5-D input)."""
    _mode, _n = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Border value repeated along the last dim (2-D or 3-D input)."""
    _mode, _n = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Replication padding of the last 2 dims (3-D or 4-D input)."""
    _mode, _n = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Replication padding of the last 3 dims (4-D or 5-D input)."""
    _mode, _n = "replicate", 3


class CircularPad1d(_PadNd):
    """Periodic (wrap-around) padding of the last dim (2-D or 3-D input)."""
    _mode, _n = "circular", 1


class CircularPad2d(_PadNd):
    """Circular padding of the last 2 dims (3-D or 4-D input)."""
    _mode, _n = "circular", 2


class CircularPad3d(_PadNd):
    """Circular padding of the last 3 dims (4-D or 5-D input)."""
    _mode, _n = "circular", 3
