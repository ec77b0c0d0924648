"""``torch.memory_format`` and its four values.  fastnn keeps every tensor
in its row-major (NCHW) layout: ``memory_format=`` arguments are accepted
and leave the layout as it is, and ``is_contiguous(memory_format=...)``
answers for the actual strides."""

__all__ = ["memory_format", "contiguous_format", "channels_last", "channels_last_3d",
           "preserve_format"]


class memory_format:
    """A memory layout name (``fastnn.channels_last`` ...)."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"torch.{self._name}"

    def __reduce__(self):
        return self._name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")


def is_contiguous_as(a, fmt):
    """Whether ndarray a is laid out in memory format fmt."""
    if fmt is None or fmt is contiguous_format or fmt is preserve_format:
        return bool(a.flags.c_contiguous)
    nd = 4 if fmt is channels_last else 5
    if a.ndim != nd:
        raise RuntimeError(f"required rank {nd} tensor to use {fmt._name} format")
    perm = (0,) + tuple(range(2, nd)) + (1,)       # N, spatial..., C: C fastest
    return bool(a.transpose(perm).flags.c_contiguous)


class finfo:
    """``torch.finfo``: a float dtype's limits as Python floats (without an
    argument, the default dtype's)."""

    def __init__(self, type=None):
        import numpy as np
        from . import _defaults
        dt = _defaults.FLOAT if type is None else np.dtype(type)
        if dt.kind != "f":
            raise TypeError(f"torch.finfo() requires a floating point input type. Use "
                            f"torch.iinfo to handle '{type}'")
        f = np.finfo(dt)
        self.bits = int(f.bits)
        self.eps = float(f.eps)
        self.max = float(f.max)
        self.min = float(f.min)
        self.tiny = self.smallest_normal = float(f.tiny)
        self.resolution = 10.0 ** -int(f.precision)
        self.dtype = str(dt)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, "
                f"eps={self.eps}, smallest_normal={self.smallest_normal}, tiny={self.tiny}, "
                f"dtype={self.dtype})")


class iinfo:
    """``torch.iinfo``: an integer dtype's limits as Python ints."""

    def __init__(self, type):
        import numpy as np
        dt = np.dtype(type)
        if dt.kind not in "iub":
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo "
                            f"to handle '{type}'")
        i = np.iinfo(dt) if dt.kind != "b" else None
        self.bits = int(i.bits) if i else 8
        self.max = int(i.max) if i else 1
        self.min = int(i.min) if i else 0
        self.dtype = str(dt)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
