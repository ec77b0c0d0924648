"""``Adagrad``: per-coordinate learning rates from the sum of squared
gradients (torch.optim.Adagrad's rule)."""
from .. import _core
from .optimizer import Optimizer, check_lr, check_nonneg, scalar

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, exactly torch.optim.Adagrad's update.

    For each parameter p with gradient g, at step t (1, 2, ...)::

        g = g + weight_decay * p        if weight_decay != 0
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                   (s starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float
        Learning rate (default 0.01).
    lr_decay : float
        Learning-rate decay per step (default 0).
    weight_decay : float
        L2 penalty coefficient.
    initial_accumulator_value : float
        Starting value of the sum of squares.
    eps : float
        Added to the denominator for stability (default 1e-10).
    foreach, differentiable, fused
        Accepted for PyTorch compatibility (no effect).
    maximize : bool, keyword-only

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    >>> opt = fastnn.optim.Adagrad([w], lr=0.5)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.detach().numpy()
    array([ 0.5, -1.5], dtype=float32)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        self._init_checked(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                        initial_accumulator_value=initial_accumulator_value),
                           dict(foreach=foreach, maximize=maximize, differentiable=differentiable,
                                fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        st = self.state[p]
        if "sum" not in st:
            st["step"] = scalar(0.0)
            self._buffer(p, "sum", float(group["initial_accumulator_value"]))

    def _validate_group(self, g):
        check_lr("Adagrad", g["lr"])
        check_nonneg("Adagrad", "lr_decay", g["lr_decay"])
        check_nonneg("Adagrad", "weight_decay", g["weight_decay"])
        check_nonneg("Adagrad", "initial_accumulator_value", g["initial_accumulator_value"])
        check_nonneg("Adagrad", "eps", g["eps"], "epsilon")

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        if hasattr(self, "state"):
            group = self.param_groups[-1]
            for p in group["params"]:
                self._init_state(p, group)

    def _update(self, group, params, datas, grads, n_threads):
        lr, lr_decay = float(group["lr"]), float(group["lr_decay"])
        buckets = {}
        state = self.state
        for p, d, g in zip(params, datas, grads):
            st = state[p]
            try:
                s, acc = st["step"]._array, st["sum"]._array
            except (KeyError, AttributeError):      # new, or state set by hand
                self._init_state(p, group)
                s, acc = self._step_tensor(st)._array, self._buffer(p, "sum")
            t = float(s) + 1.0
            s[()] = t
            b = buckets.setdefault(t, ([], [], []))
            b[0].append(d)
            b[1].append(g)
            b[2].append(acc)
        for step, (ds, gs, ss) in buckets.items():
            clr = lr / (1 + (step - 1) * lr_decay)
            _core.adagrad_step(ds, gs, ss, clr, weight_decay=float(group["weight_decay"]),
                               eps=float(group["eps"]),
                               maximize=bool(group.get("maximize", False)), n_threads=n_threads)
