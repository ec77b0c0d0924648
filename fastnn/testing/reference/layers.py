"""Reference (layers family): activations, softmax, losses, batch norm and
dropout, forward and backward, in plain float64 NumPy.

Each function returns arrays of the input's dtype; ``*_grad`` functions take
the forward inputs and an upstream gradient ``g`` and return the gradients.
The maths is written the textbook way (no fused tricks beyond the max shift
of softmax), so it is easy to check by eye.
"""
import numpy as np

__all__ = ["leaky_relu", "leaky_relu_grad", "softmax", "softmax_grad", "log_softmax",
           "log_softmax_grad", "cross_entropy", "cross_entropy_grad", "nll_loss",
           "nll_loss_grad", "mse_loss", "mse_loss_grad", "binary_cross_entropy",
           "binary_cross_entropy_grad", "binary_cross_entropy_with_logits",
           "binary_cross_entropy_with_logits_grad", "batch_norm", "batch_norm_grad",
           "dropout_mask", "dropout", "dropout_grad"]


def _f(x):
    return np.asarray(x, dtype=np.float64)


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reduce_grad(g, shape, reduction):
    """Upstream gradient of a reduced loss spread over the per-element losses."""
    g = _f(g)
    if reduction == "mean":
        return np.full(shape, g / max(int(np.prod(shape)), 1))
    if reduction == "sum":
        return np.full(shape, g * 1.0)
    return np.broadcast_to(g, shape)


# ---------------------------------------------------------------- activations
def leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, _f(x), negative_slope * _f(x)).astype(x.dtype)


def leaky_relu_grad(x, g, negative_slope=0.01):
    return np.where(x > 0, _f(g), negative_slope * _f(g)).astype(x.dtype)


def softmax(x, dim=-1):
    z = _f(x) - _f(x).max(axis=dim, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=dim, keepdims=True)).astype(x.dtype)


def softmax_grad(x, g, dim=-1):
    y = softmax(_f(x), dim)
    g = _f(g)
    return (y * (g - (g * y).sum(axis=dim, keepdims=True))).astype(x.dtype)


def log_softmax(x, dim=-1):
    x64 = _f(x)
    m = x64.max(axis=dim, keepdims=True)
    return (x64 - m - np.log(np.exp(x64 - m).sum(axis=dim, keepdims=True))).astype(x.dtype)


def log_softmax_grad(x, g, dim=-1):
    p = softmax(_f(x), dim)
    g = _f(g)
    return (g - p * g.sum(axis=dim, keepdims=True)).astype(x.dtype)


# ---------------------------------------------------------------- losses
def _class_last(x):
    """(N, C, d1, ...) -> (N*d1*..., C); (N, C) unchanged."""
    x = _f(x)
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def nll_loss(logp, target, reduction="mean"):
    lp = _class_last(logp)
    t = np.asarray(target).reshape(-1)
    loss = -lp[np.arange(len(t)), t]
    if reduction == "none":
        return loss.reshape(np.shape(target)).astype(logp.dtype)
    return np.asarray(_reduce(loss, reduction)).astype(logp.dtype)


def nll_loss_grad(logp, target, g, reduction="mean"):
    lp = _class_last(logp)
    t = np.asarray(target).reshape(-1)
    gl = _reduce_grad(g, np.shape(target), reduction).reshape(-1)
    out = np.zeros_like(lp)
    out[np.arange(len(t)), t] = -gl
    if logp.ndim > 2:
        shp = (logp.shape[0],) + logp.shape[2:] + (logp.shape[1],)
        out = np.moveaxis(out.reshape(shp), -1, 1)
    return out.reshape(np.shape(logp)).astype(logp.dtype)


def cross_entropy(x, target, reduction="mean"):
    """-log softmax(x)[target], x (N, C) or (N, C, d1, ...)."""
    dim = 1 if np.ndim(x) > 1 else 0
    return nll_loss(log_softmax(_f(x), dim), target, reduction).astype(x.dtype)


def cross_entropy_grad(x, target, g, reduction="mean"):
    dim = 1 if np.ndim(x) > 1 else 0
    gl = nll_loss_grad(log_softmax(_f(x), dim), target, g, reduction)
    return log_softmax_grad(_f(x), gl, dim).astype(x.dtype)


def mse_loss(x, y, reduction="mean"):
    d = _f(x) - _f(y)
    return np.asarray(_reduce(d * d, reduction)).astype(x.dtype)


def mse_loss_grad(x, y, g, reduction="mean"):
    """(d input, d target)."""
    d = _f(x) - _f(y)
    gl = _reduce_grad(g, d.shape, reduction)
    return (2 * d * gl).astype(x.dtype), (-2 * d * gl).astype(x.dtype)


def binary_cross_entropy(p, y, reduction="mean"):
    """-(y log p + (1-y) log(1-p)) with each log clamped to >= -100 (PyTorch)."""
    p64, y64 = _f(p), _f(y)
    with np.errstate(divide="ignore"):
        lp = np.maximum(np.log(p64), -100.0)
        l1p = np.maximum(np.log(1 - p64), -100.0)
    return np.asarray(_reduce(-(y64 * lp + (1 - y64) * l1p), reduction)).astype(p.dtype)


