"""Convolution layers: ``Conv1d``, ``Conv2d``, ``Conv3d``, ``ConvTranspose1d``,
``ConvTranspose2d``, ``ConvTranspose3d`` (PyTorch's names, arguments, defaults, state-dict keys
and initialisation), and their ``Lazy*`` forms (``in_channels`` from the
first input, see ``lazy.py``).  The modules check their hyper-parameters, hold the
Parameters and call the functional ops, which check everything else."""
import math

from ...ops.conv import conv1d, conv2d, conv2d_relu, pair_arg
from ...ops.conv_pad import pad_nd
from ...ops.conv_transpose import conv_transpose1d, conv_transpose2d, output_padding_for
from ...ops.conv3d import _triple, conv3d, conv_transpose3d
from ..._tensor import empty
from .. import init
from ..._errors import ShapeError
from ..parameter import Parameter, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module, _changed_repr, _size_str

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _positive_int(cls, name, v):
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ValueError(f"{cls}: {name} must be a positive int, got {v!r}")
    return v


def _tuple(cls, name, v, nd):
    """An int or an nd-tuple of ints as an nd-tuple (PyTorch's _single/_pair)."""
    if nd == 2:
        return pair_arg(cls, name, v)
    if nd == 3:
        return _triple(cls, name, v)
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"{cls}: {name} must be an int or a 1-tuple, got {v!r}")
        v = v[0]
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{cls}: {name} must be an int or a 1-tuple of ints, got {v!r}")
    return (v,)


class _ConvNd(Module):
    """What the convolution layers share: hyper-parameters, checked once;
    the weight (out, in/groups, *k) or, transposed, (in, out/groups, *k);
    PyTorch's default initialisation."""

    _nd = 2
    _lazy_in_channels = False     # (the Lazy* forms start with in_channels 0)
    __constants__ = ("stride", "padding", "dilation", "groups", "padding_mode",
                     "output_padding", "in_channels", "out_channels", "kernel_size")

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, dtype=None):
        super().__init__()
        cls, nd = type(self).__name__, self._nd
        self.in_channels = (in_channels if in_channels == 0 and self._lazy_in_channels
                            else _positive_int(cls, "in_channels", in_channels))
        self.out_channels = _positive_int(cls, "out_channels", out_channels)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{cls}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{cls}: in_channels must be divisible by groups "
                             f"({in_channels} by {groups})")
        if out_channels % groups:
            raise ValueError(f"{cls}: out_channels must be divisible by groups "
                             f"({out_channels} by {groups})")
        self.kernel_size = _tuple(cls, "kernel_size", kernel_size, nd)
        self.stride = _tuple(cls, "stride", stride, nd)
        self.dilation = _tuple(cls, "dilation", dilation, nd)
        self.output_padding = _tuple(cls, "output_padding", output_padding, nd)
        for name in ("kernel_size", "stride", "dilation"):
            if min(getattr(self, name)) <= 0:
                raise ValueError(f"{cls}: {name} must be positive, got {getattr(self, name)}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{cls}: padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode='{padding_mode}'")
        self.padding = self._check_padding(cls, padding)
        self.groups, self.padding_mode, self.transposed = groups, padding_mode, transposed
        # F.pad's order (last axis first) for the non-zeros padding modes
        self._reversed_padding_repeated_twice = self._pad_pairs()
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _check_padding(self, cls, padding):
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{cls}: invalid padding string {padding!r}, should be one of "
                                 "('valid', 'same')")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{cls}: padding='same' is not supported for strided "
                                 "convolutions")
            return padding
        pad = _tuple(cls, "padding", padding, self._nd)
        if min(pad) < 0:
            raise ValueError(f"{cls}: negative padding is not supported, got padding={pad}")
        return pad

    def _pad_pairs(self):
        """(left, right, top, bottom) padding for F.pad (padding='same': the
        total dil*(k-1), the smaller half first, as PyTorch)."""
        pairs = []
        for i in reversed(range(self._nd)):
            if self.padding == "valid":
                lo = hi = 0
            elif self.padding == "same":
                tot = self.dilation[i] * (self.kernel_size[i] - 1)
                lo, hi = tot // 2, tot - tot // 2
            else:
                lo = hi = self.padding[i]
            pairs += [lo, hi]
        return tuple(pairs)

    def reset_parameters(self):
        """PyTorch's default initialisation: kaiming_uniform_(a=sqrt(5)) for the
        weight (U(+-1/sqrt(fan_in))) and U(+-1/sqrt(fan_in)) for the bias,
        fan_in = weight.shape[1] * kernel elements (in/groups * k, or
        out/groups * k when transposed)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        nd = self._nd
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        s += _changed_repr(self, (("padding", (0,) * nd), ("dilation", (1,) * nd),
                                  ("output_padding", (0,) * nd), ("groups", 1)))
        if self.bias is None:
            s += ", bias=False"
        return s + _changed_repr(self, (("padding_mode", "zeros"),))

    def _mode_pad(self, input):
        """input padded by padding_mode (reflect / replicate / circular)."""
        from ..functional import _t
        return pad_nd(_t(input), self._reversed_padding_repeated_twice, self.padding_mode)


class _Conv(_ConvNd):
    """Conv1d / Conv2d: PyTorch's constructor (device is accepted, CPU only)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, dtype)


