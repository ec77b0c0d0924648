"""``Conv2d`` layer (PyTorch's ``torch.nn.Conv2d`` for groups=1, dilation=1)."""
import math

from ...ops.conv import Conv2d as _Conv2dFn, Conv2dReLU as _Conv2dReLUFn
from ...ops.conv import conv2d_infer, conv2d_relu, pair_arg
from ..._tensor import Tensor, empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


def _positive_int(name, v):
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ValueError(f"Conv2d: {name} must be a positive int, got {v!r}")
    return v


class Conv2d(Module):
    """2-D convolution layer over NCHW input.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride : int or (int, int), default 1
    padding : int, (int, int), 'valid' or 'same', default 0
        Zero padding on both sides of each spatial axis.
    bias : bool, default True
    dilation, groups, padding_mode : keyword-only; only PyTorch's defaults
        (1, 1, 'zeros') are supported.

    Attributes
    ----------
    weight : Parameter, (out_channels, in_channels, kH, kW)
    bias : Parameter, (out_channels,), or None
        Initialised as PyTorch: kaiming_uniform_(a=sqrt(5)) for the weight
        (U(-1/sqrt(fan_in), 1/sqrt(fan_in))) and the same bound for the bias,
        fan_in = in_channels * kH * kW.

    Shape
    -----
    (N, C_in, H, W) -> (N, C_out, OH, OW), OH = (H + 2*padding - kH) // stride + 1

    Examples
    --------
    >>> import fastnn
    >>> conv = fastnn.nn.Conv2d(3, 10, 5, padding=2)
    >>> conv(fastnn.ones(1, 3, 32, 32)).shape
    fastnn.Size([1, 10, 32, 32])
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 *, dilation=1, groups=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        self.in_channels = _positive_int("in_channels", in_channels)
        self.out_channels = _positive_int("out_channels", out_channels)
        self.kernel_size = pair_arg("Conv2d", "kernel_size", kernel_size)
        self.stride = pair_arg("Conv2d", "stride", stride)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv2d: invalid padding string {padding!r}, should be one "
                                 "of ('valid', 'same')")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("Conv2d: padding='same' is not supported for strided "
                                 "convolutions")
            self.padding = padding
        else:
            self.padding = pair_arg("Conv2d", "padding", padding)
            if min(self.padding) < 0:
                raise ValueError(f"Conv2d: negative padding is not supported, got "
                                 f"padding={self.padding}")
        if min(self.kernel_size) <= 0:
            raise ValueError(f"Conv2d: kernel_size must be positive, got {self.kernel_size}")
        if min(self.stride) <= 0:
            raise ValueError(f"Conv2d: non-positive stride is not supported, got "
                             f"stride={self.stride}")
        if pair_arg("Conv2d", "dilation", dilation) != (1, 1) or groups != 1:
            raise NotImplementedError("Conv2d: only dilation=1 and groups=1 are supported")
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode={padding_mode!r} is not "
                                      "supported (only 'zeros')")
        self.dilation, self.groups, self.padding_mode = (1, 1), 1, padding_mode
        self.weight = Parameter(empty(out_channels, in_channels, *self.kernel_size,
                                      dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default initialisation (see the class docstring)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return self._forward(input, False)

    def _forward(self, input, relu):
        """The forward; relu: followed by ReLU, fused into one op (used by
        nn.Sequential for a convolution directly followed by nn.ReLU)."""
        p = self._parameters   # (direct lookups: no __getattr__ fall-back)
        w = p["weight"] if "weight" in p else self.weight
        b = p["bias"] if "bias" in p else self.bias
        # nothing to record (inference): the kernel straight on the arrays
        # (None: not the plain case, take the full path)
        y = conv2d_infer(input, w, b, self.stride, self.padding, relu)
        if y is not None:
            return y
        stride, padding = self.stride, self.padding
        if (type(stride) is tuple and type(padding) is tuple and isinstance(input, Tensor)
                and len(stride) == 2 and len(padding) == 2 and type(stride[0]) is int
                and type(stride[1]) is int and type(padding[0]) is int
                and type(padding[1]) is int):
            # pairs of ints already (as the constructor leaves them): the op
            # itself, which checks their values (F.conv2d would normalise them)
            return (_Conv2dReLUFn if relu else _Conv2dFn).apply(input, w, b, stride, padding)
        if relu:
            return conv2d_relu(input, w, b, stride, padding)
        return F.conv2d(input, w, b, stride, padding)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) \
                else f", padding={self.padding}"
        if self.bias is None:
            s += ", bias=False"
        return s
