"""Learning-rate schedules (``fastnn.optim.lr_scheduler``), torch's semantics.

A scheduler wraps an optimiser and rewrites each parameter group's ``'lr'``
when its ``step()`` is called (once per epoch or batch, after
``optimizer.step()``).  Construction performs the initial step
(``last_epoch`` becomes 0 and the groups take the first lr); ``get_last_lr()``
returns the lrs last set.  The chainable schedules (StepLR, MultiStepLR,
ConstantLR, LinearLR, ExponentialLR, PolynomialLR, MultiplicativeLR,
InverseTimeLR, CosineAnnealingLR) update the current lr recursively exactly
as PyTorch does, so the sequence of lrs is PyTorch's to the last bit and
they compose (``ChainedScheduler``, ``SequentialLR``); ``step(epoch)`` uses
the closed form.  ``state_dict()`` is every attribute but the optimiser
(plain numbers and lists), as in PyTorch; user functions (``lr_lambda``,
``scale_fn``) are not stored, only a callable object's ``__dict__``.
"""
import functools
import math
import types
import warnings
import weakref
from bisect import bisect_right
from collections import Counter

from .._tensor import Tensor
from .optimizer import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "SequentialLR", "PolynomialLR", "CosineAnnealingLR",
           "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts",
           "OneCycleLR", "InverseTimeLR"]

_EPOCH_WARNING = ("passing epoch to scheduler.step() is deprecated; call step() once per "
                  "epoch")


_GET_LR_WARNING = ("To get the last learning rate computed by the scheduler, please use "
                   "`get_last_lr()`.")
_ORDER_WARNING = ("Detected call of `lr_scheduler.step()` before `optimizer.step()`. In "
                  "PyTorch 1.1.0 and later, you should call them in the opposite order: "
                  "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this will "
                  "result in skipping the first value of the learning rate schedule.")
_OVERRIDDEN_WARNING = ("Seems like `optimizer.step()` has been overridden after learning rate "
                       "scheduler initialization. Please, make sure to call `optimizer.step()` "
                       "before `lr_scheduler.step()`.")


def _warn_get_lr_outside_step(sched):
    """PyTorch's warning when a built-in schedule's ``get_lr()`` is called by
    hand (its value is the next step's rule applied again, not the lr)."""
    if not sched._get_lr_called_within_step:
        warnings.warn(_GET_LR_WARNING, UserWarning, stacklevel=3)


def _track_optimizer_step(optimizer):
    """Wraps ``optimizer.step`` (once, on the instance, as PyTorch does) so it
    records ``optimizer._opt_called``: the first ``scheduler.step()`` can then
    warn when it comes before any ``optimizer.step()``.  The wrapper holds a
    weak reference, so the optimiser does not keep itself alive."""
    if getattr(optimizer.step, "_wrapped_by_lr_sched", False):
        return
    bound = optimizer.step
    func = getattr(bound, "__func__", None)
    if func is None:                    # not a method: leave a user's callable alone
        return
    ref = weakref.ref(optimizer)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        opt = ref()
        opt._opt_called = True
        return func.__get__(opt, type(opt))(*args, **kwargs)
    wrapper._wrapped_by_lr_sched = True
    optimizer.step = wrapper


def _check_step_order(sched):
    """At the first ``step()`` after construction, PyTorch's warnings for a
    scheduler stepped before its optimiser (or an optimiser whose ``step``
    was replaced after the scheduler was made)."""
    if sched._step_count == 1:
        if not getattr(sched.optimizer.step, "_wrapped_by_lr_sched", False):
            warnings.warn(_OVERRIDDEN_WARNING, UserWarning, stacklevel=3)
        elif not getattr(sched.optimizer, "_opt_called", False):
            warnings.warn(_ORDER_WARNING, UserWarning, stacklevel=3)


def _set_group_lr(group, lr):
    """group['lr'] = lr, or, for a Tensor lr (``Adam(lr=torch.tensor(...))``),
    filled in place as PyTorch does, so the group keeps its tensor."""
    cur = group["lr"]
    if isinstance(cur, Tensor):
        cur.fill_(float(lr))
    else:
        group["lr"] = lr


def _lr_copy(lr):
    """A group's lr as a scheduler records it: a Tensor lr cloned."""
    return lr.clone() if isinstance(lr, Tensor) else lr


