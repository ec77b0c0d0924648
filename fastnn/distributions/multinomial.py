"""``Multinomial(total_count=1, probs=None, logits=None)`` and
``OneHotCategoricalStraightThrough``."""
import math

import fastnn

from .._core import Size
from . import constraints
from ._common import checked_instance
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .one_hot_categorical import OneHotCategorical
from .utils import as_size, broadcast_all

__all__ = ["Multinomial", "OneHotCategoricalStraightThrough", "multinomial_constraint"]


class _Multinomial(constraints.Constraint):
    """Non-negative integer vectors summing to at most ``upper_bound``
    (PyTorch's ``constraints.multinomial``)."""
    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, x):
        return (x >= 0).all(-1) & (x.sum(-1) <= self.upper_bound)


multinomial_constraint = _Multinomial


class Multinomial(Distribution):
    """Counts of ``total_count`` draws from a ``Categorical(probs, logits)``:
    the event is the vector of K counts.  ``sample`` needs the one shared
    integer ``total_count``; samples are floats (no rsample).

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import Multinomial
    >>> d = Multinomial(4, probs=fastnn.tensor([0.25, 0.75]))
    >>> d.mean, d.log_prob(fastnn.tensor([1.0, 3.0]))
    (tensor([1., 3.]), tensor(-0.863...))
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int) or isinstance(total_count, bool):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, Multinomial, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return _Multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self):
        return self._categorical.param_shape

    def sample(self, sample_shape=Size()):
        """``total_count`` categorical draws counted per class."""
        sample_shape = as_size(sample_shape)
        with fastnn.no_grad():
            idx = self._categorical.sample(Size((self.total_count,) + tuple(sample_shape)))
            k = self._categorical._num_events
            counts = fastnn.nn.functional.one_hot(idx, k).sum(0)
            return counts.to(self.probs.dtype).reshape(tuple(self._extended_shape(sample_shape)))

    def entropy(self):
        n = fastnn.tensor(float(self.total_count), dtype=self.probs.dtype)
        term1 = n * self._categorical.entropy() - (n + 1).lgamma()
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = (support + 1).lgamma()
        term2 = (binomial_probs * weights).sum(0).sum(-1)
        return term1 + term2

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        logits = fastnn.where((value == 0) & (logits == -math.inf), 0.0, logits)
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """``OneHotCategorical`` with the straight-through gradient estimator
    (Bengio et al. 2013): ``rsample`` returns the one-hot draw, with the
    gradient of ``probs`` passed through.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import OneHotCategoricalStraightThrough
    >>> logits = fastnn.zeros(3, requires_grad=True)
    >>> x = OneHotCategoricalStraightThrough(logits=logits).rsample()
    >>> float(x.sum()), x.requires_grad
    (1.0, True)
    """
    has_rsample = True

    def rsample(self, sample_shape=Size()):
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
