"""Reductions: sum, mean, max, min, amax/amin, std/var, norm, prod,
cumsum/cumprod, logsumexp, any/all.

A full float sum of a large array runs in C (per-thread partials in double,
``csrc/elementwise.c``); the others use NumPy, whose reductions along an
axis are already single passes.  ``dim`` is an int or a tuple of ints
wherever PyTorch accepts one; integer and bool sums and products give int64,
as PyTorch's.  Gradients follow PyTorch at the edges: the full max/min and
amax/amin share the gradient evenly among ties, std and the 2-norm give 0
where the result is 0, prod and cumprod are exact with zeros in the input.

Examples
--------
>>> import fastnn
>>> x = fastnn.tensor([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]])
>>> x.std(dim=1)
tensor([1., 0.])
>>> x.logsumexp(dim=1).round(decimals=3)
tensor([3.4080, 3.0990])
>>> x.norm(p=1)
tensor(12.)
"""
import math
from collections import namedtuple

import numpy as np

from .. import _core, _defaults
from .._core import TensorBase
from .._core import wrap as _wrap
from .._errors import OutOfRangeError, ShapeError
from ..autograd.function import Function
from ._common import I64, dims_arg, tensor
from ._util import c_contig, is_float, normalize_dim, nthreads

_BIG = 32768

values_indices = namedtuple("values_indices", ["values", "indices"])
_dims = dims_arg


def _expand(g, shape, dims, keepdim):
    """Broadcasts a reduced gradient back to the input shape (materialised)."""
    if dims is None:
        return np.full(shape, g.reshape(()), dtype=g.dtype)
    if not keepdim:
        g = np.expand_dims(g, dims)
    return np.ascontiguousarray(np.broadcast_to(g, shape))


# float32 sums of at least this many terms an output are blocked (_fsum):
# NumPy adds the terms of a sum along any axis but the contiguous last one
# one by one into float32, an error that grows with n (1e6 terms of 1.1: 1%
# off; a column mean of 60000 values near 100 off by as much as their spread;
# 1000 rows near 100: 0.20 off where PyTorch is 0.018, now 0.019), where PyTorch's
# cascade stays near float32's rounding.
_CASCADE = 256
_CASCADE_BLOCK = 64


def _cascade_rows(a):
    """Column sums of the C-contiguous float32 (n, m) array a: sums of
    blocks of 64 rows, then the blocks' sums added pairwise (halves): the
    error of about 64 + log2(n / 64) roundings instead of n, at about the
    speed of a.sum(0)."""
    n, b = a.shape[0], _CASCADE_BLOCK
    if n <= b:
        return a.sum(axis=0)
    q = n // b
    s = a[:q * b].reshape(q, b, -1).sum(axis=1)
    if q * b < n:
        s = np.concatenate([s, a[q * b:].sum(axis=0, keepdims=True)])
    while s.shape[0] > 1:
        h = s.shape[0] // 2
        t = s[:h] + s[h:2 * h]
        s = np.concatenate([t, s[2 * h:]]) if s.shape[0] % 2 else t
    return s[0]


def _fsum(x, dims, keepdims):
    """sum(x, dims) for float32 x, accurate however many terms it has:
    NumPy's (pairwise) along the contiguous last axis, blocked rows
    (_cascade_rows) over leading axes of a contiguous array, float64
    accumulation otherwise (2-6x slower: only past _CASCADE terms)."""
    shape = x.shape
    if dims is None:
        n = x.size
    else:
        n = 1
        for d in dims:
            n *= shape[d]
    if n < _CASCADE:   # (the common case: a batch's sums; method call, no wrappers)
        return x.sum(axis=dims, keepdims=keepdims)
    rd = range(x.ndim) if dims is None else dims
    if x.flags.c_contiguous and (dims is None or tuple(rd) == (x.ndim - 1,)):
        return x.sum(axis=dims, keepdims=keepdims)
    k = len(rd)
    if x.flags.c_contiguous and tuple(rd) == tuple(range(k)):
        out = _cascade_rows(x.reshape(n, -1)).reshape(shape[k:])
        return out.reshape((1,) * k + shape[k:]) if keepdims else out
    return np.sum(x, axis=dims, keepdims=keepdims, dtype=np.float64).astype(np.float32)


