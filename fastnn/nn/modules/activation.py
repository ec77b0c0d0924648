"""Activation modules."""
from .. import functional as F
from .module import Module


class ReLU(Module):
    """max(x, 0)."""

    def __init__(self, inplace=False):
        super().__init__()

    def forward(self, x):
        return F.relu(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x):
        return F.tanh(x)


class LeakyReLU(Module):
    """Leaky rectifier: x if x > 0 else negative_slope * x.

    Parameters
    ----------
    negative_slope : float (default 0.01)

    Shape
    -----
    Any shape; output the same.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.LeakyReLU(0.1)(fastnn.tensor([-1.0, 2.0])).numpy()
    array([-0.1,  2. ], dtype=float32)
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
            raise ValueError(f"LeakyReLU: negative_slope must be a number, got "
                             f"{negative_slope!r}")
        self.negative_slope = float(negative_slope)
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


def _check_dim(name, dim):
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)):
        raise ValueError(f"{name}: dim must be an int or None, got {dim!r}")
    return dim


class Softmax(Module):
    """Softmax along ``dim`` (PyTorch's legacy rule when dim is None).

    Shape
    -----
    Any shape; output the same, summing to one along ``dim``.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Softmax(dim=1)(fastnn.zeros(1, 4)).numpy()
    array([[0.25, 0.25, 0.25, 0.25]], dtype=float32)
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = _check_dim("Softmax", dim)

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably.

    Shape
    -----
    Any shape; output the same.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.LogSoftmax(dim=0)(fastnn.zeros(2)).numpy()
    array([-0.6931472, -0.6931472], dtype=float32)
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = _check_dim("LogSoftmax", dim)

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
from .attention import MultiheadAttention  # noqa: E402,F401  (PyTorch's module path)