class Conv2d(_Conv):
    """2-D convolution layer over NCHW input.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride : int or (int, int), default 1
    padding : int, (int, int), 'valid' or 'same', default 0
    dilation : int or (int, int), default 1
    groups : int, default 1
        Channels split into groups convolved separately (in_channels ==
        groups: depthwise); both channel counts divisible by it.
    bias : bool, default True
    padding_mode : 'zeros', 'reflect', 'replicate' or 'circular'
        How the input is padded (other than 'zeros': padded first, then
        convolved with padding 0, as PyTorch).
    device, dtype : device ignored (CPU); dtype of the parameters.

    Attributes
    ----------
    weight : Parameter, (out_channels, in_channels/groups, kH, kW)
    bias : Parameter, (out_channels,), or None
        Initialised as PyTorch: kaiming_uniform_(a=sqrt(5)) for the weight
        (U(-1/sqrt(fan_in), 1/sqrt(fan_in))) and the same bound for the bias,
        fan_in = in_channels/groups * kH * kW.

    Shape
    -----
    (N, C_in, H, W) -> (N, C_out, OH, OW),
    OH = (H + 2*padding - dilation*(kH - 1) - 1) // stride + 1

    Examples
    --------
    >>> import fastnn
    >>> conv = fastnn.nn.Conv2d(3, 10, 5, padding=2)
    >>> conv(fastnn.ones(1, 3, 32, 32)).shape
    fastnn.Size([1, 10, 32, 32])
    >>> fastnn.nn.Conv2d(8, 8, 3, padding=1, groups=8)(fastnn.ones(1, 8, 6, 6)).shape
    fastnn.Size([1, 8, 6, 6])
    """

    def forward(self, input):
        return self._forward(input, False)

    def _forward(self, input, relu):
        """The forward; relu: followed by ReLU, fused into one op (used by
        nn.Sequential for a convolution directly followed by nn.ReLU)."""
        p = self._parameters   # (direct lookups: no __getattr__ fall-back)
        w = p["weight"] if "weight" in p else self.weight
        b = p["bias"] if "bias" in p else self.bias
        op = conv2d_relu if relu else conv2d
        if self.padding_mode != "zeros":
            return op(self._mode_pad(input), w, b, self.stride, 0, self.dilation, self.groups)
        return op(input, w, b, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_Conv):
    """1-D convolution layer over (N, C, L) input; arguments as
    :class:`Conv2d` with ints (or 1-tuples).  weight (out_channels,
    in_channels/groups, kW).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Conv1d(4, 6, 3, padding=1)(fastnn.ones(2, 4, 10)).shape
    fastnn.Size([2, 6, 10])
    """
    _nd = 1

    def forward(self, input):
        if self.padding_mode != "zeros":
            return conv1d(self._mode_pad(input), self.weight, self.bias, self.stride, 0,
                          self.dilation, self.groups)
        return conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)