def _check_optimizer(sched, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{sched}: {type(optimizer).__name__} is not an Optimizer")


def _per_group(sched, name, optimizer, value):
    """A scalar repeated for every group, or a list/tuple with one per group."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{sched}: expected {n} values for {name}, got {len(value)}")
        return list(value)
    return [value] * n


def _check_int(sched, name, value, low):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{sched}: expected an int {name} >= {low}, but got {value!r}")


class LRScheduler:
    """Base class of the epoch-indexed schedules.

    Parameters
    ----------
    optimizer : Optimizer
    last_epoch : int
        The index of the last epoch when resuming (default -1: start).

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> sched = fastnn.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    _is_initial = False
    # True only while step() calls get_lr(), as PyTorch's flag: custom
    # schedulers copied from PyTorch's source read it in their get_lr to warn
    # when called from outside step() (it is also in PyTorch's state_dict)
    _get_lr_called_within_step = False

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _lr_copy(group["lr"]))
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming a scheduler with last_epoch >= 0")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        _track_optimizer_step(optimizer)
        self._initial_step()

    def _initial_step(self):
        """Resets the step count and takes the constructor's step."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The lrs for the current ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError

    def get_last_lr(self):
        """The learning rates last set, one per parameter group."""
        return self._last_lr

    def step(self, epoch=None):
        """Advances one epoch (or jumps to ``epoch``, closed form) and sets the lrs."""
        _check_step_order(self)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                values = (self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr")
                          else self.get_lr())
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            _set_group_lr(group, lr)
        self._last_lr = self._group_lrs()

    def _group_lrs(self):
        return [_lr_copy(group["lr"]) for group in self.optimizer.param_groups]

    def state_dict(self):
        """Every attribute but the optimiser."""
        return {k: (list(v) if isinstance(v, list) else v)
                for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restores the attributes saved by ``state_dict``."""
        self.__dict__.update({k: (list(v) if isinstance(v, (list, tuple)) else v)
                              for k, v in state_dict.items()})


_LRScheduler = LRScheduler  # the old PyTorch name


class _LambdaBase(LRScheduler):
    """lr_lambda as one function or one per group; state_dict stores a
    callable object's ``__dict__`` and nothing for plain functions."""

    def __init__(self, optimizer, lr_lambda, last_epoch):
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"{type(self).__name__}: Expected {len(optimizer.param_groups)} "
                                 f"lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"{type(self).__name__}: lr_lambda should be a function, but "
                                f"got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        sd = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        sd["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                            for fn in self.lr_lambdas]
        return sd

    def load_state_dict(self, state_dict):
        sd = dict(state_dict)
        fns = sd.pop("lr_lambdas", [])
        super().load_state_dict(sd)
        for fn, d in zip(self.lr_lambdas, fns):
            if d is not None:
                fn.__dict__.update(d)


class LambdaLR(_LambdaBase):
    """lr = initial lr * ``lr_lambda(epoch)``.

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable or list of callables
        Factor as a function of the epoch index (one per group if a list).
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = fastnn.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5 ** e)
    >>> opt.step(); s.step(); s.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        super().__init__(optimizer, lr_lambda, last_epoch)

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        return [b * fn(self.last_epoch) for fn, b in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaBase):
    """lr = previous lr * ``lr_lambda(epoch)`` (from the first step on).

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable or list of callables
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = fastnn.optim.lr_scheduler.MultiplicativeLR(opt, lambda e: 0.9)
    >>> opt.step(); s.step(); s.get_last_lr()
    [0.9]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        super().__init__(optimizer, lr_lambda, last_epoch)

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        if self._is_initial:
            return self._group_lrs()
        return [g["lr"] * fn(self.last_epoch)
                for fn, g in zip(self.lr_lambdas, self.optimizer.param_groups)]