def _sum_f(x, dims, keepdims):
    """np.sum for a float array, float32 through _fsum."""
    if x.dtype == np.float32:
        return _fsum(x, dims, keepdims)
    return np.sum(x, axis=dims, keepdims=keepdims)


class SumFn(Function):
    raw = True

    @staticmethod
    def _torch_name(ctx):           # (PyTorch's overloads: all elements 0, dims 1)
        return "SumBackward0" if ctx.meta[1] is None else "SumBackward1"

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        dims = _dims("sum", dim, x.ndim)
        ctx.meta = (x.shape, dims, keepdim)
        if dims is None and is_float(x) and x.size >= _BIG:
            s = _core.sum_all(c_contig(x), nthreads())
            out = np.asarray(s, dtype=x.dtype)
            return out.reshape((1,) * x.ndim) if keepdim else out
        if x.dtype.kind == "f":
            return np.asarray(_sum_f(x, dims, keepdim))
        return np.asarray(np.sum(x, axis=dims, keepdims=keepdim, dtype=I64))  # (as PyTorch)

    @staticmethod
    def backward(ctx, g):
        shape, dims, keepdim = ctx.meta
        return _expand(g, shape, dims, keepdim)


class MeanFn(Function):
    raw = True

    @staticmethod
    def _torch_name(ctx):
        return "MeanBackward0" if ctx.meta[1] is None else "MeanBackward1"

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        dims = _dims("mean", dim, x.ndim)
        n = x.size if dims is None else int(np.prod([x.shape[d] for d in dims]))
        ctx.meta = (x.shape, dims, keepdim, n)
        if x.dtype == np.float32 and n >= _CASCADE:
            return np.asarray(_fsum(x, dims, keepdim) / np.float32(n))
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
    def _torch_name(cls, ctx):      # (max()/min() of all elements: PyTorch's overload 1)
        return cls.__name__[:-2] + ("Backward1" if ctx.dim is None else "Backward0")

    @classmethod
    def forward(cls, ctx, x, dim=None, keepdim=False):
        op = cls.__name__.lower()[:-2]
        if dim is None:
            if x.size == 0:
                raise RuntimeError(f"{op}(): cannot reduce an empty tensor without a dim")
            out = np.asarray(cls._fn(x))
            ctx.save_for_backward(x, out)
            ctx.dim = None
            return out
        d = normalize_dim(op, dim, x.ndim)
        if x.ndim and x.shape[d] == 0:  # (other dims may be empty: an empty result)
            raise OutOfRangeError(f"{op}(): expected reduction dim {d} to have non-zero "
                                  f"size, got shape {tuple(x.shape)}")
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


class MaxFn(_Extreme):
    _fn = staticmethod(np.max)
    _arg = staticmethod(np.argmax)


class MinFn(_Extreme):
    _fn = staticmethod(np.min)
    _arg = staticmethod(np.argmin)


def np_args(dim, keepdim, axis, keepdims):
    """NumPy's spellings ``axis=`` / ``keepdims=`` (``numpy.sum(t)`` calls
    ``t.sum(axis=..., out=...)``), accepted as PyTorch accepts them."""
    return (dim if axis is None else axis), (keepdim if keepdims is None else keepdims)


_TORCH_NAMES = {"f4": "Float", "f8": "Double", "f2": "Half", "i8": "Long", "i4": "Int",
                "i2": "Short", "i1": "Char", "u1": "Byte", "b1": "Bool"}


def _torch_name(dt):
    return _TORCH_NAMES.get(dt.str[1:], str(dt))


