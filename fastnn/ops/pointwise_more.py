"""More pointwise maths PyTorch programs call: ``logaddexp``/``logaddexp2``,
``hypot``, ``copysign``, ``nextafter``, ``heaviside``, ``frexp``/``ldexp``,
``float_power``, ``gcd``/``lcm``, the bit shifts, ``deg2rad``/``rad2deg``,
and the complex-number functions on real tensors (``conj``, ``real``,
``angle``, ``positive``, ``isreal``, ...).

The dtypes follow PyTorch: ``logaddexp``, ``hypot`` and ``nextafter`` need
floating input (integer input raises, as PyTorch's), ``copysign``,
``ldexp`` and ``deg2rad`` compute integers in float32, ``float_power``
always in float64, ``gcd``/``lcm`` and the shifts only on integers
(a shift by a negative count or by the bit width or more gives 0, or -1
for a negative number shifted right, as PyTorch's).  Gradients are
PyTorch's: ``copysign`` passes ``sign(input) * sign(result)`` to input and
zero to other, ``nextafter`` passes the gradient where input != other,
``frexp``'s mantissa ``2**-exponent``, ``angle`` zero; ``heaviside`` has
none (its backward raises, as PyTorch's).  ``ldexp``, ``float_power`` and
``deg2rad``/``rad2deg`` are compositions of the differentiable ops.

Examples
--------
>>> import fastnn
>>> fastnn.logaddexp(fastnn.tensor([0.0, 1.0]), fastnn.tensor([0.0, -1.0])).round(decimals=4)
tensor([0.6931, 1.1269])
>>> fastnn.gcd(fastnn.tensor([12, 18]), fastnn.tensor([8, 27]))
tensor([4, 9])
>>> fastnn.frexp(fastnn.tensor([8.0, 0.75]))
frexp(mantissa=tensor([0.5000, 0.7500]), exponent=tensor([4, 0], dtype=torch.int32))
"""
import math
from collections import namedtuple

import numpy as np

from .._core import TensorBase
from .._core import wrap as _wrap
from ..autograd.function import Function
from .. import _defaults
from ._common import F64, float_dtype, operand, result_type, tensor
from ._util import unbroadcast
from .pointwise import _astype, _shape
from .reduction import into

frexp_result = namedtuple("frexp", ["mantissa", "exponent"])
_TORCH = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
          "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _not_impl(op, dt):
    """PyTorch's error for a dtype an op's kernel does not take."""
    return NotImplementedError(f'"{op}_cpu" not implemented for \'{_TORCH.get(str(dt), dt)}\'')


def _val(x):
    return x._array if isinstance(x, TensorBase) else x


# ------------------------------------------------ binary float functions
class _BinaryFn(Function):
    """out = f(a, b), broadcast, in the promoted floating dtype; the
    subclasses give ``f`` and ``grads(g, a, b, out) -> (ga, gb)``."""
    raw = True
    name = ""
    int_ok = False          # integer input computed in float32 (else it raises)

    @classmethod
    def forward(cls, ctx, a, b):
        dt = result_type(a, b)
        if dt.kind != "f":
            if not cls.int_ok:
                raise _not_impl(cls.name, dt)
            dt = _defaults.FLOAT
        a, b = _astype(a, dt), _astype(b, dt)
        with np.errstate(all="ignore"):
            out = np.asarray(cls.f(a, b), dt)
        ctx.shapes = (_shape(a), _shape(b))
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(a, b, out)
        return out

    @classmethod
    def backward(cls, ctx, g):
        a, b, out = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        with np.errstate(all="ignore"):
            ga, gb = cls.grads(g, a, b, out)
        return (unbroadcast(np.asarray(ga, g.dtype), ctx.shapes[0]) if na else None,
                unbroadcast(np.asarray(gb, g.dtype), ctx.shapes[1]) if nb else None)


class LogAddExpFn(_BinaryFn):
    """log(exp(a) + exp(b)); d/da = exp(a - out)."""
    name = "logaddexp"
    f = staticmethod(np.logaddexp)

    @staticmethod
    def grads(g, a, b, out):
        return g * np.exp(a - out), g * np.exp(b - out)


class LogAddExp2Fn(_BinaryFn):
    """log2(2**a + 2**b); d/da = 2**(a - out)."""
    name = "logaddexp2"
    f = staticmethod(np.logaddexp2)

    @staticmethod
    def grads(g, a, b, out):
        return g * np.exp2(a - out), g * np.exp2(b - out)


