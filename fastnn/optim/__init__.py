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
from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .search import RandomLocalSearch, RandomSearch
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Adadelta", "Adamax",
           "NAdam", "RAdam", "LBFGS", "Rprop", "ASGD", "Adafactor", "Muon", "SparseAdam", "RandomSearch",
           "RandomLocalSearch",
           "lr_scheduler"]
