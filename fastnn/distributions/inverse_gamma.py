"""``InverseGamma(concentration, rate)``: 1 / X for X ~ Gamma(concentration, rate)."""
import math

import fastnn

from . import constraints
from ._common import checked_instance
from .gamma import Gamma
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    """Density ``rate^a x^(-a-1) e^(-rate / x) / Gamma(a)``; reparameterised
    through the gamma draw.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import InverseGamma
    >>> d = InverseGamma(fastnn.tensor([3.0]), fastnn.tensor([2.0]))
    >>> d.mean, d.mode
    (tensor([1.]), tensor([0.5...]))
    """
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = -base_dist.rate.new_ones(())
        super().__init__(base_dist, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self):
        return self.base_dist.concentration

    @property
    def rate(self):
        return self.base_dist.rate

    @property
    def mean(self):
        result = self.rate / (self.concentration - 1)
        return fastnn.where(self.concentration > 1, result, math.inf)

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        c = self.concentration
        result = self.rate.square() / ((c - 1).square() * (c - 2))
        return fastnn.where(c > 2, result, math.inf)

    def entropy(self):
        c = self.concentration
        return c + self.rate.log() + c.lgamma() - (1 + c) * c.digamma()
