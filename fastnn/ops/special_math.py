"""Special functions: ``lgamma``, ``digamma``, ``polygamma``, ``mvlgamma``,
the Hurwitz ``zeta``, ``xlogy``/``xlog1py``, ``logit``, ``sinc``, ``entr``,
the normal distribution's ``ndtr``/``ndtri``/``log_ndtr`` and the modified
Bessel functions ``i0``/``i0e``/``i1``/``i1e`` (``torch.special``).

Vectorised NumPy approximations (no SciPy), float64 inside, accurate to
about 1e-13 relative (``i0``..``i1e`` about 1e-14; ``ndtr``'s tails and
``log_ndtr`` to ~1e-12):

- lgamma: Lanczos (g = 7, 9 terms) for x >= 0.5, reflection below
  (``log(pi / |sin(pi x)|) - lgamma(1 - x)``; +inf at 0, -1, -2, ...).
- digamma: recurrence up to x >= 6 and the asymptotic series, reflection
  ``psi(1 - x) - pi / tan(pi x)`` for x < 0.5 (-inf at 0, NaN at negative
  integers, as PyTorch).
- zeta(s, q) and polygamma(n, x) = (-1)^(n+1) n! zeta(n + 1, x) by
  Euler-Maclaurin summation (nine direct terms past q, twelve Bernoulli
  corrections).
- ndtri: a rational first guess refined by Halley steps on ``erfc``.
- i0/i1: the power series for |x| <= 30, the asymptotic expansion above.

Gradients follow PyTorch: lgamma' = digamma, digamma' = polygamma(1, .),
polygamma(n)' = polygamma(n + 1), xlogy's x-gradient log(y) (0 where x == 0 and
y <= 0),
logit's 0 outside [eps, 1 - eps], sinc'(0) = 0, i1'(0) = 1/2.

Examples
--------
>>> import fastnn
>>> fastnn.lgamma(fastnn.tensor([0.5, 1.0, 10.0], dtype=fastnn.float64))
tensor([ 0.5724,  0.0000, 12.8018], dtype=torch.float64)
>>> fastnn.special.ndtr(fastnn.tensor([0.0]))
tensor([0.5000])
"""
import math

import numpy as np

from .._core import TensorBase
from ..autograd.function import Function
from .. import _defaults
from ._common import operand, result_type, tensor
from ._util import unbroadcast

_nd = np.ndarray
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028,
            771.32342877765313, -176.61502916214059, 12.507343278686905,
            -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7)
# Bernoulli numbers B2..B24 (B_2k for k = 1..12)
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
        43867 / 798, -174611 / 330, 854513 / 138, -236364091 / 2730)


def _f64(x):
    return np.asarray(x, np.float64)


def _out(y, dt):
    return np.asarray(y, dt)


# ---------------------------------------------------------------- gamma family
def _lgamma_pos(x):
    """lgamma for x >= 0.5 (Lanczos)."""
    z = x - 1.0
    a = np.full(x.shape, _LANCZOS[0])
    for i in range(1, 9):
        a += _LANCZOS[i] / (z + i)
    t = z + 7.5
    return _LOG_SQRT_2PI + (z + 0.5) * np.log(t) - t + np.log(a)


def lgamma_np(x):
    """log|Gamma(x)| of a float64 array."""
    x = _f64(x)
    with np.errstate(all="ignore"):
        small = x < 0.5
        pos = _lgamma_pos(np.where(small, 1.0 - x, x))
        # sin(pi x) through x - rint(x), exact in [-1/2, 1/2] (x - floor(x) rounds a tiny
        # negative x to 1, and lgamma(-1e-30) came out 37.8 instead of 69.1)
        s = np.abs(np.sin(math.pi * np.where(small, x - np.rint(x), 0.5)))
        refl = math.log(math.pi) - np.log(s) - pos
        y = np.where(small, refl, pos)
        y = np.where(small & (x == np.floor(x)), np.inf, y)
        y = np.where(np.isinf(x), np.inf, y)
        y = np.where((x == 1.0) | (x == 2.0), 0.0, y)       # exact zeros
    return y


