"""``fastnn.optim.swa_utils``: weight averaging as PyTorch's -- stochastic
weight averaging (SWA) and exponential moving averages (EMA) of a model's
parameters (``AveragedModel``), the SWA learning-rate schedule (``SWALR``)
and the batch-norm statistics pass for an averaged model (``update_bn``).

Examples
--------
>>> import fastnn
>>> from fastnn.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
>>> net = fastnn.nn.Linear(2, 1)
>>> ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.9))
>>> with fastnn.no_grad():
...     _ = net.weight.fill_(1.0)
>>> ema.update_parameters(net); ema.update_parameters(net)
>>> int(ema.n_averaged)
2
"""
import copy
import itertools
import math

import numpy as np

from .. import int64, no_grad, tensor
from .._tensor import Tensor
from ..nn.modules.module import Module
from ..nn.modules.normalization import _BatchNorm
from .lr_scheduler import LRScheduler, _warn_get_lr_outside_step

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def get_ema_multi_avg_fn(decay=0.999):
    """In place over lists of one dtype: ``ema <- lerp(ema, current, 1 - decay)``
    for floating tensors; integer ones (batch norm's ``num_batches_tracked``
    under ``use_buffers=True``) get ``decay * ema + (1 - decay) * current``
    truncated back to their dtype, as PyTorch's."""
    def ema_update(ema_param_list, current_param_list, _num_averaged):
        if not ema_param_list:
            return
        if ema_param_list[0].is_floating_point():
            for e, c in zip(ema_param_list, current_param_list):
                e.lerp_(c, 1 - decay)
        else:
            for e, c in zip(ema_param_list, current_param_list):
                e.copy_(e * decay + c * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """In place over lists of one dtype: the running mean
    ``avg <- lerp(avg, current, 1 / (n + 1))`` (integer tensors:
    ``avg + (current - avg) / (n + 1)`` truncated back to their dtype)."""
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if not averaged_param_list:
            return
        n = float(num_averaged)
        if averaged_param_list[0].is_floating_point():
            for a, c in zip(averaged_param_list, current_param_list):
                a.lerp_(c, 1.0 / (n + 1))
        else:
            for a, c in zip(averaged_param_list, current_param_list):
                a.copy_(a + (c - a) / (n + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """One parameter: ``decay * ema + (1 - decay) * current``."""
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """One parameter: ``averaged + (current - averaged) / (n + 1)``."""
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (float(num_averaged) + 1)
    return swa_update


def _by_dtype(mine, theirs):
    """The pairs (averaged, current) grouped by the averaged tensor's dtype,
    in order of first appearance: [(averaged list, current list), ...]."""
    groups = {}
    for a, c in zip(mine, theirs):
        g = groups.setdefault(a.dtype, ([], []))
        g[0].append(a)
        g[1].append(c)
    return list(groups.values())


class AveragedModel(Module):
    """A copy of ``model`` (``.module``) whose parameters (and, with
    ``use_buffers``, buffers) are the average of the ones passed to
    ``update_parameters``: the running mean by default (SWA), or ``avg_fn``
    (per tensor) / ``multi_avg_fn`` (in place over lists), e.g.
    ``get_ema_multi_avg_fn(decay)``.  The first update copies.  Without
    ``use_buffers`` the buffers follow the model's (batch-norm statistics:
    recompute them with ``update_bn``).  ``device`` is accepted (CPU only).
    ``n_averaged`` counts the updates (an int64 buffer)."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", tensor(0, dtype=int64))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _tensors(self, model):
        if self.use_buffers:
            return [t.detach() for t in itertools.chain(model.parameters(), model.buffers())]
        return [p.detach() for p in model.parameters()]

    def update_parameters(self, model):
        """Folds ``model``'s current parameters into the average."""
        mine, theirs = self._tensors(self.module), self._tensors(model)
        n = int(self.n_averaged)
        with no_grad():
            if n == 0:
                for a, c in zip(mine, theirs):
                    a.copy_(c)
            elif self.multi_avg_fn is not None:
                # one call per dtype, as PyTorch groups the tensors by
                # (device, dtype): a float function never sees an int64 counter
                for a_list, c_list in _by_dtype(mine, theirs):
                    self.multi_avg_fn(a_list, c_list, self.n_averaged)
            else:
                # PyTorch's CPU path: the running mean one tensor at a time
                avg_fn = self.avg_fn if self.avg_fn is not None else get_swa_avg_fn()
                for a, c in zip(mine, theirs):
                    a.copy_(avg_fn(a, c, self.n_averaged))
            if not self.use_buffers:   # the buffers follow the model's
                for a, c in zip(self.module.buffers(), model.buffers()):
                    a.detach().copy_(c.detach())
            self.n_averaged.add_(1)


@no_grad()
def update_bn(loader, model, device=None):
    """Recomputes the running statistics of ``model``'s batch-norm layers by
    one pass over ``loader`` (a batch, or the first item of a tuple/list
    batch, goes to ``model`` as it is -- a dict batch too; an ndarray becomes
    a Tensor), as a cumulative average; the layers' momenta
    and the model's train/eval mode are restored afterwards."""
    momenta = {}
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.reset_running_stats()
            momenta[m] = m.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for m in momenta:
        m.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if isinstance(batch, np.ndarray):
            batch = tensor(batch)
        elif device is not None and isinstance(batch, Tensor):
            batch = batch.to(device)
        model(batch)          # anything else (a dict of tensors, ...) as it is, as PyTorch
    for m, mom in momenta.items():
        m.momentum = mom
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's lr to ``swa_lr`` over ``anneal_epochs`` epochs
    (``'cos'`` or ``'linear'``), then holds it; ``swa_lr`` a float or one per
    group (stored in each group as ``'swa_lr'``)."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        groups = optimizer.param_groups
        lrs = list(swa_lr) if isinstance(swa_lr, (list, tuple)) else [swa_lr] * len(groups)
        if len(lrs) != len(groups):
            raise ValueError(f"swa_lr must have the same length as optimizer.param_groups: "
                             f"swa_lr has {len(lrs)}, optimizer.param_groups has {len(groups)}")
        for lr, group in zip(lrs, groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or \
                anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self._set_anneal_func(anneal_strategy)
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    @property
    def anneal_strategy(self):
        return self._anneal_strategy

    def state_dict(self):
        """PyTorch's keys: every attribute but the optimiser and ``anneal_func``
        (the strategy is kept as ``'_anneal_strategy'``)."""
        return {k: v for k, v in super().state_dict().items() if k != "anneal_func"}

    def load_state_dict(self, state_dict):
        sd = dict(state_dict)
        strategy = sd.pop("anneal_strategy", None)     # older fastnn checkpoints
        sd.pop("anneal_func", None)
        super().load_state_dict(sd)
        self._set_anneal_func(sd.get("_anneal_strategy", strategy or self._anneal_strategy))

    def get_lr(self):
        _warn_get_lr_outside_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        span = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / span)))
        alpha = self.anneal_func(max(0, min(1, step / span)))
        out = []
        for group in self.optimizer.param_groups:
            swa, lr = group["swa_lr"], group["lr"]
            prev = swa if prev_alpha == 1 else (lr - prev_alpha * swa) / (1 - prev_alpha)
            out.append(swa * alpha + prev * (1 - alpha))
        return out
