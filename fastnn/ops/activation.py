"""Activations as autograd Functions: leaky ReLU, the element-wise family
(GELU, SiLU, Mish, ELU/SELU/CELU, Softplus, LogSigmoid, Hardtanh/ReLU6,
Hardswish, Hardsigmoid, Softsign, Threshold), PReLU, softmax, log-softmax
and softmin.

All run forward and backward in the compiled core (``csrc/activation.c``,
``csrc/softmax.c``); the element-wise ones share one Function shape
(``_PointwiseFn``: the kernel's name and up to three parameters).  Softmax
works along any ``dim`` without moving data: the C kernel views the array as
``(outer, n, inner)`` with the reduced axis of length ``n`` at stride
``inner``.  The row maximum is subtracted before ``exp``, so logits of 1e4
give finite results.  ``inplace=True``, where PyTorch has it, writes the
result into the input and returns the input, as PyTorch's.
"""
import warnings

import numpy as np

from .. import _core
from ..autograd.function import Function, _tensor_cls
from ._common import tensor as _data_tensor
from .._errors import ShapeError
from ._util import c_contig, check_float, normalize_dim, nthreads


def _t(x):
    """Tensor view of an argument (ndarrays and lists are wrapped)."""
    T = _tensor_cls()
    if x is None or isinstance(x, T):
        return x
    if isinstance(x, np.ndarray):
        return T._wrap(x)
    return _data_tensor(x)       # (lists: fastnn's dtypes, not Tensor(...)'s float32)


class LeakyReLUFn(Function):
    """y = x if x > 0 else slope * x; dx = g if x > 0 else slope * g."""
    raw = True

    @staticmethod
    def forward(ctx, x, negative_slope):
        check_float("leaky_relu", "input", x)
        x = c_contig(x)
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return _core.leaky_relu_fwd(x, np.empty_like(x), negative_slope, nthreads())

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        gx = _core.leaky_relu_bwd(x, c_contig(g.astype(x.dtype, copy=False)), np.empty_like(x),
                                  ctx.slope, nthreads())
        return gx, None


class _SoftmaxBase(Function):
    raw = True
    log = False
    name = "softmax"

    @classmethod
    def forward(cls, ctx, x, dim):
        check_float(cls.name, "input", x)
        d = normalize_dim(cls.name, dim, x.ndim)
        x = c_contig(x)
        y = _core.softmax_fwd(x, np.empty_like(x), d, cls.log, nthreads())
        ctx.save_for_backward(y)
        ctx.dim = d
        return y

    @classmethod
    def backward(cls, ctx, g):
        (y,) = ctx.saved_tensors
        g = c_contig(g.astype(y.dtype, copy=False))
        return _core.softmax_bwd(y, g, np.empty_like(y), ctx.dim, cls.log, nthreads()), None


class SoftmaxFn(_SoftmaxBase):
    """softmax along dim; backward gx = y * (g - sum(g * y))."""
    log = False
    name = "softmax"


class LogSoftmaxFn(_SoftmaxBase):
    """log_softmax along dim; backward gx = g - exp(y) * sum(g)."""
    log = True
    name = "log_softmax"


def _implicit_dim(ndim, name):
    """PyTorch's legacy choice when dim is omitted: 0 for 0-, 1- and 3-D input, else 1
    (with PyTorch's deprecation warning, so code run under ``-W error`` fails alike)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                  "call to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """Leaky rectifier: ``input`` where positive, ``negative_slope * input`` elsewhere.

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64)
    negative_slope : float
        Slope for negative inputs (default 0.01).
    inplace : bool
        Write the result into ``input`` and return ``input`` (default False).

    Shape
    -----
    Any shape; the output has the input's shape.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.leaky_relu(fastnn.tensor([-2.0, 3.0]), 0.5).numpy()
    array([-1.,  3.], dtype=float32)
    """
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float,
                                                                           np.number)):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got "
                        f"{type(negative_slope).__name__}")
    return _act(input, inplace, lambda t: LeakyReLUFn.apply(t, float(negative_slope)))


def _stacklevel_or_dtype(stacklevel, dtype):
    """The dtype of a call made as ``F.softmax(x, dim, _stacklevel, dtype)``
    or as ``torch.softmax(x, dim, dtype)`` (one function serves both: a third
    positional argument that is not an int is the dtype)."""
    if dtype is None and stacklevel is not None and not isinstance(stacklevel, int):
        return stacklevel
    return dtype


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Softmax along ``dim``: ``exp(x - max) / sum(exp(x - max))``.

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64)
    dim : int
        The axis that sums to one (negative counts from the end).  When
        omitted, PyTorch's legacy rule applies (0 for 0-, 1- and 3-D input,
        else 1).
    dtype : numpy dtype, optional
        Cast the input to this dtype first.

    Shape
    -----
    Any shape; the output has the input's shape.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.softmax(fastnn.tensor([[1.0, 1.0]]), dim=1).numpy()
    array([[0.5, 0.5]], dtype=float32)
    """
    x = _t(input)
    dtype = _stacklevel_or_dtype(_stacklevel, dtype)
    if dtype is not None:
        x = x.to(dtype)
    if dim is None:
        dim = _implicit_dim(x.ndim, "softmax")
    return SoftmaxFn.apply(x, dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Logarithm of softmax along ``dim``: ``x - max - log(sum(exp(x - max)))``.

    More accurate than ``log(softmax(x))`` for very negative values.

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64)
    dim : int
        The reduced axis (legacy rule when omitted, as for ``softmax``).
    dtype : numpy dtype, optional

    Shape
    -----
    Any shape; the output has the input's shape.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.log_softmax(fastnn.tensor([0.0, 0.0]), dim=0).numpy()
    array([-0.6931472, -0.6931472], dtype=float32)
    """
    x = _t(input)
    dtype = _stacklevel_or_dtype(_stacklevel, dtype)
    if dtype is not None:
        x = x.to(dtype)
    if dim is None:
        dim = _implicit_dim(x.ndim, "log_softmax")
    return LogSoftmaxFn.apply(x, dim)


# ---------------------------------------------------------------- element-wise family


def _act(input, inplace, compute):
    """``compute(x)`` for the input as a Tensor; with ``inplace=True`` the
    result is written back into the input and the input returned, as
    PyTorch's ``inplace`` activations (recorded under autograd, see
    ``Tensor._inplace``)."""
    x = _t(input)
    return x._inplace(compute, None, (), True) if inplace else compute(x)

def _number(op, name, v):
    """v as a float, or TypeError naming the op and the argument."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a number, got {type(v).__name__}")
    return float(v)


