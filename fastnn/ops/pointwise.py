"""Pointwise maths beyond the arithmetic operators: unary functions (sign,
rsqrt, log1p, sin, erf, floor, round, ...), clamp, where, maximum/minimum,
remainder, and the comparisons that give bool tensors (isnan, isclose, ...).

Every function takes Tensors (or numbers where PyTorch does) and is also a
``Tensor`` method.  They are single memory-bound NumPy passes; the
differentiable ones are ``autograd.Function`` subclasses whose backward
needs at most one saved array (the input or the output, whichever the
derivative is cheaper from; the output where an in-place form exists, so
``x.rsqrt_()`` on a non-leaf keeps an exact gradient).  Integer input gives
float32 output where PyTorch's does (``exp``, ``sin``, ``sqrt``, ...); the
rounding functions keep the dtype.  Gradients follow PyTorch's choices at
the edges: zero for the rounding functions and ``sign``, clamp passes the
gradient where ``min <= x <= max``, maximum/minimum split it evenly on ties.

Examples
--------
>>> import fastnn
>>> x = fastnn.tensor([-1.5, 0.25, 2.0], requires_grad=True)
>>> y = x.clamp(-1, 1)
>>> y
tensor([-1.0000,  0.2500,  1.0000], grad_fn=<ClampBackward1>)
>>> y.sum().backward()
>>> x.grad
tensor([0., 1., 0.])
>>> fastnn.where(x.detach() > 0, x.detach(), 0.0)
tensor([0.0000, 0.2500, 2.0000])
"""
import math

import numpy as np

from .._core import TensorBase
from .._errors import ShapeError
from .._core import wrap as _wrap
from ..autograd.function import Function
from .. import _defaults
from ._common import operand, result_type, tensor
from .reduction import into
from ._util import broadcast_shape, unbroadcast

_nd = np.ndarray


def _shape(x):
    return x.shape if isinstance(x, _nd) else ()


def _astype(x, dt):
    """x (an ndarray or a number) as dtype dt (floats are left to NumPy; an
    integer wraps into an integer dtype, as PyTorch's: uint8 with -1 is 255)."""
    if isinstance(x, _nd):
        return x.astype(dt) if x.dtype != dt else x
    if isinstance(x, int) and dt.kind in "iu":
        return np.asarray(x).astype(dt)
    return x


# ------------------------------------------------------------ unary functions
class _UnaryFn(Function):
    """y = f(x) with dy/dx from the saved input or output.

    Subclasses set ``f`` (ndarray -> ndarray), ``save`` ("x", "out" or None)
    and ``df(g, saved)``; ``keeps_int`` keeps integer input's dtype (rounding
    functions) instead of computing in float32."""
    raw = True
    save = None
    keeps_int = False

    @classmethod
    def forward(cls, ctx, x):
        if x.dtype.kind not in "f" and not cls.keeps_int:
            x = x.astype(_defaults.FLOAT)
        with np.errstate(all="ignore"):
            out = cls.f(x)
        if not isinstance(out, _nd):
            out = np.asarray(out, x.dtype)
        if cls.save is not None and ctx.needs_input_grad[0]:
            ctx.save_for_backward(x if cls.save == "x" else out)
        return out

    @classmethod
    def backward(cls, ctx, g):
        s = ctx.saved_tensors[0] if cls.save else None
        with np.errstate(all="ignore"):
            return cls.df(g, s)


def _zero_grad(g, s):
    return np.zeros_like(g)


def _pass_grad(g, s):
    return g


_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _libm(fn):
    """An ndarray function from a scalar libm function (exact, not fast)."""
    def f(x):
        return np.asarray(fn(x), dtype=np.float64).astype(x.dtype)
    return f


def _rounded_once(fn):
    """fn on a float32 (or half) array computed in float64 and rounded once:
    NumPy's single-precision log10/log2 are off by an ulp on many inputs
    (log10(100) gives 2.0000002), PyTorch's give the correctly rounded
    value, e.g. exactly 2 (a PSNR of 10*log10(1/mse) is then the same)."""
    def f(x):
        if x.dtype.kind == "f" and x.dtype.itemsize < 8:
            return fn(x.astype(np.float64)).astype(x.dtype)
        return fn(x)
    return f


def _sign(x):
    """(x > 0) - (x < 0), as PyTorch: NaN gives 0 and -0.0 gives +0.0."""
    if x.dtype.kind != "f":
        return np.sign(x)
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


