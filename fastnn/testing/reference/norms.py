"""Reference (normalisation beyond batch norm): layer norm and group norm,
forward and backward, in textbook float64 NumPy (two-pass mean and biased
variance; backward from dxhat = g * weight:
dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sigma).
Results in the input's dtype."""
import numpy as np

__all__ = ["layer_norm", "layer_norm_grad", "group_norm", "group_norm_grad"]


def _rows_norm(v, eps):
    m = v.mean(axis=1, keepdims=True)
    var = ((v - m) ** 2).mean(axis=1, keepdims=True)
    s = np.sqrt(var + eps)
    return (v - m) / s, s


def _rows_grad(xhat, s, dxhat):
    return (dxhat - dxhat.mean(axis=1, keepdims=True)
            - xhat * (dxhat * xhat).mean(axis=1, keepdims=True)) / s


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    D = int(np.prod(normalized_shape))
    v = np.asarray(x, np.float64).reshape(-1, D)
    y, _ = _rows_norm(v, eps)
    if weight is not None:
        y = y * np.asarray(weight, np.float64).reshape(1, D)
    if bias is not None:
        y = y + np.asarray(bias, np.float64).reshape(1, D)
    return y.reshape(x.shape).astype(x.dtype)


def layer_norm_grad(x, g, normalized_shape, weight=None, eps=1e-5):
    """(dx, dweight, dbias)."""
    D = int(np.prod(normalized_shape))
    v = np.asarray(x, np.float64).reshape(-1, D)
    gv = np.asarray(g, np.float64).reshape(-1, D)
    xhat, s = _rows_norm(v, eps)
    w = np.ones(D) if weight is None else np.asarray(weight, np.float64).reshape(D)
    dx = _rows_grad(xhat, s, gv * w)
    shape = tuple(normalized_shape)
    return (dx.reshape(x.shape).astype(x.dtype), (gv * xhat).sum(0).reshape(shape),
            gv.sum(0).reshape(shape))


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    N, C = x.shape[:2]
    v = np.asarray(x, np.float64).reshape(N * num_groups, -1)
    y, _ = _rows_norm(v, eps)
    y = y.reshape(N, C, -1)
    if weight is not None:
        y = y * np.asarray(weight, np.float64).reshape(1, C, 1)
    if bias is not None:
        y = y + np.asarray(bias, np.float64).reshape(1, C, 1)
    return y.reshape(x.shape).astype(x.dtype)


def group_norm_grad(x, g, num_groups, weight=None, eps=1e-5):
    """(dx, dweight, dbias)."""
    N, C = x.shape[:2]
    v = np.asarray(x, np.float64).reshape(N * num_groups, -1)
    gv = np.asarray(g, np.float64).reshape(N, C, -1)
    xhat, s = _rows_norm(v, eps)
    w = np.ones(C) if weight is None else np.asarray(weight, np.float64)
    dxhat = (gv * w.reshape(1, C, 1)).reshape(N * num_groups, -1)
    dx = _rows_grad(xhat, s, dxhat)
    xh = xhat.reshape(N, C, -1)
    return (dx.reshape(x.shape).astype(x.dtype), (gv * xh).sum(axis=(0, 2)),
            gv.sum(axis=(0, 2)))
