"""``RMSprop``: gradients scaled by a running RMS of their history
(torch.optim.RMSprop's rule)."""
from .. import _core
from .optimizer import Optimizer, check_lr, check_nonneg

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, exactly torch.optim.RMSprop's update.

    For each parameter p with gradient g::

        g = g + weight_decay * p                  if weight_decay != 0
        v = alpha * v + (1 - alpha) * g * g
        centered: a = a + (1 - alpha) * (g - a);  d = sqrt(v - a * a) + eps
        else:     d = sqrt(v) + eps
        momentum > 0: b = momentum * b + g / d;  p = p - lr * b
        else:         p = p - lr * g / d

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float
        Learning rate (default 0.01).
    alpha : float
        Smoothing constant of the squared-gradient average (default 0.99).
    eps : float
        Added to the denominator (default 1e-8).
    weight_decay : float
        L2 penalty coefficient.
    momentum : float
        Momentum factor (default 0).
    centered : bool
        Normalise by the variance of the gradient instead of its second moment.
    capturable, foreach, differentiable
        Accepted for PyTorch compatibility (no effect).
    maximize : bool

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    >>> opt = fastnn.optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.detach().numpy().round(3)
    array([ 0.9, -1.9], dtype=float32)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        self._init_checked(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                        momentum=momentum, centered=bool(centered)),
                           dict(capturable=capturable, foreach=foreach, maximize=maximize,
                                differentiable=differentiable))

    def _validate_group(self, g):
        check_lr("RMSprop", g["lr"])
        check_nonneg("RMSprop", "eps", g["eps"], "epsilon")
        check_nonneg("RMSprop", "momentum", g["momentum"])
        check_nonneg("RMSprop", "weight_decay", g["weight_decay"])
        check_nonneg("RMSprop", "alpha", g["alpha"])

    def _update(self, group, params, datas, grads, n_threads):
        momentum, centered = float(group["momentum"]), bool(group["centered"])
        sq, bufs, avgs = [], [], []
        for p in params:
            st = self.state[p]
            if "square_avg" not in st:
                st["step"] = 0.0
                st["square_avg"] = self._buffer(p, "square_avg")
                if momentum > 0:
                    self._buffer(p, "momentum_buffer")
                if centered:
                    self._buffer(p, "grad_avg")
            st["step"] = float(st["step"]) + 1.0
            sq.append(st["square_avg"])
            if momentum > 0:
                bufs.append(self._buffer(p, "momentum_buffer"))
            if centered:
                avgs.append(self._buffer(p, "grad_avg"))
        _core.rmsprop_step(datas, grads, sq, bufs if momentum > 0 else None,
                           avgs if centered else None, float(group["lr"]),
                           alpha=float(group["alpha"]), eps=float(group["eps"]),
                           weight_decay=float(group["weight_decay"]), momentum=momentum,
                           centered=centered, maximize=bool(group.get("maximize", False)),
                           n_threads=n_threads)
