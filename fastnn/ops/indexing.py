"""Indexing by tensors of indices or masks: gather, scatter, scatter_add,
index_select, index_add, masked_fill, masked_select, take, take_along_dim,
nonzero.

Indices are int64 (int32 accepted) and checked against the sizes before
NumPy sees them, so a bad index is PyTorch's RuntimeError naming the index
and the size, never a silent wrap-around.  Gradients that gather are
scattered back with ``numpy.add.at`` (repeated indices accumulate), and an
op saves only its index or mask for the backward.

Examples
--------
>>> import fastnn
>>> x = fastnn.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
>>> x.gather(1, fastnn.tensor([[2, 0], [1, 1]]))
tensor([[3., 1.],
        [5., 5.]])
>>> fastnn.zeros(2, 3).scatter_add(1, fastnn.tensor([[0, 0]]), fastnn.ones(1, 2))
tensor([[2., 0., 0.],
        [0., 0., 0.]])
>>> x.masked_fill(x > 4, 0.0)
tensor([[1., 2., 3.],
        [4., 0., 0.]])
"""
import numpy as np

from .._core import TensorBase, name_node
from .._core import wrap as _wrap
from .._errors import OutOfRangeError, ShapeError
from ..autograd.function import Function
from ._common import check_index, operand, tensor
from ._util import normalize_dim, unbroadcast

_nd = np.ndarray


def _dtname(dt):
    return f"fastnn.{np.dtype(dt)}"


def _check_bounds(op, index, size, dim, allow_negative=False):
    if index.size == 0:
        return
    lo, hi = int(index.min()), int(index.max())
    low = -size if allow_negative else 0
    if lo < low or hi >= size:
        bad = lo if lo < low else hi
        raise OutOfRangeError(f"{op}(): index {bad} is out of bounds for dimension {dim} "
                           f"with size {size}")


def _fancy(index, dim):
    """The advanced-indexing tuple that picks, for every position of
    ``index``, the element at that position with the dim ``dim`` coordinate
    replaced by the index value (gather's addressing)."""
    nd = index.ndim
    out = []
    for d in range(nd):
        if d == dim:
            out.append(index)
        else:
            shp = [1] * nd
            shp[d] = index.shape[d]
            out.append(np.arange(index.shape[d]).reshape(shp))
    return tuple(out)


def _as_1d(x):
    return x.reshape(1) if x.ndim == 0 else x


def _check_gather(op, x, dim, index, src=None):
    """Validates gather/scatter arguments; returns the normalised dim."""
    check_index(op, index)
    d = normalize_dim(op, dim, x.ndim)
    xi, ii = _as_1d(x), _as_1d(index)
    if ii.ndim != xi.ndim and index.size:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"{'self' if src is None else 'input'} tensor")
    if index.size == 0:
        return d
    for k in range(xi.ndim):
        if k != d and ii.shape[k] > xi.shape[k]:
            raise RuntimeError(f"{op}(): Size does not match at dimension {k} expected index "
                               f"{list(index.shape)} to be smaller than self {list(x.shape)} "
                               f"apart from dimension {d}")
    if src is not None and isinstance(src, _nd):
        si = _as_1d(src)
        if si.ndim != ii.ndim or any(ii.shape[k] > si.shape[k] for k in range(ii.ndim)):
            raise RuntimeError(f"{op}(): Expected index {list(index.shape)} to be smaller than "
                               f"self {list(x.shape)} apart from dimension {d} and to be "
                               f"smaller size than src {list(src.shape)}")
    _check_bounds(op, index, xi.shape[d], d)
    return d


def _part(src, shape):
    """The leading ``shape`` block of src (scatter uses only that much)."""
    return src[tuple(slice(0, s) for s in shape)]


# ------------------------------------------------------------------ gather
class GatherFn(Function):
    """out[i][j][k] = x[i][index[i][j][k]][k] (for dim 1)."""
    raw = True

    @staticmethod
    def forward(ctx, x, dim, index):
        d = _check_gather("gather", x, dim, index)
        ctx.meta = (x.shape, d, index.shape)
        if index.size == 0:
            return np.empty(index.shape, x.dtype)
        fi = _fancy(_as_1d(index), d)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(index)
        return np.asarray(_as_1d(x)[fi]).reshape(index.shape)

    @staticmethod
    def backward(ctx, g):
        shape, d, ishape = ctx.meta
        gx = np.zeros(shape if shape else (1,), g.dtype)
        if g.size:
            (index,) = ctx.saved_tensors
            np.add.at(gx, _fancy(_as_1d(index), d), _as_1d(g))
        return gx.reshape(shape), None, None


