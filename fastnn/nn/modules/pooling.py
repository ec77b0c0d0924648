"""Pooling layers, as PyTorch's: MaxPool1d/2d/3d, AvgPool1d/2d/3d,
AdaptiveAvgPool1d/2d/3d, AdaptiveMaxPool1d/2d/3d, MaxUnpool1d/2d/3d,
LPPool1d/2d/3d.

The modules store their hyper-parameters as PyTorch does (and check them at
construction through the same function the ops use) and call the
functional forms.
"""
from ...ops.pooling import _args, _key
from .. import functional as F
from .module import Module


def _checked(name, n, kernel_size, stride, padding, dilation=1):
    _args(name, n, _key(kernel_size), _key(stride), _key(padding), _key(dilation))


def _single(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _triple(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v, v)


class _MaxPoolNd(Module):
    _n = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        _checked(type(self).__name__, self._n, kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling (padding acts as -inf).

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), default kernel_size
    padding : int or (int, int), at most half the kernel size
    dilation : int or (int, int)
    return_indices : bool
        Also return the argmax indices (for ``MaxUnpool2d``).
    ceil_mode : bool

    Shape
    -----
    (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*padding - dilation*(kernel-1) - 1) // stride + 1
    (rounded up with ceil_mode)

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.MaxPool2d(2)(fastnn.ones(1, 3, 8, 8)).shape
    fastnn.Size([1, 3, 4, 4])
    """

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling of (N, C, L) or (C, L) input; arguments as ``MaxPool2d``.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.MaxPool1d(2)(fastnn.ones(1, 3, 8)).shape
    fastnn.Size([1, 3, 4])
    """
    _n = 1

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class _AvgPoolNd(Module):
    """What AvgPool2d and AvgPool3d share (_n: their spatial dims)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        _checked(f"AvgPool{self._n}d", self._n, kernel_size, stride, padding)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return getattr(F, f"avg_pool{self._n}d")(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling; zero padding is counted in the divisor unless
    ``count_include_pad=False``; ``divisor_override`` replaces the divisor.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), default kernel_size
    padding : int or (int, int), at most half the kernel size
    ceil_mode, count_include_pad, divisor_override : as PyTorch

    Shape
    -----
    (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*padding - kernel) // stride + 1

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.AvgPool2d(2)(fastnn.ones(1, 3, 8, 8)).shape
    fastnn.Size([1, 3, 4, 4])
    """

    _n = 2


class AvgPool1d(Module):
    """1-D average pooling of (N, C, L) or (C, L) input.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.AvgPool1d(2)(fastnn.ones(1, 3, 8)).shape
    fastnn.Size([1, 3, 4])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        _checked("AvgPool1d", 1, kernel_size, stride, padding)
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    _fn = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return type(self)._fn(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePool):
    """Adaptive 2-D average pooling to ``output_size`` (an int or a pair;
    None keeps the input's size).  ``AdaptiveAvgPool2d(1)`` is global
    average pooling.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.AdaptiveAvgPool2d(1)(fastnn.ones(2, 3, 7, 7)).shape
    fastnn.Size([2, 3, 1, 1])
    """
    _fn = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool1d(_AdaptivePool):
    """Adaptive 1-D average pooling of (N, C, L) or (C, L) input."""
    _fn = staticmethod(F.adaptive_avg_pool1d)


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return type(self)._fn(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Adaptive 2-D max pooling (``return_indices``: also the argmax).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.AdaptiveMaxPool2d((2, None))(fastnn.ones(1, 3, 7, 5)).shape
    fastnn.Size([1, 3, 2, 5])
    """
    _fn = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Adaptive 1-D max pooling of (N, C, L) or (C, L) input."""
    _fn = staticmethod(F.adaptive_max_pool1d)


class _MaxUnpool(Module):
    _fn = None
    _norm = staticmethod(_pair)

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = self._norm(kernel_size)
        self.stride = self._norm(stride if stride is not None else kernel_size)
        self.padding = self._norm(padding)

    def forward(self, input, indices, output_size=None):
        return type(self)._fn(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpool):
    """Partial inverse of ``MaxPool2d``: ``forward(input, indices,
    output_size=None)`` puts each value back at its index, zeros elsewhere.

    Examples
    --------
    >>> import fastnn
    >>> y, i = fastnn.nn.MaxPool2d(2, return_indices=True)(fastnn.randn(1, 1, 4, 4))
    >>> fastnn.nn.MaxUnpool2d(2)(y, i).shape
    fastnn.Size([1, 1, 4, 4])
    """
    _fn = staticmethod(F.max_unpool2d)


class MaxUnpool1d(_MaxUnpool):
    """Partial inverse of ``MaxPool1d``."""
    _fn = staticmethod(F.max_unpool1d)
    _norm = staticmethod(_single)


class _LPPoolNd(Module):
    _fn = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input):
        return type(self)._fn(input, float(self.norm_type), self.kernel_size, self.stride,
                              self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """1-D power-average pooling ``(sum_window x^p)^(1/p)`` of (N, C, L) or
    (C, L) input (``F.lp_pool1d``).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.LPPool1d(2, 2)(fastnn.tensor([[3.0, 4.0]])).numpy()
    array([[5.]], dtype=float32)
    """
    _fn = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """2-D power-average pooling ``(sum_window x^p)^(1/p)`` of (N, C, H, W)
    or (C, H, W) input (``F.lp_pool2d``).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.LPPool2d(1, 2)(fastnn.ones(1, 2, 2)).numpy()
    array([[[4.]]], dtype=float32)
    """
    _fn = staticmethod(F.lp_pool2d)


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling of (N, C, D, H, W) or (C, D, H, W) input (padding
    acts as -inf); arguments as ``MaxPool2d`` with ints or triples;
    ``return_indices`` gives PyTorch's flat D*H*W indices (for
    ``MaxUnpool3d``).

    Shape
    -----
    (N, C, D, H, W) -> (N, C, OD, OH, OW),
    OD = (D + 2*padding - dilation*(kD-1) - 1) // stride + 1 (rounded up with ceil_mode)

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.MaxPool3d(2)(fastnn.ones(1, 3, 4, 8, 8)).shape
    fastnn.Size([1, 3, 2, 4, 4])
    """
    _n = 3

    def forward(self, input):
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool3d(_AvgPoolNd):
    """3-D average pooling of (N, C, D, H, W) or (C, D, H, W) input; zero
    padding is counted in the divisor unless ``count_include_pad=False``;
    ``divisor_override`` replaces the divisor.  Arguments as ``AvgPool2d``
    with ints or triples.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.AvgPool3d(2)(fastnn.ones(1, 3, 4, 8, 8)).shape
    fastnn.Size([1, 3, 2, 4, 4])
    """

    _n = 3


class AdaptiveAvgPool3d(_AdaptivePool):
    """Adaptive 3-D average pooling to ``output_size`` (an int or a triple;
    None keeps the input's size).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.AdaptiveAvgPool3d(1)(fastnn.ones(2, 3, 5, 7, 7)).shape
    fastnn.Size([2, 3, 1, 1, 1])
    """
    _fn = staticmethod(F.adaptive_avg_pool3d)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Adaptive 3-D max pooling (``return_indices``: also the flat argmax).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.AdaptiveMaxPool3d((2, 3, None))(fastnn.ones(1, 3, 5, 7, 6)).shape
    fastnn.Size([1, 3, 2, 3, 6])
    """
    _fn = staticmethod(F.adaptive_max_pool3d)


class MaxUnpool3d(_MaxUnpool):
    """Partial inverse of ``MaxPool3d``: ``forward(input, indices,
    output_size=None)`` puts each value back at its flat index.

    Examples
    --------
    >>> import fastnn
    >>> y, i = fastnn.nn.MaxPool3d(2, return_indices=True)(fastnn.randn(1, 1, 4, 4, 4))
    >>> fastnn.nn.MaxUnpool3d(2)(y, i).shape
    fastnn.Size([1, 1, 4, 4, 4])
    """
    _fn = staticmethod(F.max_unpool3d)
    _norm = staticmethod(_triple)


class LPPool3d(_LPPoolNd):
    """3-D power-average pooling ``(sum_window x^p)^(1/p)`` of
    (N, C, D, H, W) or (C, D, H, W) input (``F.lp_pool3d``).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.LPPool3d(1, 2)(fastnn.ones(1, 2, 2, 2)).numpy()
    array([[[[8.]]]], dtype=float32)
    """
    _fn = staticmethod(F.lp_pool3d)
