"""Learning-rate schedules (``fastnn.optim.lr_scheduler``), torch's semantics.

A scheduler wraps an optimiser and rewrites each parameter group's ``'lr'``
when its ``step()`` is called (once per epoch, after ``optimizer.step()``).
Construction performs the initial step (``last_epoch`` becomes 0 and the
groups keep their lr); ``get_last_lr()`` returns the lrs last set.  The
chainable schedules (StepLR, ExponentialLR, InverseTimeLR,
CosineAnnealingLR) update the current lr recursively exactly as PyTorch
does, so the sequence of lrs is PyTorch's to the last bit; ``step(epoch)``
uses the closed form.  ``state_dict()`` is every attribute but the
optimiser (plain numbers and lists), as in PyTorch.
"""
import math
import warnings

from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "InverseTimeLR", "CosineAnnealingLR",
           "ReduceLROnPlateau"]


def _check_optimizer(sched, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{sched}: {type(optimizer).__name__} is not an Optimizer")


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

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming a scheduler with last_epoch >= 0")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
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
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            warnings.warn("passing epoch to scheduler.step() is deprecated; call step() once "
                          "per epoch", UserWarning, stacklevel=2)
            self.last_epoch = epoch
            values = (self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr")
                      else self.get_lr())
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _group_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """Every attribute but the optimiser."""
        return {k: (list(v) if isinstance(v, list) else v)
                for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restores the attributes saved by ``state_dict``."""
        self.__dict__.update({k: (list(v) if isinstance(v, (list, tuple)) else v)
                              for k, v in state_dict.items()})


_LRScheduler = LRScheduler  # the old PyTorch name


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
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
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
        if self._is_initial:
            return self._group_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]


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
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"ReduceLROnPlateau: patience must be an int >= 0, got {patience!r}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, int) or cooldown < 0:
            raise ValueError(f"ReduceLROnPlateau: cooldown must be an int >= 0, got {cooldown!r}")
        _check_optimizer("ReduceLROnPlateau", optimizer)
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
        current = float(getattr(metrics, "data", metrics))
        if epoch is None:
            epoch = self.last_epoch + 1
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
                group["lr"] = new

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
