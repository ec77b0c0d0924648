"""``Categorical(probs=None, logits=None)``: one of K classes per batch entry."""
from functools import cached_property

import numpy as np

import fastnn

from .._core import Size
from .._tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import as_size, logits_to_probs, probs_to_logits

__all__ = ["Categorical"]


def _probs_or_logits(name, probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    param = probs if probs is not None else logits
    if not isinstance(param, Tensor):
        raise TypeError(f"{name}: probs/logits must be a Tensor, got {type(param).__name__}")
    if param.ndim < 1:
        raise ValueError("`probs` parameter must be at least one-dimensional." if probs is not None
                         else "`logits` parameter must be at least one-dimensional.")
    return param


class Categorical(Distribution):
    """Classes ``0 .. K-1`` with probabilities along the last dim of ``probs``
    (normalised to sum to one) or of ``logits`` (unnormalised log-probabilities,
    normalised with logsumexp).  Samples are int64 class indices.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import Categorical
    >>> d = Categorical(probs=fastnn.tensor([1.0, 3.0]))
    >>> d.probs
    tensor([0.25, 0.75])
    >>> d.log_prob(fastnn.tensor(1))
    tensor(-0.2876821)
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(
        constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        param = _probs_or_logits(type(self).__name__, probs, logits)
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = param.shape[-1]
        batch_shape = param.shape[:-1] if param.ndim > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape, _instance)
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        for key in ("probs", "logits"):   # the derived one is recomputed on demand
            if key in new.__dict__ and new.__dict__[key] is not new._param:
                del new.__dict__[key]
        return new

    @cached_property
    def logits(self):
        return probs_to_logits(self.probs)

    @cached_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.shape

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return fastnn.full(tuple(self._extended_shape()), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return fastnn.full(tuple(self._extended_shape()), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape=Size()):
        """Inverse-CDF draws: one uniform per (sample, batch) entry, compared with
        the cumulative probabilities of its row (all rows at once)."""
        sample_shape = as_size(sample_shape)
        with fastnn.no_grad():
            p = self.probs._array.astype(np.float64)
            cdf = np.cumsum(p, axis=-1)
            cdf /= cdf[..., -1:]
            u = fastnn.rand(tuple(sample_shape) + tuple(self._batch_shape) + (1,),
                            dtype=fastnn.float64)._array
            idx = np.asarray((cdf <= u).sum(axis=-1))   # broadcasts the batch over the samples
            np.minimum(idx, self._num_events - 1, out=idx)
            # (not ascontiguousarray: it turns the 0-d index of an unbatched draw into 1-d)
            return fastnn.from_numpy(idx.astype(np.int64, copy=False))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = fastnn.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self):
        min_real = float(np.finfo(self.logits.dtype).min)
        logits = self.logits.clamp(min=min_real)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = fastnn.arange(self._num_events, dtype=fastnn.int64)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
