"""Up-sampling modules: ``Upsample``, ``UpsamplingNearest2d``,
``UpsamplingBilinear2d`` (they call ``F.interpolate``)."""
from .. import functional as F
from .module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


class Upsample(Module):
    """Resamples (N, C, L) or (N, C, H, W) input to ``size`` or by
    ``scale_factor`` (modes 'nearest', 'nearest-exact', 'linear', 'bilinear').

    Parameters
    ----------
    size : int or tuple of int, optional
    scale_factor : float or tuple of float, optional
    mode : str
        Default 'nearest'.
    align_corners : bool, optional
        Linear modes only.
    recompute_scale_factor : bool, optional

    Shape
    -----
    (N, C, H, W) -> (N, C, H_out, W_out).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Upsample(scale_factor=2, mode="bilinear")(fastnn.zeros(1, 3, 4, 4)).shape
    fastnn.Size([1, 3, 8, 8])
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour 2-D up-sampling (``Upsample(mode='nearest')``).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.UpsamplingNearest2d(scale_factor=2)(fastnn.zeros(1, 1, 2, 2)).shape
    fastnn.Size([1, 1, 4, 4])
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear 2-D up-sampling with ``align_corners=True``.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.UpsamplingBilinear2d(size=(3, 3))(fastnn.zeros(1, 1, 2, 2)).shape
    fastnn.Size([1, 1, 3, 3])
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
