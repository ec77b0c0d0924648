"""Leaky ReLU, softmax and log-softmax as autograd Functions.

All three run forward and backward in the compiled core
(``csrc/activation.c``, ``csrc/softmax.c``).  Softmax works along any ``dim``
without moving data: the C kernel views the array as ``(outer, n, inner)``
with the reduced axis of length ``n`` at stride ``inner``.  The row maximum is
subtracted before ``exp``, so logits of 1e4 give finite results.
"""
import numpy as np

from .. import _core
from ..autograd.function import Function, _tensor_cls
from ._util import c_contig, check_float, normalize_dim, nthreads


def _t(x):
    """Tensor view of an argument (ndarrays and lists are wrapped)."""
    T = _tensor_cls()
    if x is None or isinstance(x, T):
        return x
    if isinstance(x, np.ndarray):
        return T._wrap(x)
    return T(x)


class LeakyRelu(Function):
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


class Softmax(_SoftmaxBase):
    """softmax along dim; backward gx = y * (g - sum(g * y))."""
    log = False
    name = "softmax"


class LogSoftmax(_SoftmaxBase):
    """log_softmax along dim; backward gx = g - exp(y) * sum(g)."""
    log = True
    name = "log_softmax"


def _implicit_dim(ndim):
    """PyTorch's legacy choice when dim is omitted: 0 for 0-, 1- and 3-D input, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """Leaky rectifier: ``input`` where positive, ``negative_slope * input`` elsewhere.

    Parameters
    ----------
    input : Tensor or ndarray (float32/float64)
    negative_slope : float
        Slope for negative inputs (default 0.01).
    inplace : bool
        Accepted for PyTorch compatibility; the result is always a new tensor.

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
    return LeakyRelu.apply(_t(input), float(negative_slope))


def softmax(input, dim=None, dtype=None):
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
    if dtype is not None:
        x = x.to(dtype)
    if dim is None:
        dim = _implicit_dim(x.ndim)
    return Softmax.apply(x, dim)


def log_softmax(input, dim=None, dtype=None):
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
    if dtype is not None:
        x = x.to(dtype)
    if dim is None:
        dim = _implicit_dim(x.ndim)
    return LogSoftmax.apply(x, dim)
