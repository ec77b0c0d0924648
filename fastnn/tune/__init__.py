"""Hyperparameter search: grid, random and Bayesian (TPE), on Optuna.

Optuna is an optional dependency (``pip install fastnn[tune]``), imported only
when a search runs, so ``import fastnn`` stays light.

>>> from fastnn import tune
>>> def objective(params, trial):
...     return (params["lr"] - 0.01) ** 2 + params["width"] / 1000
>>> space = {"lr": tune.loguniform(1e-4, 1e-1), "width": tune.choice([16, 32, 64])}
>>> result = tune.random_search(objective, space, n_trials=10, seed=0)
>>> sorted(result.best_params)
['lr', 'width']

See :func:`grid_search`, :func:`random_search`, :func:`bayes_search`,
:class:`PruningCallback` and the module docstring of ``fastnn.tune.search``
for the design (exactly-once grid points, storages, worker processes).
"""
from .callbacks import PruningCallback
from .search import ResultTable, SearchResult, bayes_search, grid_search, random_search
from .space import (Choice, Distribution, Float, Int, choice, loguniform, lograndint, qrandint,
                    quniform, randint, uniform)

__all__ = ["grid_search", "random_search", "bayes_search", "SearchResult", "ResultTable",
           "PruningCallback", "Distribution", "Choice", "Float", "Int", "choice", "uniform",
           "loguniform", "quniform", "randint", "qrandint", "lograndint"]
