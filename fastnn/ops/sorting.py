"""Ordering: sort, argsort, topk, kthvalue, unique.

``stable=True`` keeps equal elements in order (ascending or descending);
otherwise equal elements come out where PyTorch's CPU kernels put them
(``_tie_order``). NaN sorts above every number as in PyTorch, and the index
outputs are int64.  ``sort``, ``topk`` and ``kthvalue`` return named tuples
``(values, indices)``; the gradient of the values goes back to the
positions they came from.

Examples
--------
>>> import fastnn
>>> x = fastnn.tensor([3.0, 1.0, 2.0, 1.0])
>>> x.sort(descending=True)
sort(values=tensor([3., 2., 1., 1.]), indices=tensor([0, 2, 1, 3]))
>>> x.topk(2).indices
tensor([0, 2])
>>> fastnn.unique(x)
tensor([1., 2., 3.])
"""
from collections import namedtuple

import numpy as np

from .._core import wrap as _wrap
from ..autograd.function import Function
from . import _tie_order
from ._common import tensor
from ._util import normalize_dim

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])


def _argsort(x, d, descending):
    """Stable argsort along d; descending keeps equal elements in order."""
    if not descending:
        return np.argsort(x, axis=d, kind="stable")
    n = x.shape[d]
    rev = np.argsort(np.flip(x, d), axis=d, kind="stable")
    return (n - 1) - np.flip(rev, d)


def _rows(x, d):
    """x with dim d last, as (rows, n), and the function putting it back."""
    m = np.moveaxis(x, d, -1)
    shape = m.shape

    def back(r):
        return np.moveaxis(np.asarray(r, np.int64).reshape(shape[:-1] + (-1,)), -1, d)
    return m.reshape(-1, shape[-1]), back


def _tied_along(s, d):
    """Whether each line along d of the sorted values s holds two equal
    elements (NaN equal to NaN); the shape of s without d."""
    lo, hi = [slice(None)] * s.ndim, [slice(None)] * s.ndim
    lo[d], hi[d] = slice(None, -1), slice(1, None)
    a, b = s[tuple(lo)], s[tuple(hi)]
    eq = a == b
    if s.dtype.kind == "f":
        nan = np.isnan(s)
        if nan.any():
            eq |= nan[tuple(lo)] & nan[tuple(hi)]
    return eq.any(axis=d)


def _replay(x, d, idx, rows_needed, one_row):
    """idx with the rows (of x's lines along d) flagged in rows_needed
    replaced by one_row(line); unchanged when none is flagged or they hold
    more than the budget."""
    need = np.flatnonzero(rows_needed.reshape(-1))
    n = x.shape[d]
    if not need.size or need.size * n > _tie_order.BUDGET:
        return idx
    rows, back = _rows(x, d)
    order, _ = _rows(idx, d)
    order = order.copy()
    for r in need:
        order[r] = one_row(rows[r])
    return back(order)


def _torch_argsort(x, d, descending):
    """(indices, sorted values) along d with PyTorch's order for equal
    elements (stable=False): its std::sort only reorders ties in runs longer
    than 16, and a 1-D integer ascending sort of 32768 or more is its
    (stable) radix sort."""
    idx = _argsort(x, d, descending)
    vals = np.take_along_axis(x, idx, axis=d)
    n = x.shape[d]
    if n <= 16 or (x.ndim == 1 and x.dtype.kind in "iu" and n >= 32768 and not descending):
        return idx, vals
    new = _replay(x, d, idx, _tied_along(vals, d),
                  lambda row: _tie_order.sort_order(row, descending))
    if new is idx:
        return idx, vals
    return new, np.take_along_axis(x, new, axis=d)


def _topk_indices(x, k, d, largest, sorted_):
    """The k indices PyTorch's topk picks, in its order."""
    full = _argsort(x, d, largest)
    idx = np.take(full, np.arange(k), axis=d)
    n = x.shape[d]
    if k == 0 or n < 2:
        return idx
    if not sorted_ and k * 64 > n and k > 1:
        need = np.ones(x.shape[:d] + x.shape[d + 1:], bool)   # nth_element's order
    else:
        need = _tied_along(np.take_along_axis(x, full, axis=d), d)
    return _replay(x, d, idx, need,
                   lambda row: _tie_order.topk_order(row, k, largest, sorted_))


