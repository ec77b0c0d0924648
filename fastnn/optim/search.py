"""Gradient-free baselines: random search and random local search.

These are the two "strategies" that lecture notes on optimisation
(e.g. CS231n's) show before gradient descent, to make the point that
following the gradient is far better than guessing:

* :class:`RandomSearch` draws completely fresh weights at every step and
  keeps the best set seen so far;
* :class:`RandomLocalSearch` perturbs the current weights by a small random
  step and keeps the step only if the loss falls.

Both minimise a loss *closure* (a function of no arguments that evaluates
the model and returns the loss as a number or a one-element Tensor); no
gradients are computed (the closure runs under ``no_grad``).  They update the
parameters' arrays in place, so a model holding the parameters sees the
current best weights after every ``step``.  Randomness comes from a NumPy
generator seeded by ``seed`` (or, when ``seed`` is None, from fastnn's global
generator, which ``fastnn.manual_seed`` seeds), so runs are reproducible.
"""
import numpy as np

from .. import _config
from ..autograd import grad_mode
from .optimizer import Optimizer, check_hparam, check_nonneg

__all__ = ["RandomSearch", "RandomLocalSearch"]


def _loss_value(v):
    return float(np.asarray(getattr(v, "data", v)))


class _SearchBase(Optimizer):
    _scale_name = None

    def __init__(self, params, closure, scale, seed, defaults):
        name = type(self).__name__
        # The closure and the scale may be given in either positional slot.
        if callable(scale):
            closure, scale = scale, (closure if closure is not None
                                     else defaults[self._scale_name])
        elif isinstance(closure, (int, float, np.number)) and not isinstance(closure, bool):
            closure, scale = None, closure
        defaults[self._scale_name] = scale
        if closure is not None and not callable(closure):
            raise TypeError(f"{name}: closure must be callable, got {type(closure).__name__}")
        self.closure = closure
        if seed is None:
            seed = int(_config.state.rng.integers(0, 2**63 - 1))
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self.best_loss = None
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, g):
        name = type(self).__name__
        check_nonneg(name, self._scale_name, g[self._scale_name])
        check_hparam(np.isfinite(float(g[self._scale_name])), name,
                     f"{self._scale_name} must be finite, got {g[self._scale_name]!r}")

    def _closure(self, closure):
        closure = closure if closure is not None else self.closure
        if closure is None:
            raise ValueError(f"{type(self).__name__}.step needs a loss closure (pass "
                             "closure= to the constructor or to step)")
        return closure

    def _params(self):
        return [(p, g) for g in self.param_groups for p in g["params"]]

    def step(self, closure=None):
        """Tries one candidate; returns the best loss so far (a float).

        Parameters
        ----------
        closure : callable, optional
            Returns the loss of the model's current weights (defaults to the
            closure given to the constructor).
        """
        closure = self._closure(closure)
        with grad_mode.no_grad():
            if self.best_loss is None:
                self.best_loss = _loss_value(closure())
            saved = [p._array.copy() for p, _ in self._params()]
            for p, g in self._params():
                self._propose(p, g)
            loss = _loss_value(closure())
            if loss < self.best_loss:
                self.best_loss = loss
            else:
                for (p, _), old in zip(self._params(), saved):
                    np.copyto(p._array, old)
        return self.best_loss

    def _draw(self, p, scale):
        d = p._array
        dt = d.dtype if d.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        return self._rng.standard_normal(d.shape, dtype=dt) * dt.type(scale)

    def state_dict(self):
        sd = super().state_dict()
        sd["best_loss"] = self.best_loss
        return sd

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.best_loss = state_dict.get("best_loss")


class RandomSearch(_SearchBase):
    """Random search: draw fresh weights ``std * N(0, 1)`` (plus ``mean``)
    each step and keep the best set seen.

    Parameters
    ----------
    params : iterable of Tensor or dict
        The parameters to search over (updated in place).
    closure : callable, optional
        Loss closure used by ``step()`` when none is passed to it.  May also
        be given as the second positional argument.
    std : float
        Standard deviation of the sampled weights (default 1.0); a group may
        set its own.
    seed : int, optional
        Seed of the generator (default: drawn from fastnn's global generator).
    mean : float
        Mean of the sampled weights (default 0).

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.zeros(2))
    >>> target = fastnn.tensor([0.5, -0.25])
    >>> loss = lambda: ((w - target) ** 2).sum()
    >>> opt = fastnn.optim.RandomSearch([w], std=0.5, seed=0)
    >>> first = float(loss())
    >>> best = [opt.step(loss) for _ in range(50)][-1]
    >>> best <= first
    True
    """

    _scale_name = "std"

    def __init__(self, params, closure=None, std=1.0, seed=None, mean=0.0):
        super().__init__(params, closure, std, seed, dict(std=std, mean=mean))

    def _propose(self, p, group):
        mean = p._array.dtype.type(group.get("mean", 0.0))
        p._array[...] = self._draw(p, float(group["std"])) + mean


class RandomLocalSearch(_SearchBase):
    """Random local search: add ``step_size * N(0, 1)`` to the current weights
    and keep the move only if the loss falls.

    Parameters
    ----------
    params : iterable of Tensor or dict
        The parameters to search over (updated in place).
    step_size : float
        Standard deviation of the random step (default 0.1); a group may set
        its own.
    seed : int, optional
        Seed of the generator (default: drawn from fastnn's global generator).
    closure : callable, optional
        Loss closure used by ``step()`` when none is passed to it.

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.zeros(2))
    >>> target = fastnn.tensor([0.5, -0.25])
    >>> loss = lambda: ((w - target) ** 2).sum()
    >>> opt = fastnn.optim.RandomLocalSearch([w], step_size=0.1, seed=0)
    >>> best = [opt.step(loss) for _ in range(100)][-1]
    >>> best < 0.05
    True
    """

    _scale_name = "step_size"

    def __init__(self, params, step_size=0.1, seed=None, closure=None):
        super().__init__(params, closure, step_size, seed, dict(step_size=step_size))

    def _propose(self, p, group):
        a = p._array
        a += self._draw(p, float(group["step_size"]))
