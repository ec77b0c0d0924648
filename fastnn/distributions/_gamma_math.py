"""The gamma-function pieces the distributions need: standard gamma draws
with the implicit reparameterisation gradient, and the regularised lower
incomplete gamma function (the Gamma and Chi2 CDF).

Vectorised NumPy in float64, results cast to the parameter's dtype.

* ``StandardGammaFn``: draws ``x ~ Gamma(alpha, 1)`` from fastnn's global
  generator (NumPy's ``standard_gamma``, Marsaglia-Tsang), and in the backward
  the implicit reparameterisation gradient ``dx/dalpha = -(dF/dalpha) / f``
  (F the CDF, f the density at x; Figurnov et al. 2018), approximated as
  PyTorch's ``_standard_gamma_grad`` does, in three regions:

  - x < 0.8: the first six terms of the power series of F in x, giving
    ``-x e^x [(log x - digamma(alpha)) S1 - S2]`` with
    ``S1 = sum_k (-x)^k / (k! (alpha + k))`` and
    ``S2 = sum_k (-x)^k / (k! (alpha + k)^2)``, k = 0..5 (0 where NaN);
  - alpha > 8: Rice's saddle-point expansion (a polynomial within 10% of
    alpha, where the expansion is singular);
  - otherwise: a bivariate rational function of u = log(x / alpha) and
    v = log(alpha), ``exp(p(u, v) / q(u, v))``, with PyTorch's coefficients.

* ``gammainc``: P(a, x) by its power series for x < a + 1 and by the
  continued fraction of Q(a, x) = 1 - P(a, x) (modified Lentz) above, each
  iterated on the unconverged entries only.  The gradient in x is the Gamma
  density ``x^(a-1) e^-x / Gamma(a)``; as in PyTorch there is none in a.
"""
import numpy as np

from .. import _defaults
from ..autograd.function import Function
from ..ops._util import unbroadcast
from ..ops.special_math import digamma_np, lgamma_np
from ..random import _numpy_generator

__all__ = ["StandardGammaFn", "GammaincFn", "standard_gamma_grad", "gammainc_np",
           "standard_gamma"]

# Rows: the constant, linear and quadratic coefficients in u; columns: the
# cubic in v of the numerator (0..3) and of the denominator (4..7).
_COEF_UV = np.array([
    [0.16009398, -0.094634809, 0.025146376, -0.0030648343,
     1.0, 0.32668115, 0.10406089, 0.0014179084],
    [0.53487893, 0.1298071, 0.065735949, -0.0015649758,
     0.16639465, 0.020070113, -0.0035938915, -0.00058392623],
    [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777,
     0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07],
])


def _grad_small_x(a, x):
    """x < 0.8: six terms of the series of F(x; a) and of dF/da."""
    s1 = np.zeros_like(x)
    s2 = np.zeros_like(x)
    term = np.ones_like(x)
    for k in range(6):
        if k:
            term = term * (-x / k)
        d = a + k
        s1 += term / d
        s2 += term / (d * d)
    # F = x^a S1 and f = x^(a-1) e^-x, so -(dF/da) / f = -x e^x [(log x - psi) S1 - S2]
    r = -x * np.exp(x) * ((np.log(x) - digamma_np(a)) * s1 - s2)
    return np.where(np.isnan(r), 0.0, r)


def _grad_large_alpha(a, x):
    """alpha > 8: Rice's saddle-point expansion of -(dF/da) / f."""
    out = np.empty_like(x)
    near = (0.9 * a <= x) & (x <= 1.1 * a)
    an, xn = a[near], x[near]
    n1 = 1 + 24 * an * (1 + 12 * an)
    n2 = 1440 * an * an + 6 * xn * (53 - 120 * xn) - 65 * xn * xn / an + an * (107 + 3600 * xn)
    out[near] = n1 * n2 / (1244160 * an ** 4)
    af, xf = a[~near], x[~near]
    denom = np.sqrt(8 * af)
    t2 = denom / (af - xf)
    t3 = (xf - af - af * np.log(xf / af)) ** -1.5
    t23 = np.where(xf < af, t2 - t3, t2 + t3)
    t1 = np.log(xf / af) * t23 - np.sqrt(2 / af) * (af + xf) / (af - xf) ** 2
    stirling = 1 + 1 / (12 * af) * (1 + 1 / (24 * af))
    out[~near] = -stirling * xf * t1 / denom
    return out


def _grad_rational(a, x):
    """Elsewhere: exp(p / q), p and q cubic in log(alpha) whose coefficients
    are quadratic in log(x / alpha)."""
    u = np.log(x / a)[:, None]
    v = np.log(a)
    c = _COEF_UV[0] + u * (_COEF_UV[1] + u * _COEF_UV[2])      # (n, 8)
    p = c[:, 0] + v * (c[:, 1] + v * (c[:, 2] + v * c[:, 3]))
    q = c[:, 4] + v * (c[:, 5] + v * (c[:, 6] + v * c[:, 7]))
    return np.exp(p / q)


def standard_gamma_grad(alpha, x):
    """d x / d alpha for standard gamma draws x (float64, alpha's broadcast shape)."""
    a, x = np.broadcast_arrays(np.asarray(alpha, np.float64), np.asarray(x, np.float64))
    shape = a.shape
    a, x = a.reshape(-1), x.reshape(-1)
    out = np.empty(a.shape, np.float64)
    small = x < 0.8
    large = ~small & (a > 8.0)
    mid = ~small & ~large
    with np.errstate(all="ignore"):
        if small.any():
            out[small] = _grad_small_x(a[small], x[small])
        if large.any():
            out[large] = _grad_large_alpha(a[large], x[large])
        if mid.any():
            out[mid] = _grad_rational(a[mid], x[mid])
    return out.reshape(shape)


