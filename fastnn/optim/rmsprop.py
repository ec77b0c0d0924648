"""``RMSprop``: gradients scaled by a running RMS of their history
(torch.optim.RMSprop's rule)."""
from .. import _core
from .optimizer import Optimizer, check_lr, check_nonneg, scalar

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
        self._init_checked(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                        centered=bool(centered), weight_decay=weight_decay),
                           dict(capturable=capturable, foreach=foreach, maximize=maximize,
                                differentiable=differentiable))

    def _validate_group(self, g):
        check_lr("RMSprop", g["lr"])
        check_nonneg("RMSprop", "eps", g["eps"], "epsilon")
        check_nonneg("RMSprop", "momentum", g["momentum"])
        check_nonneg("RMSprop", "weight_decay", g["weight_decay"])
        check_nonneg("RMSprop", "alpha", g["alpha"])

    def _state_arrays(self, p, st, momentum, centered):
        """(step, square_avg, momentum_buffer or None, grad_avg or None) as
        arrays, the state created in torch's order if new."""
        if "square_avg" not in st:
            st["step"] = scalar(0.0)
        s = self._step_tensor(st)._array
        v = self._buffer(p, "square_avg")
        m = self._buffer(p, "momentum_buffer") if momentum > 0 else None
        a = self._buffer(p, "grad_avg") if centered else None
        return s, v, m, a

    def _update(self, group, params, datas, grads, n_threads):
        momentum, centered = float(group["momentum"]), bool(group["centered"])
        sq = []
        bufs = [] if momentum > 0 else None
        avgs = [] if centered else None
        state = self.state
        for p in params:
            st = state[p]
            try:
                s, v = st["step"]._array, st["square_avg"]._array
                if bufs is not None:
                    bufs.append(st["momentum_buffer"]._array)
                if avgs is not None:
                    avgs.append(st["grad_avg"]._array)
            except (KeyError, AttributeError):      # a first step, or state set by hand
                s, v, m, a = self._state_arrays(p, st, momentum, centered)
                for lst, x in ((bufs, m), (avgs, a)):
                    if lst is not None:
                        del lst[len(sq):]           # (p's own, if it went in)
                        lst.append(x)
            s[()] = float(s) + 1.0
            sq.append(v)
        _core.rmsprop_step(datas, grads, sq, bufs, avgs, float(group["lr"]),
                           alpha=float(group["alpha"]), eps=float(group["eps"]),
                           weight_decay=float(group["weight_decay"]), momentum=momentum,
                           centered=centered, maximize=bool(group.get("maximize", False)),
                           n_threads=n_threads)
