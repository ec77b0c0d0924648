"""``HalfCauchy(scale)``: |X| for X ~ Cauchy(0, scale)."""
import math

import fastnn

from . import constraints
from ._common import as_value, checked_instance
from .cauchy import Cauchy
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform

__all__ = ["HalfCauchy"]


class HalfCauchy(TransformedDistribution):
    """The absolute value of a centred Cauchy variable: density
    ``2 / (pi scale (1 + (x / scale)^2))`` on x >= 0 (infinite mean);
    reparameterised.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import HalfCauchy
    >>> d = HalfCauchy(1.0)
    >>> d.cdf(fastnn.tensor(1.0)), d.icdf(fastnn.tensor(0.5))
    (tensor(0.5...), tensor(1.))
    """
    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        base_dist = Cauchy(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, HalfCauchy, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return fastnn.full(tuple(self._extended_shape()), math.inf, dtype=self.scale.dtype)

    @property
    def mode(self):
        return fastnn.zeros_like(self.scale)

    @property
    def variance(self):
        return self.base_dist.variance

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = as_value(value, self.base_dist.scale)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return fastnn.where(value >= 0, log_prob, -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
