"""``Softshrink``, ``Hardshrink``, ``Tanhshrink``, ``GLU``, ``Softmax2d``,
``ChannelShuffle`` and ``RMSNorm`` (the functional forms in
fastnn/ops/activation_misc.py and fastnn/ops/normalization.py)."""
import numbers

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Softshrink", "Hardshrink", "Tanhshrink", "GLU", "Softmax2d", "ChannelShuffle",
           "RMSNorm"]


class Softshrink(Module):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    """``x`` where ``|x| > lambd``, else 0."""

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Tanhshrink(Module):
    """``x - tanh(x)``."""

    def forward(self, input):
        return F.tanhshrink(input)


class GLU(Module):
    """Gated linear unit over ``dim``: first half times sigmoid of the second."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) input."""

    def forward(self, input):
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input with 3 or 4 dimensions, got "
                             f"{input.dim()}")
        return F.softmax(input, -3)


class ChannelShuffle(Module):
    """Channel shuffle of (N, C, *) input in ``groups`` groups.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.ChannelShuffle(2)(fastnn.arange(4.0).reshape(1, 4, 1)).flatten().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape``
    dims, with an element-wise ``weight`` (ones) when ``elementwise_affine``;
    ``eps`` None: the dtype's machine epsilon.

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.RMSNorm(4)
    >>> m(fastnn.randn(2, 4)).shape, list(m.state_dict())
    (fastnn.Size([2, 4]), ['weight'])
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(d) for d in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            from ... import empty
            kw = {} if dtype is None else {"dtype": dtype}
            self.weight = Parameter(empty(*self.normalized_shape, **kw))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: weight ones."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
