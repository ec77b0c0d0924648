"""``RelaxedBernoulli(temperature, probs=None, logits=None)`` and its logit
``LogitRelaxedBernoulli`` (the binary Concrete / Gumbel-softmax distribution)."""
from functools import cached_property
from numbers import Number

import fastnn

from .._core import Size
from . import constraints
from ._common import checked_instance
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from .utils import broadcast_all, clamp_probs, logits_to_probs, probs_to_logits, uniform01

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]


def _as_tensor(t, like):
    return t if isinstance(t, fastnn.Tensor) else fastnn.tensor(float(t), dtype=like.dtype)


class LogitRelaxedBernoulli(Distribution):
    """The logit of a RelaxedBernoulli draw: ``(logit(u) + logits) / temperature``
    for u uniform in (0, 1) (Maddison et al. 2017; Jang et al. 2017)."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.temperature = temperature
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, Number)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = isinstance(logits, Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = Size() if is_scalar else self._param.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, LogitRelaxedBernoulli, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.temperature = self.temperature
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(tuple(batch_shape))
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(tuple(batch_shape))
            new._param = new.logits
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @cached_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @cached_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.shape

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(tuple(shape)))
        u = clamp_probs(uniform01(shape, probs.dtype))
        return (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        temperature = _as_tensor(self.temperature, logits)
        diff = logits - value * temperature
        return temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(TransformedDistribution):
    """A continuous relaxation of ``Bernoulli`` on (0, 1): the sigmoid of a
    ``LogitRelaxedBernoulli`` draw.  Reparameterised; as ``temperature`` -> 0
    draws approach 0/1 outcomes with probability ``probs``.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import RelaxedBernoulli
    >>> d = RelaxedBernoulli(fastnn.tensor(0.5), probs=fastnn.tensor([0.1, 0.9]))
    >>> d.batch_shape, d.support
    (fastnn.Size([2]), Interval(lower_bound=0.0, upper_bound=1.0))
    """
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base_dist = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base_dist, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, RelaxedBernoulli, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs
