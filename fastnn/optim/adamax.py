"""``Adamax`` (torch.optim.Adamax's rule): Adam with the infinity norm."""
from .. import _core
from .optimizer import Optimizer, adam_kw, betas_tuple, check_adam_family

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax, exactly torch.optim.Adamax's update.

    For each parameter p with gradient g, at step t (1, 2, ...)::

        g = -g                                      if maximize
        g = g + weight_decay * p                    if weight_decay != 0
        m = beta1 * m + (1 - beta1) * g             (exp_avg)
        u = max(beta2 * u, |g| + eps)               (exp_inf)
        p = p - lr / (1 - beta1**t) * m / u

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float
        Learning rate (default 2e-3).
    betas : (float, float)
        Decay rates, each in [0, 1).
    eps : float
        Added to |g| (default 1e-8).
    weight_decay : float
        L2 penalty coefficient.
    foreach, differentiable, capturable
        Accepted for PyTorch compatibility (no effect).
    maximize : bool, keyword-only

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    >>> opt = fastnn.optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.detach().numpy().round(4)
    array([ 0.9, -1.9], dtype=float32)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        self._init_checked(params, dict(lr=lr, betas=betas_tuple(betas), eps=eps,
                                        weight_decay=weight_decay),
                           dict(foreach=foreach, maximize=maximize, differentiable=differentiable,
                                capturable=capturable))

    def _validate_group(self, g):
        check_adam_family("Adamax", g)

    def _update(self, group, params, datas, grads, n_threads):
        buckets = self._stepped_buckets(params, datas, grads, ("exp_avg", "exp_inf"))
        kw = adam_kw(group)
        for step, (ds, gs, ms, us) in buckets.items():
            _core.adamax_step(ds, gs, ms, us, step, n_threads=n_threads, **kw)