class StepLR(LRScheduler):
    """Multiplies the lr by ``gamma`` every ``step_size`` epochs.

    ``lr_t = lr_0 * gamma ** (t // step_size)``.

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        Period of the decay, in epochs (>= 1).
    gamma : float
        Multiplicative factor (default 0.1).
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = fastnn.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    >>> opt.step(); s.step(); s.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        # a number of epochs; PyTorch also takes a float (its text-classification
        # tutorial passes 1.0): the lr then drops where last_epoch % step_size == 0
        if isinstance(step_size, bool) or not isinstance(step_size, (int, float)) or \
                not step_size > 0:
            raise ValueError(f"StepLR: step_size must be a positive number, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiplies the lr by ``gamma`` every epoch: ``lr_t = lr_0 * gamma ** t``.

    Parameters
    ----------
    optimizer : Optimizer
    gamma : float
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = fastnn.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    >>> opt.step(); s.step(); s.get_last_lr()
    [0.9]
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        if self._is_initial:
            return self._group_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiplies the lr by ``gamma`` at each milestone epoch.

    ``lr_t = lr_0 * gamma ** (number of milestones <= t)``; a milestone listed
    n times multiplies by ``gamma ** n``.

    Parameters
    ----------
    optimizer : Optimizer
    milestones : iterable of int
        Epoch indices (increasing).
    gamma : float
        Multiplicative factor (default 0.1).
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = fastnn.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    >>> opt.step(); s.step(); s.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        if self.last_epoch not in self.milestones:
            return self._group_lrs()
        k = self.milestones[self.last_epoch]
        return [g["lr"] * self.gamma ** k for g in self.optimizer.param_groups]

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(k): int(v) for k, v in dict(self.milestones).items()})

    def _get_closed_form_lr(self):
        ms = sorted(self.milestones.elements())
        return [b * self.gamma ** bisect_right(ms, self.last_epoch) for b in self.base_lrs]


class ConstantLR(LRScheduler):
    """Multiplies the lr by ``factor`` until epoch ``total_iters``, then
    restores it.

    Parameters
    ----------
    optimizer : Optimizer
    factor : float in [0, 1]
        The factor (default 1/3).
    total_iters : int
        Epochs with the reduced lr (default 5).
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = fastnn.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=1)
    >>> before = s.get_last_lr(); opt.step(); s.step()
    >>> before, s.get_last_lr()
    ([0.5], [1.0])
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 <= factor <= 1.0:
            raise ValueError("ConstantLR: Constant multiplicative factor expected to be between "
                             f"0 and 1 (got factor={factor!r})")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [g["lr"] * self.factor for g in groups]
        if self.last_epoch != self.total_iters:
            return self._group_lrs()
        return [g["lr"] * (1.0 / self.factor) for g in groups]

    def _get_closed_form_lr(self):
        on = self.last_epoch >= self.total_iters
        return [b * (self.factor + on * (1 - self.factor)) for b in self.base_lrs]


