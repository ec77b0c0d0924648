"""``Distribution``: the base class of ``fastnn.distributions``.

A distribution has a ``batch_shape`` (independent, differently-parameterised
copies) and an ``event_shape`` (the shape of one draw); ``sample(sample_shape)``
returns ``sample_shape + batch_shape + event_shape`` values.  Parameters are
checked against ``arg_constraints`` and ``log_prob`` values against
``support`` when validation is on (the default, as in PyTorch; switch it with
``validate_args=False`` or ``Distribution.set_default_validate_args(False)``).
"""
from functools import cached_property
from numbers import Number

import fastnn

from .._core import Size
from .._tensor import Tensor
from . import constraints
from .utils import as_size, broadcast_all, extended_shape

__all__ = ["Distribution"]


def _all_true(valid):
    return bool(valid.all()) if isinstance(valid, Tensor) else bool(valid)


class Distribution:
    """Base class: subclasses set ``arg_constraints``, ``support`` and the
    methods they can compute; the others raise NotImplementedError."""
    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Turns argument validation on or off for distributions created afterwards
        without an explicit ``validate_args``."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = as_size(batch_shape)
        self._event_shape = as_size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()
        super().__init__()

    def _check_parameters(self):
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            arg_constraints = {}
        for param, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if param not in self.__dict__ and isinstance(getattr(type(self), param, None),
                                                          cached_property):
                continue                  # a derived parameter not computed yet
            value = getattr(self, param)
            if not _all_true(constraint.check(value)):
                raise ValueError(
                    f"Expected parameter {param} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                    f"constraint {constraint!r}, but found invalid values:\n{value}")

    def expand(self, batch_shape, _instance=None):
        """A new distribution of the same kind with its batch dims broadcast to
        ``batch_shape`` (parameters expanded, not copied)."""
        batch_shape = as_size(batch_shape)
        new = _instance if _instance is not None else type(self).__new__(type(self))
        nb = len(self._batch_shape)
        for key, v in self.__dict__.items():
            if key in self.arg_constraints and isinstance(v, Tensor):
                v = v.expand(tuple(batch_shape) + tuple(v.shape[nb:]))
            new.__dict__[key] = v
        new._batch_shape = batch_shape
        return new

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    @property
    def arg_constraints(self):
        raise NotImplementedError

    @property
    def support(self):
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def sample(self, sample_shape=Size()):
        """Draws without a graph: ``rsample`` under ``no_grad`` by default."""
        with fastnn.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        """Reparameterised draws (gradients flow to the parameters)."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample")

    def sample_n(self, n):
        return self.sample(Size((n,)))

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        raise NotImplementedError

    def perplexity(self):
        return self.entropy().exp()

    def _extended_shape(self, sample_shape=Size()):
        return extended_shape(sample_shape, self._batch_shape, self._event_shape)

    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        actual = tuple(value.shape)
        n_event = len(self._event_shape)
        if actual[len(actual) - n_event:] != tuple(self._event_shape) or len(actual) < n_event:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.shape} vs {self._event_shape}.")
        expected = tuple(self._batch_shape) + tuple(self._event_shape)
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{value.shape} vs {Size(expected)}.")
        try:
            support = self.support
        except NotImplementedError:
            return
        if not _all_true(support.check(value)):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {actual}) to be "
                f"within the support ({support!r}) of the distribution {self!r}, but found "
                f"invalid values:\n{value}")

    def __repr__(self):
        try:
            names = [k for k in self.arg_constraints if k in self.__dict__]
        except NotImplementedError:
            names = []
        parts = []
        for name in names:
            v = self.__dict__[name]
            # (PyTorch formats the tensor: a 0-d one as its number, a one-element
            # one as a tensor, a larger one by its size)
            shown = (v.item() if v.dim() == 0 else v) if v.numel() == 1 else v.shape
            parts.append(f"{name}: {shown}")
        return f"{type(self).__name__}({', '.join(parts)})"


class _LocationScale(Distribution):
    """The shared part of the real-valued location-scale families (Normal,
    Laplace): broadcast (loc, scale), the batch shape, mean and mode."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, Number) and isinstance(scale, Number):
            batch_shape = Size()
        else:
            batch_shape = self.loc.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc
