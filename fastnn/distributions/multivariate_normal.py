"""``MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril)``:
the Gaussian on R^k, reparameterisable.

Everything is computed from the lower Cholesky factor L of the covariance
(Sigma = L L^T), kept unbroadcast: a draw is ``loc + L eps``; ``log_prob``
needs the Mahalanobis distance ``|L^-1 (x - loc)|^2`` (one triangular solve)
and ``log det Sigma = 2 sum log diag L``.  A precision matrix P is turned
into L without inverting P: with J the reversal permutation,
``J P J = C C^T`` (Cholesky) gives ``P = U U^T`` for the upper-triangular
``U = J C J``, so ``Sigma = U^-T U^-1`` and ``L = U^-T`` (lower).
"""
import math

import fastnn
import fastnn.linalg

from .._core import Size
from .._tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import as_size, lazy_property

__all__ = ["MultivariateNormal"]

_LOG_2PI = math.log(2 * math.pi)


def _batch_mv(mat, vec):
    """mat (..., n, n) times vec (..., n), batch dims broadcast."""
    return (mat @ vec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(scale_tril, x):
    """|L^-1 x|^2 over the last dim, batch dims broadcast."""
    sol = fastnn.linalg.solve_triangular(scale_tril, x.unsqueeze(-1), upper=False)
    return sol.squeeze(-1).pow(2).sum(-1)


def _precision_to_scale_tril(precision):
    """The lower Cholesky factor of P^-1 (see the module docstring)."""
    flipped = fastnn.linalg.cholesky(precision.flip((-2, -1)))
    u_t = flipped.flip((-2, -1)).mT                           # U^T, lower triangular
    eye = fastnn.eye(precision.shape[-1], dtype=precision.dtype)
    return fastnn.linalg.solve_triangular(u_t, eye, upper=False)


def _half_log_det(scale_tril):
    return scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)


class MultivariateNormal(Distribution):
    """The multivariate normal distribution with mean ``loc`` (..., k) and a
    covariance given by exactly one of ``covariance_matrix``,
    ``precision_matrix`` (its inverse) or ``scale_tril`` (its lower Cholesky
    factor, the cheapest), each (..., k, k); batch dims broadcast.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import MultivariateNormal
    >>> d = MultivariateNormal(fastnn.zeros(2), covariance_matrix=fastnn.eye(2))
    >>> d.batch_shape, d.event_shape
    (fastnn.Size([]), fastnn.Size([2]))
    >>> d.log_prob(fastnn.zeros(2))
    tensor(-1.8379)
    """
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if not isinstance(loc, Tensor):
            raise TypeError(f"MultivariateNormal: loc must be a Tensor, got {type(loc).__name__}")
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [(n, m) for n, m in (("covariance_matrix", covariance_matrix),
                                     ("precision_matrix", precision_matrix),
                                     ("scale_tril", scale_tril)) if m is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril "
                             "may be specified.")
        name, mat = given[0]
        if not isinstance(mat, Tensor):
            raise TypeError(f"MultivariateNormal: {name} must be a Tensor, got "
                            f"{type(mat).__name__}")
        if mat.ndim < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        k = loc.shape[-1]
        if tuple(mat.shape[-2:]) != (k, k):
            raise ValueError(f"MultivariateNormal: {name} must have shape (..., {k}, {k}) for loc "
                             f"of shape {tuple(loc.shape)}, got {tuple(mat.shape)}")
        batch_shape = fastnn.broadcast_shapes(tuple(mat.shape[:-2]), tuple(loc.shape[:-1]))
        setattr(self, name, mat.expand(tuple(batch_shape) + (k, k)))
        self.loc = loc.expand(tuple(batch_shape) + (k,))
        super().__init__(Size(batch_shape), self.loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = mat
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = fastnn.linalg.cholesky(mat)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(mat)

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self)) if _instance is None else _instance
        batch = tuple(as_size(batch_shape))
        ev = tuple(self._event_shape)
        new.loc = self.loc.expand(batch + ev)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(batch + ev + ev))
        Distribution.__init__(new, batch, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        low = self._unbroadcasted_scale_tril
        return (low @ low.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        return fastnn.cholesky_inverse(self._unbroadcasted_scale_tril).expand(
            self._matrix_shape())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = fastnn.randn(tuple(shape), dtype=self.loc.dtype)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        m = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        k = self._event_shape[0]
        return -0.5 * (k * _LOG_2PI + m) - _half_log_det(self._unbroadcasted_scale_tril)

    def entropy(self):
        k = self._event_shape[0]
        h = 0.5 * k * (1.0 + _LOG_2PI) + _half_log_det(self._unbroadcasted_scale_tril)
        return h if len(self._batch_shape) == 0 else h.expand(tuple(self._batch_shape))
