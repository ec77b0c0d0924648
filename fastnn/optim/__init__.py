"""Optimisers (``fastnn.optim``): torch.optim's update rules, run in place in
the compiled core, plus learning-rate schedules and gradient-free baselines.

Examples
--------
>>> import fastnn
>>> model = fastnn.nn.Linear(3, 1)
>>> opt = fastnn.optim.Adam(model.parameters(), lr=1e-2)
>>> loss = (model(fastnn.ones(4, 3)) ** 2).mean()
>>> opt.zero_grad(); loss.backward(); opt.step()
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .search import RandomLocalSearch, RandomSearch
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "RandomSearch",
           "RandomLocalSearch", "lr_scheduler"]