def gather(input, dim, index, *, sparse_grad=False):
    """Values along ``dim`` at ``index`` (same rank as ``input``)."""
    return GatherFn.apply(tensor(input), dim, tensor(index))


# ----------------------------------------------------------------- scatter
class ScatterFn(Function):
    """out = x with out[..index..] = src (or a number): ``scatter``; with
    ``add=True`` the values are accumulated: ``scatter_add``."""
    raw = True

    @staticmethod
    def forward(ctx, x, dim, index, src, add=False, reduce=None):
        op = "scatter_add" if add else "scatter"
        d = _check_gather(op, x, dim, index, src)
        if isinstance(src, _nd) and src.dtype != x.dtype and not add and src.ndim:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
        out = x.copy()
        ctx.meta = (d, index.shape, src.shape if isinstance(src, _nd) else None, add)
        if index.size == 0:
            return out
        o1 = _as_1d(out)
        fi = _fancy(_as_1d(index), d)
        vals = _part(_as_1d(src), _as_1d(index).shape) if isinstance(src, _nd) and src.ndim \
            else src
        if add or reduce == "add":
            np.add.at(o1, fi, vals)
        elif reduce == "multiply":
            np.multiply.at(o1, fi, vals)
        elif reduce is not None:
            raise RuntimeError(f"{op}(): reduce argument must be either add or multiply, "
                               f"got {reduce!r}")
        else:
            o1[fi] = vals
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[3]:
            if reduce is not None:
                raise NotImplementedError(f"{op}(): the backward of reduce={reduce!r} is not "
                                          "implemented; use scatter_add or scatter_reduce")
            ctx.save_for_backward(index)
        return out

    @staticmethod
    def backward(ctx, g):
        d, ishape, sshape, add = ctx.meta
        nx, ns = ctx.needs_input_grad[0], ctx.needs_input_grad[3]
        gx = gs = None
        if not np.prod(ishape, dtype=np.int64):
            return (g if nx else None, None, None,
                    np.zeros(sshape, g.dtype) if ns and sshape is not None else None)
        (index,) = ctx.saved_tensors
        fi = _fancy(_as_1d(index), d)
        if nx:
            gx = g if add else g.copy()
            if not add:
                _as_1d(gx)[fi] = 0
        if ns and sshape is not None:
            gs = np.zeros(sshape if sshape else (1,), g.dtype)
            _part(gs, _as_1d(index).shape)[...] = _as_1d(g)[fi]
            gs = gs.reshape(sshape)
        elif ns:
            gs = np.asarray(_as_1d(g)[fi].sum())
        return gx, None, None, gs


