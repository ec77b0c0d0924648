"""``Cauchy(loc, scale)``: the Lorentz distribution (no mean or variance)."""
import math
from numbers import Number

import fastnn

from .._core import Size
from . import constraints
from ._common import as_value, checked_instance
from .distribution import Distribution
from .utils import broadcast_all, uniform01

__all__ = ["Cauchy"]


class Cauchy(Distribution):
    """Density ``1 / (pi scale (1 + ((x - loc) / scale)^2))``; the ratio of
    two independent centred normals.  ``mean`` is NaN and ``variance`` inf;
    reparameterised draws ``loc + scale tan(pi (u - 1/2))``.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import Cauchy
    >>> d = Cauchy(0.0, 2.0)
    >>> d.cdf(fastnn.tensor(2.0)), d.icdf(fastnn.tensor(0.75))
    (tensor(0.75...), tensor(2.))
    """
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, Number) and isinstance(scale, Number):
            batch_shape = Size()
        else:
            batch_shape = self.loc.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, Cauchy, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.loc = self.loc.expand(tuple(batch_shape))
        new.scale = self.scale.expand(tuple(batch_shape))
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return fastnn.full(tuple(self._extended_shape()), math.nan, dtype=self.loc.dtype)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return fastnn.full(tuple(self._extended_shape()), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = (math.pi * (uniform01(shape, self.loc.dtype) - 0.5)).tan()
        return self.loc + eps * self.scale

    def log_prob(self, value):
        value = as_value(value, self.loc)
        if self._validate_args:
            self._validate_sample(value)
        return (-math.log(math.pi) - self.scale.log()
                - (((value - self.loc) / self.scale) ** 2).log1p())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()