class _ConvTransposeNd(_ConvNd):
    """ConvTranspose1d / 2d: PyTorch's constructor; padding_mode 'zeros' only."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f"{type(self).__name__}: only 'zeros' padding mode is supported, "
                             f"got padding_mode={padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, dtype)

    def _output_padding(self, input, output_size):
        """output_padding, or the one giving output_size (the last nd sizes)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        output_size = tuple(output_size)[-nd:]
        return output_padding_for(type(self).__name__, tuple(input.shape)[-nd:], output_size,
                                  self.stride, self.padding, self.kernel_size, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution layer (the gradient of a convolution with
    respect to its input, run forward), as PyTorch's.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, dilation : int or (int, int)
    output_padding : int or (int, int), default 0
        Extra rows/columns at the bottom/right of the output (smaller than
        the stride or the dilation).
    groups : int, default 1
    bias : bool, default True
    padding_mode : 'zeros' only (as PyTorch)

    Attributes
    ----------
    weight : Parameter, (in_channels, out_channels/groups, kH, kW)
    bias : Parameter, (out_channels,), or None
        Initialised as PyTorch: fan_in = out_channels/groups * kH * kW.

    Shape
    -----
    (N, C_in, H, W) -> (N, C_out, OH, OW),
    OH = (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1;
    ``forward(input, output_size)`` picks the output_padding giving that size.

    Examples
    --------
    >>> import fastnn
    >>> up = fastnn.nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)
    >>> up(fastnn.ones(1, 64, 16, 16)).shape
    fastnn.Size([1, 32, 32, 32])
    """

    def forward(self, input, output_size=None):
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution layer; arguments as
    :class:`ConvTranspose2d` with ints (or 1-tuples).  weight (in_channels,
    out_channels/groups, kW).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.ConvTranspose1d(4, 2, 4, stride=2, padding=1)(fastnn.ones(1, 4, 8)).shape
    fastnn.Size([1, 2, 16])
    """
    _nd = 1

    def forward(self, input, output_size=None):
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class _LazyConvXdMixin(LazyModuleMixin):
    """What the lazy convolutions share: in_channels from the input's
    channel dim (dim 1, or 0 unbatched), then the weight and bias
    materialised and initialised as the ordinary layer's."""

    _lazy_in_channels = True

    def _lazy_init(self, bias, device, dtype):
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        """The ordinary layer's initialisation, once the shapes are known."""
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        """in_channels from input; materialises and initialises weight and bias."""
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            g, k = self.groups, self.kernel_size
            self.weight.materialize((self.in_channels, self.out_channels // g, *k)
                                    if self.transposed else
                                    (self.out_channels, self.in_channels // g, *k))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _get_in_channels(self, input):
        shape = tuple(input.shape)
        unbatched = self._nd + 1
        if len(shape) not in (unbatched, unbatched + 1):
            raise ShapeError(f"Expected {unbatched}D (unbatched) or {unbatched + 1}D (batched) "
                             f"input to {type(self).__name__}, but got input of size: "
                             f"{_size_str(shape)}")
        return int(shape[1] if len(shape) == unbatched + 1 else shape[0])



class _LazyConvNd(_LazyConvXdMixin):
    """The lazy convolutions' constructor: the layer's, without in_channels."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, out_channels, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device, dtype)
        self._lazy_init(bias, device, dtype)


class _LazyConvTransposeNd(_LazyConvXdMixin):
    """The lazy transposed convolutions' constructor: the layer's, without
    in_channels."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(0, out_channels, kernel_size, stride, padding, output_padding, groups,
                         False, dilation, padding_mode, device, dtype)
        self._lazy_init(bias, device, dtype)


class LazyConv1d(_LazyConvNd, Conv1d):
    """A ``Conv1d`` whose ``in_channels`` comes from its first input
    (``input.size(1)``); becomes a ``Conv1d`` on that call.

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.LazyConv1d(6, 3)
    >>> m(fastnn.ones(2, 4, 10)).shape, tuple(m.weight.shape)
    (fastnn.Size([2, 6, 8]), (6, 4, 3))
    """

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvNd, Conv2d):
    """A ``Conv2d`` whose ``in_channels`` comes from its first input
    (``input.size(1)``); becomes a ``Conv2d`` on that call.

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.LazyConv2d(8, 3, padding=1)
    >>> m(fastnn.ones(1, 3, 5, 5)).shape, m
    (fastnn.Size([1, 8, 5, 5]), Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)))
    """

    cls_to_become = Conv2d


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    """A ``ConvTranspose1d`` whose ``in_channels`` comes from its first
    input; becomes a ``ConvTranspose1d`` on that call."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    """A ``ConvTranspose2d`` whose ``in_channels`` comes from its first
    input; becomes a ``ConvTranspose2d`` on that call.

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.LazyConvTranspose2d(4, 2, stride=2)
    >>> m(fastnn.ones(1, 6, 3, 3)).shape, tuple(m.weight.shape)
    (fastnn.Size([1, 4, 6, 6]), (6, 4, 2, 2))
    """

    cls_to_become = ConvTranspose2d


class Conv3d(_Conv):
    """3-D convolution layer over (N, C, D, H, W) or unbatched (C, D, H, W)
    input; arguments as :class:`Conv2d` with ints or triples (padding also
    'valid' or 'same'; padding_mode 'zeros', 'reflect', 'replicate' or
    'circular').  weight (out_channels, in_channels/groups, kD, kH, kW),
    initialised as PyTorch's (fan_in = in_channels/groups * kD * kH * kW).
    Computed by ``F.conv3d``: the 2-D convolution kernels with the depth
    taps folded into the channels.

    Shape
    -----
    (N, C_in, D, H, W) -> (N, C_out, OD, OH, OW),
    OD = (D + 2*padding - dilation*(kD - 1) - 1) // stride + 1 (OH, OW likewise)

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Conv3d(2, 4, 3, padding=1)(fastnn.ones(1, 2, 5, 6, 6)).shape
    fastnn.Size([1, 4, 5, 6, 6])
    """
    _nd = 3

    def forward(self, input):
        if self.padding_mode != "zeros":
            return conv3d(self._mode_pad(input), self.weight, self.bias, self.stride, 0,
                          self.dilation, self.groups)
        return conv3d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution layer; arguments as
    :class:`ConvTranspose2d` with ints or triples.  weight (in_channels,
    out_channels/groups, kD, kH, kW); ``forward(input, output_size)`` picks
    the output_padding giving that size.

    Shape
    -----
    (N, C_in, D, H, W) -> (N, C_out, OD, OH, OW),
    OD = (D - 1)*stride - 2*padding + dilation*(kD - 1) + output_padding + 1

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.ConvTranspose3d(4, 2, 2, stride=2)(fastnn.ones(1, 4, 2, 3, 3)).shape
    fastnn.Size([1, 2, 4, 6, 6])
    """
    _nd = 3

    def forward(self, input, output_size=None):
        return conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class LazyConv3d(_LazyConvNd, Conv3d):
    """A ``Conv3d`` whose ``in_channels`` comes from its first input
    (``input.size(1)``, or ``size(0)`` unbatched); becomes a ``Conv3d`` on
    that call.

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.LazyConv3d(4, 3)
    >>> m(fastnn.ones(1, 2, 5, 5, 5)).shape, tuple(m.weight.shape)
    (fastnn.Size([1, 4, 3, 3, 3]), (4, 2, 3, 3, 3))
    """

    cls_to_become = Conv3d


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    """A ``ConvTranspose3d`` whose ``in_channels`` comes from its first
    input; becomes a ``ConvTranspose3d`` on that call."""

    cls_to_become = ConvTranspose3d
