"""``Gamma(concentration, rate)`` and ``Chi2(df)``."""
from numbers import Number

import numpy as np

import fastnn

from .._core import Size
from . import constraints
from ._common import as_value, checked_instance
from ._gamma_math import GammaincFn, StandardGammaFn
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Gamma", "Chi2"]


def _standard_gamma(concentration):
    """Gamma(concentration, 1) draws, differentiable in ``concentration`` by
    the implicit reparameterisation gradient."""
    return StandardGammaFn.apply(concentration)


class Gamma(ExponentialFamily):
    """The gamma distribution with shape ``concentration`` (alpha) and
    ``rate`` (beta = 1 / scale): density
    ``rate^alpha x^(alpha-1) e^(-rate x) / Gamma(alpha)`` on x >= 0.

    ``rsample`` is reparameterised: gradients reach ``rate`` through
    ``x = g / rate`` and ``concentration`` through the implicit gradient of the
    standard gamma draw ``g`` (``-(dF/dalpha) / f``, approximated as in
    PyTorch).  ``cdf`` is the regularised incomplete gamma function.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import Gamma
    >>> d = Gamma(fastnn.tensor([2.0, 3.0]), fastnn.tensor([1.0, 2.0]))
    >>> d.mean, d.variance
    (tensor([2..., 1.5...]), tensor([2..., 0.75...]))
    >>> d.log_prob(fastnn.tensor([1.0, 1.0]))
    tensor([-1..., -0.6137...])
    """
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, Number) and isinstance(rate, Number):
            batch_shape = Size()
        else:
            batch_shape = self.concentration.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, Gamma, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.concentration = self.concentration.expand(tuple(batch_shape))
        new.rate = self.rate.expand(tuple(batch_shape))
        ExponentialFamily.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        arr = value._array
        np.maximum(arr, np.finfo(arr.dtype).tiny, out=arr)     # not recorded, as PyTorch
        return value

    def log_prob(self, value):
        value = as_value(value, self.rate)
        if self._validate_args:
            self._validate_sample(value)
        return (fastnn.xlogy(self.concentration, self.rate)
                + fastnn.xlogy(self.concentration - 1, value)
                - self.rate * value - self.concentration.lgamma())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return GammaincFn.apply(self.concentration, self.rate * value)

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + c.lgamma() + (1.0 - c) * c.digamma()

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return (x + 1).lgamma() + (x + 1) * (-y.reciprocal()).log()


class Chi2(Gamma):
    """The chi-squared distribution with ``df`` degrees of freedom:
    ``Gamma(0.5 * df, 0.5)``.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import Chi2
    >>> d = Chi2(fastnn.tensor([4.0]))
    >>> d.df, d.mean, d.variance
    (tensor([4.]), tensor([4.]), tensor([8.]))
    """
    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self):
        return self.concentration * 2
