"""``fastnn.special``: the ``torch.special`` functions (loaded on first use
of ``fastnn.special``).

Each is the differentiable fastnn op of the same maths (``expit`` is
``sigmoid``, ``gammaln`` is ``lgamma``, ``psi`` is ``digamma``, ...); the
special functions themselves are in ``fastnn.ops.special_math``.

Examples
--------
>>> import fastnn
>>> fastnn.special.expit(fastnn.tensor([0.0]))
tensor([0.5000])
>>> fastnn.special.xlogy(fastnn.tensor([0.0, 2.0]), fastnn.tensor([0.0, 1.0]))
tensor([0., 0.])
"""
from .ops import pointwise as _P
from .ops import reduction as _R
from .ops import special_math as _S
from .ops._common import tensor as _tensor

__all__ = ["erf", "erfc", "erfinv", "expit", "logit", "xlogy", "xlog1py", "log1p",
           "expm1", "exp2", "logsumexp", "softmax", "log_softmax", "gammaln", "digamma",
           "psi", "polygamma", "multigammaln", "i0", "i0e", "i1", "i1e", "sinc", "entr",
           "ndtr", "ndtri", "log_ndtr", "round", "zeta", "gammainc", "gammaincc",
           "erfcx", "spherical_bessel_j0", "modified_bessel_i0", "modified_bessel_i1",
           "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p"]

erf, erfc, erfinv = _P.erf, _P.erfc, _P.erfinv
log1p, expm1, exp2, round = _P.log1p, _P.expm1, _P.exp2, _P.round
logit, xlogy, xlog1py, sinc, entr = _S.logit, _S.xlogy, _S.xlog1py, _S.sinc, _S.entr
gammaln, digamma, psi, polygamma = _S.lgamma, _S.digamma, _S.digamma, _S.polygamma
multigammaln, zeta = _S.mvlgamma, _S.zeta
i0, i0e, i1, i1e = _S.i0, _S.i0e, _S.i1, _S.i1e
ndtr, ndtri, log_ndtr = _S.ndtr, _S.ndtri, _S.log_ndtr
modified_bessel_i0, modified_bessel_i1 = _S.i0, _S.i1
from .ops.pointwise_more import igamma as gammainc, igammac as gammaincc  # noqa: E402
from .ops.special_poly import (chebyshev_polynomial_t, chebyshev_polynomial_u,  # noqa: E402
                               chebyshev_polynomial_v, chebyshev_polynomial_w, erfcx,
                               hermite_polynomial_h, hermite_polynomial_he,
                               laguerre_polynomial_l, legendre_polynomial_p,
                               shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u,
                               shifted_chebyshev_polynomial_v, shifted_chebyshev_polynomial_w,
                               spherical_bessel_j0)


def expit(input, *, out=None):
    """The logistic sigmoid 1 / (1 + exp(-x))."""
    return _R.into(out, _tensor(input).sigmoid())


def logsumexp(input, dim, keepdim=False):
    return _R.logsumexp(input, dim, keepdim)


def softmax(input, dim, *, dtype=None):
    x = _tensor(input)
    return x.softmax(dim, dtype)


def log_softmax(input, dim, *, dtype=None):
    x = _tensor(input)
    return x.log_softmax(dim, dtype)