def into(out, res, op=None):
    """``out=``: writes the result into the given tensor (no graph) and
    returns it, as PyTorch's: an ``out`` of another shape is resized (with
    PyTorch's warning unless it was empty), the result must cast to its dtype
    ('same_kind'), and nothing may require grad.  A tuple result (values,
    indices) goes into a tuple of tensors."""
    if out is None:
        return res
    if isinstance(out, (tuple, list)) or isinstance(res, tuple):
        if not (isinstance(out, (tuple, list)) and isinstance(res, tuple)
                and len(out) == len(res)):
            raise TypeError(f"{op or 'out='}: out= must be a tuple of {len(res)} tensors"
                            if isinstance(res, tuple) else
                            f"{op or 'out='}: out= must be a Tensor, not a tuple")
        outs = [into(o, r, op) for o, r in zip(out, res)]
        return type(res)(*outs) if hasattr(res, "_fields") else tuple(outs)
    if not isinstance(out, TensorBase):
        raise TypeError(f"{op or 'out='}: argument 'out' must be Tensor, not "
                        f"{type(out).__name__}")
    if _core.is_grad_enabled() and (out.requires_grad or getattr(res, "requires_grad", False)):
        raise RuntimeError(f"{op or 'out='}(): functions with out=... arguments don't support "
                           "automatic differentiation, but one of the arguments requires grad.")
    r = res._array if isinstance(res, TensorBase) else np.asarray(res)
    a = out._array
    if not np.can_cast(r.dtype, a.dtype, "same_kind"):
        raise RuntimeError(f"result type {_torch_name(r.dtype)} can't be cast to the desired "
                           f"output type {_torch_name(a.dtype)}")
    if a.shape != r.shape:
        if a.size:
            import warnings
            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(a.shape)}, which does not match the required output shape "
                          f"{list(r.shape)}. This behavior is deprecated, and in a future "
                          "PyTorch release outputs will not be resized unless they have zero "
                          "elements. You can explicitly reuse an out tensor t by resizing it, "
                          "inplace, to zero elements with t.resize_(0).", UserWarning,
                          stacklevel=3)
        out.resize_(r.shape)
        a = out._array
    a[...] = r
    out._bump()
    return out


def _check_dim_arg(op, dim):
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, (int, np.integer))):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")


def _extreme(fn, pair, input, dim, keepdim):
    if isinstance(dim, (TensorBase, np.ndarray)):
        from . import pointwise
        return getattr(pointwise, pair)(input, dim)
    _check_dim_arg(fn.__name__.lower(), dim)
    out = fn.apply(tensor(input), dim=dim, keepdim=keepdim)
    return out if dim is None else values_indices(*out)


def max(input, dim=None, keepdim=False, *, axis=None, out=None, keepdims=None, other=None):
    """Maximum of all elements; ``(values, indices)`` along ``dim``; or the
    elementwise maximum when the second argument is a Tensor."""
    if other is not None:                   # torch.max(input, other=...): the maximum
        from .pointwise import maximum
        return into(out, maximum(input, other), "max")
    dim, keepdim = np_args(dim, keepdim, axis, keepdims)
    return into(out, _extreme(MaxFn, "maximum", input, dim, keepdim), "max")


def min(input, dim=None, keepdim=False, *, axis=None, out=None, keepdims=None, other=None):
    """Minimum of all elements; ``(values, indices)`` along ``dim``; or the
    elementwise minimum when the second argument is a Tensor."""
    if other is not None:                   # torch.min(input, other=...): the minimum
        from .pointwise import minimum
        return into(out, minimum(input, other), "min")
    dim, keepdim = np_args(dim, keepdim, axis, keepdims)
    return into(out, _extreme(MinFn, "minimum", input, dim, keepdim), "min")


def _count(shape, dims):
    if dims is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[d] for d in dims], dtype=np.int64))


def _bcast_back(g, shape, dims, keepdim):
    """A reduced array (or gradient) viewed with the reduced dims kept, so it
    broadcasts against the input (no copy)."""
    if dims is None:
        return g.reshape((1,) * len(shape))
    return g if keepdim else np.expand_dims(g, dims)


