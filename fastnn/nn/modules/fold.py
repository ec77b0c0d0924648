"""``Unfold`` and ``Fold`` (sliding blocks; they call ``F.unfold`` / ``F.fold``)."""
from .. import functional as F
from .module import Module

__all__ = ["Fold", "Unfold"]


class Fold(Module):
    """Combines sliding blocks (N, C*kh*kw, L) into an image (N, C, *output_size).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Fold((4, 5), (2, 2))(fastnn.zeros(1, 12, 12)).shape
    fastnn.Size([1, 3, 4, 5])
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class Unfold(Module):
    """Extracts sliding blocks: (N, C, H, W) -> (N, C*kh*kw, L).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Unfold(2, stride=2)(fastnn.zeros(1, 3, 4, 6)).shape
    fastnn.Size([1, 12, 6])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
