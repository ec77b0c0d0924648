"""``Binomial(total_count=1, probs=None, logits=None)``: successes in
``total_count`` trials."""
from functools import cached_property

import numpy as np

import fastnn

from .._core import Size
from . import constraints
from ._common import checked_instance, expand_count_probs, init_count_probs
from .distribution import Distribution
from .utils import logits_to_probs, probs_to_logits
from ..random import _numpy_generator

__all__ = ["Binomial"]


def _clamp_by_zero(x):
    """max(x, 0) with gradient 1/2 at 0 (PyTorch's form, for equal gradients)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


def _homogeneous_count(total_count, what):
    n = total_count._array
    top = int(n.max()) if n.size else 0
    if n.size and not (n.min() == top):
        raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
    return top


class Binomial(Distribution):
    """The number of successes in ``total_count`` independent trials with
    success probability ``probs`` (or ``sigmoid(logits)``); ``total_count``
    broadcasts with the probabilities.  Samples are floats (no rsample).

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import Binomial
    >>> d = Binomial(10, probs=fastnn.tensor([0.5, 0.2]))
    >>> d.mean, d.variance
    (tensor([5., 2.]), tensor([2.5..., 1.6...]))
    >>> d.log_prob(fastnn.tensor([5.0, 0.0]))
    tensor([-1.4020..., -2.2314...])
    """
    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        super().__init__(init_count_probs(self, total_count, probs, logits),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, Binomial, _instance)
        return expand_count_probs(self, new, Size(tuple(batch_shape)))

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @cached_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @cached_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.shape

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        with fastnn.no_grad():
            n = np.broadcast_to(self.total_count._array, shape)
            p = np.broadcast_to(self.probs._array, shape)
            if not (np.all(n >= 0) and np.all(p >= 0) and np.all(p <= 1)):
                raise RuntimeError("binomial: expected total_count >= 0 and 0 <= probs <= 1")
            draws = _numpy_generator(None).binomial(n.astype(np.int64), p.astype(np.float64))
            return fastnn.from_numpy(draws.astype(self._param._array.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        log_factorial_n = (n + 1).lgamma()
        log_factorial_k = (value + 1).lgamma()
        log_factorial_nmk = (n - value + 1).lgamma()
        logits = self.logits
        normalize_term = (n * _clamp_by_zero(logits) + n * (-logits.abs()).exp().log1p()
                          - log_factorial_n)
        return value * logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        _homogeneous_count(self.total_count, "entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        top = _homogeneous_count(self.total_count, "enumerate_support")
        values = fastnn.arange(1 + top, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


