"""``Gumbel(loc, scale)``: the type-I extreme value distribution."""
import math
from numbers import Number

import numpy as np

import fastnn

from .._core import Size
from . import constraints
from ._common import EULER, checked_instance
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .uniform import Uniform
from .utils import broadcast_all

__all__ = ["Gumbel"]


class Gumbel(TransformedDistribution):
    """Density ``exp(-(z + e^-z)) / scale`` with ``z = (x - loc) / scale``:
    ``loc - scale log(-log U)`` for U uniform (reparameterised).

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import Gumbel
    >>> d = Gumbel(0.0, 1.0)
    >>> d.log_prob(fastnn.tensor(0.0)), d.cdf(fastnn.tensor(0.0))
    (tensor(-1.), tensor(0.367...))
    """
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        fi = np.finfo(self.loc._array.dtype)
        if isinstance(loc, Number) and isinstance(scale, Number):
            base_dist = Uniform(float(fi.tiny), float(1 - fi.eps), validate_args=validate_args)
        else:
            base_dist = Uniform(fastnn.full_like(self.loc, float(fi.tiny)),
                                fastnn.full_like(self.loc, float(1 - fi.eps)),
                                validate_args=validate_args)
        transforms = [ExpTransform().inv,
                      AffineTransform(loc=0, scale=-fastnn.ones_like(self.scale)),
                      ExpTransform().inv,
                      AffineTransform(loc=loc, scale=-self.scale)]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, Gumbel, _instance)
        new.loc = self.loc.expand(tuple(batch_shape))
        new.scale = self.scale.expand(tuple(batch_shape))
        return super().expand(Size(tuple(batch_shape)), _instance=new)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return (y - y.exp()) - self.scale.log()

    @property
    def mean(self):
        return self.loc + self.scale * EULER

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def entropy(self):
        return self.scale.log() + (1 + EULER)