def digamma_np(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        small = x < 0.5
        z = np.where(small, 1.0 - x, x)
        acc = np.zeros(z.shape)
        for _ in range(6):
            m = z < 6.0
            acc -= np.where(m, 1.0 / z, 0.0)
            z = z + m
        inv2 = 1.0 / (z * z)
        ser = np.zeros(z.shape)
        for k in range(7, 0, -1):
            ser = ser * inv2 + _B2K[k - 1] / (2 * k)
        y = acc + np.log(z) - 0.5 / z - ser * inv2
        r = x - np.floor(x)
        y = np.where(small, y - math.pi / np.tan(math.pi * np.where(r == 0, 0.5, x)), y)
        y = np.where(small & (r == 0), np.nan, y)
        y = np.where(x == 0, np.where(np.signbit(x), np.inf, -np.inf), y)   # (-0.0: +inf)
        y = np.where(x == np.inf, np.inf, y)
    return y


def zeta_np(s, q):
    """The Hurwitz zeta function sum_k (q + k)^-s (s > 1), by Euler-Maclaurin."""
    s, q = np.broadcast_arrays(_f64(s), _f64(q))
    with np.errstate(all="ignore"):
        qf = q[np.isfinite(q)]                 # (an inf elsewhere must not stop the shift)
        qmin = qf.min() if qf.size else 0.0
        n = int(max(9, math.ceil(9 - qmin)))
        n = min(n, 100000)
        tot = np.zeros(s.shape)
        for k in range(n):
            tot += (q + k) ** -s
        a = q + n
        tot += a ** (1.0 - s) / (s - 1.0) + 0.5 * a ** -s
        fac = 1.0
        term = s * a ** (-s - 1.0)             # s (s+1)...(s+2j-2) a^(-s-2j+1)
        for j in range(1, 13):
            fac *= (2 * j) * (2 * j - 1) if j > 1 else 2
            tot += _B2K[j - 1] / fac * term
            term = term * (s + 2 * j - 1) * (s + 2 * j) / (a * a)
        tot = np.where(s == 1, np.inf, tot)
        tot = np.where(s < 1, np.nan, tot)
        bad = (q <= 0) & (q == np.floor(q))
        tot = np.where(bad, np.inf, tot)
        tot = np.where((q < 0) & ~bad & (s != np.floor(s)), np.nan, tot)
    return tot


def polygamma_np(n, x):
    if n == 0:
        return digamma_np(x)
    sign = -1.0 if n % 2 == 0 else 1.0
    return sign * math.factorial(n) * zeta_np(n + 1.0, x)


# ------------------------------------------------------------- normal dist
def _erfc(x):
    f = np.frompyfunc(math.erfc, 1, 1)
    return np.asarray(f(x), np.float64)


def ndtr_np(x):
    x = _f64(x)
    return 0.5 * _erfc(-x / math.sqrt(2.0))


def log_ndtr_np(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        direct = np.log(0.5 * _erfc(-np.maximum(x, -20.0) / math.sqrt(2.0)))
        direct = np.where(x > 5, -0.5 * _erfc(np.minimum(x, 40) / math.sqrt(2.0)), direct)
        # x < -20: log(pdf(x) / -x * (1 - 1/x^2 + 3/x^4 - ...))
        xs = np.minimum(x, -20.0)
        inv = 1.0 / (xs * xs)
        ser, c, t = np.ones(x.shape), 1.0, np.ones(x.shape)
        for k in range(1, 8):
            c *= -(2 * k - 1)
            t = t * inv
            ser += c * t
        tail = -0.5 * xs * xs - np.log(-xs) - _LOG_SQRT_2PI + np.log(ser)
        return np.where(x < -20, tail, direct)


def ndtri_np(p):
    p = _f64(p)
    with np.errstate(all="ignore"):
        pp = np.clip(p, 1e-300, 1 - 1e-16)
        q = np.minimum(pp, 1.0 - pp)
        # a first guess from the tail approximation t - (c0+c1 t+c2 t^2)/(1+d1 t+d2 t^2+d3 t^3)
        t = np.sqrt(-2.0 * np.log(q))
        x = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / \
            (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t ** 3)
        x = np.where(pp < 0.5, -x, x)
        for _ in range(4):           # Halley steps on ndtr(x) - p
            e = np.where(x < 0, 0.5 * _erfc(-x / math.sqrt(2.0)) - pp,
                         (1.0 - pp) - 0.5 * _erfc(x / math.sqrt(2.0)))
            u = e * _SQRT_2PI * np.exp(0.5 * x * x)
            x = x - u / (1.0 + 0.5 * x * u)
        x = np.where(p == 0, -np.inf, np.where(p == 1, np.inf, x))
        return np.where((p < 0) | (p > 1) | np.isnan(p), np.nan, x)


# ------------------------------------------------------------------ bessel
def _bessel_series(x, nu):
    """I_nu(x) for nu in (0, 1) by the power series (|x| <= 30)."""
    h = 0.5 * x
    h2 = h * h
    term = np.ones(x.shape) if nu == 0 else h.copy()
    tot = term.copy()
    for k in range(1, 90):
        term = term * h2 / (k * (k + nu))
        tot += term
    return tot


def _bessel_asym_scaled(ax, nu):
    """exp(-|x|) I_nu(|x|) for |x| > 30 by the asymptotic expansion."""
    mu = 4.0 * nu * nu
    tot, term = np.ones(ax.shape), np.ones(ax.shape)
    for k in range(1, 30):
        term = term * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * ax)
        tot += term
    return tot / np.sqrt(2.0 * math.pi * ax)


def bessel_np(x, nu, scaled):
    x = _f64(x)
    ax = np.abs(x)
    with np.errstate(all="ignore"):
        small = ax <= 30
        ser = _bessel_series(np.where(small, x, 0.0), nu)
        big = _bessel_asym_scaled(np.where(small, 31.0, ax), nu)
        if nu == 1:
            big = np.sign(x) * big
        if scaled:
            y = np.where(small, ser * np.exp(-ax), big)
        else:
            y = np.where(small, ser, big * np.exp(ax))
        y = np.where(np.isinf(x), 0.0 if scaled else np.nan, y)   # (PyTorch: NaN unscaled)
        y = np.where(np.isnan(x), np.nan, y)
    return y


# --------------------------------------------------------- autograd ops
def _fdt(x):
    return x.dtype if x.dtype.kind == "f" else _defaults.FLOAT


class _SpecialFn(Function):
    """y = f(x) computed in float64, returned in x's float dtype; the
    gradient ``g * df(x, y)``."""
    raw = True

    @classmethod
    def forward(cls, ctx, x, *args):
        dt = _fdt(x)
        y = _out(cls.f(x, *args), dt)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, y)
        ctx.args = args
        return y

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        with np.errstate(all="ignore"):
            d = cls.df(_f64(x), _f64(y), *ctx.args)
        return (g * d.astype(g.dtype, copy=False),) + (None,) * len(ctx.args)