def _require_float(op, x):
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}(): input dtype should be floating point, got "
                           f"fastnn.{np.dtype(x.dtype)}")


# ------------------------------------------------------------ amax / amin
class _AExtremeFn(Function):
    """amax/amin over dims: the gradient shared evenly among the elements
    equal to the result (PyTorch's rule)."""
    raw = True
    f = None

    @classmethod
    def forward(cls, ctx, x, dim=(), keepdim=False):
        op = cls.__name__[:4].lower()
        dims = None if dim in ((), [], None) else dims_arg(op, dim, x.ndim)
        if x.size == 0 and (dims is None or 0 in [x.shape[d] for d in dims]):
            raise OutOfRangeError(f"{op}(): Expected reduction dim to have non-zero size.")
        out = np.asarray(cls.f(x, axis=dims, keepdims=keepdim))
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, out)
            ctx.meta = (dims, keepdim)
        return out

    @classmethod
    def backward(cls, ctx, g):
        x, out = ctx.saved_tensors
        dims, keepdim = ctx.meta
        mask = x == _bcast_back(out, x.shape, dims, keepdim)
        n = mask.sum(axis=dims, keepdims=True)
        return (mask * (_bcast_back(g, x.shape, dims, keepdim) / n)).astype(g.dtype, copy=False)


class AmaxFn(_AExtremeFn):
    f = staticmethod(np.max)


class AminFn(_AExtremeFn):
    f = staticmethod(np.min)


def amax(input, dim=(), keepdim=False, *, axis=None, out=None, keepdims=None):
    """Maximum over ``dim`` (an int or tuple; all dims by default), values only."""
    dim, keepdim = np_args(dim, keepdim, axis, keepdims)
    return into(out, AmaxFn.apply(tensor(input), dim=dim, keepdim=keepdim))


def amin(input, dim=(), keepdim=False, *, axis=None, out=None, keepdims=None):
    """Minimum over ``dim`` (an int or tuple; all dims by default), values only."""
    dim, keepdim = np_args(dim, keepdim, axis, keepdims)
    return into(out, AminFn.apply(tensor(input), dim=dim, keepdim=keepdim))


# ---------------------------------------------------------------- std / var
def _mean_f(x, dims):
    """The mean over dims, kept as size-1 dims (float32: through _fsum)."""
    n = x.size if dims is None else math.prod(x.shape[d] for d in dims)
    if x.dtype == np.float32 and n >= _CASCADE:
        return _fsum(x, dims, True) / np.float32(n)
    return np.mean(x, axis=dims, keepdims=True)


class VarFn(Function):
    """Variance (``std=True``: standard deviation) over dims, divided by
    max(0, N - correction)."""
    raw = True

    @staticmethod
    def _torch_name(ctx):
        return "StdBackward0" if ctx.meta[3] == "std" else "VarBackward0"

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim, std):
        op = "std" if std else "var"
        if x.dtype.kind != "f":
            raise RuntimeError("std and var only support floating point and complex dtypes")
        dof = _count(x.shape, dims) - correction
        dof = dof if dof > 0 else 0
        with np.errstate(all="ignore"):
            d = x - _mean_f(x, dims)
            out = np.asarray(_sum_f(d * d, dims, keepdim) / x.dtype.type(dof))
            if std:
                out = np.sqrt(out)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, out if std else None)
            ctx.meta = (dims, keepdim, dof, op)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        dims, keepdim, dof, op = ctx.meta
        with np.errstate(all="ignore"):
            d = x - _mean_f(x, dims)
            gg = _bcast_back(g, x.shape, dims, keepdim)
            if out is None:
                gx = gg * (2.0 / dof) * d if dof else gg * d / x.dtype.type(0)
            else:
                s = _bcast_back(out, x.shape, dims, keepdim)
                gx = np.where(s == 0, 0, gg * d / (s * dof))
        return gx.astype(x.dtype, copy=False)


