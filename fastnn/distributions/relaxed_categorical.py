"""``RelaxedOneHotCategorical(temperature, probs=None, logits=None)`` and its
log ``ExpRelaxedCategorical`` (the Concrete / Gumbel-softmax distribution)."""
import fastnn

from .._core import Size
from . import constraints
from ._common import checked_instance
from .categorical import Categorical
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform
from .utils import broadcast_all, clamp_probs, uniform01

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]


class ExpRelaxedCategorical(Distribution):
    """The log of a point on the simplex: ``log_softmax((logits + g) /
    temperature)`` with g standard Gumbel noise (Maddison et al. 2017)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        self.temperature = temperature
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, ExpRelaxedCategorical, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(uniform01(shape, self.logits.dtype))
        gumbels = -((-(u.log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value):
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        temperature = self.temperature
        if not isinstance(temperature, fastnn.Tensor):
            temperature = fastnn.tensor(float(temperature), dtype=logits.dtype)
        log_scale = (fastnn.full_like(temperature, float(k)).lgamma()
                     - temperature.log() * (-(k - 1)))
        score = logits - value * temperature
        score = (score - score.logsumexp(-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """A continuous relaxation of ``OneHotCategorical``: points on the simplex
    ``softmax((logits + g) / temperature)``, g standard Gumbel noise.
    Reparameterised; as ``temperature`` -> 0 draws approach one-hot vectors.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import RelaxedOneHotCategorical
    >>> d = RelaxedOneHotCategorical(fastnn.tensor(0.5), logits=fastnn.zeros(2, 3))
    >>> d.batch_shape, d.event_shape, round(float(d.rsample().sum(-1)[0]), 6)
    (fastnn.Size([2]), fastnn.Size([3]), 1.0)
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base_dist = ExpRelaxedCategorical(temperature, probs, logits,
                                          validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, RelaxedOneHotCategorical, _instance)
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
