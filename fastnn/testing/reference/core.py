"""Reference: elementwise ops, reductions and matmul (float64 maths)."""
import numpy as np


def relu(x):
    return np.where(x > 0, x, 0).astype(x.dtype)


def relu_grad(x, g):
    return (g * (x > 0)).astype(x.dtype)


def sigmoid(x):
    x64 = x.astype(np.float64)
    return (1.0 / (1.0 + np.exp(-x64))).astype(x.dtype)


def sigmoid_grad(x, g):
    s = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    return (g * s * (1 - s)).astype(x.dtype)


def tanh(x):
    return np.tanh(x.astype(np.float64)).astype(x.dtype)


def tanh_grad(x, g):
    t = np.tanh(x.astype(np.float64))
    return (g * (1 - t * t)).astype(x.dtype)


def matmul(a, b):
    """Triple-loop-free but unblocked reference: float64 accumulation."""
    return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.result_type(a, b))


def gemm(a, b, c=None, trans_a=False, trans_b=False, alpha=1.0, beta=0.0):
    A = a.T if trans_a else a
    B = b.T if trans_b else b
    out = alpha * (A.astype(np.float64) @ B.astype(np.float64))
    if c is not None and beta != 0:
        out = out + beta * c.astype(np.float64)
    return out.astype(a.dtype)


def unbroadcast(g, shape):
    """Sum a broadcast gradient back to shape (loops written out)."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, s in enumerate(shape):
        if s == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g