class _PointwiseFn(Function):
    """y = f(x) element-wise by the kernel ``kernel`` of csrc/activation.c
    with parameters (a, b, c); backward gx = g * f'(x) from the saved input."""
    raw = True
    kernel = ""

    @classmethod
    def forward(cls, ctx, x, a=0.0, b=0.0, c=0.0):
        check_float(cls.kernel, "input", x)
        x = c_contig(x)
        if ctx.needs_input_grad and ctx.needs_input_grad[0]:
            ctx.save_for_backward(x)
            ctx.params = (a, b, c)
        return _core.act_fwd(cls.kernel, x, np.empty_like(x), a, b, c, nthreads())

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved_tensors
        g = c_contig(g.astype(x.dtype, copy=False))
        gx = _core.act_bwd(cls.kernel, x, g, np.empty_like(x), *ctx.params, nthreads())
        return gx, None, None, None


class GELUFn(_PointwiseFn):
    """x * Phi(x), Phi the standard normal CDF (exact, erf form)."""
    kernel = "gelu"


class GELUTanhFn(_PointwiseFn):
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    kernel = "gelu_tanh"


class SiLUFn(_PointwiseFn):
    """x * sigmoid(x)."""
    kernel = "silu"


class MishFn(_PointwiseFn):
    """x * tanh(softplus(x))."""
    kernel = "mish"


class ELUFn(_PointwiseFn):
    """(a alpha, b scale, c input_scale): x > 0 ? b x : b a (exp(c x) - 1)."""
    kernel = "elu"


class SoftplusFn(_PointwiseFn):
    """(a beta, b threshold): log(1 + exp(a x)) / a, x where a x > b."""
    kernel = "softplus"


class LogSigmoidFn(_PointwiseFn):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))."""
    kernel = "logsigmoid"


class HardtanhFn(_PointwiseFn):
    """(a min_val, b max_val): clamp(x, a, b)."""
    kernel = "hardtanh"


class HardswishFn(_PointwiseFn):
    """x * relu6(x + 3) / 6."""
    kernel = "hardswish"


class HardsigmoidFn(_PointwiseFn):
    """relu6(x + 3) / 6."""
    kernel = "hardsigmoid"


class SoftsignFn(_PointwiseFn):
    """x / (1 + |x|)."""
    kernel = "softsign"


class ThresholdFn(_PointwiseFn):
    """(a threshold, b value): x <= a ? b : x."""
    kernel = "threshold"


def gelu(input, approximate="none"):
    """Gaussian error linear unit: ``x * Phi(x)`` (``approximate='none'``) or
    the tanh approximation (``'tanh'``).

    Shape
    -----
    Any shape; the output has the input's shape.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.gelu(fastnn.tensor([0.0, 1.0])).numpy().round(4)
    array([0.    , 0.8413], dtype=float32)
    """
    if approximate == "none":
        return GELUFn.apply(_t(input))
    if approximate == "tanh":
        return GELUTanhFn.apply(_t(input))
    raise ValueError(f"gelu: approximate argument must be either 'none' or 'tanh', got "
                     f"{approximate!r}")


def silu(input, inplace=False):
    """``x * sigmoid(x)`` (the swish).  ``inplace=True`` overwrites ``input``."""
    return _act(input, inplace, lambda t: SiLUFn.apply(t))


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``.  ``inplace=True`` overwrites ``input``."""
    return _act(input, inplace, lambda t: MishFn.apply(t))


