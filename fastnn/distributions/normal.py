"""``Normal(loc, scale)``: the Gaussian, reparameterisable."""
import math

import fastnn

from .._core import Size
from .distribution import _LocationScale

__all__ = ["Normal"]

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


class Normal(_LocationScale):
    """The normal distribution with mean ``loc`` and standard deviation ``scale``.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import Normal
    >>> d = Normal(fastnn.tensor([0.0, 1.0]), 2.0)
    >>> d
    Normal(loc: fastnn.Size([2]), scale: fastnn.Size([2]))
    >>> d.log_prob(fastnn.tensor([0.0, 1.0]))
    tensor([-1.6121, -1.6121])
    """

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale.pow(2)

    def _noise(self, shape):
        return fastnn.randn(tuple(shape), dtype=self.loc.dtype)

    def sample(self, sample_shape=Size()):
        with fastnn.no_grad():
            shape = self._extended_shape(sample_shape)
            return self.loc.expand(shape) + self._noise(shape) * self.scale.expand(shape)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        return self.loc.expand(shape) + self._noise(shape) * self.scale.expand(shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log() - _LOG_SQRT_2PI

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + fastnn.erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value):
        return self.loc + self.scale * fastnn.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()
