"""``SGD``: stochastic gradient descent with momentum, dampening, Nesterov
momentum and L2 weight decay (torch.optim.SGD's rule)."""
import numpy as np

from .. import _core
from .optimizer import Optimizer, check_hparam, check_lr, check_nonneg

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, exactly torch.optim.SGD's update.

    For each parameter p with gradient g (in place, in the compiled core)::

        g = -g                          if maximize
        g = g + weight_decay * p        if weight_decay != 0
        b = g                           on the first step (momentum != 0)
        b = momentum * b + (1 - dampening) * g   afterwards
        g = g + momentum * b  if nesterov  else  g = b
        p = p - lr * g

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float
        Learning rate (>= 0).
    momentum : float
        Momentum factor (>= 0; 0 disables the buffer).
    dampening : float
        Dampening of the momentum.
    weight_decay : float
        L2 penalty coefficient (>= 0).
    nesterov : bool
        Nesterov momentum (needs momentum > 0 and dampening == 0).
    maximize : bool, keyword-only
        Ascend instead of descend.
    foreach, differentiable, fused : keyword-only
        Accepted for PyTorch compatibility (no effect: one compiled call per group).

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    >>> opt = fastnn.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> w.detach().numpy().round(4)
    array([ 0.46, -0.92], dtype=float32)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        self._init_checked(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                        weight_decay=weight_decay, nesterov=bool(nesterov)),
                           dict(maximize=maximize, foreach=foreach, differentiable=differentiable,
                                fused=fused))

    def _validate_group(self, g):
        check_lr("SGD", g["lr"])
        check_nonneg("SGD", "momentum", g["momentum"])
        check_nonneg("SGD", "weight_decay", g["weight_decay"])
        if g["nesterov"]:
            check_hparam(float(g["momentum"]) > 0 and float(g["dampening"]) == 0, "SGD",
                         "Nesterov momentum requires a momentum and zero dampening "
                         f"(nesterov=True with momentum={g['momentum']}, "
                         f"dampening={g['dampening']})")

    def _update_rounds(self, group, params, datas, grads, n_threads):
        # A parameter listed twice: torch reads every listing's momentum buffer
        # as the step begins, so one without a buffer starts from its gradient
        # at each listing (and keeps the last listing's buffer).
        fresh = {id(p) for p in params if self.state[p].get("momentum_buffer") is None}
        for ps, ds, gs in self._rounds(params, datas, grads):
            for p in ps:
                if id(p) in fresh:
                    self.state[p].pop("momentum_buffer", None)
            self._update(group, ps, ds, gs, n_threads)

    def _update(self, group, params, datas, grads, n_threads):
        momentum = float(group["momentum"])
        kw = dict(lr=float(group["lr"]), momentum=momentum,
                  dampening=float(group["dampening"]),
                  weight_decay=float(group["weight_decay"]),
                  nesterov=bool(group["nesterov"]), maximize=bool(group.get("maximize", False)),
                  n_threads=n_threads)
        if momentum == 0:
            _core.sgd_step(datas, grads, None, **kw)
            return
        state = self.state
        sts = [state[p] for p in params]
        try:                    # the common case: every buffer exists, one call
            bufs = [st["momentum_buffer"]._array for st in sts]
        except (KeyError, AttributeError):
            bufs = None
        if bufs is not None:
            _core.sgd_step(datas, grads, bufs, init_buf=False, **kw)
            return
        # Tensors whose buffer is new take torch's first step (buffer = gradient).
        split = {True: ([], [], []), False: ([], [], [])}
        for p, st, d, g in zip(params, sts, datas, grads):
            buf = st.get("momentum_buffer")
            new = buf is None
            if new:                     # (state holds a Tensor on the kernel's buffer)
                buf = np.empty_like(d)
                st["momentum_buffer"] = _core.wrap(buf)
            else:
                buf = self._buffer(p, "momentum_buffer")
            lists = split[new]
            lists[0].append(d)
            lists[1].append(g)
            lists[2].append(buf)
        for new, (ds, gs, bs) in split.items():
            if ds:
                _core.sgd_step(ds, gs, bs, init_buf=new, **kw)