def standard_gamma(alpha, generator=None):
    """Gamma(alpha, 1) draws in alpha's dtype, at least the dtype's smallest
    normal number (so logs and ratios of draws stay finite)."""
    a = np.asarray(alpha)
    a64 = np.asarray(a, np.float64)
    bad = ~(a64 >= 0)                         # negative or NaN (unvalidated): NaN draws
    rng = _numpy_generator(generator)
    with np.errstate(all="ignore"):
        x = rng.standard_gamma(np.where(bad, 1.0, a64)).astype(a.dtype, copy=False)
    x = np.maximum(x, np.finfo(a.dtype).tiny)
    if bad.any():
        x = np.where(bad, np.nan, x).astype(a.dtype, copy=False)
    return x


class StandardGammaFn(Function):
    """x ~ Gamma(alpha, 1) elementwise; the backward is the implicit
    reparameterisation gradient ``g * dx/dalpha``."""
    raw = True

    @staticmethod
    def forward(ctx, alpha):
        x = standard_gamma(alpha)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, g):
        alpha, x = ctx.saved_tensors
        return g * standard_gamma_grad(alpha, x).astype(g.dtype, copy=False)


# ------------------------------------------------------ incomplete gamma
_EPS = np.finfo(np.float64).eps
_TINY = 1e-300
_MAX_ITER = 10000


def _log_prefactor(a, x):
    """log(x^a e^-x / Gamma(a))."""
    return a * np.log(x) - x - lgamma_np(a)


def _series_p(a, x):
    """P(a, x) = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a+1)...(a+n))."""
    total = np.ones_like(x)
    term = np.ones_like(x)
    ap = a.copy()
    active = np.arange(x.size)
    for _ in range(_MAX_ITER):
        ap[active] += 1
        term[active] *= x[active] / ap[active]
        total[active] += term[active]
        active = active[np.abs(term[active]) > np.abs(total[active]) * _EPS]
        if active.size == 0:
            break
    return np.exp(_log_prefactor(a, x) - np.log(a)) * total


def _cfrac_q(a, x):
    """Q(a, x) by the continued fraction 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...))."""
    b = x + 1 - a
    c = np.full_like(x, 1 / _TINY)
    d = 1 / b
    h = d.copy()
    active = np.arange(x.size)
    for i in range(1, _MAX_ITER):
        an = -i * (i - a[active])
        b[active] += 2
        dd = an * d[active] + b[active]
        dd = np.where(np.abs(dd) < _TINY, _TINY, dd)
        cc = b[active] + an / c[active]
        cc = np.where(np.abs(cc) < _TINY, _TINY, cc)
        dd = 1 / dd
        delta = dd * cc
        d[active], c[active] = dd, cc
        h[active] *= delta
        active = active[np.abs(delta - 1) > _EPS]
        if active.size == 0:
            break
    return np.exp(_log_prefactor(a, x)) * h


def gammainc_np(a, x):
    """The regularised lower incomplete gamma P(a, x) (float64; NaN for
    a < 0, x < 0, a = x = 0 and a = x = inf, as PyTorch)."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    shape = a.shape
    a, x = a.reshape(-1).copy(), x.reshape(-1).copy()
    out = np.full(a.shape, np.nan)
    ok = (a > 0) & (x >= 0) & ~np.isnan(a) & ~np.isnan(x)
    out[ok & (x == 0)] = 0.0
    out[ok & np.isinf(x) & np.isfinite(a)] = 1.0
    out[ok & np.isinf(a) & np.isfinite(x)] = 0.0
    out[(a == 0) & (x > 0)] = 1.0                       # the limit a -> 0, as PyTorch
    todo = ok & (x > 0) & np.isfinite(x) & np.isfinite(a)
    ser = todo & (x < a + 1)
    cf = todo & ~ser
    with np.errstate(all="ignore"):
        if ser.any():
            out[ser] = _series_p(a[ser], x[ser])
        if cf.any():
            out[cf] = 1.0 - _cfrac_q(a[cf], x[cf])
    return np.clip(out, 0.0, 1.0).reshape(shape)


class GammaincFn(Function):
    """P(a, x), broadcast; the gradient in x is the density x^(a-1) e^-x / Gamma(a)."""
    raw = True

    @staticmethod
    def forward(ctx, a, x):
        dt = np.result_type(a, x)
        dt = dt if dt.kind == "f" else _defaults.FLOAT
        ctx.shapes = (np.shape(a), np.shape(x))
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(a, x)
        return gammainc_np(a, x).astype(dt, copy=False)

    @staticmethod
    def backward(ctx, g):
        if ctx.needs_input_grad[0]:
            raise RuntimeError("the derivative for 'input' is not implemented: gammainc is "
                               "differentiable in 'other' (x) only, as in PyTorch")
        a, x = ctx.saved_tensors
        with np.errstate(all="ignore"):
            af, xf = np.asarray(a, np.float64), np.asarray(x, np.float64)
            dens = np.exp((af - 1) * np.log(xf) - xf - lgamma_np(af))
            dens = np.where(xf > 0, dens, np.where(xf == 0, np.where(af < 1, np.inf,
                            np.where(af == 1, 1.0, 0.0)), 0.0))
        return None, unbroadcast(g * dens.astype(g.dtype, copy=False), ctx.shapes[1])
