"""Pooling layers: ``MaxPool2d`` and ``AvgPool2d`` (as PyTorch's)."""
from ...ops.pooling import MaxPool2d as _MaxPool2dFn, max_pool2d_infer, pool_args
from ..._tensor import Tensor
from .. import functional as F
from .module import Module


class MaxPool2d(Module):
    """2-D max pooling (padding acts as -inf).

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), default kernel_size
    padding : int or (int, int), at most half the kernel size
    dilation, return_indices, ceil_mode : as PyTorch; dilation and ceil_mode
        only at their defaults.

    Shape
    -----
    (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*padding - kernel) // stride + 1

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.MaxPool2d(2)(fastnn.ones(1, 3, 8, 8)).shape
    (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        pool_args("MaxPool2d", kernel_size, stride, padding)
        if dilation != 1 and tuple(dilation) != (1, 1):
            raise NotImplementedError("MaxPool2d: only dilation=1 is supported")
        if ceil_mode:
            raise NotImplementedError("MaxPool2d: ceil_mode=True is not supported")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        if not self.return_indices:
            # nothing to record (inference): the kernel straight on the
            # array (None: not the plain case, take the full path)
            y = max_pool2d_infer(input, self.kernel_size, self.stride, self.padding)
            if y is not None:
                return y
        k, s, p = self.kernel_size, self.stride, self.padding
        if (type(k) is int and type(s) is int and type(p) is int and k > 0 and s > 0
                and 0 <= p <= k // 2 and isinstance(input, Tensor)):
            # plain ints with valid values (what pool_args checks): the op itself
            return _MaxPool2dFn.apply(input, (k, k), (s, s), (p, p), bool(self.return_indices))
        return F.max_pool2d(input, k, s, p, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """2-D average pooling; zero padding is counted in the divisor
    (PyTorch's default ``count_include_pad=True``).

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), default kernel_size
    padding : int or (int, int), at most half the kernel size
    ceil_mode, count_include_pad, divisor_override : only the defaults

    Shape
    -----
    (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*padding - kernel) // stride + 1

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.AvgPool2d(2)(fastnn.ones(1, 3, 8, 8)).shape
    (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        pool_args("AvgPool2d", kernel_size, stride, padding)
        if ceil_mode or not count_include_pad or divisor_override is not None:
            raise NotImplementedError("AvgPool2d: only ceil_mode=False, count_include_pad=True "
                                      "and divisor_override=None are supported")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