def _fn(name, f, save=None, df=_zero_grad, keeps_int=False):
    """A ``_UnaryFn`` subclass: y = f(x), dy/dx from ``df(g, saved)``."""
    return type(name, (_UnaryFn,), {"f": staticmethod(f), "save": save, "df": staticmethod(df),
                                    "keeps_int": keeps_int, "__module__": __name__})


#        class           f                          saved  gradient(g, saved)
SignFn = _fn("SignFn", lambda x: x.copy() if x.dtype == bool else _sign(x), keeps_int=True)
FloorFn = _fn("FloorFn", np.floor, keeps_int=True)
CeilFn = _fn("CeilFn", np.ceil, keeps_int=True)
TruncFn = _fn("TruncFn", np.trunc, keeps_int=True)
FracFn = _fn("FracFn", lambda x: x - np.trunc(x), None, _pass_grad)
RsqrtFn = _fn("RsqrtFn", lambda x: 1.0 / np.sqrt(x), "out", lambda g, y: -0.5 * g * y * y * y)
ReciprocalFn = _fn("ReciprocalFn", lambda x: 1.0 / x, "out", lambda g, y: -g * y * y)
SquareFn = _fn("SquareFn", lambda x: np.square(x.astype(np.int64) if x.dtype == bool else x),
              "x", lambda g, x: 2.0 * g * x, keeps_int=True)    # (bool: int64, as PyTorch)
Log1pFn = _fn("Log1pFn", np.log1p, "x", lambda g, x: g / (1.0 + x))
Expm1Fn = _fn("Expm1Fn", np.expm1, "out", lambda g, y: g * (y + 1.0))
Log2Fn = _fn("Log2Fn", _rounded_once(np.log2), "x", lambda g, x: g / (x * _LN2))
Log10Fn = _fn("Log10Fn", _rounded_once(np.log10), "x", lambda g, x: g / (x * _LN10))
SinFn = _fn("SinFn", np.sin, "x", lambda g, x: g * np.cos(x))
CosFn = _fn("CosFn", np.cos, "x", lambda g, x: -g * np.sin(x))
TanFn = _fn("TanFn", np.tan, "out", lambda g, y: g * (1.0 + y * y))
SinhFn = _fn("SinhFn", np.sinh, "x", lambda g, x: g * np.cosh(x))
CoshFn = _fn("CoshFn", np.cosh, "x", lambda g, x: g * np.sinh(x))
AsinFn = _fn("AsinFn", np.arcsin, "x", lambda g, x: g / np.sqrt(1.0 - x * x))
AcosFn = _fn("AcosFn", np.arccos, "x", lambda g, x: -g / np.sqrt(1.0 - x * x))
AtanFn = _fn("AtanFn", np.arctan, "x", lambda g, x: g / (1.0 + x * x))
ErfFn = _fn("ErfFn", _libm(_erf), "x", lambda g, x: g * (_TWO_OVER_SQRT_PI * np.exp(-x * x)))
ErfcFn = _fn("ErfcFn", _libm(_erfc), "x",
             lambda g, x: g * (-_TWO_OVER_SQRT_PI * np.exp(-x * x)))
AsinhFn = _fn("AsinhFn", np.arcsinh, "x", lambda g, x: g / np.sqrt(x * x + 1.0))
AcoshFn = _fn("AcoshFn", np.arccosh, "x", lambda g, x: g / np.sqrt(x * x - 1.0))
AtanhFn = _fn("AtanhFn", np.arctanh, "x", lambda g, x: g / (1.0 - x * x))
Exp2Fn = _fn("Exp2Fn", np.exp2, "out", lambda g, y: g * y * _LN2)


def _erfinv(x):
    """Inverse error function: Giles' single-precision approximation refined
    by Newton steps on erf (exact to rounding in float64); +-inf at +-1,
    NaN outside [-1, 1]."""
    x64 = x.astype(np.float64)
    w = -np.log((1.0 - x64) * (1.0 + x64))
    small = w < 5.0
    ws, wl = w - 2.5, np.sqrt(np.maximum(w, 5.0)) - 3.0
    ps = np.polyval([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                     0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941],
                    ws)
    pl = np.polyval([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                     0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682], wl)
    y = np.where(small, ps, pl) * x64
    for _ in range(3):
        err = np.asarray(_erf(y), np.float64) - x64       # (a 0-d input: a Python float)
        y = y - err / (_TWO_OVER_SQRT_PI * np.exp(-y * y))
    y = np.where(np.abs(x64) == 1.0, np.copysign(np.inf, x64), y)
    return np.asarray(y).astype(x.dtype)