def _var_args(op, x, dim, unbiased, correction, keepdim):
    """PyTorch's overloads: ``var(dim, unbiased, keepdim)``, ``var(unbiased)``
    and ``var(dim, *, correction, keepdim)``."""
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    elif unbiased is not None:
        raise RuntimeError(f"{op}: cannot pass both unbiased and correction")
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    return dims_arg(op, dim, x._array.ndim), correction, keepdim


def _var_std(op, input, dim, unbiased, keepdim, correction, axis, out, keepdims, ddof):
    """var (op "var") or std ("std"); NumPy's spellings (axis, keepdims, ddof,
    out) mapped to PyTorch's first."""
    if axis is not None or keepdims is not None or ddof is not None or out is not None:
        dim, keepdim = np_args(dim, keepdim, axis, keepdims)
        return into(out, _var_std(op, input, dim, unbiased, keepdim,
                                  correction if ddof is None else ddof, None, None, None, None))
    x = tensor(input)
    dims, c, keepdim = _var_args(op, x, dim, unbiased, correction, keepdim)
    return VarFn.apply(x, dims, c, keepdim, op == "std")


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        out=None, keepdims=None, ddof=None, dtype=None):
    """Variance over ``dim`` (all by default) with Bessel's correction
    (``correction=1``, or ``unbiased=False`` for 0)."""
    return _var_std("var", input, dim, unbiased, keepdim, correction, axis, out, keepdims, ddof)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        out=None, keepdims=None, ddof=None, dtype=None):
    """Standard deviation over ``dim`` (see ``var``)."""
    return _var_std("std", input, dim, unbiased, keepdim, correction, axis, out, keepdims, ddof)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``."""
    x = tensor(input)
    return (var(x, dim, unbiased, keepdim, correction=correction),
            x.mean(dim=dim if not isinstance(dim, bool) else None, keepdim=keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``."""
    x = tensor(input)
    return (std(x, dim, unbiased, keepdim, correction=correction),
            x.mean(dim=dim if not isinstance(dim, bool) else None, keepdim=keepdim))