class HypotFn(_BinaryFn):
    """sqrt(a**2 + b**2); d/da = a / out."""
    name = "hypot"
    f = staticmethod(np.hypot)

    @staticmethod
    def grads(g, a, b, out):
        return g * a / out, g * b / out


class CopysignFn(_BinaryFn):
    """|a| with the sign of b; d/da = sign(a) sign(out) (0 at a == 0), d/db = 0."""
    name = "copysign"
    int_ok = True
    f = staticmethod(np.copysign)

    @staticmethod
    def grads(g, a, b, out):
        return g * _copysign_ratio(a, out), np.zeros(np.shape(g), g.dtype)


def _copysign_ratio(a, out):
    with np.errstate(all="ignore"):
        return np.where(a == 0, 0, out / np.where(a == 0, 1, a))


class NextafterFn(_BinaryFn):
    """The next float after a towards b; PyTorch's gradient: g where a != b, 0 for b."""
    name = "nextafter"
    f = staticmethod(np.nextafter)

    @staticmethod
    def grads(g, a, b, out):
        return g * (a != b), np.zeros(np.shape(g), g.dtype)


def _binary(fn, op, input, other, out):
    return into(out, fn.apply(tensor(input), operand(other)))


def logaddexp(input, other, *, out=None):
    """log(exp(input) + exp(other)), stable, broadcast (floating input)."""
    return _binary(LogAddExpFn, "logaddexp", input, other, out)


def logaddexp2(input, other, *, out=None):
    """log2(2**input + 2**other), stable, broadcast (floating input)."""
    return _binary(LogAddExp2Fn, "logaddexp2", input, other, out)


def hypot(input, other, *, out=None):
    """sqrt(input**2 + other**2) without overflow, broadcast (floating input)."""
    return _binary(HypotFn, "hypot", input, other, out)


def copysign(input, other, *, out=None):
    """The magnitude of input with the sign of other (integers give float32)."""
    return _binary(CopysignFn, "copysign", input, other, out)


def nextafter(input, other, *, out=None):
    """The next floating-point value after input towards other."""
    return _binary(NextafterFn, "nextafter", input, other, out)