def _special(name, f, df):
    return type(name, (_SpecialFn,), {"f": staticmethod(f), "df": staticmethod(df),
                                      "__module__": __name__})


def _sinc(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        px = math.pi * x
        return np.where(x == 0, 1.0, np.sin(px) / px)


def _dsinc(x, y):
    return np.where(x == 0, 0.0, (np.cos(math.pi * x) - y) / x)


def _entr(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        y = np.where(x > 0, -x * np.log(np.where(x > 0, x, 1.0)), 0.0)
        return np.where(x < 0, -np.inf, np.where(np.isnan(x), np.nan, y))


def _logit(x, eps):
    if eps is not None and x.dtype.kind == "f":
        # clamped in the input's dtype, as PyTorch (float32: 1 - 1e-6 rounds)
        lo = x.dtype.type(eps)
        x = np.clip(x, lo, x.dtype.type(1) - lo)
    x = _f64(x)
    if eps is not None:
        x = np.clip(x, eps, 1.0 - eps)
    with np.errstate(all="ignore"):
        return np.log(x / (1.0 - x))


def _dlogit(x, y, eps):
    d = 1.0 / (x * (1.0 - x))
    if eps is not None:
        d = np.where((x < eps) | (x > 1.0 - eps), 0.0, d)
    return d


LgammaFn = _special("LgammaFn", lgamma_np, lambda x, y: digamma_np(x))
DigammaFn = _special("DigammaFn", digamma_np, lambda x, y: polygamma_np(1, x))
PolygammaFn = _special("PolygammaFn", lambda x, n: polygamma_np(n, x),
                       lambda x, y, n: polygamma_np(n + 1, x))
SincFn = _special("SincFn", _sinc, _dsinc)
EntrFn = _special("EntrFn", _entr, lambda x, y: -(np.log(x) + 1.0))
LogitFn = _special("LogitFn", _logit, _dlogit)
NdtrFn = _special("NdtrFn", ndtr_np, lambda x, y: np.exp(-0.5 * x * x) / _SQRT_2PI)
NdtriFn = _special("NdtriFn", ndtri_np, lambda x, y: _SQRT_2PI * np.exp(0.5 * y * y))
LogNdtrFn = _special("LogNdtrFn", log_ndtr_np,
                     lambda x, y: np.exp(-0.5 * x * x - y) / _SQRT_2PI)
I0Fn = _special("I0Fn", lambda x: bessel_np(x, 0, False),
                lambda x, y: bessel_np(x, 1, False))
I0eFn = _special("I0eFn", lambda x: bessel_np(x, 0, True),
                 lambda x, y: bessel_np(x, 1, True) - np.sign(x) * y)
I1Fn = _special("I1Fn", lambda x: bessel_np(x, 1, False),
                lambda x, y: np.where(x == 0, 0.5, bessel_np(x, 0, False) - y / x))
I1eFn = _special("I1eFn", lambda x: bessel_np(x, 1, True),
                 lambda x, y: np.where(x == 0, 0.5,
                                       bessel_np(x, 0, True) - y * (np.sign(x) + 1.0 / x)))


def _unary(fn, name, doc):
    def op(input, *, out=None):
        from .reduction import into
        return into(out, fn.apply(tensor(input)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


lgamma = _unary(LgammaFn, "lgamma", "log|Gamma(x)| elementwise (``torch.lgamma``).")
digamma = _unary(DigammaFn, "digamma", "The logarithmic derivative of Gamma (``torch.digamma``).")
sinc = _unary(SincFn, "sinc", "sin(pi x) / (pi x), 1 at 0 (``torch.sinc``).")
entr = _unary(EntrFn, "entr", "-x log x (0 at 0, -inf below; ``torch.special.entr``).")
ndtr = _unary(NdtrFn, "ndtr", "The standard normal CDF (``torch.special.ndtr``).")
ndtri = _unary(NdtriFn, "ndtri", "The inverse of the standard normal CDF.")
log_ndtr = _unary(LogNdtrFn, "log_ndtr", "log of the standard normal CDF (stable tails).")
i0 = _unary(I0Fn, "i0", "The modified Bessel function of the first kind, order 0.")
i0e = _unary(I0eFn, "i0e", "exp(-|x|) i0(x).")
i1 = _unary(I1Fn, "i1", "The modified Bessel function of the first kind, order 1.")
i1e = _unary(I1eFn, "i1e", "exp(-|x|) i1(x).")


def polygamma(n, input, *, out=None):
    """The n-th derivative of digamma (``torch.polygamma(n, input)``)."""
    from .reduction import into
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got {n}")
    return into(out, PolygammaFn.apply(tensor(input), int(n)))


def logit(input, eps=None, *, out=None):
    """log(x / (1 - x)), x first clamped to [eps, 1 - eps] when eps is given."""
    from .reduction import into
    return into(out, LogitFn.apply(tensor(input), None if eps is None else float(eps)))


def mvlgamma(input, p, *, out=None):
    """The multivariate log-gamma of dimension p:
    p (p - 1) / 4 log(pi) + sum_j lgamma(x + (1 - j) / 2)."""
    from .reduction import into
    x = tensor(input)
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1, got {p}")
    res = lgamma(x)
    for j in range(2, p + 1):
        res = res + lgamma(x + (1 - j) / 2)
    return into(out, res + p * (p - 1) / 4 * math.log(math.pi))


def zeta(input, other, *, out=None):
    """The Hurwitz zeta function sum_k (other + k)^-input (no gradient)."""
    from .reduction import into
    from .._core import wrap
    a, b = operand(input), operand(other)
    av = a._array if isinstance(a, TensorBase) else np.asarray(a)
    bv = b._array if isinstance(b, TensorBase) else np.asarray(b)
    dt = result_type(a, b)
    dt = dt if dt.kind == "f" else _defaults.FLOAT
    return into(out, wrap(_out(zeta_np(av, bv), dt)))


# --------------------------------------------------------------- xlogy
class XlogyFn(Function):
    """x * log(y) (``log1p`` with ``log1p=True``), 0 where x == 0 unless y
    is NaN; broadcast; either may be a number."""
    raw = True

    @staticmethod
    def forward(ctx, x, y, log1p):
        dt = result_type(x, y)
        dt = dt if dt.kind == "f" else _defaults.FLOAT
        xs, ys = np.shape(x), np.shape(y)
        xa, ya = _f64(x), _f64(y)
        with np.errstate(all="ignore"):
            ly = np.log1p(ya) if log1p else np.log(ya)
            out = np.where((xa == 0) & ~np.isnan(ya), 0.0, xa * ly)
        ctx.meta = (xs, ys, log1p, dt)
        if any(ctx.needs_input_grad[:2]):
            ctx.save_for_backward(x if isinstance(x, _nd) else None,
                                  y if isinstance(y, _nd) else None)
            ctx.xy = (xa, ya) if not (isinstance(x, _nd) and isinstance(y, _nd)) else None
        return _out(out, dt)

    @staticmethod
    def backward(ctx, g):
        xs, ys, log1p, dt = ctx.meta
        x, y = ctx.saved_tensors
        if ctx.xy is not None:
            xa, ya = ctx.xy
        else:
            xa, ya = _f64(x), _f64(y)
        nx, ny = ctx.needs_input_grad[:2]
        gx = gy = None
        with np.errstate(all="ignore"):
            if nx:
                ly = np.log1p(ya) if log1p else np.log(ya)
                # PyTorch: xlogy(g, y), 0 where x == 0 and y is outside the domain
                d = np.where((g == 0) & ~np.isnan(ya), 0.0, g * ly)
                d = np.where((xa == 0) & (ya <= (-1.0 if log1p else 0.0)), 0.0, d)
                gx = unbroadcast(d.astype(g.dtype), xs)
            if ny:
                d = xa / ((1.0 + ya) if log1p else ya)
                gy = unbroadcast(g * d.astype(g.dtype), ys)
        return gx, gy, None


def xlogy(input, other, *, out=None):
    """input * log(other), 0 where input == 0 (``torch.xlogy``)."""
    from .reduction import into
    return into(out, XlogyFn.apply(operand(input), operand(other), False))


def xlog1py(input, other, *, out=None):
    """input * log1p(other), 0 where input == 0 (``torch.special.xlog1py``)."""
    from .reduction import into
    return into(out, XlogyFn.apply(operand(input), operand(other), True))