# --------------------------------------------------------------------- norm
class NormFn(Function):
    """The vector p-norm over dims: (sum |x|^p)^(1/p); p = inf / -inf give
    max / min |x| (gradient shared among ties), p = 0 counts non-zeros."""
    raw = True

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        a = np.abs(x)
        with np.errstate(all="ignore"):
            if p == np.inf:
                out = np.max(a, axis=dims, keepdims=keepdim, initial=0)
            elif p == -np.inf:
                out = np.min(a, axis=dims, keepdims=keepdim)
            elif p == 0:
                out = np.sum(a != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
            elif p == 1:
                out = np.sum(a, axis=dims, keepdims=keepdim)
            elif p == 2:
                out = np.sqrt(np.sum(a * a, axis=dims, keepdims=keepdim))
            else:
                out = np.sum(a ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
        out = np.asarray(out, x.dtype)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, out)
            ctx.meta = (p, dims, keepdim)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        p, dims, keepdim = ctx.meta
        gg = _bcast_back(g, x.shape, dims, keepdim)
        n = _bcast_back(out, x.shape, dims, keepdim)
        with np.errstate(all="ignore"):
            if p == 0:
                gx = np.zeros_like(x)
            elif p == 1:
                gx = gg * np.sign(x)
            elif p == 2:
                gx = np.where(n == 0, 0, gg * x / n)
            elif p in (np.inf, -np.inf):
                mask = np.abs(x) == n
                cnt = mask.sum(axis=dims, keepdims=True)
                gx = np.sign(x) * mask * (gg / cnt)
            else:
                gx = np.where(n == 0, 0, gg * np.sign(x) * np.abs(x) ** (p - 1) / n ** (p - 1))
        return gx.astype(x.dtype, copy=False)


def _norm_p(p):
    if p in ("fro", None):
        return 2.0
    if isinstance(p, str):
        if p == "nuc":
            raise NotImplementedError("norm: the nuclear norm (p='nuc') is not supported")
        raise RuntimeError(f"norm: unsupported p {p!r}")
    return float(p)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.vector_norm``: the ``ord``-norm of the elements over
    ``dim`` (all by default; an int or tuple)."""
    x = tensor(x)
    if dtype is not None:
        x = x.type(dtype)
    if x._array.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {x._array.dtype}")
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    dims = dims_arg("norm", dim, x._array.ndim)
    p = _norm_p(ord)
    if (p < 0 or p == math.inf) and x._array.size == 0:
        # (max and the negative powers have no identity: PyTorch refuses an empty reduction)
        shape = x._array.shape
        empty = [d for d in (range(len(shape)) if dims is None else dims) if shape[d] == 0]
        if dims is None:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty "
                               "tensor because the operation does not have an identity")
        if empty:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on the "
                               f"dimension {empty[0]} because this dimension is empty and the "
                               "operation does not have an identity")
    return NormFn.apply(x, p, dims, keepdim)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm``: the vector p-norm over ``dim`` ('fro' is the 2-norm
    of the elements; numbers, inf and -inf as p), or the nuclear norm
    (p='nuc': the sum of the singular values of a matrix, or over the two
    dims of ``dim``)."""
    if p == "nuc":
        from .linalg_func import nuclear_norm
        x = tensor(input) if dtype is None else tensor(input).type(dtype)
        if dim is None and x._array.ndim != 2:
            raise ShapeError(f"norm: the nuclear norm needs a 2-D input or a pair of dims, got "
                             f"{x._array.ndim} dims")
        if dim is not None and (not isinstance(dim, (tuple, list)) or len(dim) != 2):
            got = " ".join(str(d) for d in dim) if isinstance(dim, (tuple, list)) else dim
            raise ShapeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {got}")
        return nuclear_norm(x, (-2, -1) if dim is None else tuple(dim), keepdim)
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


# --------------------------------------------------------------------- prod
def _excl_cumprod(x, axis, reverse):
    """Products of the elements strictly before (or after) each position."""
    if reverse:
        x = np.flip(x, axis)
    c = np.cumprod(x, axis=axis)
    c = np.roll(c, 1, axis=axis)
    idx = [slice(None)] * x.ndim
    idx[axis] = 0
    c[tuple(idx)] = 1
    return np.flip(c, axis) if reverse else c


class ProdFn(Function):
    """Product over one dim (or everything); the gradient is the product of
    the other elements, exact with zeros."""
    raw = True

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        dt = None if x.dtype.kind == "f" else I64
        if dim is None:
            out = np.asarray(np.prod(x, dtype=dt))
        else:
            out = np.asarray(np.prod(x, axis=dim, keepdims=keepdim, dtype=dt))
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x)
            ctx.meta = (dim, keepdim)
        return out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        dim, keepdim = ctx.meta
        if x.size == 0:
            return np.zeros_like(x)
        xx = x.reshape(-1) if dim is None else x
        ax = 0 if dim is None else dim
        others = _excl_cumprod(xx, ax, False) * _excl_cumprod(xx, ax, True)
        if dim is None:
            return (others * g.reshape(())).reshape(x.shape)
        return others * (g if keepdim else np.expand_dims(g, dim))


def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, out=None, keepdims=None):
    """Product of all elements, or along ``dim``."""
    if axis is not None or keepdims is not None or out is not None:
        dim, keepdim = np_args(dim, keepdim, axis, keepdims)
        return into(out, prod(input, dim, keepdim, dtype=dtype))
    x = tensor(input)
    if dtype is not None:
        x = x.type(dtype)
    d = None if dim is None else normalize_dim("prod", dim, x._array.ndim)
    if x._array.ndim == 0 and d is not None:
        d = None
        if keepdim:
            keepdim = False
    out = ProdFn.apply(x, d, keepdim)
    return out if dim is None else _core.name_node(out, x, "ProdBackward1")


