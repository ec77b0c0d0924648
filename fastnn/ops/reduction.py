"""Reductions: sum, mean, max, min.

A full float sum of a large array runs in C (per-thread partials in double,
``csrc/elementwise.c``); sums over a ``dim`` and max/min use NumPy, whose
reductions along an axis are already single passes.
"""
from collections import namedtuple

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._util import c_contig, is_float, normalize_dim, nthreads

_BIG = 32768

values_indices = namedtuple("values_indices", ["values", "indices"])


def _dims(op, dim, ndim):
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(sorted(normalize_dim(op, d, ndim) for d in dim))
    return (normalize_dim(op, dim, ndim),)


def _expand(g, shape, dims, keepdim):
    """Broadcasts a reduced gradient back to the input shape (materialised)."""
    if dims is None:
        return np.full(shape, g.reshape(()), dtype=g.dtype)
    if not keepdim:
        g = np.expand_dims(g, dims)
    return np.ascontiguousarray(np.broadcast_to(g, shape))


class Sum(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        dims = _dims("sum", dim, x.ndim)
        ctx.meta = (x.shape, dims, keepdim)
        if dims is None and is_float(x) and x.size >= _BIG:
            s = _core.sum_all(c_contig(x), nthreads())
            out = np.asarray(s, dtype=x.dtype)
            return out.reshape((1,) * x.ndim) if keepdim else out
        return np.asarray(np.sum(x, axis=dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        shape, dims, keepdim = ctx.meta
        return _expand(g, shape, dims, keepdim)


class Mean(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        dims = _dims("mean", dim, x.ndim)
        n = x.size if dims is None else int(np.prod([x.shape[d] for d in dims]))
        ctx.meta = (x.shape, dims, keepdim, n)
        return np.asarray(np.mean(x, axis=dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        shape, dims, keepdim, n = ctx.meta
        return _expand(g / n, shape, dims, keepdim)


class _Extreme(Function):
    """max/min over everything (gradient shared evenly among ties, as
    PyTorch's full reduction) or along a dim (values and int64 indices;
    gradient routed to the index returned)."""
    raw = True
    _fn = None
    _arg = None

    @classmethod
    def forward(cls, ctx, x, dim=None, keepdim=False):
        if x.size == 0:
            raise RuntimeError(f"{cls.__name__.lower()}: cannot reduce an empty tensor")
        if dim is None:
            out = np.asarray(cls._fn(x))
            ctx.save_for_backward(x, out)
            ctx.dim = None
            return out
        d = normalize_dim(cls.__name__.lower(), dim, x.ndim)
        xx = x if x.ndim else x.reshape(1)
        idx = np.expand_dims(cls._arg(xx, axis=d), d)
        vals = np.take_along_axis(xx, idx, axis=d)
        ctx.dim, ctx.keepdim, ctx.shape = d, keepdim, x.shape
        ctx.save_for_backward(idx)
        if not keepdim:
            vals, idx = np.squeeze(vals, d), np.squeeze(idx, d)
        if x.ndim == 0:
            vals, idx = vals.reshape(()), idx.reshape(())
        return vals, idx.astype(np.int64)

    @staticmethod
    def backward(ctx, g, *unused):
        if ctx.dim is None:
            x, out = ctx.saved_tensors
            mask = (x == out)
            return mask * (g / mask.sum())
        (idx,) = ctx.saved_tensors
        gx = np.zeros(ctx.shape if ctx.shape else (1,), g.dtype)
        gg = g if ctx.keepdim or not ctx.shape else np.expand_dims(g, ctx.dim)
        np.put_along_axis(gx, idx, gg.reshape(idx.shape), axis=ctx.dim)
        return gx.reshape(ctx.shape)


class Max(_Extreme):
    _fn = staticmethod(np.max)
    _arg = staticmethod(np.argmax)


class Min(_Extreme):
    _fn = staticmethod(np.min)
    _arg = staticmethod(np.argmin)


def max(x, dim=None, keepdim=False):
    """Maximum of all elements, or ``(values, indices)`` along ``dim``."""
    out = Max.apply(x, dim=dim, keepdim=keepdim)
    return out if dim is None else values_indices(*out)


def min(x, dim=None, keepdim=False):
    """Minimum of all elements, or ``(values, indices)`` along ``dim``."""
    out = Min.apply(x, dim=dim, keepdim=keepdim)
    return out if dim is None else values_indices(*out)