class LinearLR(LRScheduler):
    """Scales the lr by a factor going linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` epochs (PyTorch's recursive form).

    Parameters
    ----------
    optimizer : Optimizer
    start_factor : float in (0, 1]
        Default 1/3.
    end_factor : float in [0, 1]
        Default 1.0.
    total_iters : int
        Default 5.
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = fastnn.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> lrs = [s.get_last_lr()[0]]
    >>> for _ in range(3):
    ...     opt.step(); s.step(); lrs.append(s.get_last_lr()[0])
    >>> lrs
    [0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if not 0 < start_factor <= 1.0:
            raise ValueError("LinearLR: Starting multiplicative factor expected to be greater "
                             f"than 0 and less or equal to 1 (got start_factor={start_factor!r})")
        if not 0 <= end_factor <= 1.0:
            raise ValueError("LinearLR: Ending multiplicative factor expected to be between 0 "
                             f"and 1 (got end_factor={end_factor!r})")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        groups = self.optimizer.param_groups
        a, b, n, t = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        if t == 0:
            return [g["lr"] * a for g in groups]
        if self._is_initial or t > n:
            return self._group_lrs()
        return [g["lr"] * (1.0 + (b - a) / (n * a + (t - 1) * (b - a))) for g in groups]

    def _get_closed_form_lr(self):
        a, b, n = self.start_factor, self.end_factor, self.total_iters
        return [base * (a + (b - a) * min(n, self.last_epoch) / n) for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Polynomial decay to zero over ``total_iters`` epochs:
    ``lr_t = lr_0 * (1 - min(t, total_iters) / total_iters) ** power``.

    Parameters
    ----------
    optimizer : Optimizer
    total_iters : int
        Default 5.
    power : float
        Default 1.0.
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = fastnn.optim.lr_scheduler.PolynomialLR(opt, total_iters=4, power=2.0)
    >>> opt.step(); s.step(); s.get_last_lr()
    [0.5625]
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        n, t = self.total_iters, self.last_epoch
        if self._is_initial or t > n:
            return self._group_lrs()
        f = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return [g["lr"] * f for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        n = self.total_iters
        return [b * (1.0 - min(n, self.last_epoch) / n) ** self.power for b in self.base_lrs]


class InverseTimeLR(LRScheduler):
    """The 1/t decay: ``lr_t = lr_0 / (1 + k * t)``.

    Applied recursively (``lr_t = lr_{t-1} * (1 + k (t-1)) / (1 + k t)``) so
    it composes with other schedules like PyTorch's chainable ones.

    Parameters
    ----------
    optimizer : Optimizer
    k : float
        Decay rate (>= 0).
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = fastnn.optim.lr_scheduler.InverseTimeLR(opt, k=1.0)
    >>> opt.step(); s.step(); s.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer, k, last_epoch=-1):
        if not float(k) >= 0:
            raise ValueError(f"InverseTimeLR: k must be >= 0, got {k!r}")
        self.k = k
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        if self._is_initial:
            return self._group_lrs()
        t, k = self.last_epoch, self.k
        return [group["lr"] * (1 + k * (t - 1)) / (1 + k * t)
                for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [b / (1 + self.k * self.last_epoch) for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the initial lr down to ``eta_min`` over ``T_max`` epochs.

    ``lr_t = eta_min + (lr_0 - eta_min) * (1 + cos(pi * t / T_max)) / 2``,
    computed with PyTorch's recursive form (so the values match it bit for bit).

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        Half-period, in epochs (>= 1).
    eta_min : float
        Minimum lr (default 0).
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = fastnn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
    >>> opt.step(); s.step(); round(s.get_last_lr()[0], 6)
    0.5
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive int, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        groups = self.optimizer.param_groups
        t, T, eta = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._group_lrs()
        if self._step_count == 1 and t > 0:
            return [eta + (b - eta) * (1 + math.cos(t * math.pi / T)) / 2 for b in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [g["lr"] + (b - eta) * (1 - math.cos(math.pi / T)) / 2
                    for b, g in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (g["lr"] - eta) + eta for g in groups]

    def _get_closed_form_lr(self):
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch /
                                                                  self.T_max)) / 2
                for b in self.base_lrs]


class ReduceLROnPlateau(LRScheduler):
    """Multiplies the lr by ``factor`` when a metric stops improving.

    ``step(metric)`` after each validation: when the metric has not improved
    (by more than ``threshold``, relative or absolute) for more than
    ``patience`` epochs, every group's lr becomes ``max(lr * factor, min_lr)``
    (unless that changes it by less than ``eps``), then ``cooldown`` epochs
    pass before bad epochs count again.  PyTorch's exact rules.

    Parameters
    ----------
    optimizer : Optimizer
    mode : {'min', 'max'}
        Whether the metric should decrease or increase.
    factor : float
        Reduction factor (< 1).
    patience : int
        Bad epochs tolerated before a reduction.
    threshold : float
        Minimum significant change.
    threshold_mode : {'rel', 'abs'}
    cooldown : int
        Epochs to wait after a reduction.
    min_lr : float or list of float
        Lower bound(s) on the lr.
    eps : float
        Smallest lr change applied.

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = fastnn.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    >>> for metric in [1.0, 1.0, 1.0]:
    ...     s.step(metric)
    >>> s.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        if not float(factor) < 1.0:
            raise ValueError(f"ReduceLROnPlateau: Factor should be < 1.0 (factor={factor!r})")
        _check_optimizer("ReduceLROnPlateau", optimizer)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"ReduceLROnPlateau: patience must be an int >= 0, got {patience!r}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, int) or cooldown < 0:
            raise ValueError(f"ReduceLROnPlateau: cooldown must be an int >= 0, got {cooldown!r}")
        self.factor = factor
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"ReduceLROnPlateau: expected {len(optimizer.param_groups)} "
                                 f"min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._group_lrs()
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        """Records one epoch's metric and reduces the lr if it has plateaued."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(_EPOCH_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._group_lrs()

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError("ReduceLROnPlateau: the number of param groups changed since "
                                   "the scheduler was created; update min_lrs")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for i, group in enumerate(groups):
            old = float(group["lr"])
            new = max(old * self.factor, self.min_lrs[i])
            if old - new > self.eps:
                _set_group_lr(group, new)

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode {mode!r} is unknown (use 'min' or 'max')")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold mode {threshold_mode!r} is unknown "
                             "(use 'rel' or 'abs')")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


