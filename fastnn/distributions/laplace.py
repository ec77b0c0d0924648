"""``Laplace(loc, scale)``: the double-exponential distribution."""

import numpy as np

from .._core import Size
from .distribution import _LocationScale
from .utils import uniform01

__all__ = ["Laplace"]


class Laplace(_LocationScale):
    """Density ``exp(-|x - loc| / scale) / (2 * scale)``; reparameterisable.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import Laplace
    >>> d = Laplace(0.0, 1.0)
    >>> d.log_prob(fastnn.tensor(1.0)), d.variance
    (tensor(-1.6931), tensor(2.))
    """

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return 2 ** 0.5 * self.scale

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = float(np.finfo(self.loc.dtype).eps)
        u = uniform01(shape, self.loc.dtype) * (2 - eps) + (eps - 1)   # in (-1, 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = value - self.loc
        return 0.5 - 0.5 * z.sign() * (-z.abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
