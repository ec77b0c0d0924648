"""``Adadelta`` (torch.optim.Adadelta's rule)."""
from .. import _core
from .optimizer import Optimizer, check_hparam, check_lr, check_nonneg

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta, exactly torch.optim.Adadelta's update.

    For each parameter p with gradient g (in place, in the compiled core)::

        g = -g                                      if maximize
        g = g + weight_decay * p                    if weight_decay != 0
        v = rho * v + (1 - rho) * g * g             (square_avg)
        d = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d             (acc_delta)
        p = p - lr * d

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float
        Scale of the step (default 1.0).
    rho : float
        Decay of the running averages, in [0, 1] (default 0.9).
    eps : float
        Added inside the square roots (default 1e-6).
    weight_decay : float
        L2 penalty coefficient.
    foreach, capturable, differentiable
        Accepted for PyTorch compatibility (no effect).
    maximize : bool, keyword-only

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    >>> opt = fastnn.optim.Adadelta([w])
    >>> (w * w).sum().backward(); opt.step()
    >>> w.detach().numpy().round(4)
    array([ 0.9968, -1.9968], dtype=float32)
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        self._init_checked(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay),
                           dict(maximize=maximize, capturable=capturable, foreach=foreach,
                                differentiable=differentiable))

    def _validate_group(self, g):
        check_lr("Adadelta", g["lr"])
        try:
            rho = float(g["rho"])
        except (TypeError, ValueError):
            rho = float("nan")
        check_hparam(0.0 <= rho <= 1.0, "Adadelta", f"Invalid rho value: {g['rho']!r} "
                                                    "(rho must be in [0, 1])")
        check_nonneg("Adadelta", "eps", g["eps"], "epsilon")
        check_nonneg("Adadelta", "weight_decay", g["weight_decay"])

    def _update(self, group, params, datas, grads, n_threads):
        buckets = self._stepped_buckets(params, datas, grads, ("square_avg", "acc_delta"))
        for ds, gs, vs, us in buckets.values():
            _core.adadelta_step(ds, gs, vs, us, lr=float(group["lr"]), rho=float(group["rho"]),
                                eps=float(group["eps"]),
                                weight_decay=float(group["weight_decay"]),
                                maximize=bool(group.get("maximize", False)),
                                n_threads=n_threads)
