"""Search-space description for ``fastnn.tune``.

A space is a dict mapping a hyperparameter's name to a distribution:

>>> from fastnn import tune
>>> space = {"lr": tune.loguniform(1e-4, 1e-1),
...          "hidden": tune.choice([32, 64, 128]),
...          "dropout": tune.quniform(0.0, 0.5, 0.1),
...          "layers": tune.randint(1, 4)}

A bare list or tuple is shorthand for :func:`choice`. Every distribution maps
onto one Optuna distribution (``to_optuna``) and knows how to draw itself from
an Optuna trial (``suggest``); discrete ones also list their values for grid
search (``grid_values``). Nothing here imports Optuna at import time.
"""
import math
import numbers

__all__ = ["Distribution", "Choice", "Float", "Int", "choice", "uniform", "loguniform",
           "quniform", "randint", "lograndint", "qrandint", "normalize_space"]

_PRIMITIVE = (type(None), bool, int, float, str)


def _finite_number(fn, name, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise ValueError(f"{fn}: {name} must be a finite number, got {v!r}")
    return v


class Distribution:
    """Base class of the search-space distributions."""

    def suggest(self, trial, name):
        """Draws this hyperparameter from an Optuna trial; returns the user-level value."""
        raise NotImplementedError

    def to_optuna(self):
        raise NotImplementedError

    def grid_values(self):
        """The values grid search visits (ValueError for a continuous range)."""
        raise NotImplementedError

    def encode(self, value):
        """User-level value -> the value Optuna stores."""
        return value

    def decode(self, value):
        """Value Optuna stores -> user-level value."""
        return value


class Choice(Distribution):
    """One of a finite list of values (categorical)."""

    def __init__(self, values):
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"choice: values must be a non-empty list, got {values!r}")
        values = list(values)
        if not values:
            raise ValueError("choice: values must be a non-empty list, got []")
        self.values = values
        # Optuna stores None/bool/int/float/str as they are; anything else (tuples,
        # classes, ...) is stored as its repr and mapped back.
        self._raw = all(isinstance(v, _PRIMITIVE) for v in values)
        if not self._raw:
            keys = [repr(v) for v in values]
            if len(set(keys)) != len(keys):
                raise ValueError(f"choice: values with equal repr cannot be told apart: {values!r}")
            self._by_key = dict(zip(keys, values))

    def _keys(self):
        return self.values if self._raw else list(self._by_key)

    def to_optuna(self):
        from ._optuna import require_optuna
        return require_optuna().distributions.CategoricalDistribution(self._keys())

    def suggest(self, trial, name):
        return self.decode(trial.suggest_categorical(name, self._keys()))

    def grid_values(self):
        return list(self.values)

    def encode(self, value):
        return value if self._raw else repr(value)

    def decode(self, value):
        return value if self._raw else self._by_key.get(value, value)

    def __repr__(self):
        return f"choice({self.values!r})"


class Float(Distribution):
    """A float in [low, high], optionally on a log scale or on a grid of step ``step``."""

    def __init__(self, low, high, step=None, log=False, fn="uniform"):
        _finite_number(fn, "low", low)
        _finite_number(fn, "high", high)
        if not low < high:
            raise ValueError(f"{fn}: low must be < high, got low={low!r}, high={high!r}")
        if log and low <= 0:
            raise ValueError(f"{fn}: low must be > 0 on a log scale, got low={low!r}")
        if step is not None:
            _finite_number(fn, "q", step)
            if step <= 0:
                raise ValueError(f"{fn}: q must be > 0, got {step!r}")
            if log:
                raise ValueError(f"{fn}: a step cannot be combined with a log scale")
        self.low, self.high, self.step, self.log, self._fn = float(low), float(high), step, log, fn

    def to_optuna(self):
        from ._optuna import require_optuna
        d = require_optuna().distributions
        step = None if self.step is None else float(self.step)
        return d.FloatDistribution(self.low, self.high, log=self.log, step=step)

    def suggest(self, trial, name):
        step = None if self.step is None else float(self.step)
        return trial.suggest_float(name, self.low, self.high, step=step, log=self.log)

    def grid_values(self):
        if self.step is None:
            raise ValueError(f"grid search needs discrete values, but {self!r} is a continuous "
                             "range: use choice([...]) or quniform(low, high, q)")
        n = int(math.floor((self.high - self.low) / self.step + 1e-9))
        return [round(self.low + k * self.step, 12) for k in range(n + 1)]

    def __repr__(self):
        if self.step is not None:
            return f"quniform({self.low!r}, {self.high!r}, {self.step!r})"
        return f"{self._fn}({self.low!r}, {self.high!r})"


