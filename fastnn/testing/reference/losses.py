"""Naive NumPy references of the general cross-entropy (class weights,
ignore_index, label smoothing, probability targets), per row, in float64."""
import numpy as np

__all__ = ["xent_index_rows", "xent_index_rows_grad", "xent_prob_rows", "xent_prob_rows_grad"]


def _logp(x):
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def xent_index_rows(x, t, weight=None, ignore_index=-100, label_smoothing=0.0):
    """(loss (N,), target weight (N,)): (1-e) w_t (-log p_t) + e/C sum_c w_c (-log p_c),
    0 for ignored rows."""
    lp = _logp(x)
    N, C = lp.shape
    w = np.ones(C) if weight is None else np.asarray(weight, dtype=np.float64)
    loss, wt = np.zeros(N), np.zeros(N)
    for i in range(N):
        if t[i] == ignore_index:
            continue
        wt[i] = w[t[i]]
        loss[i] = (1 - label_smoothing) * -w[t[i]] * lp[i, t[i]] + \
            label_smoothing / C * -(w * lp[i]).sum()
    return loss, wt


def xent_index_rows_grad(x, t, g, weight=None, ignore_index=-100, label_smoothing=0.0):
    """d(sum_i g_i loss_i)/dx for xent_index_rows."""
    lp = _logp(x)
    p = np.exp(lp)
    N, C = lp.shape
    w = np.ones(C) if weight is None else np.asarray(weight, dtype=np.float64)
    e = label_smoothing
    out = np.zeros((N, C))
    for i in range(N):
        if t[i] == ignore_index:
            continue
        onehot = np.eye(C)[t[i]]
        out[i] = g[i] * ((1 - e) * w[t[i]] * (p[i] - onehot) + e / C * (w.sum() * p[i] - w))
    return out


def xent_prob_rows(x, y, weight=None, label_smoothing=0.0):
    """-sum_c w_c y'_c log p_c with y' = (1 - e) y + e / C."""
    lp = _logp(x)
    C = lp.shape[1]
    w = np.ones(C) if weight is None else np.asarray(weight, dtype=np.float64)
    ys = (1 - label_smoothing) * np.asarray(y, dtype=np.float64) + label_smoothing / C
    return -(w * ys * lp).sum(axis=1)


def xent_prob_rows_grad(x, y, g, weight=None, label_smoothing=0.0):
    """d(sum_i g_i loss_i)/dx for xent_prob_rows: g (p S - w y'), S = sum_c w_c y'_c."""
    p = np.exp(_logp(x))
    C = p.shape[1]
    w = np.ones(C) if weight is None else np.asarray(weight, dtype=np.float64)
    wy = w * ((1 - label_smoothing) * np.asarray(y, dtype=np.float64) + label_smoothing / C)
    return np.asarray(g)[:, None] * (p * wy.sum(axis=1, keepdims=True) - wy)
