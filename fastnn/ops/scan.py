"""Scans and finite differences along a dim: ``logcumsumexp``, ``cummax``,
``cummin``, ``diff``, ``gradient``, ``trapezoid``/``trapz`` and
``cumulative_trapezoid``.

``logcumsumexp`` is a stable running log-sum-exp (NumPy's
``logaddexp.accumulate``); its backward is PyTorch's, split by the sign of
the upstream gradient so every exponential stays bounded.  ``cummax`` and
``cummin`` return ``(values, indices)`` with PyTorch's tie rule (the latest
position of the running extreme; a NaN, once seen, is the extreme) and send
the gradient back to those positions.  The others are compositions of
slicing, arithmetic and ``cumsum``, so their gradients come from those ops.

Examples
--------
>>> import fastnn
>>> fastnn.cummax(fastnn.tensor([1.0, 3.0, 2.0, 3.0]), 0)
cummax(values=tensor([1., 3., 3., 3.]), indices=tensor([0, 1, 1, 3]))
>>> fastnn.diff(fastnn.tensor([1, 4, 9, 16]))
tensor([3, 5, 7])
>>> fastnn.trapezoid(fastnn.tensor([1.0, 2.0, 3.0]))
tensor(4.)
"""
from collections import namedtuple
import numbers

import numpy as np

from .._core import TensorBase
from ..autograd.function import Function
from .. import _defaults
from ._common import promote_types, tensor
from ._util import normalize_dim
from .reduction import into

cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])


def _dim0(op, x, dim):
    """dim normalised; a 0-d tensor takes dim 0 or -1."""
    return normalize_dim(op, dim, x.ndim)


# ------------------------------------------------------------ logcumsumexp
def _rev_lcse(v, d):
    """flip(logcumsumexp(flip(v))) along d: log sum_{i >= j} exp(v_i)."""
    return np.flip(np.logaddexp.accumulate(np.flip(v, d), axis=d), d)


class LogCumSumExpFn(Function):
    """out_j = log sum_{i <= j} exp(x_i) along dim."""
    raw = True

    @staticmethod
    def forward(ctx, x, dim):
        if x.dtype.kind != "f":
            from .pointwise_more import _not_impl
            raise _not_impl("logcumsumexp_out", x.dtype)
        d = _dim0("logcumsumexp", x, dim)
        ctx.dim = d
        if x.ndim == 0 or x.size == 0:
            out = x.copy()
        else:
            with np.errstate(all="ignore"):       # float32 accumulated in double,
                acc = x.astype(np.float64) if x.dtype == np.float32 else x   # as PyTorch's
                out = np.logaddexp.accumulate(acc, axis=d).astype(x.dtype, copy=False)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if x.ndim == 0 or x.size == 0:
            return g.copy()
        d = ctx.dim
        low = np.finfo(g.dtype).min
        with np.errstate(all="ignore"):
            lg = np.log(np.abs(g))
            pos = np.where(g > 0, lg, low)
            neg = np.where(g < 0, lg, low)
            gx = np.exp(_rev_lcse(pos - out, d) + x) - np.exp(_rev_lcse(neg - out, d) + x)
        return gx.astype(g.dtype, copy=False)


