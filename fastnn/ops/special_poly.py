"""More of ``torch.special``: the classical orthogonal polynomials
(``chebyshev_polynomial_t/u/v/w``, their ``shifted_`` forms on [0, 1],
``hermite_polynomial_h`` (physicists') and ``_he`` (probabilists'),
``laguerre_polynomial_l``, ``legendre_polynomial_p``), ``erfcx`` and
``spherical_bessel_j0``.

The polynomials are evaluated by their three-term recurrences in float64
(Chebyshev T inside (-1, 1) for n > 6 as cos(n arccos x), as PyTorch does)
and rounded to the result dtype; the degree ``n`` (a number or a tensor,
broadcast against ``x``) is truncated to an integer and a negative degree
gives 0.  As in PyTorch they record no gradient.  ``erfcx(x) =
exp(x^2) erfc(x)`` is computed without overflow for large x (its
asymptotic series past x = 26) and is differentiable:
``d/dx erfcx = 2 x erfcx(x) - 2 / sqrt(pi)``.
"""
import math

import numpy as np

from .. import _defaults
from ._common import tensor
from .special_math import _f64, _special, _unary

__all__ = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p", "erfcx", "spherical_bessel_j0"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _recurrence(x, n, p1, step):
    """p_n(x) for p_0 = 1, p_1 = p1(x), p_{k+1} = step(k, x, p_k, p_{k-1})."""
    out = np.where(n == 0, 1.0, 0.0)
    top = int(n.max()) if n.size else 0
    if top < 1:
        return out
    prev, cur = np.ones_like(x), p1(x)
    out = np.where(n == 1, cur, out)
    with np.errstate(all="ignore"):
        for k in range(1, top):
            prev, cur = cur, step(k, x, cur, prev)
            out = np.where(n == k + 1, cur, out)
    return out


def _cheb(first):
    def f(x, n):
        return _recurrence(x, n, first, lambda k, x, c, p: 2.0 * x * c - p)
    return f


_CHEB = {"t": _cheb(lambda x: x), "u": _cheb(lambda x: 2.0 * x),
         "v": _cheb(lambda x: 2.0 * x - 1.0), "w": _cheb(lambda x: 2.0 * x + 1.0)}


def _cheb_t(x, n):
    out = _CHEB["t"](x, n)
    inside = (np.abs(x) < 1.0) & (n > 6)
    if inside.any():
        with np.errstate(all="ignore"):
            trig = np.cos(n * np.arccos(np.clip(x, -1.0, 1.0)))
        out = np.where(inside, trig, out)
    return out


def _hermite_h(x, n):
    return _recurrence(x, n, lambda x: 2.0 * x,
                       lambda k, x, c, p: 2.0 * x * c - 2.0 * k * p)


def _hermite_he(x, n):
    return _recurrence(x, n, lambda x: x, lambda k, x, c, p: x * c - k * p)


def _laguerre(x, n):
    return _recurrence(x, n, lambda x: 1.0 - x,
                       lambda k, x, c, p: ((2.0 * k + 1.0 - x) * c - k * p) / (k + 1.0))


def _legendre(x, n):
    return _recurrence(x, n, lambda x: x,
                       lambda k, x, c, p: ((2.0 * k + 1.0) * x * c - k * p) / (k + 1.0))


def _polynomial(name, fn, shifted=False):
    def op(input, n, *, out=None):
        from .reduction import into
        x, nn = tensor(input), tensor(n)
        xa, na = x._array, nn._array
        for arg, a in (("input", xa), ("n", na)):
            if a.dtype.kind not in "biuf":
                raise TypeError(f"{name}: {arg} must be a real number or tensor, got {a.dtype}")
        # PyTorch's promotion: the float tensor's dtype (float64 if either
        # tensor is float64); a Python number does not promote
        floats = [a.dtype for a, src in ((xa, input), (na, n))
                  if a.dtype.kind == "f" and not isinstance(src, (int, float))]
        dt = max(floats, key=lambda d: d.itemsize) if floats else np.dtype(_defaults.FLOAT)
        xb, nb = np.broadcast_arrays(_f64(xa), na)
        deg = np.trunc(nb.astype(np.float64))
        deg = np.where(np.isfinite(deg), deg, -1).astype(np.int64)
        z = 2.0 * xb - 1.0 if shifted else xb
        res = np.where(deg < 0, 0.0, fn(z, np.maximum(deg, 0)))
        return into(out, tensor(np.asarray(res).astype(dt)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"The {name.replace('_', ' ')} of degree n at x (no gradient, as PyTorch)."
    return op


chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t", _cheb_t)
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u", _CHEB["u"])
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v", _CHEB["v"])
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w", _CHEB["w"])
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t", _cheb_t, True)
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u", _CHEB["u"], True)
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v", _CHEB["v"], True)
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w", _CHEB["w"], True)
hermite_polynomial_h = _polynomial("hermite_polynomial_h", _hermite_h)
hermite_polynomial_he = _polynomial("hermite_polynomial_he", _hermite_he)
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", _laguerre)
legendre_polynomial_p = _polynomial("legendre_polynomial_p", _legendre)


def _erfcx(x):
    x = _f64(x)
    small = np.minimum(x, 26.0)
    with np.errstate(all="ignore"):
        direct = np.exp(small * small) * np.vectorize(math.erfc, otypes=[float])(small) \
            if x.size else x
        big = np.where(x > 26.0, x, 30.0)
        inv2 = 1.0 / (2.0 * big * big)
        series = (1.0 - inv2 * (1.0 - 3.0 * inv2 * (1.0 - 5.0 * inv2))) / (big * math.sqrt(math.pi))
    return np.where(x > 26.0, series, direct)


def _spherical_j0(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        x2 = x * x
        series = 1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0))
        return np.where(np.abs(x) < 0.05, series, np.sin(x) / x)


def _dspherical_j0(x, y):
    with np.errstate(all="ignore"):
        return np.where(np.abs(x) < 0.05, -x / 3.0 * (1.0 - x * x / 10.0),
                        (np.cos(x) - y) / x)


ErfcxFn = _special("ErfcxFn", _erfcx, lambda x, y: 2.0 * x * y - _TWO_OVER_SQRT_PI)
SphericalBesselJ0Fn = _special("SphericalBesselJ0Fn", _spherical_j0, _dspherical_j0)
erfcx = _unary(ErfcxFn, "erfcx", "The scaled complementary error function exp(x^2) erfc(x).")
spherical_bessel_j0 = _unary(SphericalBesselJ0Fn, "spherical_bessel_j0",
                             "The spherical Bessel function of the first kind, order 0: "
                             "sin(x) / x.")