def binary_cross_entropy_grad(p, y, g, reduction="mean"):
    """(d input, d target); d input = g (p - y) / max(p (1 - p), 1e-12) as PyTorch."""
    p64, y64 = _f(p), _f(y)
    gl = _reduce_grad(g, p64.shape, reduction)
    gp = gl * (p64 - y64) / np.maximum(p64 * (1 - p64), 1e-12)
    with np.errstate(divide="ignore"):
        gy = gl * (np.maximum(np.log(1 - p64), -100.0) - np.maximum(np.log(p64), -100.0))
    return gp.astype(p.dtype), gy.astype(p.dtype)


def binary_cross_entropy_with_logits(x, y, reduction="mean"):
    """-(y log sigmoid(x) + (1-y) log(1 - sigmoid(x))), written stably."""
    x64, y64 = _f(x), _f(y)
    loss = np.maximum(x64, 0) - x64 * y64 + np.log1p(np.exp(-np.abs(x64)))
    return np.asarray(_reduce(loss, reduction)).astype(x.dtype)


def binary_cross_entropy_with_logits_grad(x, y, g, reduction="mean"):
    """(d input, d target) = (g (sigmoid(x) - y), -g x)."""
    x64, y64 = _f(x), _f(y)
    gl = _reduce_grad(g, x64.shape, reduction)
    s = 0.5 * (1 + np.tanh(0.5 * x64))
    return (gl * (s - y64)).astype(x.dtype), (-gl * x64).astype(x.dtype)


# ---------------------------------------------------------------- batch norm
def _bn_axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _bn_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Returns (y, new_running_mean, new_running_var); the inputs are not modified."""
    x64 = _f(x)
    axes, shp = _bn_axes(x), _bn_shape(x)
    rm, rv = _f(running_mean).copy(), _f(running_var).copy()
    if training:
        mean = x64.mean(axis=axes)
        var = x64.var(axis=axes)
        m = x64.size // x.shape[1]
        rm = (1 - momentum) * rm + momentum * mean
        rv = (1 - momentum) * rv + momentum * var * m / max(m - 1, 1)
    else:
        mean, var = rm, rv
    y = (x64 - mean.reshape(shp)) / np.sqrt(var.reshape(shp) + eps)
    if weight is not None:
        y = y * _f(weight).reshape(shp)
    if bias is not None:
        y = y + _f(bias).reshape(shp)
    return (y.astype(x.dtype), rm.astype(np.asarray(running_mean).dtype),
            rv.astype(np.asarray(running_var).dtype))


def batch_norm_grad(x, g, running_mean, running_var, weight=None, training=False, eps=1e-5):
    """(dx, dweight, dbias) of batch_norm."""
    x64, g64 = _f(x), _f(g)
    axes, shp = _bn_axes(x), _bn_shape(x)
    w = np.ones(x.shape[1]) if weight is None else _f(weight)
    if training:
        mean, var = x64.mean(axis=axes), x64.var(axis=axes)
    else:
        mean, var = _f(running_mean), _f(running_var)
    invstd = 1 / np.sqrt(var + eps)
    xhat = (x64 - mean.reshape(shp)) * invstd.reshape(shp)
    dbias = g64.sum(axis=axes)
    dweight = (g64 * xhat).sum(axis=axes)
    if training:
        m = x64.size // x.shape[1]
        dx = (w * invstd).reshape(shp) / m * (m * g64 - dbias.reshape(shp)
                                              - xhat * dweight.reshape(shp))
    else:
        dx = g64 * (w * invstd).reshape(shp)
    return dx.astype(x.dtype), dweight.astype(x.dtype), dbias.astype(x.dtype)


# ---------------------------------------------------------------- dropout
_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix64(z):
    """splitmix64's output function on uint64 arrays (wrapping arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def dropout_mask(n, p, seed, stream):
    """Keep mask of csrc/dropout.c: u_i = top 53 bits of
    mix64(key + (i+1)*golden) / 2^53 with key = mix64(seed ^ mix64(stream + golden));
    element i is kept when u_i >= p."""
    s = int(_mix64(np.uint64((stream + _GOLDEN) & _M64)))
    key = int(_mix64(np.uint64((seed ^ s) & _M64)))
    i = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = _mix64(np.uint64(key) + i * np.uint64(_GOLDEN))
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    return u >= p


def dropout(x, p, seed, stream):
    keep = dropout_mask(np.size(x), p, seed, stream).reshape(np.shape(x))
    scale = 1.0 / (1.0 - p) if p < 1 else 0.0
    return (_f(x) * np.where(keep, scale, 0.0)).astype(x.dtype)


def dropout_grad(x, g, p, seed, stream):
    return dropout(np.asarray(g, dtype=x.dtype), p, seed, stream)