ErfinvFn = _fn("ErfinvFn", lambda x: _erfinv(np.asarray(x)), "out",
               lambda g, y: g * (np.exp(y * y) / _TWO_OVER_SQRT_PI))


class Atan2Fn(Function):
    """atan2(input, other) = the angle of (other, input), broadcast; the
    gradient (other, -input) / (input**2 + other**2)."""
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        dt = result_type(a, b)
        if dt.kind != "f":
            dt = _defaults.FLOAT
        a, b = _astype(a, dt), _astype(b, dt)
        ctx.save_for_backward(a, b)
        ctx.shapes = (_shape(a), _shape(b))
        return np.asarray(np.arctan2(a, b), dt)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        with np.errstate(all="ignore"):
            d = g / (a * a + b * b)
        return (unbroadcast(d * b, ctx.shapes[0]) if na else None,
                unbroadcast(-d * a, ctx.shapes[1]) if nb else None)


def atan2(input, other, *, out=None):
    """Elementwise ``atan2(input, other)`` (the quadrant-aware arctangent of
    input / other), broadcast (``torch.atan2``)."""
    return into(out, Atan2Fn.apply(operand(input), operand(other)))


arctan2 = atan2


class RoundFn(Function):
    """Half to even, as PyTorch; ``decimals`` scales by 10**decimals first."""
    raw = True

    @staticmethod
    def forward(ctx, x, decimals=0):
        return np.round(x, decimals)

    @staticmethod
    def backward(ctx, g):
        return np.zeros_like(g)


