"""``PixelShuffle`` and ``PixelUnshuffle`` (depth <-> space rearrangement)."""
from .. import functional as F
from .module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.PixelShuffle(3)(fastnn.zeros(1, 9, 4, 4)).shape
    fastnn.Size([1, 1, 12, 12])
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.PixelUnshuffle(3)(fastnn.zeros(1, 1, 12, 12)).shape
    fastnn.Size([1, 9, 4, 4])
    """

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