# ---------------------------------------------------------- cumsum / cumprod
class CumsumFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return _cumsum(x, dim).reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        d = ctx.dim
        if g.ndim == 0:
            return g
        return np.flip(_cumsum(np.flip(g, d), d), d)


def _cumsum(x, dim):
    """np.cumsum with PyTorch's accumulators: float32 running sums in double
    at every length, each partial sum rounded once (in float32 the
    millionth partial sum of 1.1 is 1% off, and a quarter of the sums of
    ten numbers differ from PyTorch's by an ulp), integers in int64."""
    if x.dtype == np.float32 and x.ndim:
        return np.cumsum(x, axis=dim, dtype=np.float64).astype(np.float32)
    return np.cumsum(x, axis=dim, dtype=None if x.dtype.kind == "f" else I64)


class CumprodFn(Function):
    """Cumulative product; the backward is exact with zeros: positions
    before a fiber's first zero use sum_{i>=k} g_i y_i / x_k, the first zero
    gets the products that skip it, later positions get 0."""
    raw = True

    @staticmethod
    def forward(ctx, x, dim):
        # float32 running products in double, as PyTorch's (a diffusion
        # schedule's alphas_cumprod over 1000 steps is then PyTorch's)
        if x.dtype == np.float32:
            out = np.cumprod(x, axis=dim, dtype=np.float64).astype(np.float32)
        else:
            out = np.cumprod(x, axis=dim, dtype=None if x.dtype.kind == "f" else I64)
        out = out.reshape(x.shape)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, out)
            ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        if x.ndim == 0:
            return g
        d = ctx.dim
        n = x.shape[d]
        zero = x == 0
        rev_sum = np.flip(np.cumsum(np.flip(g * y, d), axis=d), d)
        with np.errstate(all="ignore"):
            gx = rev_sum / np.where(zero, 1, x)
        if not zero.any():
            return gx
        has = zero.any(axis=d, keepdims=True)
        first = np.argmax(zero, axis=d, keepdims=True)            # first zero per fiber
        pos = np.arange(n).reshape([n if i == d else 1 for i in range(x.ndim)])
        gx = np.where(has & (pos >= first), 0, gx)
        skip = x.copy()                                           # x with its first zero as 1
        np.put_along_axis(skip, first, 1, axis=d)
        skip = np.where(has, skip, x)
        at_zero = np.sum(np.where(pos >= first, g * np.cumprod(skip, axis=d), 0), axis=d,
                         keepdims=True)
        np.put_along_axis(gx, first, np.where(has, at_zero, np.take_along_axis(gx, first, d)),
                          axis=d)
        return gx


def _cumulative(fn, input, dim, dtype, axis, out):
    op = fn.__name__[:-2].lower()
    dim = dim if axis is None else axis
    if dim is None:
        raise TypeError(f"{op}() missing 1 required positional argument: 'dim'")
    x = tensor(input)
    if dtype is not None:
        x = x.type(dtype)
    res = fn.apply(x, normalize_dim(op, dim, x._array.ndim))
    # Integer and bool input accumulates in int64 (PyTorch's promotion); an
    # explicit integer ``dtype`` is the result's dtype (the same values mod 2**bits).
    if dtype is not None and res._array.dtype != x._array.dtype:
        res = _wrap(res._array.astype(x._array.dtype))
    return into(out, res, op)


def cumsum(input, dim=None, *, dtype=None, axis=None, out=None):
    """Cumulative sum along ``dim``."""
    return _cumulative(CumsumFn, input, dim, dtype, axis, out)


def cumprod(input, dim=None, *, dtype=None, axis=None, out=None):
    """Cumulative product along ``dim``."""
    return _cumulative(CumprodFn, input, dim, dtype, axis, out)


