"""``ASGD`` (torch.optim.ASGD's rule): SGD with a decaying rate and an
averaged copy of the parameters (``ax``) after ``t0`` steps.  A NumPy update."""
from .._tensor import Tensor
from .optimizer import (Optimizer, as_scalar, bump_scalar, check_lr, check_nonneg,
                        compat_flags, scalar)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged SGD, torch.optim.ASGD's update.

    For each parameter p with gradient g, at step t (state ``eta`` = lr,
    ``mu`` = 1, ``ax`` = zeros)::

        g = -g                                      if maximize
        g = g + weight_decay * p                    if weight_decay != 0
        p = p * (1 - lambd * eta) - eta * g
        ax = ax + mu * (p - ax)                     (ax = p while mu == 1)
        eta = lr / (1 + lambd * lr * t) ** alpha
        mu = 1 / max(1, t - t0)

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float (default 1e-2)
    lambd : float
        Decay term (default 1e-4).
    alpha : float
        Power of the eta update (default 0.75).
    t0 : float
        Step at which the averaging starts (default 1e6).
    weight_decay : float
    foreach, maximize, differentiable, capturable
        As torch.optim.ASGD (only ``maximize`` has an effect).

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    >>> opt = fastnn.optim.ASGD([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.detach().numpy().round(4)
    array([ 0.8, -1.6], dtype=float32)
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        **compat_flags(foreach, maximize, capturable, differentiable,
                                       keys=("foreach", "maximize", "differentiable",
                                             "capturable")))
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, g):
        check_lr("ASGD", g["lr"])
        check_nonneg("ASGD", "weight_decay", g["weight_decay"])

    def _update(self, group, params, datas, grads, n_threads):
        lr, lambd, alpha = float(group["lr"]), float(group["lambd"]), float(group["alpha"])
        t0, wd = float(group["t0"]), float(group["weight_decay"])
        for p, d, g in zip(params, datas, grads):
            st = self.state[p]
            if "step" not in st:        # (0-d float32 tensors, as torch's)
                st["step"], st["eta"], st["mu"] = scalar(0.0), scalar(lr), scalar(1.0)
                self._buffer(p, "ax")
            t = bump_scalar(self._step_tensor(st))
            g = -g if group.get("maximize") else g
            if wd != 0:
                g = g + wd * d
            for k in ("eta", "mu"):
                if not isinstance(st[k], Tensor):      # (a number put there by hand)
                    st[k] = as_scalar(st[k])
            eta_t, mu_t = st["eta"], st["mu"]
            eta, mu = float(eta_t._array), float(mu_t._array)
            d *= 1 - lambd * eta
            d -= (eta * g).astype(d.dtype, copy=False)
            ax = self._buffer(p, "ax")
            if mu != 1:
                ax += (d - ax) * mu
            else:
                ax[...] = d
            eta_t._array[()] = lr / ((1 + lambd * lr * t) ** alpha)
            mu_t._array[()] = 1 / max(1.0, t - t0)
