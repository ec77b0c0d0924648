"""``Adam`` and ``AdamW`` (torch.optim.Adam / AdamW's rules)."""
from .. import _core
from .optimizer import Optimizer, check_hparam, check_lr, check_nonneg

__all__ = ["Adam", "AdamW"]


def _check_betas(opt, betas):
    try:
        b1, b2 = (float(b) for b in betas)
    except (TypeError, ValueError):
        raise ValueError(f"{opt}: betas must be a pair of floats, got {betas!r}") from None
    check_hparam(0.0 <= b1 < 1.0, opt, f"Invalid beta parameter at index 0: {b1} "
                                       "(betas[0] must be in [0, 1))")
    check_hparam(0.0 <= b2 < 1.0, opt, f"Invalid beta parameter at index 1: {b2} "
                                       "(betas[1] must be in [0, 1))")


class Adam(Optimizer):
    r"""Adam, exactly torch.optim.Adam's update (AMSGrad not supported).

    For each parameter p with gradient g, at step t (1, 2, ...)::

        p = p * (1 - lr * weight_decay)       AdamW (decoupled), if weight_decay != 0
        g = g + weight_decay * p              Adam (L2), if weight_decay != 0
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
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
    decoupled_weight_decay : bool
        True makes this AdamW.
    maximize : bool, keyword-only

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    >>> opt = fastnn.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.data.round(4)
    array([ 0.9, -1.9], dtype=float32)
    """

    _name = "Adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        if amsgrad:
            raise ValueError(f"{self._name}: amsgrad=True is not supported")
        defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, (list, tuple)) else betas,
                        eps=eps, weight_decay=weight_decay, amsgrad=False,
                        maximize=bool(maximize),
                        decoupled_weight_decay=bool(decoupled_weight_decay))
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, g):
        check_lr(self._name, g["lr"])
        check_nonneg(self._name, "eps", g["eps"], "epsilon")
        _check_betas(self._name, g["betas"])
        check_nonneg(self._name, "weight_decay", g["weight_decay"])

    def _update(self, group, params, datas, grads, n_threads):
        buckets = {}
        for p, d, g in zip(params, datas, grads):
            st = self.state[p]
            if "exp_avg" not in st:
                st["step"] = 0.0
                self._buffer(p, "exp_avg")
                self._buffer(p, "exp_avg_sq")
            st["step"] = float(st["step"]) + 1.0
            b = buckets.setdefault(st["step"], ([], [], [], []))
            b[0].append(d)
            b[1].append(g)
            b[2].append(st["exp_avg"])
            b[3].append(st["exp_avg_sq"])
        beta1, beta2 = (float(b) for b in group["betas"])
        for step, (ds, gs, ms, vs) in buckets.items():
            _core.adam_step(ds, gs, ms, vs, step, lr=float(group["lr"]), beta1=beta1,
                            beta2=beta2, eps=float(group["eps"]),
                            weight_decay=float(group["weight_decay"]),
                            decoupled=bool(group.get("decoupled_weight_decay", False)),
                            maximize=bool(group.get("maximize", False)), n_threads=n_threads)


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
    >>> w.data.round(4)
    array([ 0.85, -1.8 ], dtype=float32)
    """

    _name = "AdamW"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
