"""Naive NumPy references of the general cross-entropy (class weights,
ignore_index, label smoothing, probability targets), per row, and of the
CTC loss (per sample, loops over time and states), in float64."""
import numpy as np

__all__ = ["xent_index_rows", "xent_index_rows_grad", "xent_prob_rows", "xent_prob_rows_grad",
           "ctc_nll", "ctc_nll_grad"]


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


def _ctc_extended(labels, blank):
    """The extended label sequence: a blank before, between and after the labels."""
    ext = [blank]
    for c in labels:
        ext += [int(c), blank]
    return ext


def _ctc_alpha_beta(lp, labels, blank):
    """log alpha and log beta (T, 2L + 1) of one sample, lp its (T, C)
    log-probabilities up to its input length; both include the emission at t."""
    ext = _ctc_extended(labels, blank)
    T, W = lp.shape[0], len(ext)
    la = np.full((T, W), -np.inf)
    lb = np.full((T, W), -np.inf)
    if T == 0:
        return la, lb, ext
    la[0, 0] = lp[0, blank]
    if W > 1:
        la[0, 1] = lp[0, ext[1]]
    for t in range(1, T):
        for s in range(W):
            terms = [la[t - 1, s]]
            if s >= 1:
                terms.append(la[t - 1, s - 1])
            if s >= 2 and ext[s] != ext[s - 2]:
                terms.append(la[t - 1, s - 2])
            la[t, s] = np.logaddexp.reduce(terms) + lp[t, ext[s]]
    lb[T - 1, W - 1] = lp[T - 1, blank]
    if W > 1:
        lb[T - 1, W - 2] = lp[T - 1, ext[W - 2]]
    for t in range(T - 2, -1, -1):
        for s in range(W):
            terms = [lb[t + 1, s]]
            if s + 1 < W:
                terms.append(lb[t + 1, s + 1])
            if s + 2 < W and ext[s] != ext[s + 2]:
                terms.append(lb[t + 1, s + 2])
            lb[t, s] = np.logaddexp.reduce(terms) + lp[t, ext[s]]
    return la, lb, ext


def ctc_nll(log_probs, targets, input_lengths, blank=0):
    """Per-sample CTC negative log-likelihood: log_probs (T, N, C), targets a
    list of N label sequences, input_lengths (N).  -log of the total
    probability of the alignments (paths of length input_length that
    collapse -- repeats merged, then blanks removed -- to the labels);
    +inf when there is none."""
    lp = np.asarray(log_probs, dtype=np.float64)
    out = np.zeros(lp.shape[1])
    for b, labels in enumerate(targets):
        T = int(input_lengths[b])
        if T == 0:
            out[b] = 0.0 if len(labels) == 0 else np.inf
            continue
        la, _, ext = _ctc_alpha_beta(lp[:T, b], labels, blank)
        W = len(ext)
        out[b] = -np.logaddexp.reduce(la[T - 1, max(W - 2, 0):])
    return out


def ctc_nll_grad(log_probs, targets, input_lengths, g, blank=0, zero_infinity=False):
    """d(sum_b g_b nll_b)/d log_probs: for t < input_length,
    g_b (exp(lp[t, c]) - sum_{s: l'(s) = c} exp(la + lb - lp[t, c] + nll)),
    0 beyond (and for an infinite nll with zero_infinity).  A state whose
    log-prob is -inf has posterior 0 (PyTorch's kernel gives NaN there); an
    infinite nll gives NaN for t < input_length, as PyTorch's."""
    lp = np.asarray(log_probs, dtype=np.float64)
    nll = ctc_nll(lp, targets, input_lengths, blank)
    out = np.zeros_like(lp)
    for b, labels in enumerate(targets):
        T = int(input_lengths[b])
        if T == 0 or (zero_infinity and nll[b] == np.inf):
            continue
        lpb = lp[:T, b]
        la, lb, ext = _ctc_alpha_beta(lpb, labels, blank)
        post = np.zeros((T, lp.shape[2]))
        with np.errstate(invalid="ignore"):
            for t in range(T):
                for s, c in enumerate(ext):
                    if lpb[t, c] == -np.inf:
                        continue
                    post[t, c] += np.exp(la[t, s] + lb[t, s] - lpb[t, c] + nll[b])
        out[:T, b] = g[b] * (np.exp(lpb) - post)
    return out