def _unary(fn, name):
    def op(input):
        return fn.apply(tensor(input))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` (as ``torch.{name}``)."
    return op


sign = _unary(SignFn, "sign")
floor = _unary(FloorFn, "floor")
ceil = _unary(CeilFn, "ceil")
trunc = _unary(TruncFn, "trunc")
fix = trunc
frac = _unary(FracFn, "frac")
rsqrt = _unary(RsqrtFn, "rsqrt")
reciprocal = _unary(ReciprocalFn, "reciprocal")
square = _unary(SquareFn, "square")
log1p = _unary(Log1pFn, "log1p")
expm1 = _unary(Expm1Fn, "expm1")
log2 = _unary(Log2Fn, "log2")
log10 = _unary(Log10Fn, "log10")
sin = _unary(SinFn, "sin")
cos = _unary(CosFn, "cos")
tan = _unary(TanFn, "tan")
sinh = _unary(SinhFn, "sinh")
cosh = _unary(CoshFn, "cosh")
asin = arcsin = _unary(AsinFn, "asin")
acos = arccos = _unary(AcosFn, "acos")
atan = arctan = _unary(AtanFn, "atan")
erf = _unary(ErfFn, "erf")
erfc = _unary(ErfcFn, "erfc")
asinh = arcsinh = _unary(AsinhFn, "asinh")
acosh = arccosh = _unary(AcoshFn, "acosh")
atanh = arctanh = _unary(AtanhFn, "atanh")
exp2 = _unary(Exp2Fn, "exp2")
erfinv = _unary(ErfinvFn, "erfinv")


def round(input, *, decimals=0, out=None):
    """Rounds half to even (``torch.round``); ``decimals`` digits after the point."""
    return into(out, RoundFn.apply(tensor(input), int(decimals)))


# ------------------------------------------------------------------- clamp
class ClampFn(Function):
    """min(max(x, lo), hi); the gradient passes where lo <= x <= hi, and to
    a Tensor bound where it is the one taken (PyTorch's rule)."""
    raw = True

    @staticmethod
    def _torch_name(ctx):
        return "ClampBackward0" if ctx.tensor_bounds else "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.tensor_bounds = isinstance(lo, np.ndarray) or isinstance(hi, np.ndarray)
        dt = result_type(x, lo, hi)
        xx = _astype(x, dt)
        out = xx
        if lo is not None:
            out = np.maximum(out, _astype(lo, dt))
        if hi is not None:
            out = np.minimum(out, _astype(hi, dt))
        out = _astype(out, dt)
        if out is x:
            out = x.copy()
        nx, nlo, nhi = ctx.needs_input_grad
        if nx or nlo or nhi:
            below = (x < lo) if lo is not None else None
            above = (x > hi) if hi is not None else None
            crossed = (lo > hi) if (lo is not None and hi is not None) else None
            ctx.shapes = (_shape(x), _shape(lo), _shape(hi))
            ctx.masks = (below, above, crossed)
        return out

    @staticmethod
    def backward(ctx, g):
        below, above, crossed = ctx.masks
        sx, slo, shi = ctx.shapes
        nx, nlo, nhi = ctx.needs_input_grad
        gx = glo = ghi = None
        if nx:
            out_of = below if above is None else (above if below is None else below | above)
            gx = unbroadcast(np.where(out_of, 0, g).astype(g.dtype, copy=False), sx)
        if nlo:
            m = below if crossed is None else below & ~crossed
            glo = unbroadcast(np.where(m, g, 0).astype(g.dtype, copy=False), slo)
        if nhi:
            m = above if crossed is None else above | crossed
            ghi = unbroadcast(np.where(m, g, 0).astype(g.dtype, copy=False), shi)
        return gx, glo, ghi


def clamp(input, min=None, max=None, *, out=None):
    """Clamps every element into ``[min, max]`` (numbers or Tensors; either
    may be None, not both).  ``clip`` is the same function."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    lo = None if min is None else operand(min)
    hi = None if max is None else operand(max)
    check_clamp_bounds("clamp", lo, hi)
    return into(out, ClampFn.apply(tensor(input), lo, hi))


def check_clamp_bounds(name, lo, hi):
    """PyTorch's clamp takes two Tensor bounds or two number bounds (a 0-d
    Tensor counts as a number): a Tensor with dims next to a number is the
    TypeError of an argument combination no overload has."""
    kinds = []
    for b in (lo, hi):
        if isinstance(b, TensorBase):
            kinds.append("Tensor" if b.ndim else "number")
        else:
            kinds.append(None if b is None else type(b).__name__)
    if "Tensor" in kinds and any(k not in (None, "Tensor", "number") for k in kinds):
        got = ", ".join(["Tensor"] + [k for k in kinds if k is not None])
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got ({got}), but "
            "expected one of:\n * (Tensor input, Tensor min = None, Tensor max = None)\n"
            " * (Tensor input, Number min = None, Number max = None)")


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


# ------------------------------------------------------------------- where
class WhereFn(Function):
    """cond ? x : y with broadcasting; each branch's gradient is the upstream
    gradient where it was chosen, summed back to its shape."""
    raw = True

    @staticmethod
    def forward(ctx, cond, x, y):
        if cond.dtype == np.uint8:          # accepted with PyTorch's deprecation warning
            import warnings
            warnings.warn("where received a uint8 condition tensor. This behavior is "
                          "deprecated and will be removed in a future version of PyTorch. "
                          "Use a boolean condition instead.", UserWarning, stacklevel=3)
            cond = cond.astype(bool)
        if cond.dtype.kind != "b":
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype fastnn.{cond.dtype}")
        dt = result_type(x, y)
        try:
            out = np.where(cond, _astype(x, dt), _astype(y, dt))
        except ValueError:
            raise ShapeError(f"where: the condition {tuple(cond.shape)}, input "
                             f"{tuple(_shape(x))} and other {tuple(_shape(y))} cannot be "
                             "broadcast together") from None
        out = out.astype(dt, copy=False)
        ctx.save_for_backward(cond)
        ctx.shapes = (_shape(x), _shape(y))
        return out

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        sx, sy = ctx.shapes
        _, nx, ny = ctx.needs_input_grad
        z = g.dtype.type(0)
        gx = unbroadcast(np.where(cond, g, z), sx) if nx else None
        gy = unbroadcast(np.where(cond, z, g), sy) if ny else None
        return None, gx, gy


def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other`` (Tensors or
    numbers, broadcast).  ``where(condition)`` alone is
    ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where() expects condition, input and other (or condition alone)")
    return WhereFn.apply(tensor(condition), operand(input), operand(other))


# --------------------------------------------------------- maximum / minimum
class _PairExtremeFn(Function):
    """Elementwise max/min of two tensors; ties split the gradient in half
    (PyTorch's rule), NaN propagates."""
    raw = True
    f = None
    sign = 1

    @classmethod
    def forward(cls, ctx, a, b):
        dt = result_type(a, b)
        try:
            out = cls.f(_astype(a, dt), _astype(b, dt))
        except ValueError:
            broadcast_shape(cls.__name__[:-2].lower(), a, b)
            raise
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.save_for_backward(a, b)
        return out

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        half = np.where(a == b, g / 2, g)
        ga = gb = None
        if na:
            lose = (a < b) if cls.sign > 0 else (a > b)
            ga = unbroadcast(np.where(lose, 0, half).astype(g.dtype, copy=False), _shape(a))
        if nb:
            lose = (a > b) if cls.sign > 0 else (a < b)
            gb = unbroadcast(np.where(lose, 0, half).astype(g.dtype, copy=False), _shape(b))
        return ga, gb


class MaximumFn(_PairExtremeFn):
    f = np.maximum
    sign = 1


class MinimumFn(_PairExtremeFn):
    f = np.minimum
    sign = -1


def _tensor_pair(op, a, b):
    if not isinstance(b, TensorBase) and not isinstance(b, _nd):
        raise TypeError(f"{op}(): argument 'other' must be Tensor, not {type(b).__name__}")
    return tensor(a), tensor(b)


def maximum(input, other):
    """Elementwise maximum of two tensors (broadcast)."""
    return MaximumFn.apply(*_tensor_pair("maximum", input, other))


def minimum(input, other):
    """Elementwise minimum of two tensors (broadcast)."""
    return MinimumFn.apply(*_tensor_pair("minimum", input, other))


def _nan_ignoring(op, input, other, bigger, out):
    """fmax/fmin: the pair's max/min where neither is NaN, the non-NaN one
    where one is (NaN where both are).  ``input`` is taken where it wins or
    ties, or where ``other`` is NaN, else ``other``, and the gradient goes to
    the one taken (PyTorch's rule), so it is ``where`` on that mask."""
    a, b = _tensor_pair(op, input, other)
    av, bv = a._array, b._array
    try:
        with np.errstate(invalid="ignore"):
            take_a = (av >= bv) if bigger else (av <= bv)
            if bv.dtype.kind == "f":
                take_a |= np.isnan(bv)
    except ValueError:
        broadcast_shape(op, av, bv)
        raise
    return into(out, WhereFn.apply(_wrap(np.asarray(take_a)), a, b), op)


def fmax(input, other, *, out=None):
    """Elementwise maximum that ignores NaN (``torch.fmax``): NaN only where
    both are NaN."""
    return _nan_ignoring("fmax", input, other, True, out)


def fmin(input, other, *, out=None):
    """Elementwise minimum that ignores NaN (``torch.fmin``)."""
    return _nan_ignoring("fmin", input, other, False, out)


# -------------------------------------------------------- remainder, fmod
class RemainderFn(Function):
    """a - floor(a / b) * b (the sign of the divisor, Python's %); ``fmod``
    subclass: a - trunc(a / b) * b."""
    raw = True
    f = np.remainder
    q = np.floor

    @classmethod
    def forward(cls, ctx, a, b):
        dt = result_type(a, b)
        if dt.kind in "iu" and np.any(np.asarray(b) == 0):
            raise RuntimeError("ZeroDivisionError")       # (PyTorch's, for integers)
        with np.errstate(all="ignore"):
            out = cls.f(_astype(a, dt), _astype(b, dt))
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(a, b)
        ctx.shapes = (_shape(a), _shape(b))
        return np.asarray(out)

    @classmethod
    def backward(cls, ctx, g):
        na, nb = ctx.needs_input_grad
        sa, sb = ctx.shapes
        ga = unbroadcast(g, sa) if na else None
        gb = None
        if nb:
            a, b = ctx.saved_tensors
            with np.errstate(all="ignore"):
                gb = unbroadcast(-g * cls.q(a / b), sb)
        return ga, gb


class FmodFn(RemainderFn):
    f = np.fmod
    q = np.trunc


def remainder(input, other):
    """Python-style remainder (``input % other``)."""
    return RemainderFn.apply(operand(input), operand(other))


def fmod(input, other):
    """C-style remainder (the sign of the dividend)."""
    return FmodFn.apply(operand(input), operand(other))


def floor_divide(input, other):
    """floor(input / other), no gradient (``input // other``)."""
    a, b = operand(input), operand(other)
    av = a._array if isinstance(a, TensorBase) else a
    bv = b._array if isinstance(b, TensorBase) else b
    dt = result_type(av, bv)
    with np.errstate(all="ignore"):
        if dt.kind in "iu" and np.any(np.asarray(bv) == 0):
            raise RuntimeError("ZeroDivisionError")
        out = np.floor_divide(_astype(av, dt), _astype(bv, dt))
    return _wrap(np.asarray(out, dt))


# ----------------------------------------------------- logic and bit ops
def _logic(name, fn, unary=False):
    def op(input, other=None):
        a = tensor(input)._array
        if unary:
            return _wrap(np.asarray(fn(a)))
        b = other._array if isinstance(other, TensorBase) else other
        return _wrap(np.asarray(fn(a, b)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``torch.{name}``: a bool tensor, no gradient."
    return op


logical_and = _logic("logical_and", np.logical_and)
logical_or = _logic("logical_or", np.logical_or)
logical_xor = _logic("logical_xor", np.logical_xor)
logical_not = _logic("logical_not", np.logical_not, unary=True)
isnan = _logic("isnan", np.isnan, unary=True)
isinf = _logic("isinf", np.isinf, unary=True)
isfinite = _logic("isfinite", np.isfinite, unary=True)
isposinf = _logic("isposinf", np.isposinf, unary=True)
isneginf = _logic("isneginf", np.isneginf, unary=True)
signbit = _logic("signbit", np.signbit, unary=True)


def _bitwise(name, fn):
    def op(input, other=None):
        a = tensor(input)._array
        args = (a,) if other is None else (a, other._array if isinstance(other, TensorBase)
                                           else other)
        for v in args:
            if np.asarray(v).dtype.kind == "f":
                from .._errors import DTypeNotImplementedError
                tn = "Double" if np.asarray(v).dtype == np.float64 else "Float"
                raise DTypeNotImplementedError(f'"{name}_cpu" not implemented for \'{tn}\'')
        dt = result_type(*args)
        return _wrap(np.asarray(fn(*[_astype(v, dt) for v in args])).astype(dt, copy=False))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``torch.{name}`` on bool or integer tensors (no gradient)."
    return op


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)
bitwise_not = _bitwise("bitwise_not", np.invert)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise (a bool tensor)."""
    a = tensor(input)._array
    b = other._array if isinstance(other, TensorBase) else np.asarray(other)
    return _wrap(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element is close (see ``isclose``)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._array.all())


def equal(input, other):
    """True when both tensors have the same shape and elements."""
    a, b = tensor(input)._array, tensor(other)._array
    return a.shape == b.shape and bool(np.array_equal(a, b))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> ``nan``, +-inf -> ``posinf``/``neginf`` (the dtype's extremes
    by default); the gradient passes where the input was finite."""
    x = tensor(input)
    fin = _wrap(np.isfinite(x._array))
    a = x._array
    repl = np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    return WhereFn.apply(fin, x, _wrap(repl.astype(a.dtype, copy=False)))


# ------------------------------------------------------- composed helpers
def lerp(input, end, weight):
    """input + weight * (end - input)."""
    x, e, w = tensor(input), tensor(end), operand(weight)
    return x + w * (e - x)


def _addc_operands(input, tensor1, tensor2, value):
    """The three tensors in PyTorch's common dtype of all of them (and the
    value): a float64 input makes the product float64 too."""
    ts = [tensor(input), tensor(tensor1), tensor(tensor2)]
    dt = result_type(*ts, value)
    return [t if t._array.dtype == dt else t.type(dt) for t in ts]


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2."""
    x, t1, t2 = _addc_operands(input, tensor1, tensor2, value)
    p = t1 * t2
    return x + (p if value == 1 else p * value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2."""
    x, t1, t2 = _addc_operands(input, tensor1, tensor2, value)
    if all(tensor(t)._array.dtype.kind in "biu" for t in (tensor1, tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 "
                           "and tensor2. The historic addcdiv behavior can be implemented as "
                           "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) "
                           "for integer inputs and as (input + value * tensor1 / tensor2) for "
                           "float inputs. The future addcdiv behavior is just the latter "
                           "implementation: (input + value * tensor1 / tensor2), for all "
                           "dtypes.")
    q = t1 / t2
    return x + (q if value == 1 else q * value)


class FillFn(Function):
    """Every element set to ``value`` (a number, or a 0-d Tensor that then
    receives the summed gradient): the graph form of ``fill_``."""
    raw = True

    @staticmethod
    def forward(ctx, x, value):
        if isinstance(value, _nd) and value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        return np.full_like(x, value)

    @staticmethod
    def backward(ctx, g):
        nx, nv = ctx.needs_input_grad
        return (np.zeros_like(g) if nx else None), (np.asarray(g.sum()) if nv else None)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Bool tensor: whether each of ``elements`` is in ``test_elements``
    (either may be a number; ``torch.isin``)."""
    a = operand(elements)
    b = operand(test_elements)
    av = a._array if isinstance(a, TensorBase) else np.asarray(a)
    bv = b._array if isinstance(b, TensorBase) else np.asarray(b)
    return _wrap(np.isin(av, bv, invert=bool(invert)))