# --------------------------------------------------------------- logsumexp
class LogSumExpFn(Function):
    """log(sum(exp(x))) over dims, computed as m + log(sum(exp(x - m))) with
    m the maximum (finite m only, so all -inf gives -inf and +inf gives inf)."""
    raw = True

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        if x.dtype.kind != "f":
            x = x.astype(_defaults.FLOAT)
        with np.errstate(all="ignore"):
            if x.size == 0:
                m = np.zeros([1 if (dims is None or i in dims) else s
                              for i, s in enumerate(x.shape)], x.dtype)
            else:
                m = np.max(x, axis=dims, keepdims=True)
            m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
            s = np.sum(np.exp(x - m), axis=dims, keepdims=True)
            out = np.log(s) + m
        if not keepdim:
            out = out.reshape(()) if dims is None else np.squeeze(out, dims)
        out = np.asarray(out, x.dtype)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, out)
            ctx.meta = (dims, keepdim)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        dims, keepdim = ctx.meta
        with np.errstate(all="ignore"):
            o = _bcast_back(out, x.shape, dims, keepdim)
            return (_bcast_back(g, x.shape, dims, keepdim) * np.exp(x - o)).astype(x.dtype)


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(input))) over ``dim`` (an int or tuple), stable."""
    x = tensor(input)
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    return LogSumExpFn.apply(x, dims_arg("logsumexp", dim, x._array.ndim), keepdim)


# ------------------------------------------------------------ any / all / count
def _logical_reduce(op, fn, input, dim, keepdim):
    a = tensor(input)._array
    dims = None if dim is None else dims_arg(op, dim, a.ndim)
    if a.ndim == 0:
        dims = None
    out = np.asarray(fn(a, axis=dims, keepdims=keepdim))
    return _wrap(out.astype(np.uint8) if a.dtype == np.uint8 else out)


def any(input, dim=None, keepdim=False, *, axis=None, out=None, keepdims=None):
    """True where any element (over ``dim``, or all) is non-zero (bool)."""
    dim, keepdim = np_args(dim, keepdim, axis, keepdims)
    return into(out, _logical_reduce("any", np.any, input, dim, keepdim))


def all(input, dim=None, keepdim=False, *, axis=None, out=None, keepdims=None):
    """True where every element (over ``dim``, or all) is non-zero (bool)."""
    dim, keepdim = np_args(dim, keepdim, axis, keepdims)
    return into(out, _logical_reduce("all", np.all, input, dim, keepdim))


def count_nonzero(input, dim=None):
    """The number of non-zero elements (over ``dim``), int64."""
    a = tensor(input)._array
    dims = None if dim is None else dims_arg("count_nonzero", dim, a.ndim)
    return _wrap(np.asarray(np.count_nonzero(a, axis=dims), dtype=np.int64))


def argmax(input, dim=None, keepdim=False, *, axis=None, out=None, keepdims=None):
    """Index of the maximum (of the flattened tensor, or along ``dim``), int64."""
    dim, keepdim = np_args(dim, keepdim, axis, keepdims)
    return into(out, _arg_extreme("argmax", np.argmax, input, dim, keepdim))


def argmin(input, dim=None, keepdim=False, *, axis=None, out=None, keepdims=None):
    """Index of the minimum (of the flattened tensor, or along ``dim``), int64."""
    dim, keepdim = np_args(dim, keepdim, axis, keepdims)
    return into(out, _arg_extreme("argmin", np.argmin, input, dim, keepdim))


def _arg_extreme(op, fn, input, dim, keepdim):
    a = tensor(input)._array
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{op}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        out = np.asarray(fn(a), dtype=np.int64)
        return _wrap(out.reshape((1,) * a.ndim) if keepdim else out)
    d = normalize_dim(op, dim, a.ndim)
    if a.ndim == 0:
        return _wrap(np.asarray(0, dtype=np.int64))
    if a.shape[d] == 0:
        raise OutOfRangeError(f"{op}(): Expected reduction dim {d} to have non-zero size.")
    return _wrap(np.asarray(fn(a, axis=d, keepdims=keepdim), dtype=np.int64))
