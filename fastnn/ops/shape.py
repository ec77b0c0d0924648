"""Views and re-arrangements: reshape, transpose, permute, indexing, cat,
stack, dtype casts.  They move no arithmetic, so they are NumPy views or
copies; their backward is the inverse re-arrangement."""
import numpy as np

from .._errors import ShapeError
from ..autograd.function import Function
from ._util import normalize_dim, unbroadcast


class Reshape(Function):
    raw = True
    _view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: shape {tuple(shape)} is invalid for input of shape "
                             f"{tuple(x.shape)} ({x.size} elements)") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Permute(Function):
    raw = True
    _view = True

    @staticmethod
    def forward(ctx, x, dims):
        dims = tuple(normalize_dim("permute", d, x.ndim) for d in dims)
        if sorted(dims) != list(range(x.ndim)):
            raise ShapeError(f"permute: dims {dims} are not a permutation of the "
                             f"{x.ndim} dimensions of shape {tuple(x.shape)}")
        ctx.inv = tuple(np.argsort(dims))
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, ctx.inv)


class GetItem(Function):
    raw = True
    _view = True          # basic indexing gives a view; advanced, a copy (no base)

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        return np.asarray(x[index])

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(ctx.shape, g.dtype)
        np.add.at(gx, ctx.index, g)
        return gx


class Expand(Function):
    """``expand``: a read-only broadcast view; the backward sums over the
    broadcast dims."""
    raw = True
    _view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise RuntimeError(f"The expanded size of the tensor ({list(shape)}) must match "
                               f"the existing size {list(x.shape)} at non-singleton "
                               "dimensions") from None

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.shape)


class IndexPut(Function):
    """``out = x.copy(); out[index] = value``: the out-of-place form of
    ``x[index] = value`` (autograd's route for item assignment)."""
    raw = True

    @staticmethod
    def forward(ctx, x, value, index):
        out = x.copy()
        try:
            out[index] = value
        except (ValueError, IndexError) as e:
            raise ShapeError(f"index_put: {e}") from None
        ctx.index = index
        ctx.vshape = np.shape(value)
        return out

    @staticmethod
    def backward(ctx, g):
        nx, nv = ctx.needs_input_grad[:2]
        gx = gv = None
        if nx:
            gx = g.copy()
            gx[ctx.index] = 0
        if nv:
            gv = unbroadcast(np.asarray(g[ctx.index]), ctx.vshape)
        return gx, gv, None


class Cat(Function):
    raw = True

    @staticmethod
    def forward(ctx, *xs, dim=0):
        if not xs:
            raise ValueError("cat: expected a non-empty sequence of tensors")
        d = normalize_dim("cat", dim, xs[0].ndim)
        ctx.dim = d
        ctx.sizes = [x.shape[d] for x in xs]
        try:
            return np.concatenate(xs, axis=d)
        except ValueError as e:
            raise ShapeError(f"cat: {e}; shapes {[tuple(x.shape) for x in xs]}") from None

    @staticmethod
    def backward(ctx, g):
        cuts = np.cumsum(ctx.sizes)[:-1]
        return tuple(np.split(g, cuts, axis=ctx.dim))


class Stack(Function):
    raw = True

    @staticmethod
    def forward(ctx, *xs, dim=0):
        if not xs:
            raise ValueError("stack: expected a non-empty sequence of tensors")
        d = normalize_dim("stack", dim, xs[0].ndim + 1)
        ctx.dim = d
        try:
            return np.stack(xs, axis=d)
        except ValueError as e:
            raise ShapeError(f"stack: {e}; shapes {[tuple(x.shape) for x in xs]}") from None

    @staticmethod
    def backward(ctx, g):
        return tuple(np.take(g, i, axis=ctx.dim) for i in range(g.shape[ctx.dim]))


class Cast(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype)


class Clone(Function):
    raw = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g