def elu(input, alpha=1.0, inplace=False):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    alpha = _number("elu", "alpha", alpha)
    return _act(input, inplace, lambda t: ELUFn.apply(t, alpha, 1.0, 1.0))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with PyTorch's fixed alpha and scale."""
    return _act(input, inplace, lambda t: ELUFn.apply(t, _SELU_ALPHA, _SELU_SCALE, 1.0))


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    alpha = _number("celu", "alpha", alpha)
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 for CELU")
    return _act(input, inplace, lambda t: ELUFn.apply(t, alpha, 1.0, 1.0 / alpha))


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, and ``x`` where ``beta * x > threshold``."""
    return SoftplusFn.apply(_t(input), _number("softplus", "beta", beta),
                            _number("softplus", "threshold", threshold))


def logsigmoid(input):
    """``log(sigmoid(x))``, stable for large ``|x|``."""
    return LogSigmoidFn.apply(_t(input))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``clamp(x, min_val, max_val)``; the gradient is 0 at and outside the bounds."""
    lo, hi = _number("hardtanh", "min_val", min_val), _number("hardtanh", "max_val", max_val)
    if lo > hi:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val={lo} "
                         f"and max_val={hi}")
    return _act(input, inplace, lambda t: HardtanhFn.apply(t, lo, hi))


def relu6(input, inplace=False):
    """``min(max(x, 0), 6)`` (``hardtanh(x, 0, 6)``, as PyTorch)."""
    return _act(input, inplace, lambda t: HardtanhFn.apply(t, 0.0, 6.0))


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    return _act(input, inplace, lambda t: HardswishFn.apply(t))


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``."""
    return _act(input, inplace, lambda t: HardsigmoidFn.apply(t))


def softsign(input):
    """``x / (1 + |x|)``."""
    return SoftsignFn.apply(_t(input))


def threshold(input, threshold, value, inplace=False):
    """``value`` where ``x <= threshold``, else ``x``."""
    th, v = _number("threshold", "threshold", threshold), _number("threshold", "value", value)
    return _act(input, inplace, lambda t: ThresholdFn.apply(t, th, v))


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim`` (PyTorch's legacy rule when omitted)."""
    x = _t(input)
    dtype = _stacklevel_or_dtype(_stacklevel, dtype)
    if dtype is not None:
        x = x.to(dtype)
    if dim is None:
        dim = _implicit_dim(x.ndim, "softmin")
    return SoftmaxFn.apply(-x, dim)


# ---------------------------------------------------------------- PReLU

def _prelu_validate(x, w):
    """(outer, C, inner) view of x for weight w: one weight, or one per
    channel (dim 1; inputs of fewer than 2 dims have one channel)."""
    check_float("prelu", "input", x)
    if w.dtype != x.dtype:
        raise TypeError(f"prelu: weight has dtype {w.dtype}, expected {x.dtype} (the input's)")
    chans = x.shape[1] if x.ndim >= 2 else 1
    if w.size == 1:
        return 1, 1, x.size
    if w.ndim != 1 or w.size != chans:
        raise ShapeError(f"prelu: mismatch of parameter numbers and input channel size. Found "
                         f"parameter numbers = {w.size} and channel size = {chans}.")
    return x.shape[0], chans, x.size // max(x.shape[0] * chans, 1)


class PReLUFn(Function):
    """y = x > 0 ? x : w[c] x; gx = x > 0 ? g : w[c] g; gw[c] = sum of
    (x > 0 ? 0 : x g) over channel c (in double, thread-count invariant)."""
    raw = True

    @staticmethod
    def forward(ctx, x, w):
        view = _prelu_validate(x, w)
        x, w = c_contig(x), c_contig(w)
        ctx.save_for_backward(x, w)
        ctx.view = view
        if x.size == 0:  # (no channel to view x by: zero channels)
            return np.empty_like(x)
        return _core.prelu_fwd(x, w.reshape(-1), np.empty_like(x), *view, nthreads())

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        nx, nw = ctx.needs_input_grad[:2]
        g = c_contig(g.astype(x.dtype, copy=False))
        gx = np.empty_like(x) if nx else None
        gw = np.empty(w.size, x.dtype) if nw else None
        if x.size == 0:
            return gx, (np.zeros(w.shape, x.dtype) if nw else None)
        _core.prelu_bwd(x, w.reshape(-1), g, gx, gw, *ctx.view, nthreads())
        return gx, (gw.reshape(w.shape) if nw else None)


def prelu(input, weight):
    """``x`` where positive, ``weight[c] * x`` elsewhere (``weight`` of one
    element, or one per channel of dim 1).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.prelu(fastnn.tensor([-2.0, 3.0]), fastnn.tensor([0.25])).numpy()
    array([-0.5,  3. ], dtype=float32)
    """
    return PReLUFn.apply(_t(input), _t(weight))
