"""``LowRankMultivariateNormal(loc, cov_factor, cov_diag)``: a Gaussian on
R^k whose covariance is ``Sigma = W W^T + D`` for W (k x r) and a positive
diagonal D, reparameterisable.

The determinant and the Mahalanobis distance need only the r x r
"capacitance" matrix ``C = I + W^T D^-1 W`` and its Cholesky factor L_C
(matrix determinant lemma and Woodbury identity):
``log det Sigma = 2 sum log diag L_C + sum log D`` and
``x^T Sigma^-1 x = sum(x^2 / D) - |L_C^-1 W^T D^-1 x|^2``.
"""
import math

import fastnn
import fastnn.linalg

from .._core import Size
from .._tensor import Tensor
from . import constraints
from .distribution import Distribution
from .multivariate_normal import _batch_mv
from .utils import as_size, lazy_property

__all__ = ["LowRankMultivariateNormal"]

_LOG_2PI = math.log(2 * math.pi)


def _capacitance_tril(w, d):
    """Cholesky factor of I + W^T D^-1 W (..., r, r)."""
    r = w.shape[-1]
    wt_dinv = w.mT / d.unsqueeze(-2)
    cap = wt_dinv @ w + fastnn.eye(r, dtype=w.dtype)
    return fastnn.linalg.cholesky(cap)


def _lowrank_logdet(w, d, cap_tril):
    return 2 * cap_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) + d.log().sum(-1)


def _lowrank_mahalanobis(w, d, x, cap_tril):
    wt_dinv_x = _batch_mv(w.mT, x / d)
    sol = fastnn.linalg.solve_triangular(cap_tril, wt_dinv_x.unsqueeze(-1), upper=False)
    return (x.pow(2) / d).sum(-1) - sol.squeeze(-1).pow(2).sum(-1)


class LowRankMultivariateNormal(Distribution):
    """The multivariate normal with mean ``loc`` (..., k) and covariance
    ``cov_factor @ cov_factor.mT + diag(cov_diag)``, ``cov_factor``
    (..., k, r), ``cov_diag`` (..., k) positive; batch dims broadcast.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import LowRankMultivariateNormal
    >>> d = LowRankMultivariateNormal(fastnn.zeros(2), fastnn.tensor([[1.0], [0.0]]),
    ...                               fastnn.ones(2))
    >>> d.covariance_matrix
    tensor([[2., 0.],
            [0., 1.]])
    """
    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        for name, v in (("loc", loc), ("cov_factor", cov_factor), ("cov_diag", cov_diag)):
            if not isinstance(v, Tensor):
                raise TypeError(f"LowRankMultivariateNormal: {name} must be a Tensor, got "
                                f"{type(v).__name__}")
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        k = loc.shape[-1]
        if cov_factor.ndim < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional leading "
                             "batch dimensions")
        if cov_factor.shape[-2] != k:
            raise ValueError(f"cov_factor must be a batch of matrices with shape {k} x m")
        if cov_diag.ndim < 1 or cov_diag.shape[-1] != k:
            raise ValueError(f"cov_diag must be a batch of vectors with shape ({k},)")
        try:
            batch = tuple(fastnn.broadcast_shapes(tuple(loc.shape[:-1]),
                                                  tuple(cov_factor.shape[:-2]),
                                                  tuple(cov_diag.shape[:-1])))
        except (ValueError, RuntimeError):
            raise ValueError(f"Incompatible batch shapes: loc {tuple(loc.shape)}, cov_factor "
                             f"{tuple(cov_factor.shape)}, cov_diag {tuple(cov_diag.shape)}"
                             ) from None
        self.loc = loc.expand(batch + (k,))
        self.cov_factor = cov_factor.expand(batch + tuple(cov_factor.shape[-2:]))
        self.cov_diag = cov_diag.expand(batch + (k,))
        super().__init__(Size(batch), self.loc.shape[-1:], validate_args=validate_args)
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self)) if _instance is None else _instance
        batch = tuple(as_size(batch_shape))
        k = self._event_shape[0]
        new.loc = self.loc.expand(batch + (k,))
        new.cov_factor = self.cov_factor.expand(batch + tuple(self.cov_factor.shape[-2:]))
        new.cov_diag = self.cov_diag.expand(batch + (k,))
        for name in ("_unbroadcasted_cov_factor", "_unbroadcasted_cov_diag",
                     "_capacitance_tril"):
            setattr(new, name, getattr(self, name))
        Distribution.__init__(new, batch, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return (w.pow(2).sum(-1) + d).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def _unbroadcasted_scale_tril(self):
        # Sigma = D^1/2 (D^-1/2 W W^T D^-1/2 + I) D^1/2: the Cholesky factor of
        # the middle matrix, rows scaled by D^1/2
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        sqrt_d = d.sqrt().unsqueeze(-1)
        scaled = w / sqrt_d
        mid = scaled @ scaled.mT + fastnn.eye(self._event_shape[0], dtype=w.dtype)
        return sqrt_d * fastnn.linalg.cholesky(mid)

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return (w @ w.mT + fastnn.diag_embed(d)).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        # Woodbury: Sigma^-1 = D^-1 - D^-1 W C^-1 W^T D^-1 = D^-1 - A^T A,
        # A = L_C^-1 W^T D^-1
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        wt_dinv = w.mT / d.unsqueeze(-2)
        a = fastnn.linalg.solve_triangular(self._capacitance_tril, wt_dinv, upper=False)
        return (fastnn.diag_embed(d.reciprocal()) - a.mT @ a).expand(self._matrix_shape())

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        rank = self._unbroadcasted_cov_factor.shape[-1]
        eps_w = fastnn.randn(shape[:-1] + (rank,), dtype=self.loc.dtype)
        eps_d = fastnn.randn(shape, dtype=self.loc.dtype)
        return (self.loc + _batch_mv(self._unbroadcasted_cov_factor, eps_w)
                + self._unbroadcasted_cov_diag.sqrt() * eps_d)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        m = _lowrank_mahalanobis(w, d, value - self.loc, self._capacitance_tril)
        logdet = _lowrank_logdet(w, d, self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * _LOG_2PI + logdet + m)

    def entropy(self):
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        logdet = _lowrank_logdet(w, d, self._capacitance_tril)
        h = 0.5 * (self._event_shape[0] * (1.0 + _LOG_2PI) + logdet)
        return h if len(self._batch_shape) == 0 else h.expand(tuple(self._batch_shape))
