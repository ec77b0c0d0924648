"""``Rprop`` (torch.optim.Rprop's rule): per-element step sizes grown or
shrunk by the sign agreement of successive gradients.  A NumPy update."""
import numpy as np

from .optimizer import Optimizer, bump_scalar, check_hparam, check_lr, compat_flags, scalar

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Resilient backpropagation, torch.optim.Rprop's update.

    For each parameter p with gradient g (state ``prev``, zeros, and
    ``step_size``, filled with lr)::

        g = -g                                      if maximize
        s = sign(g * prev): etaplus (> 0), etaminus (< 0), 1 (0)
        step_size = clamp(step_size * s, *step_sizes)
        g = 0 where s == etaminus
        p = p - sign(g) * step_size;  prev = g

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float
        Initial step size (default 1e-2).
    etas : (float, float)
        (etaminus, etaplus), 0 < etaminus < 1 < etaplus (default (0.5, 1.2)).
    step_sizes : (float, float)
        (min, max) step size (default (1e-6, 50)).
    capturable, foreach, differentiable
        Accepted for PyTorch compatibility (no effect).
    maximize : bool

    Examples
    --------
    >>> import fastnn
    >>> w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    >>> opt = fastnn.optim.Rprop([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w.detach().numpy().round(4)
    array([ 0.9, -1.9], dtype=float32)
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                        **compat_flags(foreach, maximize, capturable, differentiable,
                                       keys=("foreach", "maximize", "differentiable",
                                             "capturable")))
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, g):
        check_lr("Rprop", g["lr"])
        em, ep = g["etas"]
        check_hparam(0.0 < em < 1.0 < ep, "Rprop", f"Invalid eta values: {em}, {ep}")

    def _update(self, group, params, datas, grads, n_threads):
        em, ep = (float(e) for e in group["etas"])
        lo, hi = (float(s) for s in group["step_sizes"])
        for p, d, g in zip(params, datas, grads):
            st = self.state[p]
            if "step" not in st:
                st["step"] = scalar(0.0)
                self._buffer(p, "prev")
                self._buffer(p, "step_size", float(group["lr"]))
            bump_scalar(self._step_tensor(st))
            g = -g if group.get("maximize") else g
            prev, size = self._buffer(p, "prev"), self._buffer(p, "step_size")
            s = np.sign(g * prev)
            s = np.where(s > 0, ep, np.where(s < 0, em, 1.0)).astype(d.dtype)
            np.clip(size * s, lo, hi, out=size)
            g = np.where(s == em, 0, g).astype(d.dtype)
            d -= np.sign(g) * size
            prev[...] = g
