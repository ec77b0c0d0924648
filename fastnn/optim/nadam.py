"""``NAdam`` (torch.optim.NAdam's rule): Adam with Nesterov momentum."""
import numpy as np

from .. import _core
from .optimizer import Optimizer, adam_kw, betas_tuple, check_adam_family, check_nonneg

__all__ = ["NAdam"]

_F32 = np.float32


class NAdam(Optimizer):
    r"""NAdam, exactly torch.optim.NAdam's update.

    For each parameter p with gradient g, at step t (1, 2, ...)::

        p = p * (1 - lr * weight_decay)      if decoupled_weight_decay (and wd != 0)
        g = g + weight_decay * p             else, if weight_decay != 0
        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        P_t = mu_1 * ... * mu_t              (state 'mu_product')
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
        d = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr (1 - mu_t) / (1 - P_t) * g / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m / d

    ``mu_product`` is kept in float32, as torch keeps it in a float32 scalar
    tensor, so the step sizes are torch's to the last bit.

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float
        Learning rate (default 2e-3).
    betas : (float, float)
    eps : float
    weight_decay : float
    momentum_decay : float
        psi of the momentum schedule (default 4e-3).
    decoupled_weight_decay : bool
        AdamW-style decay of the weights instead of an L2 term.
    foreach, capturable, differentiable : keyword-only
        Accepted for PyTorch compatibility (no effect).
    maximize : bool, keyword-only

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    >>> opt = fastnn.optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.detach().numpy().round(3)
    array([ 0.894, -1.894], dtype=float32)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        self._init_checked(params, dict(lr=lr, betas=betas_tuple(betas), eps=eps,
                                        weight_decay=weight_decay, momentum_decay=momentum_decay,
                                        decoupled_weight_decay=bool(decoupled_weight_decay)),
                           dict(maximize=maximize, foreach=foreach, capturable=capturable,
                                differentiable=differentiable))

    def _validate_group(self, g):
        check_adam_family("NAdam", g)
        check_nonneg("NAdam", "momentum_decay", g["momentum_decay"])

    def _update(self, group, params, datas, grads, n_threads):
        kw = adam_kw(group)
        lr, beta1, beta2 = kw["lr"], kw["beta1"], kw["beta2"]
        psi = float(group["momentum_decay"])
        buckets = {}
        for p, d, g in zip(params, datas, grads):
            st = self.state[p]
            if "step" not in st:
                st["step"] = 0.0
                st["mu_product"] = 1.0
            m, v = self._buffer(p, "exp_avg"), self._buffer(p, "exp_avg_sq")
            step = st["step"] = float(st["step"]) + 1.0
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            st["mu_product"] = float(_F32(st["mu_product"]) * _F32(mu))
            b = buckets.setdefault((step, st["mu_product"]), ([], [], [], []))
            for lst, a in zip(b, (d, g, m, v)):
                lst.append(a)
        for (step, mu_prod), (ds, gs, ms, vs) in buckets.items():
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
            _core.nadam_step(ds, gs, ms, vs, 1 - beta2 ** step,
                             -lr * (1.0 - mu) / (1.0 - mu_prod),
                             (-lr * mu_next) / (1.0 - mu_prod * mu_next),
                             decoupled=bool(group.get("decoupled_weight_decay", False)),
                             n_threads=n_threads, **kw)