def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(input), dim)), computed stably (floating input)."""
    return into(out, LogCumSumExpFn.apply(tensor(input), dim))


# ---------------------------------------------------------- cummax / cummin
def _scatter_add_along(shape, d, idx, g):
    """zeros(shape) with g added at idx along d (repeated indices accumulate)."""
    gx = np.zeros(shape, g.dtype)
    gm, im = np.moveaxis(gx, d, -1), np.moveaxis(idx, d, -1)
    n = gm.shape[-1]
    rows = np.arange(gm.size // max(n, 1)).reshape(gm.shape[:-1] + (1,)) * n
    flat = np.zeros(gm.size, g.dtype)
    np.add.at(flat, (rows + im).reshape(-1), np.moveaxis(g, d, -1).reshape(-1))
    gm[...] = flat.reshape(gm.shape)
    return gx


class _CumExtremeFn(Function):
    """The running maximum (minimum) along dim and where it was seen."""
    raw = True
    acc = None

    @classmethod
    def forward(cls, ctx, x, dim):
        op = cls.__name__[:6].lower()
        d = _dim0(op, x, dim)
        ctx.meta = (x.shape, d)
        if x.ndim == 0:
            ctx.save_for_backward(None)
            return x.copy(), np.zeros((), np.int64)
        vals = cls.acc.accumulate(x, axis=d)
        hit = x == vals
        if x.dtype.kind == "f":
            hit |= np.isnan(x)
        n = x.shape[d]
        pos = np.arange(n, dtype=np.int64).reshape([n if k == d else 1 for k in range(x.ndim)])
        idx = np.maximum.accumulate(np.where(hit, pos, 0), axis=d) if x.size else \
            np.zeros(x.shape, np.int64)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(idx)
        return vals, idx

    @staticmethod
    def backward(ctx, g, *unused):
        (idx,) = ctx.saved_tensors
        shape, d = ctx.meta
        if idx is None:
            return g
        return _scatter_add_along(shape, d, idx, g)


class CummaxFn(_CumExtremeFn):
    acc = np.maximum


class CumminFn(_CumExtremeFn):
    acc = np.minimum


def cummax(input, dim, *, out=None):
    """``(values, indices)``: the running maximum along ``dim`` and its position."""
    res = cummax_result(*CummaxFn.apply(tensor(input), dim))
    return res if out is None else cummax_result(into(out[0], res[0]), into(out[1], res[1]))


def cummin(input, dim, *, out=None):
    """``(values, indices)``: the running minimum along ``dim`` and its position."""
    res = cummin_result(*CumminFn.apply(tensor(input), dim))
    return res if out is None else cummin_result(into(out[0], res[0]), into(out[1], res[1]))


# -------------------------------------------------------------------- diff
def _cat_promoted(parts, d):
    from .._tensor import cat
    dt = parts[0]._array.dtype
    for p in parts[1:]:
        dt = promote_types(dt, p._array.dtype)
    return cat([p if p._array.dtype == dt else p.to(dt) for p in parts], d)


def _slice(x, d, start, stop):
    return x[(slice(None),) * d + (slice(start, stop),)]


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim`` (bool: logical xor), after
    concatenating ``prepend`` / ``append`` (same number of dims) there."""
    x = tensor(input)
    nd = x._array.ndim
    if nd == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"diff(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = normalize_dim("diff", dim, nd)

    def edge(p):
        if isinstance(p, numbers.Number):
            shp = x._array.shape[:d] + (1,) + x._array.shape[d + 1:]
            return tensor(np.full(shp, p))
        t = tensor(p)
        if t._array.ndim != nd:
            raise RuntimeError("diff expects prepend or append to be the same dimension as "
                               "input")
        return t

    parts = ([] if prepend is None else [edge(prepend)]) + [x] + \
        ([] if append is None else [edge(append)])
    if len(parts) > 1:
        x = _cat_promoted(parts, d)
    for _ in range(n):
        m = x._array.shape[d]
        if m == 0:
            break
        hi, lo = _slice(x, d, 1, m), _slice(x, d, 0, m - 1)
        if x._array.dtype.kind == "b":
            from .pointwise import logical_xor
            x = logical_xor(hi, lo)
        else:
            x = hi - lo
    return x


# ---------------------------------------------------------------- gradient
def _spacing_list(op, spacing, dims, shape):
    """One entry per dim: a float step, or a 1-D coordinate tensor."""
    if isinstance(spacing, (TensorBase, np.ndarray)) and np.ndim(_arr(spacing)) == 0:
        spacing = float(_arr(spacing))
    if isinstance(spacing, numbers.Number) and not isinstance(spacing, bool):
        return [float(spacing)] * len(dims)
    sp = list(spacing)
    if len(sp) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                           f"it's spacing and dim arguments to have the same length, but got a "
                           f"spacing argument of length {len(sp)} and a dim argument of length "
                           f"{len(dims)}.")
    out = []
    for s, d in zip(sp, dims):
        if isinstance(s, (TensorBase, np.ndarray)) and np.ndim(_arr(s)) == 1:
            c = tensor(s)
            if c._array.shape[0] != shape[d]:
                raise RuntimeError(f"torch.gradient expected each tensor to be on the same "
                                   f"device and the size of each coordinate tensor to match the "
                                   f"size of the input along its dim ({shape[d]}), got "
                                   f"{c._array.shape[0]}")
            out.append(c)
        elif isinstance(s, (TensorBase, np.ndarray)):
            if np.ndim(_arr(s)) != 0:
                raise RuntimeError("torch.gradient expected each spacing tensor to be "
                                   "one-dimensional")
            out.append(float(_arr(s)))
        else:
            out.append(float(s))
    return out


def _arr(x):
    return x._array if isinstance(x, TensorBase) else np.asarray(x)


def _along(c, d, nd):
    """A 1-D tensor c shaped to broadcast along dim d of an nd-dim tensor."""
    return c.reshape([-1 if k == d else 1 for k in range(nd)])


def _grad_uniform(f, d, h, edge_order):
    n = f._array.shape[d]
    s = lambda a, b: _slice(f, d, a, b)          # noqa: E731
    inner = (s(2, n) - s(0, n - 2)) / (2.0 * h)
    if edge_order == 1:
        first = (s(1, 2) - s(0, 1)) / h
        last = (s(n - 1, n) - s(n - 2, n - 1)) / h
    else:
        first = (s(0, 1) * -1.5 + s(1, 2) * 2.0 - s(2, 3) * 0.5) / h
        last = (s(n - 3, n - 2) * 0.5 - s(n - 2, n - 1) * 2.0 + s(n - 1, n) * 1.5) / h
    return _cat_promoted([first, inner, last], d)


