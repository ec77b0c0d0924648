"""``Adafactor`` (torch.optim.Adafactor's rule, PyTorch 2.5+): Adam-like
steps with a second moment stored factored (a row and a column average)
for parameters of two or more dims, so its memory is O(rows + cols), and
relative step sizes.  A NumPy update (one parameter at a time, in place):
the factored moments and the per-parameter norms it needs have no compiled
kernel yet, and the update is memory-bound NumPy arithmetic over each
parameter a few times."""
import numpy as np

from .optimizer import (Optimizer, _load_value, _wrap, bump_scalar, check_hparam,
                        compat_flags, scalar)

__all__ = ["Adafactor"]


def _lerp_(a, b, w):
    """a <- lerp(a, b, w) in place, with PyTorch's two-sided formula."""
    if abs(w) < 0.5:
        a += w * (b - a)
    else:
        a[...] = b - (b - a) * (1 - w)


def _norm(a):
    return float(np.sqrt(np.sum(a * a, dtype=np.float64)))


class Adafactor(Optimizer):
    r"""Adafactor, torch.optim.Adafactor's update.

    For each parameter p (n elements) with gradient g, at step t (1, 2, ...)::

        g = -g                                          if maximize
        beta2 = t ** beta2_decay                        (1 - beta2 in the paper's terms)
        rho = min(lr, 1 / sqrt(t))
        alpha = max(eps2, ||p|| / sqrt(n)) * rho        (before the decay)
        p = p * (1 - lr * weight_decay)                 if weight_decay != 0
        p of 2+ dims: factored over its last two dims
            R = lerp(R, mean(g*g, dim=-1), beta2)       (row_var)
            C = lerp(C, mean(g*g, dim=-2), beta2)       (col_var)
            v = R @ C / max(mean(R, dim=-2), eps1)
        p of 0 or 1 dims:
            v = V = lerp(V, g*g, beta2)                 (variance)
        u = g / sqrt(max(v, eps1 ** 2))
        p = p - alpha / max(1, ||u|| / (sqrt(n) * d)) * u

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float
        Upper bound of the relative step size (default 1e-2).
    beta2_decay : float
        Exponent of the second-moment averaging weight t ** beta2_decay
        (default -0.8; must be <= 0).
    eps : (float or None, float)
        ``eps1`` bounds the second moment from below (None: the machine
        epsilon of the parameter's dtype); ``eps2`` bounds the parameter scale
        (default ``(None, 1e-3)``).
    d : float
        Clipping threshold of the update's RMS (default 1.0; >= 1).
    weight_decay : float
        Decoupled weight decay (default 0).
    foreach : keyword-only, accepted for PyTorch compatibility
    maximize : bool, keyword-only

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([[1.0, -2.0], [0.5, 3.0]]))
    >>> opt = fastnn.optim.Adafactor([w])
    >>> (w * w).sum().backward(); opt.step()
    >>> sorted(opt.state[w])
    ['col_var', 'row_var', 'step']
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        eps = tuple(eps) if isinstance(eps, list) else eps
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                        weight_decay=weight_decay,
                        **compat_flags(foreach, maximize, keys=("foreach", "maximize")))
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, g):
        def num(v):
            try:
                return float(v)
            except (TypeError, ValueError):
                return float("nan")
        check_hparam(num(g["lr"]) >= 0.0, "Adafactor",
                     f"Learning rate should be >= 0 but is: {g['lr']}")
        check_hparam(num(g["beta2_decay"]) <= 0.0, "Adafactor",
                     f"beta2_decay should be <= 0 but is: {g['beta2_decay']}")
        eps = g["eps"]
        check_hparam(isinstance(eps, (tuple, list)) and len(eps) == 2, "Adafactor",
                     f"eps must be a pair (eps1 or None, eps2), got {eps!r}")
        check_hparam(eps[0] is None or num(eps[0]) >= 0.0, "Adafactor",
                     f"epsilon1 should be >= 0 but is: {eps[0]}")
        check_hparam(num(eps[1]) >= 0.0, "Adafactor", f"epsilon2 should be >= 0 but is: "
                                                      f"{eps[1]}")
        check_hparam(num(g["d"]) >= 1.0, "Adafactor",
                     f"Clipping threshold d should be >= 1 but is: {g['d']}")
        check_hparam(num(g["weight_decay"]) >= 0.0, "Adafactor",
                     f"weight_decay should be >= 0 but is: {g['weight_decay']}")

    def _init_state(self, st, g):
        st["step"] = scalar(0.0)
        if g.ndim > 1:
            st["row_var"] = _wrap(np.zeros(g.shape[:-1] + (1,), g.dtype))
            st["col_var"] = _wrap(np.zeros(g.shape[:-2] + (1,) + g.shape[-1:], g.dtype))
        else:
            st["variance"] = _wrap(np.zeros_like(g))

    @staticmethod
    def _arr(st, key):
        """The array of a state Tensor (an array put there by hand becomes one)."""
        v = st[key]
        if not hasattr(v, "_array"):
            v = st[key] = _wrap(np.ascontiguousarray(v))
        return v._array

    def _update(self, group, params, datas, grads, n_threads):
        lr, d = float(group["lr"]), float(group["d"])
        beta2_decay, wd = float(group["beta2_decay"]), float(group["weight_decay"])
        eps1, eps2 = group["eps"]
        for p, x, g in zip(params, datas, grads):
            if group.get("maximize"):
                g = -g
            st = self.state[p]
            if not st:
                self._init_state(st, g)
            if eps1 is None:         # (as PyTorch: the first parameter's dtype sets it)
                eps1 = float(np.finfo(x.dtype).eps)
            t = bump_scalar(self._step_tensor(st))
            beta2 = t ** beta2_decay
            rho = min(lr, 1 / t ** 0.5)
            alpha = max(eps2, _norm(x) / x.size ** 0.5) * rho
            if wd != 0:
                x *= 1 - lr * wd
            if g.ndim > 1:
                row, col = self._arr(st, "row_var"), self._arr(st, "col_var")
                gg = g * g
                _lerp_(row, np.square(np.sqrt(gg.sum(-1, keepdims=True))) / g.shape[-1], beta2)
                _lerp_(col, np.square(np.sqrt(gg.sum(-2, keepdims=True))) / g.shape[-2], beta2)
                var = np.matmul(row, col)
                var /= np.maximum(row.mean(-2, keepdims=True), eps1)
            else:
                variance = self._arr(st, "variance")
                _lerp_(variance, g * g, beta2)
                var = variance.copy()
            upd = 1 / np.sqrt(np.maximum(var, eps1 * eps1))
            upd *= g
            denom = max(1.0, _norm(upd) / (upd.size ** 0.5 * d))
            x += (-alpha / denom) * upd

    def _load_state_value(self, key, value, p):
        if key in ("row_var", "col_var"):   # (the factors' own shapes, p's dtype)
            v = value._array if hasattr(value, "_array") else value
            v = v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)
            return _wrap(np.array(v, dtype=p._array.dtype, copy=True, order="C"))
        return _load_value(key, value, p, "Adafactor")
