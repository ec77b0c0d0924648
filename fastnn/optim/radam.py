"""``RAdam`` (torch.optim.RAdam's rule): Adam with a rectified adaptive lr."""
from .. import _core
from .optimizer import Optimizer, adam_kw, betas_tuple, check_adam_family

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""Rectified Adam, exactly torch.optim.RAdam's update.

    For each parameter p with gradient g, at step t (1, 2, ...)::

        p = p * (1 - lr * weight_decay)      if decoupled_weight_decay (and wd != 0)
        g = g + weight_decay * p             else, if weight_decay != 0
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        if rho_t > 5:
            r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            p = p - lr * m / (1 - beta1**t) * sqrt(1 - beta2**t) / (sqrt(v) + eps) * r
        else:
            p = p - lr * m / (1 - beta1**t)

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float
        Learning rate (default 1e-3).
    betas : (float, float)
    eps : float
    weight_decay : float
    decoupled_weight_decay : bool
        AdamW-style decay of the weights instead of an L2 term.
    foreach, capturable, differentiable : keyword-only
        Accepted for PyTorch compatibility (no effect).
    maximize : bool, keyword-only

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    >>> opt = fastnn.optim.RAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.detach().numpy().round(4)
    array([ 0.8, -1.6], dtype=float32)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        self._init_checked(params, dict(lr=lr, betas=betas_tuple(betas), eps=eps,
                                        weight_decay=weight_decay),
                           dict(maximize=maximize, foreach=foreach, capturable=capturable),
                           decoupled_weight_decay=bool(decoupled_weight_decay),
                           differentiable=bool(differentiable))

    def _validate_group(self, g):
        check_adam_family("RAdam", g)

    def _update(self, group, params, datas, grads, n_threads):
        buckets = self._stepped_buckets(params, datas, grads, ("exp_avg", "exp_avg_sq"))
        kw = adam_kw(group)
        for step, (ds, gs, ms, vs) in buckets.items():
            _core.radam_step(ds, gs, ms, vs, step,
                             decoupled=bool(group.get("decoupled_weight_decay", False)),
                             n_threads=n_threads, **kw)
