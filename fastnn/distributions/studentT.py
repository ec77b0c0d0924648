"""``StudentT(df, loc=0.0, scale=1.0)``: Student's t distribution."""
import math

import fastnn

from .._core import Size
from . import constraints
from ._common import checked_instance
from .distribution import Distribution
from .gamma import Chi2
from .utils import broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    """The t distribution with ``df`` degrees of freedom, shifted by ``loc``
    and scaled by ``scale``.  The mean is NaN for df <= 1, the variance inf
    for 1 < df <= 2 and NaN for df <= 1.  Reparameterised:
    ``loc + scale X / sqrt(Z / df)`` with X standard normal and Z ~ Chi2(df)
    (differentiable in df through the gamma draw).

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import StudentT
    >>> d = StudentT(fastnn.tensor([1.0, 3.0]))
    >>> d.mean, d.variance
    (tensor([nan,  0.]), tensor([nan,  3.]))
    """
    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, StudentT, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.df = self.df.expand(tuple(batch_shape))
        new.loc = self.loc.expand(tuple(batch_shape))
        new.scale = self.scale.expand(tuple(batch_shape))
        new._chi2 = self._chi2.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return fastnn.where(self.df <= 1, math.nan, self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df = self.df
        big = df > 2
        safe = fastnn.where(big, df, 3.0)
        v = fastnn.where(big, self.scale.pow(2) * safe / (safe - 2), df)
        v = fastnn.where((df <= 2) & (df > 1), math.inf, v)
        return fastnn.where(df <= 1, math.nan, v)

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        x = fastnn.randn(shape, dtype=self.df.dtype)
        z = self._chi2.rsample(sample_shape)
        y = x * (z / self.df).rsqrt()
        return self.loc + self.scale * y

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + (0.5 * self.df).lgamma() - (0.5 * (self.df + 1.0)).lgamma())
        return -0.5 * (self.df + 1.0) * (y ** 2.0 / self.df).log1p() - z

    def entropy(self):
        df = self.df
        lbeta = (0.5 * df).lgamma() + math.lgamma(0.5) - (0.5 * (df + 1)).lgamma()
        return (self.scale.log()
                + 0.5 * (df + 1) * ((0.5 * (df + 1)).digamma() - (0.5 * df).digamma())
                + 0.5 * df.log() + lbeta)