class Int(Distribution):
    """An integer with low <= x < high (high excluded, as numpy and torch ``randint``)."""

    def __init__(self, low, high, step=1, log=False, fn="randint"):
        for n, v in (("low", low), ("high", high), ("q", step)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise ValueError(f"{fn}: {n} must be an int, got {v!r}")
        if not low < high:
            raise ValueError(f"{fn}: low must be < high, got low={low!r}, high={high!r}")
        if step < 1:
            raise ValueError(f"{fn}: q must be >= 1, got {step!r}")
        if log and (low < 1 or step != 1):
            raise ValueError(f"{fn}: a log scale needs low >= 1 and q == 1, got low={low!r}, q={step!r}")
        self.low, self.high, self.step, self.log, self._fn = int(low), int(high), int(step), log, fn
        # Largest value on the grid below high (Optuna's bounds are inclusive).
        self._last = self.low + ((self.high - 1 - self.low) // self.step) * self.step

    def to_optuna(self):
        from ._optuna import require_optuna
        d = require_optuna().distributions
        return d.IntDistribution(self.low, self._last, log=self.log, step=self.step)

    def suggest(self, trial, name):
        return trial.suggest_int(name, self.low, self._last, step=self.step, log=self.log)

    def grid_values(self):
        return list(range(self.low, self._last + 1, self.step))

    def __repr__(self):
        return f"{self._fn}({self.low!r}, {self.high!r}" + (
            f", {self.step!r})" if self.step != 1 else ")")


def choice(values):
    """One of ``values`` (categorical; any objects, e.g. ``[(64,), (64, 32)]``)."""
    return Choice(values)


def uniform(low, high):
    """A float drawn uniformly from [low, high]."""
    return Float(low, high, fn="uniform")


def loguniform(low, high):
    """A float in [low, high] (0 < low) drawn uniformly on a log scale: learning rates, decays."""
    return Float(low, high, log=True, fn="loguniform")


def quniform(low, high, q):
    """A float in {low, low + q, low + 2q, ...} <= high (discrete, so grid search can use it)."""
    return Float(low, high, step=q, fn="quniform")


def randint(low, high):
    """An integer low <= x < high (high excluded, like ``numpy``/``torch`` ``randint``)."""
    return Int(low, high, fn="randint")


def qrandint(low, high, q):
    """An integer in {low, low + q, ...} strictly below ``high``."""
    return Int(low, high, step=q, fn="qrandint")


def lograndint(low, high):
    """An integer 1 <= low <= x < high drawn on a log scale (layer widths)."""
    return Int(low, high, log=True, fn="lograndint")


def _from_optuna(dist, fn, name):
    kind = type(dist).__name__
    if kind == "CategoricalDistribution":
        return Choice(dist.choices)
    if kind == "FloatDistribution":
        return Float(dist.low, dist.high, step=dist.step, log=dist.log,
                     fn="loguniform" if dist.log else "uniform")
    if kind == "IntDistribution":
        return Int(dist.low, dist.high + 1, step=dist.step, log=dist.log, fn="randint")
    raise ValueError(f"{fn}: unsupported Optuna distribution for {name!r}: {dist!r}")


def normalize_space(space, fn="search"):
    """Validates a space dict and returns {name: Distribution} (lists/tuples become choices).

    Raises ValueError for an empty space, a non-string name or an unknown distribution."""
    if not isinstance(space, dict):
        raise ValueError(f"{fn}: space must be a dict of name -> distribution, "
                         f"got {type(space).__name__}")
    if not space:
        raise ValueError(f"{fn}: the search space is empty; give at least one hyperparameter")
    out = {}
    for name, dist in space.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"{fn}: hyperparameter names must be non-empty strings, got {name!r}")
        if isinstance(dist, Distribution):
            out[name] = dist
        elif isinstance(dist, (list, tuple)):
            out[name] = Choice(dist)
        elif type(dist).__module__.startswith("optuna.distributions"):
            out[name] = _from_optuna(dist, fn, name)
        else:
            raise ValueError(
                f"{fn}: unknown distribution for {name!r}: {dist!r}; use fastnn.tune.choice, "
                "uniform, loguniform, quniform, randint, qrandint or lograndint")
    return out
