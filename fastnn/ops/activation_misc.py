"""More activations: Softshrink / Hardshrink (NumPy Functions), Tanhshrink
and GLU (compositions of compiled ops), channel shuffle, and the in-place
functional forms ``relu_``, ``elu_``, ``selu_``, ``celu_``, ``leaky_relu_``,
``hardtanh_``, ``threshold_`` through ``Tensor._inplace`` (the machinery of
``x.relu_()``)."""
import numpy as np

from .._errors import ShapeError, ValueRangeError
from ..autograd.function import Function
from . import activation as A
from ._util import normalize_dim

__all__ = ["softshrink", "hardshrink", "tanhshrink", "glu", "channel_shuffle", "relu_",
           "elu_", "selu_", "celu_", "leaky_relu_", "hardtanh_", "threshold_"]


class _ShrinkFn(Function):
    """Soft (``soft=True``: x -/+ lambd) or hard shrinkage outside
    [-lambd, lambd], 0 inside; the gradient passes where |x| > lambd."""
    raw = True

    @staticmethod
    def forward(ctx, x, lambd, soft):
        keep = ~(np.abs(x) <= lambd)        # (NaN kept: it passes through, as in PyTorch)
        ctx.keep = keep
        if soft:
            return np.where(keep, x - np.copysign(np.asarray(lambd, x.dtype), x), 0).astype(
                x.dtype, copy=False)
        return np.where(keep, x, 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return np.where(ctx.keep, g, 0).astype(g.dtype, copy=False), None, None


def _lambd(op, lambd, negative_ok=False):
    lambd = A._number(op, "lambd", lambd)
    if lambd < 0 and not negative_ok:      # (hardshrink takes one: every element is kept)
        raise ValueRangeError(f"{op}: lambda must be greater or equal to 0, but found to be "
                              f"{lambd}.")
    return lambd


def softshrink(input, lambd=0.5):
    """``x - lambd`` where ``x > lambd``, ``x + lambd`` where ``x < -lambd``, else 0."""
    return _ShrinkFn.apply(A._t(input), _lambd("softshrink", lambd), True)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    return _ShrinkFn.apply(A._t(input), _lambd("hardshrink", lambd, True), False)


def tanhshrink(input):
    """``x - tanh(x)``."""
    x = A._t(input)
    return x - x.tanh()


def glu(input, dim=-1):
    """Gated linear unit: ``a * sigmoid(b)`` with ``a, b`` the two halves of
    ``input`` along ``dim`` (whose size must be even)."""
    x = A._t(input)
    if x.dim() == 0:
        raise ShapeError("glu does not support scalars because halving size must be even")
    d = normalize_dim("glu", dim, x.dim())
    n = x.shape[d]
    if n % 2:
        raise ShapeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = x.narrow(d, 0, n // 2), x.narrow(d, n // 2, n // 2)
    return a * b.sigmoid()


def channel_shuffle(input, groups):
    """(N, C, *) with C = groups * k: channel ``g * k + i`` moved to ``i *
    groups + g`` (ShuffleNet's shuffle)."""
    x = A._t(input)
    groups = int(groups)
    if groups <= 0:
        raise ValueError(f"Number of groups to divide channels in must be positive. Value of "
                         f"groups:{groups}")
    if x.dim() < 3:
        raise ShapeError(f"channel_shuffle expects input to have at least 3 dimensions, but got "
                         f"input with sizes {list(x.shape)}")
    n, c = x.shape[0], x.shape[1]
    if c % groups:
        raise ShapeError(f"Number of channels must be divisible by groups. Got {c} channels "
                         f"and {groups} groups.")
    rest = tuple(x.shape[2:])
    return x.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


def _inplace(input, compute):
    """``input`` overwritten by ``compute(input)`` (recorded under autograd)."""
    return A._t(input)._inplace(compute, None, (), True)


def relu_(input):
    """In-place ``relu``."""
    return A._t(input).relu_()


def elu_(input, alpha=1.0):
    """In-place ``elu``."""
    return _inplace(input, lambda t: A.elu(t, alpha))


def selu_(input):
    """In-place ``selu``."""
    return _inplace(input, A.selu)


def celu_(input, alpha=1.0):
    """In-place ``celu``."""
    return _inplace(input, lambda t: A.celu(t, alpha))


def leaky_relu_(input, negative_slope=0.01):
    """In-place ``leaky_relu``."""
    return _inplace(input, lambda t: A.leaky_relu(t, negative_slope))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place ``hardtanh``."""
    return _inplace(input, lambda t: A.hardtanh(t, min_val, max_val))


def threshold_(input, threshold, value):
    """In-place ``threshold``."""
    return _inplace(input, lambda t: A.threshold(t, threshold, value))
