"""``SparseAdam`` (torch.optim.SparseAdam's rule): the lazy Adam of sparse
embedding gradients.  A NumPy update of the touched rows only.

fastnn's gradients are dense (``nn.Embedding(sparse=True)`` gives a dense
gradient), so the rows of a parameter (along its first dimension) whose
gradient is not all zero stand for the indices of PyTorch's sparse
gradient: only they move and only their moments decay.  A row looked up
but with an exactly zero gradient is left as it is (PyTorch would decay
its moments and move it)."""
import math

import numpy as np

from .optimizer import Optimizer, betas_tuple, check_betas, check_hparam, check_lr

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    r"""Lazy Adam, torch.optim.SparseAdam's update.

    For each parameter p, at step t (1, 2, ...), on the rows R whose
    gradient g is non-zero (all other rows, and their moments, unchanged)::

        g = -g                                              if maximize
        m[R] = m[R] + (1 - beta1) * (g[R] - m[R])           (exp_avg)
        v[R] = v[R] + (1 - beta2) * (g[R]**2 - v[R])        (exp_avg_sq)
        p[R] = p[R] - lr * sqrt(1 - beta2**t) / (1 - beta1**t)
                        * m[R] / (sqrt(v[R]) + eps)

    Parameters
    ----------
    params : iterable of Tensor or dict
        Typically the weights of ``nn.Embedding(..., sparse=True)``.
    lr : float (default 1e-3)
    betas : (float, float)
    eps : float (default 1e-8)
    maximize : bool

    Examples
    --------
    >>> import fastnn
    >>> emb = fastnn.nn.Embedding(4, 2, sparse=True)
    >>> opt = fastnn.optim.SparseAdam(list(emb.parameters()), lr=0.1)
    >>> before = emb.weight.detach().numpy().copy()
    >>> emb(fastnn.tensor([1])).sum().backward(); opt.step()
    >>> (emb.weight.detach().numpy() != before).any(axis=1).tolist()
    [False, True, False, False]
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        defaults = dict(lr=lr, betas=betas_tuple(betas), eps=eps, maximize=bool(maximize))
        self._validate_group(defaults)
        super().__init__(params, defaults)

    def _validate_group(self, g):
        check_lr("SparseAdam", g["lr"])
        check_hparam(float(g["lr"]) > 0.0, "SparseAdam", f"Invalid learning rate: {g['lr']}")
        check_hparam(float(g["eps"]) > 0.0, "SparseAdam", f"Invalid epsilon value: {g['eps']}")
        check_betas("SparseAdam", g["betas"])

    def _update(self, group, params, datas, grads, n_threads):
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        for p, d, g in zip(params, datas, grads):
            st = self.state[p]
            if len(st) == 0:                 # torch's: an int step, zero moments
                st["step"] = 0
            m = self._buffer(p, "exp_avg")
            v = self._buffer(p, "exp_avg_sq")
            st["step"] = int(st["step"]) + 1
            t = st["step"]
            g = -g if group.get("maximize") else g
            # (a 0-d parameter as one row: reshape(1) of a 0-d array is a view)
            gd, md, vd, dd = (a if a.ndim else a.reshape(1) for a in (g, m, v, d))
            rows = np.flatnonzero(gd.reshape(gd.shape[0], -1).any(axis=1))
            if rows.size == 0:
                continue
            gr, mo, vo = gd[rows], md[rows], vd[rows]
            dt = dd.dtype.type
            m_new = mo + (gr - mo) * dt(1 - beta1)
            v_new = vo + (gr * gr - vo) * dt(1 - beta2)
            md[rows], vd[rows] = m_new, v_new
            step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
            dd[rows] = dd[rows] + (m_new / (np.sqrt(v_new) + dt(eps))) * dt(-step_size)
