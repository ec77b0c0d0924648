"""``NAdam`` (torch.optim.NAdam's rule): Adam with Nesterov momentum."""
import numpy as np

from .. import _core
from .._tensor import Tensor
from .optimizer import (Optimizer, adam_kw, as_scalar, betas_tuple, check_adam_family,
                        check_nonneg, scalar)

__all__ = ["NAdam"]


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

    ``mu_product`` is kept in a 0-d tensor of torch's scalar dtype (float32,
    float64 under a float64 default dtype), so the step sizes are torch's to the last bit.

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

    def _state_arrays(self, p, st):
        """(step, mu_product, exp_avg, exp_avg_sq) as arrays, the state
        created in torch's order if new (0-d scalar-dtype Tensors for the scalars)."""
        if "step" not in st:
            st["step"], st["mu_product"] = scalar(0.0), scalar(1.0)
        s = self._step_tensor(st)._array
        mp = st.get("mu_product")
        if not isinstance(mp, Tensor):
            mp = st["mu_product"] = scalar(1.0) if mp is None else as_scalar(mp)
        return s, mp._array, self._buffer(p, "exp_avg"), self._buffer(p, "exp_avg_sq")

    def _update(self, group, params, datas, grads, n_threads):
        kw = adam_kw(group)
        lr, beta1, beta2 = kw["lr"], kw["beta1"], kw["beta2"]
        psi = float(group["momentum_decay"])
        buckets = {}
        state = self.state
        for p, d, g in zip(params, datas, grads):
            st = state[p]
            try:
                s, mp = st["step"]._array, st["mu_product"]._array
                m, v = st["exp_avg"]._array, st["exp_avg_sq"]._array
            except (KeyError, AttributeError):      # the first step, or state set by hand
                s, mp, m, v = self._state_arrays(p, st)
            step = float(s) + 1.0
            s[()] = step
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            t = mp.dtype.type
            mp[()] = t(float(mp)) * t(mu)     # (a product in mu_product's dtype, as torch's)
            b = buckets.setdefault((step, float(mp)), ([], [], [], []))
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
