"""Dropout module."""
from .. import functional as F
from .module import Module


class Dropout(Module):
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

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = float(p)
        self.inplace = inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