def _scatter_src(src, value):
    if src is None and value is None:
        raise TypeError("scatter() missing 1 required argument: 'src' or 'value'")
    s = src if src is not None else value
    return operand(s)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """A copy of ``input`` with the values of ``src`` (or a number) written
    at ``index`` along ``dim``."""
    s = _scatter_src(src, value)
    x = tensor(input)
    if isinstance(s, TensorBase) and s._array.dtype != x._array.dtype and s._array.ndim == 0:
        s = s.type(x._array.dtype)
    out = ScatterFn.apply(x, dim, tensor(index), s, False, reduce)
    if isinstance(src, TensorBase) or reduce is not None:
        return out
    return name_node(out, x, "ScatterBackward1")                # (a number: the value form)


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim``
    (repeated indices accumulate)."""
    x, s = tensor(input), tensor(src)
    if s._array.dtype != x._array.dtype:
        raise RuntimeError("scatter_add(): Expected self.dtype to be equal to src.dtype")
    return name_node(ScatterFn.apply(x, dim, tensor(index), s, True), x, "ScatterAddBackward0")


# ------------------------------------------------------ index_select / add
def _check_index_1d(op, x, dim, index):
    check_index(op, index)
    if index.ndim > 1:
        raise OutOfRangeError(f"{op}(): Index is supposed to be a vector")   # (IndexError)
    d = normalize_dim(op, dim, x.ndim)
    _check_bounds(op, index, _as_1d(x).shape[d], d)
    return d


class IndexSelectFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dim, index):
        d = _check_index_1d("index_select", x, dim, index)
        ctx.meta = (x.shape, d)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(index)
        out = np.take(_as_1d(x), index.reshape(-1), axis=d)
        return out.reshape(()) if x.ndim == 0 else out

    @staticmethod
    def backward(ctx, g):
        shape, d = ctx.meta
        (index,) = ctx.saved_tensors
        gx = np.zeros(shape if shape else (1,), g.dtype)
        np.add.at(gx, (slice(None),) * d + (index.reshape(-1),), _as_1d(g))
        return gx.reshape(shape), None, None


def index_select(input, dim, index):
    """The slices of ``input`` along ``dim`` at the 1-D ``index``."""
    return IndexSelectFn.apply(tensor(input), dim, tensor(index))


class IndexAddFn(Function):
    """out = x; out[(:,)*dim + (index,)] += alpha * source (accumulating)."""
    raw = True

    @staticmethod
    def forward(ctx, x, dim, index, source, alpha=1):
        d = _check_index_1d("index_add", x, dim, index)
        want = list(_as_1d(x).shape)
        want[d] = index.size
        if list(_as_1d(source).shape) != want:
            raise RuntimeError(f"index_add_(): source has shape {list(source.shape)}, expected "
                               f"{want}")
        out = x.copy()
        np.add.at(_as_1d(out), (slice(None),) * d + (index.reshape(-1),),
                  _as_1d(source) * alpha if alpha != 1 else _as_1d(source))
        ctx.meta = (d, alpha, source.shape)
        if ctx.needs_input_grad[3]:
            ctx.save_for_backward(index)
        return out

    @staticmethod
    def backward(ctx, g):
        d, alpha, sshape = ctx.meta
        gs = None
        if ctx.needs_input_grad[3]:
            (index,) = ctx.saved_tensors
            gs = np.take(_as_1d(g), index.reshape(-1), axis=d) * alpha
            gs = gs.reshape(sshape)
        return (g if ctx.needs_input_grad[0] else None), None, None, gs


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source`` added at ``index`` along ``dim``."""
    return IndexAddFn.apply(tensor(input), dim, tensor(index), tensor(source), alpha)


# ------------------------------------------------------------ masked ops
def _check_mask(op, mask):
    if mask.dtype.kind != "b":
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype}")


class MaskedFillFn(Function):
    """x with ``value`` where mask (broadcast); the gradient of a 0-d Tensor
    value is the sum of the upstream gradient under the mask."""
    raw = True

    @staticmethod
    def forward(ctx, x, mask, value):
        _check_mask("masked_fill_", mask)
        if isinstance(value, _nd):
            if value.ndim:
                raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, "
                                   f"but got tensor with {value.ndim} dimension(s).")
        try:
            shape = np.broadcast_shapes(x.shape, mask.shape)
        except ValueError:
            raise ShapeError(f"masked_fill: the mask of shape {tuple(mask.shape)} cannot be "
                             f"broadcast to the input of shape {tuple(x.shape)}") from None
        out = np.where(mask, np.asarray(value).astype(x.dtype), x)
        ctx.meta = (x.shape, shape)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[2]:
            ctx.save_for_backward(mask)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        xshape, _ = ctx.meta
        z = g.dtype.type(0)
        gx = unbroadcast(np.where(mask, z, g), xshape) if ctx.needs_input_grad[0] else None
        gv = np.asarray(np.where(mask, g, z).sum()) if ctx.needs_input_grad[2] else None
        return gx, None, gv


