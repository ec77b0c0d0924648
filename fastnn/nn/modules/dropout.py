"""Dropout modules: element-wise (``Dropout``, ``AlphaDropout``) and
channel-wise (``Dropout1d/2d/3d``, ``FeatureAlphaDropout``)."""
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
           "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = float(p)
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Inverted dropout: zeroes each element with probability ``p`` in
    training mode and scales the rest by 1/(1-p); identity in eval mode.

    Parameters
    ----------
    p : float in [0, 1]

    Shape
    -----
    Any shape; output the same.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Dropout(0.5).eval()(fastnn.ones(3)).numpy()
    array([1., 1., 1.], dtype=float32)
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of (N, C, L) or (C, L) input.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Dropout1d(0.2)(fastnn.ones(4, 8, 16)).shape
    fastnn.Size([4, 8, 16])
    """

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of (N, C, H, W) input (spatial dropout).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Dropout2d(0.2)(fastnn.ones(4, 8, 5, 5)).shape
    fastnn.Size([4, 8, 5, 5])
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)


class Dropout3d(_DropoutNd):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training)


class AlphaDropout(_DropoutNd):
    """Alpha dropout for SELU networks (keeps zero mean, unit variance).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.AlphaDropout(0.2).eval()(fastnn.ones(3)).numpy()
    array([1., 1., 1.], dtype=float32)
    """

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels."""

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
