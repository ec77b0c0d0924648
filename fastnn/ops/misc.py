"""Assorted tensor maths PyTorch programs call: ``kron``, ``cross``
(``linalg.cross``), ``diagflat``, ``rsub``, ``fill``, ``scatter_reduce``,
``sum_to_size``.

Most are exact compositions of the differentiable ops (reshape, broadcast
multiply, select/stack, sum), so their gradients come from those ops;
``scatter_reduce`` is its own ``autograd.Function``: its gradient for
'sum'/'mean' goes back to ``input`` and the scattered ``src`` values, for
'amax'/'amin' it is shared evenly by every contributor equal to the result
(PyTorch's rule), for 'prod' it is ``result / value`` (inputs with zeros
raise NotImplementedError in backward).

Examples
--------
>>> import fastnn
>>> fastnn.kron(fastnn.tensor([1.0, 2.0]), fastnn.tensor([1.0, 10.0]))
tensor([ 1., 10.,  2., 20.])
>>> fastnn.tensor([0.0, 0.0]).scatter_reduce(0, fastnn.tensor([0, 0, 1]),
...                                          fastnn.tensor([1.0, 3.0, 5.0]), "amax")
tensor([3., 5.])
"""
import warnings

import numpy as np

from .._core import TensorBase
from ..autograd.function import Function
from ._common import operand, tensor
from ._util import normalize_dim
from .indexing import _as_1d, _check_gather, _fancy, _part

_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def kron(input, other):
    """The Kronecker product (``torch.kron``): for inputs padded with leading
    1s to the same rank, ``out[i*s_b + j] = a[i] * b[j]`` along every dim."""
    a, b = tensor(input), tensor(other)
    n = max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + tuple(a.shape)
    sb = (1,) * (n - b.ndim) + tuple(b.shape)
    ai = a.reshape(tuple(v for s in sa for v in (s, 1)))
    bi = b.reshape(tuple(v for s in sb for v in (1, s)))
    return (ai * bi).reshape(tuple(x * y for x, y in zip(sa, sb)))


def _cross(op, input, other, dim):
    a, b = tensor(input), tensor(other)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"{op}: the shapes {list(a.shape)} and {list(b.shape)} of input "
                           f"and other cannot be broadcast together") from None
    if dim is None:
        d = next((i for i, s in enumerate(shape) if s == 3), None)
        if d is None:
            raise RuntimeError(f"{op}: no dimension of size 3 in input")
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.",
                      UserWarning, stacklevel=3)
    else:
        d = normalize_dim(op, dim, len(shape))
    if not shape or a.ndim != b.ndim or shape[d] != 3 or a.shape[d] != 3 or b.shape[d] != 3:
        if a.ndim != b.ndim:
            raise RuntimeError(f"{op}: inputs must have the same number of dimensions.")
        raise RuntimeError(f"{op}: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[d] if a.ndim else 0} and {b.shape[d] if b.ndim else 0}")
    a, b = a.expand(shape), b.expand(shape)
    a0, a1, a2 = (a.select(d, i) for i in range(3))
    b0, b1, b2 = (b.select(d, i) for i in range(3))
    from .._tensor import stack
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def cross(input, other, dim=None, *, out=None):
    """The 3-vector cross product along ``dim`` (default: the first dim of
    size 3, deprecated in PyTorch), broadcasting."""
    from .reduction import into
    return into(out, _cross("linalg.cross", input, other, dim))


def linalg_cross(input, other, *, dim=-1, out=None):
    """``torch.linalg.cross``: the cross product along ``dim`` (default -1)."""
    from .reduction import into
    return into(out, _cross("linalg.cross", input, other, dim))


def diagflat(input, offset=0):
    """The flattened input on diagonal ``offset`` of a square matrix."""
    from .shape import diag
    return diag(tensor(input).reshape(-1), offset)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    x = operand(input)
    return operand(other) - (x if alpha == 1 else x * alpha)


def fill(input, value):
    """A tensor like ``input`` with every element ``value`` (``torch.fill``)."""
    from .pointwise import FillFn
    return FillFn.apply(tensor(input), operand(value))