def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` (a number or 0-d Tensor) where the
    bool ``mask`` is True."""
    v = operand(value)
    return MaskedFillFn.apply(tensor(input), tensor(mask), v)


class MaskedSelectFn(Function):
    raw = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint

    @staticmethod
    def forward(ctx, x, mask):
        _check_mask("masked_select:", mask)
        try:
            xb, mb = np.broadcast_arrays(x, mask)
        except ValueError:
            raise ShapeError(f"masked_select: shapes {tuple(x.shape)} and {tuple(mask.shape)} "
                             "cannot be broadcast together") from None
        ctx.meta = x.shape
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(mb)
        return np.asarray(xb[mb])

    @staticmethod
    def backward(ctx, g):
        (mb,) = ctx.saved_tensors
        gb = np.zeros(mb.shape, g.dtype)
        gb[mb] = g
        return unbroadcast(gb, ctx.meta), None


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor."""
    return MaskedSelectFn.apply(tensor(input), tensor(mask))


# ------------------------------------------------------- take / take_along
class TakeFn(Function):
    """Elements of the flattened input at ``index`` (negative counts from the end)."""
    raw = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint

    @staticmethod
    def forward(ctx, x, index):
        check_index("take", index)
        _check_bounds("take", index, x.size, 0, allow_negative=True)
        if x.size == 0 and index.size:
            raise IndexError("take(): tried to take from an empty tensor")
        ctx.shape = x.shape
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(index)
        return np.asarray(x.reshape(-1)[index])

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        gx = np.zeros(int(np.prod(ctx.shape, dtype=np.int64)), g.dtype)
        np.add.at(gx, index, g)
        return gx.reshape(ctx.shape), None


def take(input, index):
    """``input.flatten()[index]`` with the shape of ``index``."""
    return TakeFn.apply(tensor(input), tensor(index))


class TakeAlongDimFn(Function):
    """np.take_along_axis: index and input broadcast except along ``dim``."""
    raw = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint

    @staticmethod
    def forward(ctx, x, index, dim):
        check_index("take_along_dim", index)
        d = normalize_dim("take_along_dim", dim, x.ndim)
        if index.ndim != x.ndim:
            raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                               f"number of dimensions, but got {x.ndim} dimensions for input, "
                               f"and {index.ndim} dimensions for indices")
        _check_bounds("take_along_dim", index, x.shape[d], d)
        try:
            shp = list(np.broadcast_shapes(
                tuple(1 if k == d else s for k, s in enumerate(x.shape)),
                tuple(1 if k == d else s for k, s in enumerate(index.shape))))
        except ValueError:
            raise ShapeError(f"take_along_dim: shapes {tuple(x.shape)} and {tuple(index.shape)} "
                             f"cannot be broadcast apart from dim {d}") from None
        xs, ish = list(shp), list(shp)
        xs[d], ish[d] = x.shape[d], index.shape[d]
        xb = np.broadcast_to(x, xs)
        ib = np.broadcast_to(index, ish)
        ctx.meta = (x.shape, tuple(xs), d)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(ib)
        return np.take_along_axis(xb, ib, axis=d)

    @staticmethod
    def backward(ctx, g):
        (ib,) = ctx.saved_tensors
        xshape, bshape, d = ctx.meta
        gb = np.zeros(bshape, g.dtype)
        np.add.at(gb, _fancy(np.ascontiguousarray(ib), d), g)
        return unbroadcast(gb, xshape), None, None


def take_along_dim(input, indices, dim=None):
    """Values of ``input`` at ``indices`` along ``dim`` (broadcasting the
    other dims); with ``dim=None``, of the flattened input."""
    x, i = tensor(input), tensor(indices)
    if dim is None:
        return TakeAlongDimFn.apply(x.reshape(-1), i.reshape(-1), 0)
    return TakeAlongDimFn.apply(x, i, dim)


# ---------------------------------------------------------------- nonzero
def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or with
    ``as_tuple=True`` one 1-D tensor per dim."""
    a = tensor(input)._array
    if a.ndim == 0:
        n = int(bool(a))
        if as_tuple:
            return (_wrap(np.zeros(n, np.int64)),)
        return _wrap(np.zeros((n, 0), np.int64))
    idx = np.nonzero(a)
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64, copy=False)) for i in idx)
    return _wrap(np.stack(idx, axis=1).astype(np.int64, copy=False) if idx[0].size
                 else np.zeros((0, a.ndim), np.int64))


def argwhere(input):
    """``nonzero(input)``: an (n, ndim) int64 tensor of indices."""
    return nonzero(input)
