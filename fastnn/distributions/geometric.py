"""``Geometric(probs=None, logits=None)``: failures before the first success."""
from functools import cached_property
from numbers import Number

import numpy as np

import fastnn
import fastnn.nn.functional as F

from .._core import Size
from . import constraints
from ._common import checked_instance
from .distribution import Distribution
from .utils import broadcast_all, logits_to_probs, probs_to_logits, uniform01

__all__ = ["Geometric"]


class Geometric(Distribution):
    """P(k) = (1 - p)^k p on k = 0, 1, ... (the (k+1)-th trial is the first
    success), with ``probs`` p in (0, 1] or ``logits``.  Samples are floats.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import Geometric
    >>> d = Geometric(probs=fastnn.tensor([0.25]))
    >>> d.mean, d.variance
    (tensor([3.]), tensor([12.]))
    >>> d.log_prob(fastnn.tensor([2.0]))
    tensor([-1.961...])
    """
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        param = probs if probs is not None else logits
        batch_shape = Size() if isinstance(param, Number) else (
            self.probs if probs is not None else self.logits).shape
        super().__init__(batch_shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            value = self.probs
            if not bool((value > 0).all()):
                raise ValueError(
                    f"Expected parameter probs ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to be positive but "
                    f"found invalid values:\n{value[~(value > 0)]}")

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, Geometric, _instance)
        batch_shape = Size(tuple(batch_shape))
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(tuple(batch_shape))
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(tuple(batch_shape))
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return fastnn.zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    @cached_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @cached_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    def sample(self, sample_shape=Size()):
        """floor(log(u) / log(1 - p)) with u uniform in [tiny, 1)."""
        shape = self._extended_shape(sample_shape)
        with fastnn.no_grad():
            p = self.probs
            u = uniform01(shape, p.dtype).clamp(min=float(np.finfo(p._array.dtype).tiny))
            return (u.log() / (-p).log1p()).floor()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = fastnn.where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs,
                                                  reduction="none") / self.probs
