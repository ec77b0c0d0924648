"""``SparseAdam`` (torch.optim.SparseAdam's rule): the lazy Adam that
``nn.Embedding(..., sparse=True)`` tables are trained with -- only the rows
a step's gradient touches have their moments and values updated, with
Adam's bias corrections taken from the parameter's step count.

fastnn's gradients are dense.  An ``Embedding`` (or ``F.embedding``) with
``sparse=True`` notes on its weight the rows each backward reaches -- the
indices PyTorch's sparse gradient lists, a looked-up row whose gradient is
exactly zero included -- and a step updates those rows (then forgets them,
as ``zero_grad`` does).  A parameter whose gradient came from anything
else has what PyTorch calls a dense gradient: a step raises PyTorch's
RuntimeError.  A NumPy update (one parameter at a time, in place).
"""
import math

import numpy as np

from .optimizer import Optimizer, _load_value, _wrap, betas_tuple

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    r"""Lazy Adam for embedding tables, torch.optim.SparseAdam's update.

    For the rows R the step's lookups reached (see the module docstring),
    with t the parameter's step count::

        m[R] = m[R] + (g[R] - m[R]) * (1 - beta1)
        v[R] = v[R] + (g[R]**2 - v[R]) * (1 - beta2)
        p[R] = p[R] - lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m[R] / (sqrt(v[R]) + eps)

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float (default 1e-3, > 0)
    betas : (float, float) (default (0.9, 0.999))
    eps : float (default 1e-8, > 0)
    maximize : bool

    Examples
    --------
    >>> import fastnn
    >>> emb = fastnn.nn.Embedding(5, 2, sparse=True)
    >>> opt = fastnn.optim.SparseAdam(emb.parameters(), lr=0.1)
    >>> before = emb.weight.detach().numpy().copy()
    >>> emb(fastnn.tensor([1, 3])).sum().backward(); opt.step()
    >>> [bool((emb.weight.detach().numpy()[i] != before[i]).any()) for i in range(5)]
    [False, True, False, True, False]
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < float(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    def _update(self, group, params, datas, grads, n_threads):
        beta1, beta2 = betas_tuple(group["betas"])
        eps, lr = group["eps"], float(group["lr"])
        for p, x, g in zip(params, datas, grads):
            noted = p.__dict__.pop("_sparse_rows", None)
            if noted is None:     # (a gradient not from a sparse=True lookup)
                raise RuntimeError("SparseAdam does not support dense gradients, please "
                                   "consider Adam instead")
            st = self.state[p]
            if not st:
                st["step"] = 0
                st["exp_avg"] = _wrap(np.zeros_like(x))
                st["exp_avg_sq"] = _wrap(np.zeros_like(x))
            st["step"] += 1
            step = st["step"]
            if group.get("maximize", False):
                g = -g
            lead = x.shape[0] if x.ndim else 1          # the rows: slices along dim 0
            gr, xr = g.reshape(lead, -1), x.reshape(lead, -1)
            rows = np.unique(np.concatenate(noted)) if noted else np.zeros(0, np.int64)
            if rows.size == 0:
                continue
            m = st["exp_avg"]._array.reshape(xr.shape)
            v = st["exp_avg_sq"]._array.reshape(xr.shape)
            gv = gr[rows]
            m_old, v_old = m[rows], v[rows]
            dm = (gv - m_old) * x.dtype.type(1 - beta1)
            dv = (gv * gv - v_old) * x.dtype.type(1 - beta2)
            m[rows] = m_old + dm
            v[rows] = v_old + dv
            numer = dm + m_old
            denom = np.sqrt(dv + v_old) + x.dtype.type(eps)
            step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
            xr[rows] = xr[rows] + x.dtype.type(-step_size) * (numer / denom)

    def _load_state_value(self, key, value, p):
        if key == "step":                  # a Python int, as PyTorch's SparseAdam keeps it
            return int(float(value))
        return _load_value(key, value, p, "SparseAdam")
