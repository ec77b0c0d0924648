"""Reference (activations beyond ReLU/sigmoid/tanh/leaky ReLU): the
textbook formulas in float64 NumPy, forward and ``*_grad`` (the gradient
for an upstream ``g``, from the input), as PyTorch defines them (including
its conventions at the kinks: hardtanh's gradient is 0 at the bounds,
hardswish's at -3 is 0 and at 3 is 1).  Results in the input's dtype.
"""
import math

import numpy as np

__all__ = ["ACTIVATIONS", "gelu", "gelu_grad", "prelu", "prelu_grad"]

_erfc = np.vectorize(math.erfc, otypes=[np.float64])
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _f(x):
    return np.asarray(x, dtype=np.float64)


def _cdf(x):
    return 0.5 * _erfc(-x / math.sqrt(2.0))


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def gelu(x, approximate="none"):
    v = _f(x)
    if approximate == "tanh":   # 0.5 v (1 + tanh u) = v sigmoid(2u)
        k = math.sqrt(2.0 / math.pi)
        return (v * _sigmoid(2 * k * (v + 0.044715 * v ** 3))).astype(x.dtype)
    return (v * _cdf(v)).astype(x.dtype)


def gelu_grad(x, g, approximate="none"):
    v = _f(x)
    if approximate == "tanh":
        k = math.sqrt(2.0 / math.pi)
        u = k * (v + 0.044715 * v ** 3)
        s, sm = _sigmoid(2 * u), _sigmoid(-2 * u)   # (1 + tanh u) / 2, (1 - tanh u) / 2
        d = s + 2 * v * s * sm * k * (1 + 3 * 0.044715 * v * v)
    else:
        d = _cdf(v) + v * np.exp(-0.5 * v * v) / math.sqrt(2 * math.pi)
    return (_f(g) * d).astype(x.dtype)


def _elu(v, alpha, scale, iscale):
    return np.where(v > 0, scale * v, scale * alpha * np.expm1(np.minimum(v, 0) * iscale))


def _elu_d(v, alpha, scale, iscale):
    return np.where(v > 0, scale, scale * alpha * iscale * np.exp(np.minimum(v, 0) * iscale))


def _softplus(v, beta, threshold):
    z = v * beta
    return np.where(z > threshold, v, np.logaddexp(0.0, z) / beta)


def _hardswish_d(v):
    return np.where(v <= -3, 0.0, np.where(v < 3, v / 3 + 0.5, 1.0))


def _mish_d(v):
    t = np.tanh(np.logaddexp(0.0, v))
    return t + v * _sigmoid(v) * (1 - t * t)


# name -> (forward(v, *params), derivative(v, *params), default params);
# v is a float64 array
ACTIVATIONS = {
    "gelu": (lambda v: v * _cdf(v),
             lambda v: _cdf(v) + v * np.exp(-0.5 * v * v) / math.sqrt(2 * math.pi), ()),
    "gelu_tanh": (lambda v: _f(gelu(v, "tanh")), lambda v: gelu_grad(v, np.ones_like(v), "tanh"),
                  ()),
    "silu": (lambda v: v * _sigmoid(v), lambda v: _sigmoid(v) * (1 + v * (1 - _sigmoid(v))), ()),
    "mish": (lambda v: v * np.tanh(np.logaddexp(0.0, v)), _mish_d, ()),
    "elu": (_elu, _elu_d, (1.0, 1.0, 1.0)),
    "softplus": (_softplus, lambda v, b, t: np.where(v * b > t, 1.0, _sigmoid(v * b)),
                 (1.0, 20.0)),
    "logsigmoid": (lambda v: -np.logaddexp(0.0, -v), lambda v: _sigmoid(-v), ()),
    "hardtanh": (lambda v, lo, hi: np.clip(v, lo, hi),
                 lambda v, lo, hi: np.where((v <= lo) | (v >= hi), 0.0, 1.0), (-1.0, 1.0)),
    "hardswish": (lambda v: v * np.clip(v + 3, 0, 6) / 6, _hardswish_d, ()),
    "hardsigmoid": (lambda v: np.clip(v + 3, 0, 6) / 6,
                    lambda v: np.where((v > -3) & (v < 3), 1 / 6, 0.0), ()),
    "softsign": (lambda v: v / (1 + np.abs(v)), lambda v: 1 / (1 + np.abs(v)) ** 2, ()),
    "threshold": (lambda v, th, val: np.where(v <= th, val, v),
                  lambda v, th, val: np.where(v <= th, 0.0, 1.0), (0.5, -1.0)),
}


def prelu(x, w):
    """x where positive, w[c] * x elsewhere (c: dim 1, or one weight)."""
    v, wv = _f(x), _f(w)
    if wv.size > 1:
        wv = wv.reshape((1, -1) + (1,) * (v.ndim - 2))
    return np.where(v > 0, v, wv * v).astype(x.dtype)


def prelu_grad(x, w, g):
    """(dx, dw) of prelu for the upstream gradient g."""
    v, wv, gv = _f(x), _f(w), _f(g)
    wb = wv.reshape((1, -1) + (1,) * (v.ndim - 2)) if wv.size > 1 else wv
    dx = np.where(v > 0, gv, wb * gv)
    contrib = np.where(v > 0, 0.0, v * gv)
    if wv.size > 1:
        dw = contrib.sum(axis=tuple(i for i in range(v.ndim) if i != 1))
    else:
        dw = np.array([contrib.sum()])
    return dx.astype(x.dtype), dw.reshape(np.shape(w)).astype(np.asarray(w).dtype)