# --------------------------------------------------------------- heaviside
class HeavisideFn(Function):
    """0 where x < 0, ``values`` where x == 0, 1 where x > 0 (0 for NaN, as PyTorch);
    PyTorch has no derivative for it, so its backward raises."""
    raw = True

    @staticmethod
    def forward(ctx, x, values):
        v = values
        vdt = v.dtype if isinstance(v, np.ndarray) else None
        if vdt is not None and vdt != x.dtype:
            raise RuntimeError("heaviside is not yet implemented for tensors with different "
                               "dtypes.")
        with np.errstate(all="ignore"):
            out = np.where(x > 0, 1, np.where(x == 0, _astype(v, x.dtype), 0))
        return np.asarray(out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("derivative for aten::heaviside is not implemented")


def heaviside(input, values, *, out=None):
    """The Heaviside step of input, ``values`` where input is 0 (same dtype)."""
    return into(out, HeavisideFn.apply(tensor(input), operand(values)))


# ---------------------------------------------------------- frexp / ldexp
class FrexpFn(Function):
    """(mantissa, exponent) with input = mantissa * 2**exponent, |mantissa|
    in [0.5, 1); the mantissa's gradient is g * 2**-exponent."""
    raw = True

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind != "f":
            raise RuntimeError("torch.frexp() only supports floating-point dtypes")
        m, e = np.frexp(x)
        e = np.asarray(e, np.int32)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(e)
        return np.asarray(m, x.dtype), e

    @staticmethod
    def backward(ctx, g, *unused):
        (e,) = ctx.saved_tensors
        return np.ldexp(g, -e).astype(g.dtype, copy=False)


def frexp(input, *, out=None):
    """The mantissa and int32 exponent of floating input (``torch.frexp``)."""
    res = frexp_result(*FrexpFn.apply(tensor(input)))
    if out is not None:
        into(out[0], res[0])
        into(out[1], res[1])
        return frexp_result(*out)
    return res


def _as_dtype(x, dt):
    """A Tensor x in dtype dt (a cast op when it differs; numbers as floats)."""
    if isinstance(x, TensorBase):
        return x if x._array.dtype == dt else x.to(dt)
    return x


def ldexp(input, other, *, out=None):
    """input * 2**other, in the promoted floating dtype (integers: float32)."""
    x, o = tensor(input), operand(other)
    dt = float_dtype(x, o)
    from .pointwise import exp2
    o = _as_dtype(o, dt)
    p = exp2(o) if isinstance(o, TensorBase) else 2.0 ** o
    return into(out, _as_dtype(x, dt) * p)


def float_power(input, exponent, *, out=None):
    """input ** exponent computed in float64 (either may be a number)."""
    x, e = operand(input), operand(exponent)
    if not isinstance(x, TensorBase) and not isinstance(e, TensorBase):
        raise TypeError("float_power(): at least one of input and exponent must be a Tensor")
    x = _as_dtype(x, F64) if isinstance(x, TensorBase) else float(x)
    e = _as_dtype(e, F64) if isinstance(e, TensorBase) else float(e)
    if isinstance(x, TensorBase):
        res = x ** e
    else:
        res = tensor(np.asarray(x, F64)) ** e
    return into(out, res)


# ------------------------------------------------- integer functions
def _int_binary(name, fn, input, other, out):
    a, b = operand(input), operand(other)
    if not isinstance(a, TensorBase) and not isinstance(b, TensorBase):
        raise TypeError(f"{name}(): expected a Tensor argument")
    dt = result_type(a, b)
    if dt.kind not in "iu":
        raise _not_impl(name, dt)
    av, bv = _astype(_val(a), dt), _astype(_val(b), dt)
    return into(out, _wrap(np.asarray(fn(av, bv, dt), dt)))


def gcd(input, other, *, out=None):
    """The greatest common divisor, elementwise (integer tensors; gcd(0, 0) = 0)."""
    return _int_binary("gcd", lambda a, b, dt: np.gcd(a, b), input, other, out)


def lcm(input, other, *, out=None):
    """The least common multiple, elementwise (integer tensors; 0 with a 0)."""
    return _int_binary("lcm", lambda a, b, dt: np.lcm(a, b), input, other, out)


def _shift(a, b, dt, left):
    bits = dt.itemsize * 8
    off = (b < 0) | (b >= bits)
    s = np.where(off, 0, b).astype(dt, copy=False)
    r = np.left_shift(a, s) if left else np.right_shift(a, s)
    fill = 0 if left or dt.kind == "u" else np.where(a < 0, -1, 0)
    return np.where(off, fill, r)


def bitwise_left_shift(input, other, *, out=None):
    """input << other on integers (a count outside [0, bits) gives 0)."""
    return _int_binary("lshift", lambda a, b, dt: _shift(a, b, dt, True), input, other, out)


def bitwise_right_shift(input, other, *, out=None):
    """input >> other on integers, arithmetic (a count outside [0, bits)
    gives 0, or -1 for a negative input)."""
    return _int_binary("rshift", lambda a, b, dt: _shift(a, b, dt, False), input, other, out)


# --------------------------------------------------------------- degrees
def _to_float(x):
    return x if x._array.dtype.kind == "f" else x.to(_defaults.FLOAT)


def deg2rad(input, *, out=None):
    """Degrees to radians (integers and bools give float32)."""
    return into(out, _to_float(tensor(input)) * (math.pi / 180.0))


def rad2deg(input, *, out=None):
    """Radians to degrees (integers and bools give float32)."""
    return into(out, _to_float(tensor(input)) * (180.0 / math.pi))


# ------------------------------------------ complex functions, real input
def positive(input):
    """``input`` itself (``+input``); a bool tensor raises, as PyTorch."""
    x = tensor(input)
    if x._array.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return x


def _self(name):
    def f(input):
        return tensor(input)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``torch.{name}`` of a real tensor: the tensor itself (fastnn has no "
                 "complex dtypes).")
    return f


conj = _self("conj")
resolve_conj = _self("resolve_conj")
resolve_neg = _self("resolve_neg")
real = _self("real")


def conj_physical(input, *, out=None):
    """A copy of a real tensor (the conjugate of a real number is itself)."""
    return into(out, tensor(input).clone())


def imag(input):
    """Raises, as PyTorch does for a real tensor."""
    tensor(input)
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def isreal(input):
    """All True for a real tensor (a bool tensor of its shape)."""
    return _wrap(np.ones(tensor(input)._array.shape, bool))


class AngleFn(Function):
    """The argument of a real number: pi where x < 0, else 0 (NaN stays
    NaN); integers give float32; the gradient is zero, as PyTorch's."""
    raw = True

    @staticmethod
    def forward(ctx, x):
        dt = x.dtype if x.dtype.kind == "f" else _defaults.FLOAT
        xf = x.astype(dt, copy=False)
        return np.asarray(np.where(xf < 0, np.pi, np.where(np.isnan(xf), xf, 0)), dt)

    @staticmethod
    def backward(ctx, g):
        return np.zeros_like(g)


def angle(input, *, out=None):
    """pi for negative elements, 0 otherwise (as for real numbers)."""
    return into(out, AngleFn.apply(tensor(input)))


# ---------------------------------------------------- incomplete gamma
_lgamma = np.frompyfunc(math.lgamma, 1, 1)
_EPS = np.finfo(np.float64).eps
_TINY = 1e-300


def _log_prefactor(a, x):
    """log(x**a exp(-x) / Gamma(a))."""
    return a * np.log(x) - x - _lgamma(a).astype(np.float64)


def _gamma_series(a, x):
    """P(a, x) by its power series (x < a + 1)."""
    s = term = 1.0 / a
    n = np.zeros_like(a)
    act = np.ones(a.shape, bool)
    for _ in range(20000):
        n = n + 1
        term = np.where(act, term * x / (a + n), term)
        s = np.where(act, s + term, s)
        act &= np.abs(term) > np.abs(s) * _EPS
        if not act.any():
            break
    return s * np.exp(_log_prefactor(a, x))


def _gamma_cf(a, x):
    """Q(a, x) by its continued fraction (modified Lentz; x >= a + 1)."""
    b = x + 1.0 - a
    c = np.full(a.shape, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    act = np.ones(a.shape, bool)
    for i in range(1, 20000):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        delta = d * c
        h = np.where(act, h * delta, h)
        act &= np.abs(delta - 1.0) > _EPS
        if not act.any():
            break
    return h * np.exp(_log_prefactor(a, x))


def _igamma_np(a, x, upper):
    """The regularised incomplete gamma P(a, x) (Q = 1 - P with ``upper``),
    with PyTorch's values at the edges (NaN for a < 0 or x < 0 or
    a = x = 0; P(0, x > 0) = 1, P(a > 0, 0) = 0, P(a, inf) = 1, P(inf, x) = 0)."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    p = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        bad = (a < 0) | (x < 0) | ((a == 0) & (x == 0)) | np.isnan(a) | np.isnan(x)
        one = ~bad & (((a == 0) & (x > 0)) | (np.isinf(x) & ~np.isinf(a)))
        zero = ~bad & ~one & ((x == 0) | np.isinf(a))
        reg = ~bad & ~one & ~zero
        ser = reg & (x < a + 1)
        cf = reg & ~ser
        q = np.full(a.shape, np.nan)
        p[one], q[one] = 1.0, 0.0
        p[zero], q[zero] = 0.0, 1.0
        if ser.any():
            p[ser] = _gamma_series(a[ser], x[ser])
            q[ser] = 1.0 - p[ser]
        if cf.any():
            q[cf] = _gamma_cf(a[cf], x[cf])
            p[cf] = 1.0 - q[cf]
    return q if upper else p


def _igamma_dx(a, x):
    """d P(a, x) / dx = x**(a-1) exp(-x) / Gamma(a)."""
    with np.errstate(all="ignore"):
        return np.exp((a - 1.0) * np.log(x) - x - _lgamma(a).astype(np.float64))


class IgammaFn(Function):
    """The regularised lower (``upper``: upper) incomplete gamma function of
    (input, other); PyTorch differentiates it only in ``other``."""
    raw = True

    @staticmethod
    def forward(ctx, a, x, upper):
        dt = result_type(a, x)
        if dt.kind != "f":
            raise _not_impl("igammac" if upper else "igamma", dt)
        ctx.shapes = (_shape(a), _shape(x))
        ctx.upper = upper
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(a, x)
        return np.asarray(_igamma_np(a, x, upper), dt)

    @staticmethod
    def backward(ctx, g):
        if ctx.needs_input_grad[0]:
            raise RuntimeError(f"the derivative for '{'igammac' if ctx.upper else 'igamma'}: "
                               "input' is not implemented.")
        a, x = ctx.saved_tensors
        d = _igamma_dx(np.asarray(a, np.float64), np.asarray(x, np.float64))
        gx = g * (-d if ctx.upper else d).astype(g.dtype)
        return None, unbroadcast(np.asarray(gx, g.dtype), ctx.shapes[1]), None


def igamma(input, other, *, out=None):
    """The regularised lower incomplete gamma function P(input, other)."""
    return into(out, IgammaFn.apply(tensor(input), operand(other), False))


def igammac(input, other, *, out=None):
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P."""
    return into(out, IgammaFn.apply(tensor(input), operand(other), True))