def _check_members(name, optimizer, schedulers):
    if len(schedulers) < 1:
        raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
    for i, sch in enumerate(schedulers):
        if not hasattr(sch, "optimizer"):
            raise TypeError(f"{name} at index {i} should have `optimizer` as its attribute.")
        if isinstance(sch, ReduceLROnPlateau):
            raise ValueError(f"{name} does not support `ReduceLROnPlateau` scheduler as it "
                             "requires additional kwargs to be specified when calling `step`, "
                             f"but got one at index {i} in the given schedulers sequence.")
        if sch.optimizer is not optimizer:
            raise ValueError(f"{name} expects all schedulers to belong to the same optimizer, "
                             f"but got scheduler {type(sch).__name__} at index {i} with a "
                             "different optimizer.")


class _Composite(LRScheduler):
    """state_dict / load_state_dict of a scheduler made of schedulers."""

    def state_dict(self):
        sd = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        sd["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return sd

    def load_state_dict(self, state_dict):
        sd = dict(state_dict)
        subs = sd.pop("_schedulers", [])
        self.__dict__.update(sd)
        for s, d in zip(self._schedulers, subs):
            s.load_state_dict(d)


class SequentialLR(_Composite):
    """Runs ``schedulers[i]`` between ``milestones[i-1]`` and ``milestones[i]``;
    at each milestone the next scheduler restarts from epoch 0 (as PyTorch).

    Parameters
    ----------
    optimizer : Optimizer
    schedulers : list of LRScheduler
        All built on ``optimizer``.
    milestones : list of int
        ``len(schedulers) - 1`` increasing epoch indices.
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> S = fastnn.optim.lr_scheduler
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> warm = S.LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> decay = S.ExponentialLR(opt, gamma=0.5)
    >>> s = S.SequentialLR(opt, [warm, decay], milestones=[2])
    >>> lrs = [s.get_last_lr()[0]]
    >>> for _ in range(4):
    ...     opt.step(); s.step(); lrs.append(s.get_last_lr()[0])
    >>> lrs
    [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        _check_optimizer("SequentialLR", optimizer)
        _check_members("SequentialLR", optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError("Sequential Schedulers expects number of schedulers provided to be "
                             "one more than the number of milestone points, but got number of "
                             f"schedulers {len(schedulers)} and the number of milestones to be "
                             f"equal to {len(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            _set_group_lr(group, group["initial_lr"])
        self._undo(self)
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def _undo(self, sched):
        """Rewinds the members' epoch counters by the step each took when built."""
        if hasattr(sched, "_schedulers"):
            for s in sched._schedulers:
                self._undo(s)
        elif hasattr(sched, "last_epoch"):
            sched.last_epoch -= 1

    def step(self):
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        sched = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            sched._update_lr(0)
        else:
            sched.step()
        self._last_lr = sched.get_last_lr()


class ChainedScheduler(_Composite):
    """Steps every scheduler of a list in turn at each ``step()``, so their
    (chainable) effects multiply.

    Parameters
    ----------
    schedulers : sequence of LRScheduler
    optimizer : Optimizer, optional
        Defaults to the first scheduler's.

    Examples
    --------
    >>> import fastnn
    >>> S = fastnn.optim.lr_scheduler
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=2),
    ...                         S.ExponentialLR(opt, gamma=0.5)])
    >>> lrs = [s.get_last_lr()[0]]
    >>> for _ in range(3):
    ...     opt.step(); s.step(); lrs.append(s.get_last_lr()[0])
    >>> lrs
    [0.5, 0.25, 0.25, 0.125]
    """

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler to be chained, "
                             "but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        _check_members("ChainedScheduler", optimizer, schedulers)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = [_lr_copy(g["lr"]) for g in self._schedulers[-1].optimizer.param_groups]

    def step(self):
        for s in self._schedulers:
            s.step()
        self._last_lr = [_lr_copy(g["lr"]) for g in self._schedulers[-1].optimizer.param_groups]


def _set_momentum(group, value, use_beta1):
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _init_momentum(sched, optimizer, base_momentum, max_momentum, last_epoch):
    """Cycled momentum: checks the optimiser has one (momentum or betas[0]),
    stores the bounds per group and starts at ``max_momentum``."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{sched}: optimizer must support momentum or beta1 with "
                         "`cycle_momentum` option enabled")
    use_beta1 = "betas" in optimizer.defaults
    base = _per_group(sched, "base_momentum", optimizer, base_momentum)
    top = _per_group(sched, "max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for m, b, group in zip(top, base, optimizer.param_groups):
            _set_momentum(group, m, use_beta1)
            group["max_momentum"] = m
            group["base_momentum"] = b
    return use_beta1, base, top


class CyclicLR(LRScheduler):
    """Cyclical learning rate (Smith 2017): the lr cycles between
    ``base_lr`` and ``max_lr`` (and the momentum inversely between
    ``max_momentum`` and ``base_momentum``), stepped once per batch.

    Parameters
    ----------
    optimizer : Optimizer
    base_lr, max_lr : float or list of float
        Lower and upper bounds (per group if lists).
    step_size_up : int
        Iterations of the rising half (default 2000).
    step_size_down : int, optional
        Iterations of the falling half (default ``step_size_up``).
    mode : {'triangular', 'triangular2', 'exp_range'}
        Amplitude per cycle: constant, halved each cycle, or ``gamma ** iteration``.
    gamma : float
        For 'exp_range' (default 1.0).
    scale_fn : callable, optional
        Custom amplitude function (overrides ``mode``).
    scale_mode : {'cycle', 'iterations'}
        Argument of ``scale_fn``.
    cycle_momentum : bool
        Cycle ``momentum`` (or Adam's ``betas[0]``) too (default True).
    base_momentum, max_momentum : float or list of float
        Default 0.8 and 0.9.
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=0.1, momentum=0.9)
    >>> s = fastnn.optim.lr_scheduler.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2)
    >>> lrs = [s.get_last_lr()[0]]
    >>> for _ in range(4):
    ...     opt.step(); s.step(); lrs.append(round(s.get_last_lr()[0], 6))
    >>> lrs
    [0.1, 0.3, 0.5, 0.3, 0.1]
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        _check_optimizer("CyclicLR", optimizer)
        self.optimizer = optimizer
        base_lrs = _per_group("CyclicLR", "base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                _set_group_lr(group, lr)
        self.max_lrs = _per_group("CyclicLR", "max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        if not (up > 0 and down >= 0):
            raise ValueError(f"CyclicLR: step sizes must be positive, got step_size_up="
                             f"{step_size_up!r}, step_size_down={step_size_down!r}")
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"CyclicLR: mode {mode!r} is invalid and scale_fn is None")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got "
                             f"{scale_mode!r}")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = _init_momentum(
                "CyclicLR", optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x):
        """The amplitude factor at x (cycle number or iteration)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        t = self.last_epoch
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        if x <= self.step_ratio:
            f = x / self.step_ratio
        else:
            f = (x - 1) / (self.step_ratio - 1)
        amp = self.scale_fn(cycle if self.scale_mode == "cycle" else t)
        lrs = [b + (m - b) * f * amp for b, m in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, b, m in zip(self.optimizer.param_groups, self.base_momentums,
                                   self.max_momentums):
                _set_momentum(group, m - (m - b) * f * amp, self.use_beta1)
        return lrs

    def state_dict(self):
        sd = super().state_dict()
        fn = sd.pop("_scale_fn_custom", None)
        sd["_scale_fn_custom"] = (None if fn is None or isinstance(fn, types.FunctionType)
                                  else dict(fn.__dict__))
        return sd

    def load_state_dict(self, state_dict):
        sd = dict(state_dict)
        fn = sd.pop("_scale_fn_custom", None)
        custom = self._scale_fn_custom
        super().load_state_dict(sd)
        self._scale_fn_custom = custom
        if fn is not None and custom is not None:
            custom.__dict__.update(fn)
        self._init_scale_fn()


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts (SGDR): the lr follows a cosine
    from the initial lr down to ``eta_min`` over ``T_i`` epochs, then
    restarts, with ``T_i`` multiplied by ``T_mult`` after each restart.
    ``step(epoch)`` accepts fractional epochs (per-batch stepping).

    Parameters
    ----------
    optimizer : Optimizer
    T_0 : int
        Epochs to the first restart (>= 1).
    T_mult : int
        Growth factor of the period (>= 1, default 1).
    eta_min : float
        Minimum lr (default 0).
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    >>> s = fastnn.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2)
    >>> lrs = [s.get_last_lr()[0]]
    >>> for _ in range(3):
    ...     opt.step(); s.step(); lrs.append(round(s.get_last_lr()[0], 6))
    >>> lrs
    [1.0, 0.5, 1.0, 0.5]
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: Expected positive integer T_0, but "
                             f"got {T_0!r}")
        if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: Expected integer T_mult >= 1, but "
                             f"got {T_mult!r}")
        if isinstance(eta_min, bool) or not isinstance(eta_min, (float, int)):
            raise ValueError(f"CosineAnnealingWarmRestarts: Expected float or int eta_min, but "
                             f"got {eta_min!r} of type {type(eta_min).__name__}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        c = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]

    def step(self, epoch=None):
        """Advances one epoch, or jumps to ``epoch`` (may be fractional)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: Expected non-negative epoch, "
                                 f"but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        self._get_lr_called_within_step = True
        try:
            values = self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            _set_group_lr(group, lr)
        self._last_lr = self._group_lrs()


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin 2018): the lr rises from
    ``max_lr / div_factor`` to ``max_lr`` over ``pct_start`` of the steps,
    then anneals to ``initial_lr / final_div_factor`` (a third phase first
    returns to the initial lr when ``three_phase``); momentum (or Adam's
    ``betas[0]``) moves inversely.  Stepped once per batch.

    Parameters
    ----------
    optimizer : Optimizer
    max_lr : float or list of float
    total_steps : int, optional
        Or give ``epochs`` and ``steps_per_epoch``.
    epochs, steps_per_epoch : int, optional
    pct_start : float
        Fraction of the steps spent rising (default 0.3).
    anneal_strategy : {'cos', 'linear'}
    cycle_momentum : bool
        Default True.
    base_momentum, max_momentum : float or list of float
        Default 0.85 and 0.95.
    div_factor : float
        ``initial_lr = max_lr / div_factor`` (default 25).
    final_div_factor : float
        ``min_lr = initial_lr / final_div_factor`` (default 1e4).
    three_phase : bool
    last_epoch : int

    Examples
    --------
    >>> import fastnn
    >>> opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=0.1, momentum=0.9)
    >>> s = fastnn.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    >>> [round(lr, 6) for lr in s.get_last_lr()]
    [0.04]
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        _check_optimizer("OneCycleLR", optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            _check_int("OneCycleLR", "total_steps", total_steps, 1)
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            _check_int("OneCycleLR", "epochs", epochs, 1)
            _check_int("OneCycleLR", "steps_per_epoch", steps_per_epoch, 1)
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: You must define either total_steps OR (epochs AND "
                             "steps_per_epoch)")
        if isinstance(pct_start, bool) or not isinstance(pct_start, float) or \
                not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: Expected float between 0 and 1 pct_start, but got "
                             f"{pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', "
                             f"instead got {anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        n = self.total_steps
        up = float(pct_start * n) - 1
        if three_phase:
            self._schedule_phases = [
                dict(end_step=up, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * n) - 2, start_lr="max_lr",
                     end_lr="initial_lr", start_momentum="base_momentum",
                     end_momentum="max_momentum"),
                dict(end_step=n - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum")]
        else:
            self._schedule_phases = [
                dict(end_step=up, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=n - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum")]
        max_lrs = _per_group("OneCycleLR", "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for m, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = m / div_factor
                group["max_lr"] = m
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, _, _ = _init_momentum("OneCycleLR", optimizer, base_momentum,
                                                  max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: Tried to step {t} times. The specified number of "
                             f"total steps is {self.total_steps}")
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, ph in enumerate(self._schedule_phases):
                end = ph["end_step"]
                if t <= end or i == last:
                    pct = (t - start) / (end - start)
                    lr = self._anneal(group[ph["start_lr"]], group[ph["end_lr"]], pct)
                    if self.cycle_momentum:
                        mom = self._anneal(group[ph["start_momentum"]],
                                           group[ph["end_momentum"]], pct)
                    break
                start = ph["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                _set_momentum(group, mom, self.use_beta1)
        return lrs
