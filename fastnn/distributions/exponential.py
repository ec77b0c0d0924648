"""``Exponential(rate)``: waiting times with density ``rate * exp(-rate * x)``."""
from numbers import Number

from .._core import Size
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, uniform01

__all__ = ["Exponential"]


class Exponential(Distribution):
    """The exponential distribution with rate ``rate`` (mean ``1 / rate``);
    reparameterisable.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import Exponential
    >>> d = Exponential(fastnn.tensor([0.5, 2.0]))
    >>> d.mean, d.entropy()
    (tensor([2.0000, 0.5000]), tensor([1.6931, 0.3069]))
    """
    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = Size() if isinstance(rate, Number) else self.rate.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return self.rate * 0

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        u = uniform01(shape, self.rate.dtype)
        return -(-u).log1p() / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        return -(-value).log1p() / self.rate

    def entropy(self):
        return 1.0 - self.rate.log()
