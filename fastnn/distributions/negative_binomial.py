"""``NegativeBinomial(total_count, probs=None, logits=None)``."""
from functools import cached_property

import fastnn
import fastnn.nn.functional as F

from .._core import Size
from . import constraints
from ._common import checked_instance, expand_count_probs, init_count_probs
from .distribution import Distribution
from .gamma import Gamma
from .utils import logits_to_probs, probs_to_logits

__all__ = ["NegativeBinomial"]


class NegativeBinomial(Distribution):
    """The number of successes (probability ``probs``) before ``total_count``
    failures: P(k) = C(k + r - 1, k) p^k (1 - p)^r; ``total_count`` r may be
    any non-negative real.  Samples are Poisson draws with Gamma(r, (1-p)/p)
    rates (floats, no rsample).

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import NegativeBinomial
    >>> d = NegativeBinomial(3.0, probs=fastnn.tensor([0.5]))
    >>> d.mean, d.variance
    (tensor([3.]), tensor([6.]))
    >>> d.log_prob(fastnn.tensor([2.0]))
    tensor([-1.67...])
    """
    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        super().__init__(init_count_probs(self, total_count, probs, logits),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, NegativeBinomial, _instance)
        return expand_count_probs(self, new, Size(tuple(batch_shape)))

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / (-self.logits).sigmoid()

    @cached_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @cached_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.shape

    @cached_property
    def _gamma(self):
        return Gamma(concentration=self.total_count, rate=(-self.logits).exp(),
                     validate_args=False)

    def sample(self, sample_shape=Size()):
        with fastnn.no_grad():
            rate = self._gamma.sample(sample_shape=sample_shape)
            return fastnn.poisson(rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        r = self.total_count
        log_unnormalized = r * F.logsigmoid(-self.logits) + value * F.logsigmoid(self.logits)
        log_normalization = -(r + value).lgamma() + (1.0 + value).lgamma() + r.lgamma()
        log_normalization = log_normalization.masked_fill(r + value == 0.0, 0.0)
        return log_unnormalized - log_normalization
