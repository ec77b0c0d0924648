"""``Adam`` and ``AdamW`` (torch.optim.Adam / AdamW's rules)."""
from .. import _core
from .optimizer import Optimizer, adam_kw, betas_tuple, check_adam_family

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam, exactly torch.optim.Adam's update (AMSGrad included).

    For each parameter p with gradient g, at step t (1, 2, ...)::

        p = p * (1 - lr * weight_decay)       AdamW (decoupled), if weight_decay != 0
        g = g + weight_decay * p              Adam (L2), if weight_decay != 0
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        vmax = max(vmax, v); v = vmax         AMSGrad (amsgrad=True)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float
        Learning rate (default 1e-3).
    betas : (float, float)
        Decay rates of the first and second moment averages, each in [0, 1).
    eps : float
        Added to the denominator (default 1e-8).
    weight_decay : float
        L2 penalty (Adam) or decoupled decay (AdamW).
    amsgrad : bool
        Use the running maximum of the second moment (state ``max_exp_avg_sq``).
    maximize : bool, keyword-only
    decoupled_weight_decay : bool, keyword-only
        True makes this AdamW.
    foreach, capturable, differentiable, fused : keyword-only
        Accepted for PyTorch compatibility (the update is always one compiled
        in-place call per group).

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    >>> opt = fastnn.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.detach().numpy().round(4)
    array([ 0.9, -1.9], dtype=float32)
    """

    _name = "Adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        self._init_checked(params, dict(lr=lr, betas=betas_tuple(betas), eps=eps,
                                        weight_decay=weight_decay, amsgrad=bool(amsgrad)),
                           dict(maximize=maximize, foreach=foreach, capturable=capturable,
                                differentiable=differentiable, fused=fused),
                           decoupled_weight_decay=bool(decoupled_weight_decay))

    def _validate_group(self, g):
        check_adam_family(self._name, g)

    def _update(self, group, params, datas, grads, n_threads):
        ams = bool(group.get("amsgrad", False))
        names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if ams else ("exp_avg", "exp_avg_sq")
        buckets = self._stepped_buckets(params, datas, grads, names)
        kw = adam_kw(group)
        for step, (ds, gs, ms, vs, *xs) in buckets.items():
            _core.adam_step(ds, gs, ms, vs, step,
                            decoupled=bool(group.get("decoupled_weight_decay", False)),
                            n_threads=n_threads, max_exp_avg_sqs=xs[0] if ams else None, **kw)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay (torch.optim.AdamW's update).

    ``p = p * (1 - lr * weight_decay)`` before the Adam step, instead of adding
    ``weight_decay * p`` to the gradient.  Default ``weight_decay=0.01``.

    Parameters
    ----------
    params, lr, betas, eps : as :class:`Adam`
    weight_decay : float
        Decoupled decay coefficient (default 0.01).

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    >>> opt = fastnn.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.detach().numpy().round(4)
    array([ 0.85, -1.8 ], dtype=float32)
    """

    _name = "AdamW"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