def sum_to_size(input, *size):
    """``input`` summed down to ``size`` (which must expand to its shape)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    x = tensor(input)
    shape = tuple(x.shape)
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != shape[lead + i] for i, s in enumerate(size)):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                       if s == 1 and shape[lead + i] != 1)
    if not dims:
        return x
    return x.sum(dims, keepdim=True).reshape(size)


# ---------------------------------------------------------- scatter_reduce
_AT = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
       "amin": np.minimum}


def _identity(reduce, dt):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = np.inf if dt.kind == "f" else (np.iinfo(dt).max if dt.kind in "iu" else True)
    return -big if reduce == "amax" and dt.kind == "f" else (
        np.iinfo(dt).min if reduce == "amax" else big)


class ScatterReduceFn(Function):
    """out = input with the ``src`` values at ``index`` along ``dim``
    reduced into it by sum/prod/mean/amax/amin (``include_self``: whether
    input's own value takes part)."""
    raw = True

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce, include_self):
        op = "scatter_reduce"
        if reduce not in _REDUCES:
            raise RuntimeError(f"{op}(): reduce argument must be either sum, prod, mean, "
                               f"amax or amin, got {reduce}")
        d = _check_gather(op, x, dim, index, src)
        if src.dtype != x.dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
        out = _as_1d(x).copy()
        ctx.meta = (d, x.shape, src.shape, reduce, include_self, index.size == 0)
        if index.size == 0:
            return out.reshape(x.shape)
        fi = _fancy(_as_1d(index), d)
        vals = _part(_as_1d(src), _as_1d(index).shape)
        cnt = np.zeros(out.shape, np.int64)
        np.add.at(cnt, fi, 1)
        hit = cnt > 0
        if not include_self:
            out[hit] = _identity(reduce, x.dtype)
        _AT[reduce].at(out, fi, vals)
        if reduce == "mean":
            n = cnt + (1 if include_self else 0)
            n = np.maximum(n, 1)
            out = out / n if out.dtype.kind == "f" else out // n
            out = out.astype(x.dtype, copy=False)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(_as_1d(x), index, vals, out, cnt)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        d, shape, sshape, reduce, include_self, empty = ctx.meta
        nx, ns = ctx.needs_input_grad[0], ctx.needs_input_grad[3]
        if empty:
            return (g if nx else None, None, None,
                    np.zeros(sshape, g.dtype) if ns else None, None, None)
        x, index, vals, out, cnt = ctx.saved_tensors
        g = _as_1d(g)
        fi = _fancy(_as_1d(index), d)
        hit = cnt > 0
        gx = gsrc = None
        if reduce in ("sum", "mean"):
            gs = g / np.maximum(cnt + (1 if include_self else 0), 1) if reduce == "mean" \
                else g
            gx = np.where(hit, gs if include_self else 0, g)
            gsrc = gs[fi]
        elif reduce in ("amax", "amin"):
            # (PyTorch counts input's own tie even without include_self, but
            # gives it no gradient then)
            self_is = x == out
            src_is = vals == out[fi]
            n = self_is.astype(g.dtype)
            np.add.at(n, fi, src_is.astype(g.dtype))
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(n > 0, g / n, 0)
            gx = np.where(hit, self_is * share if include_self else 0, g)
            gsrc = src_is * share[fi]
        else:
            if (include_self and (x[hit] == 0).any()) or (vals == 0).any():
                raise NotImplementedError("scatter_reduce(): the backward of reduce='prod' "
                                          "with zeros among the reduced values is not "
                                          "implemented")
            with np.errstate(invalid="ignore", divide="ignore"):
                gx = np.where(hit, g * out / np.where(hit, x, 1), g) if include_self else \
                    np.where(hit, 0, g)
                gsrc = (g * out)[fi] / vals
        gxo = gx.reshape(shape).astype(g.dtype, copy=False) if nx else None
        gso = None
        if ns:
            gso = np.zeros(sshape if sshape else (1,), g.dtype)
            _part(gso, _as_1d(index).shape)[...] = gsrc
            gso = gso.reshape(sshape)
        return gxo, None, None, gso, None, None


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with the values of ``src`` at ``index`` along ``dim``
    reduced into it by ``reduce`` ('sum', 'prod', 'mean', 'amax', 'amin')."""
    x = tensor(input)
    s = tensor(src) if isinstance(src, TensorBase) or not np.isscalar(src) else src
    if not isinstance(s, TensorBase):
        raise TypeError(f"scatter_reduce(): argument 'src' must be Tensor, not "
                        f"{type(src).__name__}")
    return ScatterReduceFn.apply(x, dim, tensor(index), s, reduce, bool(include_self))
