"""``Dirichlet(concentration)``: distributions over the probability simplex."""
import numpy as np

import fastnn
import fastnn.nn.functional as F

from .._core import Size
from .._tensor import Tensor
from . import constraints
from ._common import checked_instance
from ._gamma_math import StandardGammaFn
from .exp_family import ExponentialFamily

__all__ = ["Dirichlet"]


def _sample_dirichlet(concentration):
    """Independent Gamma(alpha_i, 1) draws normalised along the last dim;
    differentiable in ``concentration`` through the gammas' implicit gradient.
    The result is kept within [tiny, 1 - eps] (not recorded), as PyTorch's."""
    g = StandardGammaFn.apply(concentration)
    x = g / g.sum(-1, keepdim=True)
    fi = np.finfo(x._array.dtype)
    np.clip(x._array, fi.tiny, 1 - fi.eps, out=x._array)
    return x


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution with ``concentration`` alpha (the last dim
    indexes the K categories; batch dims before it): density
    ``Gamma(sum alpha) / prod Gamma(alpha_i) * prod x_i^(alpha_i - 1)``.
    Reparameterised: a draw is ``g / sum(g)`` with ``g_i ~ Gamma(alpha_i, 1)``.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import Dirichlet
    >>> d = Dirichlet(fastnn.tensor([1.0, 2.0, 1.0]))
    >>> d.mean, d.batch_shape, d.event_shape
    (tensor([0.25..., 0.5..., 0.25...]), fastnn.Size([]), fastnn.Size([3]))
    >>> d.log_prob(fastnn.tensor([0.25, 0.5, 0.25]))
    tensor(1.0986...)
    """
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if not isinstance(concentration, Tensor):
            raise TypeError(f"Dirichlet: concentration must be a Tensor, got "
                            f"{type(concentration).__name__}")
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = concentration.shape
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, Dirichlet, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.concentration = self.concentration.expand(tuple(batch_shape)
                                                      + tuple(self.event_shape))
        ExponentialFamily.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        return _sample_dirichlet(self.concentration.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (fastnn.xlogy(c - 1.0, value).sum(-1) + c.sum(-1).lgamma()
                - c.lgamma().sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        """(alpha - 1)_+ normalised; a one-hot vector at the largest entry's
        index when every alpha < 1 (PyTorch's convention)."""
        cm1 = (self.concentration - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, True)
        corner = F.one_hot(mode.argmax(-1), cm1.shape[-1]).to(mode.dtype)
        mask = (self.concentration < 1).all(-1).unsqueeze(-1)
        return fastnn.where(mask, corner, mode)

    @property
    def variance(self):
        c = self.concentration
        c0 = c.sum(-1, True)
        return c * (c0 - c) / (c0.pow(2) * (c0 + 1))

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return (c.lgamma().sum(-1) - a0.lgamma() - (k - a0) * a0.digamma()
                - ((c - 1.0) * c.digamma()).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - x.sum(-1).lgamma()