def _grad_coords(f, d, c, edge_order):
    """NumPy's second-order accurate differences on coordinates c."""
    nd = f._array.ndim
    n = f._array.shape[d]
    c = c if c._array.dtype == f._array.dtype else c.to(f._array.dtype)
    h = c[1:] - c[:-1]
    s = lambda a, b: _slice(f, d, a, b)          # noqa: E731
    h1, h2 = h[:-1], h[1:]
    a = _along(-h2 / (h1 * (h1 + h2)), d, nd)
    b = _along((h2 - h1) / (h1 * h2), d, nd)
    cc = _along(h1 / (h2 * (h1 + h2)), d, nd)
    inner = a * s(0, n - 2) + b * s(1, n - 1) + cc * s(2, n)
    if edge_order == 1:
        first = (s(1, 2) - s(0, 1)) / h[0]
        last = (s(n - 1, n) - s(n - 2, n - 1)) / h[-1]
    else:
        p, q = h[0], h[1]
        first = (-(2.0 * p + q) / (p * (p + q)) * s(0, 1) + (p + q) / (p * q) * s(1, 2)
                 - p / (q * (p + q)) * s(2, 3))
        p, q = h[-2], h[-1]
        last = (q / (p * (p + q)) * s(n - 3, n - 2) - (p + q) / (p * q) * s(n - 2, n - 1)
                + (2.0 * q + p) / (q * (p + q)) * s(n - 1, n))
    return _cat_promoted([first, inner, last], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """The derivative estimated by central differences in the interior and
    one-sided differences of order ``edge_order`` (1 or 2) at the edges,
    for each dim in ``dim`` (all by default); ``spacing`` is a step, one step
    per dim, or one 1-D coordinate tensor per dim.  A tuple of tensors."""
    x = tensor(input)
    nd = x._array.ndim
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if dim is None:
        dims = list(range(nd))
    elif isinstance(dim, (tuple, list)):
        dims = [normalize_dim("gradient", d, nd) for d in dim]
    else:
        dims = [normalize_dim("gradient", dim, nd)]
    if len(set(dims)) != len(dims):
        raise RuntimeError("torch.gradient: dim appears multiple times in the list of dims")
    shape = x._array.shape
    for d in dims:
        if shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    sp = _spacing_list("gradient", spacing, dims, shape)
    if x._array.dtype.kind != "f":
        x = x.to(_defaults.FLOAT)
    out = []
    for d, s in zip(dims, sp):
        if isinstance(s, TensorBase):
            out.append(_grad_coords(x, d, s, edge_order))
        else:
            out.append(_grad_uniform(x, d, s, edge_order))
    return tuple(out)


# --------------------------------------------------------------- trapezoid
def _trap_args(op, y, x, dx, dim):
    y = tensor(y)
    if y._array.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = normalize_dim(op, dim, y._array.ndim)
    if y._array.dtype.kind == "b":
        raise RuntimeError(f"{op}: received a bool input for `y`, but bool is not supported")
    if x is not None and dx is not None:
        raise TypeError(f"{op}() received an invalid combination of arguments: x and dx "
                        "cannot both be given")
    if x is not None and not isinstance(x, TensorBase):
        if isinstance(x, numbers.Number):
            raise TypeError(f"{op}(): argument 'x' must be Tensor, not {type(x).__name__} "
                            "(use dx= for a constant spacing)")
        x = tensor(x)
    return y, x, d


def _dx(op, y, x, d):
    """x[1:] - x[:-1] along d (a 1-D x laid along d; a lower-rank x padded
    with leading 1s), broadcasting against y's pieces as NumPy's."""
    nd = y._array.ndim
    if x._array.ndim == 1:
        if x._array.shape[0] != y._array.shape[d]:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
        x = _along(x, d, nd)
    elif x._array.ndim < nd:
        x = x.reshape((1,) * (nd - x._array.ndim) + tuple(x._array.shape))
    m = x._array.shape[d]
    return _slice(x, d, 1, m) - _slice(x, d, 0, m - 1)


def _pair_sum(y, d):
    n = y._array.shape[d]
    return _slice(y, d, 1, n) + _slice(y, d, 0, n - 1)


def _zeros_except(y, d):
    from .factories import zeros
    shp = y._array.shape
    return zeros(shp[:d] + shp[d + 1:], dtype=y._array.dtype)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid-rule integral of ``y`` along ``dim``: sample points at
    ``x`` (1-D, or broadcasting against y) or ``dx`` apart (default 1)."""
    y, x, d = _trap_args("trapezoid", y, x, dx, dim)
    if y._array.shape[d] == 0:
        return _zeros_except(y, d)
    if x is not None:
        return (_dx("trapezoid", y, x, d) * _pair_sum(y, d)).sum(d) / 2.0
    return (y.sum(d) - (y.select(d, 0) + y.select(d, -1)) * 0.5) * (1 if dx is None else dx)


def trapz(y, x=None, *, dx=None, dim=-1):
    """``trapezoid`` (its older name)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid-rule integral along ``dim`` (one element
    fewer than y there)."""
    y, x, d = _trap_args("cumulative_trapezoid", y, x, dx, dim)
    if y._array.shape[d] == 0:
        return y.clone()
    if x is not None:
        return (_pair_sum(y, d) * _dx("cumulative_trapezoid", y, x, d)).cumsum(d) / 2.0
    return (_pair_sum(y, d) * ((1 if dx is None else dx) / 2.0)).cumsum(d)
