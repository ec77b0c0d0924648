"""``VonMises(loc, concentration)``: the circular normal distribution."""
import math

import numpy as np

import fastnn

from .._core import Size
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all
from ..random import _numpy_generator

__all__ = ["VonMises"]

# Abramowitz & Stegun 9.8.1-9.8.4: I0, I1 for x < 3.75 (polynomials in
# (x / 3.75)^2) and sqrt(x) e^-x I0, I1 above (polynomials in 3.75 / x) -
# the approximation PyTorch's VonMises uses, so log_prob agrees with it.
_I0_SMALL = (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2)
_I0_LARGE = (0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2,
             -0.2057706e-1, 0.2635537e-1, -0.1647633e-1, 0.392377e-2)
_I1_SMALL = (0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2,
             0.32411e-3)
_I1_LARGE = (0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1,
             0.2282967e-1, -0.2895312e-1, 0.1787654e-1, -0.420059e-2)


def _poly(y, coef):
    result = coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


def _log_bessel(x, order):
    """log I_order(x) for x > 0, order 0 or 1 (differentiable Tensor ops)."""
    y = (x / 3.75) ** 2
    small = _poly(y, _I0_SMALL if order == 0 else _I1_SMALL)
    if order == 1:
        small = x.abs() * small
    small = small.log()
    large = x - 0.5 * x.log() + _poly(3.75 / x, _I0_LARGE if order == 0 else _I1_LARGE).log()
    return fastnn.where(x < 3.75, small, large)


def _rejection_sample(loc, kappa, shape, rng):
    """Best & Fisher (1979), in float64, redrawing only the rejected entries.
    An infinite concentration is a point mass at loc; a concentration that is
    not positive (unvalidated) gives NaN - neither enters the loop, which
    would never accept them."""
    kappa = np.broadcast_to(kappa, shape).reshape(-1)
    tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
    with np.errstate(all="ignore"):
        rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
        r = np.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))
    x = np.where(kappa > 0, 0.0, np.nan)
    todo = np.flatnonzero((kappa > 0) & np.isfinite(kappa))
    while todo.size:
        u1, u2, u3 = rng.random((3, todo.size))
        z = np.cos(math.pi * u1)
        rt, kt = r[todo], kappa[todo]
        f = (1 + rt * z) / (rt + z)
        c = kt * (rt - f)
        with np.errstate(all="ignore"):
            accept = ((c * (2 - c) - u2) > 0) | (np.log(c / u2) + 1 - c >= 0)
        x[todo[accept]] = np.sign(u3[accept] - 0.5) * np.arccos(np.clip(f[accept], -1, 1))
        todo = todo[~accept]
    x = x.reshape(shape)
    return np.mod(x + math.pi + np.broadcast_to(loc, shape), 2 * math.pi) - math.pi


class VonMises(Distribution):
    """Density ``exp(concentration cos(x - loc)) / (2 pi I0(concentration))``
    on angles (``loc`` and values are read modulo 2 pi).  ``mean`` and
    ``variance`` are the circular ones; draws by Best and Fisher's rejection
    sampler, in [-pi, pi) (no rsample).

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import VonMises
    >>> d = VonMises(fastnn.tensor([0.0]), fastnn.tensor([2.0]))
    >>> d.log_prob(fastnn.tensor([0.0]))
    tensor([-0.661...])
    """
    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, Size(), validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        k = self.concentration
        return (k * (value - self.loc).cos() - math.log(2 * math.pi)
                - _log_bessel(k, order=0))

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        loc = self.loc._array.astype(np.float64)
        kappa = self.concentration._array.astype(np.float64)
        x = _rejection_sample(loc, kappa, shape, _numpy_generator(None))
        return fastnn.from_numpy(np.ascontiguousarray(x.astype(self.loc._array.dtype)))

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self)) if _instance is None else _instance
        batch_shape = Size(tuple(batch_shape))
        new.loc = self.loc.expand(tuple(batch_shape))
        new.concentration = self.concentration.expand(tuple(batch_shape))
        Distribution.__init__(new, batch_shape, Size(), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        k = self.concentration
        return 1 - (_log_bessel(k, order=1) - _log_bessel(k, order=0)).exp()