class _TakeIndicesFn(Function):
    """Values picked along a dim by an index array computed in forward:
    the gradient is scattered back to those positions."""
    raw = True

    @staticmethod
    def backward(ctx, g, *unused):
        (idx,) = ctx.saved_tensors
        shape, d = ctx.meta
        if not shape:
            return g
        gx = np.zeros(shape, g.dtype)
        np.put_along_axis(gx, idx, g.reshape(idx.shape), axis=d)
        return gx


class SortFn(_TakeIndicesFn):
    @staticmethod
    def forward(ctx, x, dim, descending, stable=True):
        d = normalize_dim("sort", dim, x.ndim)
        ctx.meta = (x.shape, d)
        if x.ndim == 0:
            ctx.save_for_backward(None)
            return x.copy(), np.zeros((), np.int64)
        if stable:
            idx = _argsort(x, d, descending)
            vals = np.take_along_axis(x, idx, axis=d)
        else:
            idx, vals = _torch_argsort(x, d, descending)
        ctx.save_for_backward(idx)
        return vals, idx.astype(np.int64, copy=False)


def sort(input, dim=-1, descending=False, stable=False):
    """Sorted values and their original indices along ``dim``."""
    return sort_result(*SortFn.apply(tensor(input), dim, bool(descending), bool(stable)))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim`` (int64)."""
    a = tensor(input)._array
    d = normalize_dim("argsort", dim, a.ndim)
    if a.ndim == 0:
        return _wrap(np.zeros((), np.int64))
    idx = _argsort(a, d, descending) if stable else _torch_argsort(a, d, descending)[0]
    return _wrap(idx.astype(np.int64, copy=False))


def msort(input):
    """``sort(input, dim=0).values``."""
    return sort(input, dim=0).values


class TopkFn(_TakeIndicesFn):
    @staticmethod
    def forward(ctx, x, k, dim, largest, sorted_):
        # sorted_=False: any order is allowed; the sorted one is returned
        d = normalize_dim("topk", dim, x.ndim)
        n = x.shape[d] if x.ndim else 1
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"topk(): argument 'k' must be int, not {type(k).__name__}")
        if not 0 <= k <= n:
            raise RuntimeError("selected index k out of range")
        ctx.meta = (x.shape, d)
        xx = x if x.ndim else x.reshape(1)
        idx = _topk_indices(xx, k, d, largest, sorted_)
        vals = np.take_along_axis(xx, idx, axis=d)
        if x.ndim == 0:
            vals, idx = vals.reshape(()), idx.reshape(())
        ctx.save_for_backward(idx)
        return vals, idx.astype(np.int64, copy=False)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    return topk_result(*TopkFn.apply(tensor(input), k, dim, bool(largest), bool(sorted)))


class KthvalueFn(_TakeIndicesFn):
    @staticmethod
    def forward(ctx, x, k, dim, keepdim):
        d = normalize_dim("kthvalue", dim, x.ndim)
        n = x.shape[d] if x.ndim else 1
        if not 1 <= k <= n:
            raise IndexError(f"kthvalue(): selected number k out of range for dimension {d}")
        ctx.meta = (x.shape, d)
        xx = x if x.ndim else x.reshape(1)
        idx = np.take(_argsort(xx, d, False), [k - 1], axis=d)
        # PyTorch's quickselect picks among equal elements its own way
        idx = _replay(xx, d, idx, _tied_along(np.sort(xx, axis=d), d),
                      lambda row: [_tie_order.kth_index(row, k)])
        vals = np.take_along_axis(xx, idx, axis=d)
        ctx.save_for_backward(idx)
        if not keepdim or x.ndim == 0:
            vals, out_idx = np.squeeze(vals, d), np.squeeze(idx, d)
        else:
            out_idx = idx
        if x.ndim == 0:
            vals, out_idx = vals.reshape(()), out_idx.reshape(())
        return vals, out_idx.astype(np.int64, copy=False)


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest value along ``dim`` and its index."""
    return kthvalue_result(*KthvalueFn.apply(tensor(input), k, dim, keepdim))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), optionally with the inverse indices and
    the counts; no gradient."""
    a = tensor(input)._array
    if dim is not None:
        d = normalize_dim("unique", dim, a.ndim)
        res = np.unique(a, return_inverse=True, return_counts=True, axis=d)
    else:
        res = np.unique(a.reshape(-1), return_inverse=True, return_counts=True,
                        equal_nan=False)   # each NaN is its own value, as in PyTorch
    vals, inv, counts = res
    out = [_wrap(vals)]
    if return_inverse:
        inv = inv.reshape(a.shape if dim is None else (-1,)).astype(np.int64)
        out.append(_wrap(inv))
    if return_counts:
        out.append(_wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)
