"""Views and re-arrangements: reshape, transpose, permute, indexing, cat,
stack, split/chunk/unbind, narrow/select, flip, roll, tril/triu, repeat,
diagonal, dtype casts.  They move no arithmetic, so they are NumPy views or
copies; their backward is the inverse re-arrangement.

The ops whose output is a NumPy view of the input set ``_view = True`` (the
output shares the input's version counter, as in PyTorch): reshape of a
contiguous tensor, permute, basic indexing, narrow, select, the pieces of
split/chunk/unbind, expand and diagonal.  ``flip`` copies (PyTorch's does),
so does ``roll``.

Examples
--------
>>> import fastnn
>>> x = fastnn.arange(6.0).reshape(2, 3)
>>> [p.shape for p in x.split([1, 2], dim=1)]
[fastnn.Size([2, 1]), fastnn.Size([2, 2])]
>>> x.flip(1)
tensor([[2., 1., 0.],
        [5., 4., 3.]])
>>> x.repeat(1, 2)
tensor([[0., 1., 2., 0., 1., 2.],
        [3., 4., 5., 3., 4., 5.]])
"""
import numpy as np

from .._core import TensorBase
from .._errors import OutOfRangeError, ShapeError
from ..autograd.function import Function
from ._common import dims_arg, result_type, tensor
from ._util import normalize_dim, unbroadcast

_BASIC = (int, slice, type(None), type(Ellipsis))


def _is_basic(index):
    """True for an index of ints, slices, None and Ellipsis only: NumPy's
    basic indexing, which gives a view and never repeats an element."""
    if type(index) is tuple:
        for i in index:
            if type(i) not in _BASIC:
                return False
        return True
    return type(index) in _BASIC


class ReshapeFn(Function):
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


class PermuteFn(Function):
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


class GetItemFn(Function):
    raw = True
    _view = True          # basic indexing gives a view; advanced, a copy (no base)

    @staticmethod
    def _torch_name(ctx):
        """PyTorch's node for the indexing done: an array index, an int, or slices."""
        if not _is_basic(ctx.index):
            return "IndexBackward0"
        if isinstance(ctx.index, slice):
            return "SliceBackward0"          # (one slice, even a full one)
        idx = ctx.index if isinstance(ctx.index, tuple) else (ctx.index,)
        # PyTorch indexes one entry at a time, skipping the slices that keep
        # a whole dim: the last entry that did something names the node
        name = "AliasBackward0"
        nd = len(ctx.shape)
        n_dims = sum(1 for i in idx if i is not None and i is not Ellipsis)
        d = 0
        for i in idx:
            if i is None:
                name = "UnsqueezeBackward0"
            elif i is Ellipsis:
                d += nd - n_dims
            elif isinstance(i, slice):
                if i.indices(ctx.shape[d]) != (0, ctx.shape[d], 1):
                    name = "SliceBackward0"
                d += 1
            else:
                name = "SelectBackward0"
                d += 1
        return name

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        try:
            return np.asarray(x[index])
        except IndexError as e:
            raise IndexError(f"index: {e} (tensor of shape {list(x.shape)})") from None

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(ctx.shape, g.dtype)
        if _is_basic(ctx.index):
            gx[ctx.index] = g               # a view: every element at most once
        else:
            np.add.at(gx, ctx.index, g)
        return gx


class ExpandFn(Function):
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


class IndexPutFn(Function):
    """``out = x.copy(); out[index] = value``: the out-of-place form of
    ``x[index] = value`` (autograd's route for item assignment); with
    ``accumulate`` the values are added (repeated indices accumulate).
    ``inplace=True`` writes into x itself (Tensor.__setitem__ under
    autograd: the backward needs only the index, so no copy is kept)."""
    raw = True

    @staticmethod
    def forward(ctx, x, value, index, accumulate=False, inplace=False):
        out = x if inplace else x.copy()
        try:
            if accumulate:
                np.add.at(out, index, value)
            else:
                out[index] = value
        except IndexError as e:             # an index out of bounds (PyTorch: IndexError)
            raise OutOfRangeError(f"index_put: {e}") from None
        except ValueError as e:             # values of a shape that does not broadcast
            raise ShapeError(f"index_put: {e}") from None
        ctx.index = index
        ctx.accumulate = accumulate
        ctx.vshape = np.shape(value)
        return out

    @staticmethod
    def backward(ctx, g):
        nx, nv = ctx.needs_input_grad[:2]
        gx = gv = None
        if nx:
            gx = g
            if not ctx.accumulate:
                gx = g.copy()
                gx[ctx.index] = 0
        if nv:
            gv = np.asarray(g[ctx.index])
            if not ctx.accumulate and not _is_basic(ctx.index) and gv.shape != ctx.vshape:
                gv = gv.copy()
            gv = unbroadcast(gv, ctx.vshape)
        return gx, gv, None, None, None


def _common_dtype(xs):
    """The dtype of cat/stack of arrays xs: PyTorch's promotion (int64 with
    float32 is float32, not NumPy's float64)."""
    dt = xs[0].dtype
    for x in xs:
        if x.dtype != dt:
            return result_type(*xs)
    return dt


class CatFn(Function):
    """Concatenation along ``dim``, in the promoted dtype.  As PyTorch's
    (a legacy rule), 1-D empty inputs are skipped when others are not, so
    ``cat([zeros(0), ones(2, 2)])`` is ``ones(2, 2)``; they still take part
    in the dtype."""
    raw = True

    @staticmethod
    def forward(ctx, *xs, dim=0):
        if not xs:
            raise ValueError("cat: expected a non-empty sequence of tensors")
        for i, x in enumerate(xs):
            if x.ndim == 0:
                raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                                   "concatenated")
        dt = _common_dtype(xs)
        ctx.dtypes = [x.dtype for x in xs]
        skipped = [x.shape == (0,) for x in xs]
        keep = [x for x, sk in zip(xs, skipped) if not sk]
        ctx.skipped = skipped if keep and len(keep) < len(xs) else None
        if not keep:                    # all 1-D empty: empty, whatever dim (as PyTorch)
            ctx.skipped, ctx.dim, ctx.sizes = skipped, 0, [0] * len(xs)
            return np.empty(0, dt)
        d = normalize_dim("cat", dim, keep[0].ndim)
        ctx.dim = d
        ctx.sizes = [0 if sk else x.shape[d] for x, sk in zip(xs, skipped)]   # (per input)
        try:
            return np.concatenate(keep, axis=d, dtype=dt, casting="unsafe")
        except ValueError as e:
            raise ShapeError(f"cat: {e}; shapes {[tuple(x.shape) for x in xs]}") from None

    @staticmethod
    def backward(ctx, g):
        if ctx.skipped is None:
            gs = np.split(g, np.cumsum(ctx.sizes)[:-1], axis=ctx.dim)
        else:                            # the skipped inputs get empty gradients
            gs, k = [], 0
            for sk, s in zip(ctx.skipped, ctx.sizes):
                if sk:
                    gs.append(np.zeros(0, g.dtype))
                else:
                    gs.append(np.take(g, np.arange(k, k + s), axis=ctx.dim))
                    k += s
        return tuple(gi if gi.dtype == dt or dt.kind != "f" else gi.astype(dt)
                     for gi, dt in zip(gs, ctx.dtypes))


class StackFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, *xs, dim=0):
        if not xs:
            raise ShapeError("stack: expected a non-empty sequence of tensors")  # RuntimeError
        d = normalize_dim("stack", dim, xs[0].ndim + 1)
        ctx.dim = d
        try:
            return np.stack(xs, axis=d, dtype=_common_dtype(xs), casting="unsafe")
        except ValueError as e:
            raise ShapeError(f"stack: {e}; shapes {[tuple(x.shape) for x in xs]}") from None

    @staticmethod
    def backward(ctx, g):
        return tuple(np.take(g, i, axis=ctx.dim) for i in range(g.shape[ctx.dim]))


class CastFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype)


class CloneFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


# ------------------------------------------------------------ split family
class SplitFn(Function):
    """Pieces of x along ``dim`` (views) at the given sizes; the backward
    concatenates the pieces' gradients (zeros for unused pieces)."""
    raw = True
    _view = True

    @staticmethod
    def forward(ctx, x, dim, sizes):
        ctx.dim = dim
        pre = (slice(None),) * dim
        out, start = [], 0
        for n in sizes:
            out.append(x[pre + (slice(start, start + n),)])
            start += n
        return tuple(out)

    @staticmethod
    def backward(ctx, *gs):
        return np.concatenate(gs, axis=ctx.dim)


class UnbindFn(Function):
    """The slices of x along ``dim`` (views without that dim); the backward
    stacks their gradients."""
    raw = True
    _view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        pre = (slice(None),) * dim
        return tuple(x[pre + (i,)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *gs):
        return np.stack(gs, axis=ctx.dim)


def _record_views(parent, pieces, dim, starts=None):
    """Remembers where each piece sits in ``parent`` (for in-place changes
    made through a piece; see Tensor._inplace)."""
    pre = (slice(None),) * dim
    for i, p in enumerate(pieces):
        p._view_of = (parent, pre + ((i,) if starts is None else
                                     (slice(starts[i], starts[i] + p._array.shape[dim]),)))
    return pieces


def _split_sizes(x, dim, split_size_or_sections):
    n = x._array.shape[dim]
    s = split_size_or_sections
    if isinstance(s, TensorBase):
        s = s.tolist()
    if isinstance(s, (list, tuple)):
        sizes = [int(v) for v in s]
        if sum(sizes) != n or any(v < 0 for v in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {dim}), but got "
                               f"split_sizes={sizes}")
        return sizes
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
        raise TypeError(f"split(): split_size must be an int or a list of ints, got "
                        f"{type(s).__name__}")
    s = int(s)
    if s < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
    if s == 0:
        if n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        return [0]
    return [min(s, n - i) for i in range(0, n, s)] or [0]


def _pieces(x, dim, sizes):
    out = SplitFn.apply(x, dim, sizes)
    out = out if isinstance(out, tuple) else (out,)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
    return _record_views(x, out, dim, starts)


def split(tensor_, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or
    of the listed sizes.  The pieces are views."""
    x = tensor(tensor_)
    d = normalize_dim("split", dim, x._array.ndim)
    if x._array.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    return _pieces(x, d, _split_sizes(x, d, split_size_or_sections))


def chunk(input, chunks, dim=0):
    """At most ``chunks`` pieces of equal size ceil(n / chunks) along ``dim``."""
    x = tensor(input)
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if x._array.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = normalize_dim("chunk", dim, x._array.ndim)
    n = x._array.shape[d]
    size = -(-n // int(chunks))
    if n == 0:
        return _pieces(x, d, [0] * int(chunks))
    return _pieces(x, d, _split_sizes(x, d, size))


def split_with_sizes(input, split_sizes, dim=0):
    """Pieces of the listed sizes along ``dim`` (they must sum to its size);
    views, as ``split`` with a list."""
    x = tensor(input)
    if isinstance(split_sizes, TensorBase):
        split_sizes = split_sizes.tolist()
    if not isinstance(split_sizes, (list, tuple)):
        raise TypeError("split_with_sizes(): argument 'split_sizes' (position 2) must be tuple "
                        f"of ints, not {type(split_sizes).__name__}")
    if x._array.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = normalize_dim("split_with_sizes", dim, x._array.ndim)
    return _pieces(x, d, _split_sizes(x, d, split_sizes))


# PyTorch's unsafe_* forms differ from split / chunk / split_with_sizes only
# in not tracking the pieces as views of the input (for in-place changes
# under autograd); fastnn's pieces are views, the safe behaviour.
def unsafe_split(input, split_size, dim=0):
    """``split`` with an int ``split_size`` (PyTorch's unsafe form)."""
    if isinstance(split_size, bool) or not isinstance(split_size, (int, np.integer)):
        raise TypeError("unsafe_split(): argument 'split_size' (position 2) must be int, not "
                        f"{type(split_size).__name__}")
    return split(input, split_size, dim)


def unsafe_chunk(input, chunks, dim=0):
    """``chunk`` (PyTorch's unsafe form)."""
    return chunk(input, chunks, dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """``split_with_sizes`` (PyTorch's unsafe form)."""
    return split_with_sizes(input, split_sizes, dim)


def tensor_split(input, indices_or_sections, dim=0):
    """``numpy.array_split``: n pieces (sizes differing by at most one) or
    pieces between the given indices."""
    x = tensor(input)
    d = normalize_dim("tensor_split", dim, x._array.ndim)
    n = x._array.shape[d]
    s = indices_or_sections
    if isinstance(s, TensorBase):
        # PyTorch: a 1-D integer Tensor holds indices, a 0-d one the number of sections
        if s._array.dtype.kind not in "iu" or s._array.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor of dtype long, but "
                               f"got a {s._array.ndim}-dimensional tensor of dtype "
                               f"{s._array.dtype}")
        s = s._array.tolist()
    if isinstance(s, (list, tuple)):
        cuts = [min(max(int(c), 0), n) for c in s]
        bounds = [0] + cuts + [n]
        sizes = [max(bounds[i + 1] - bounds[i], 0) for i in range(len(bounds) - 1)]
        starts = bounds[:-1]
        pieces = tuple(GetItemFn.apply(x, (slice(None),) * d + (slice(a, a + m),))
                       for a, m in zip(starts, sizes))
        return _record_views(x, pieces, d, starts)
    k = int(s)
    if k <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {k}")
    q, r = divmod(n, k)
    return _pieces(x, d, [q + 1] * r + [q] * (k - r))


def unbind(input, dim=0):
    """The slices along ``dim`` (views, without that dim), as a tuple."""
    x = tensor(input)
    if x._array.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = normalize_dim("unbind", dim, x._array.ndim)
    if x._array.shape[d] == 0:
        return ()
    out = UnbindFn.apply(x, d)
    return _record_views(x, out if isinstance(out, tuple) else (out,), d)


def _along(op, input, dim, zero_dim_error):
    """(tensor, normalised dim, its size) for narrow/select."""
    x = tensor(input)
    nd = x._array.ndim
    if nd == 0:
        raise zero_dim_error(f"{op}() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(op, dim, nd)
    return x, d, x._array.shape[d]


def _view_at(x, idx):
    out = GetItemFn.apply(x, idx)
    out._view_of = (x, idx)
    return out


def narrow(input, dim, start, length):
    """The view of ``length`` elements from ``start`` along ``dim``."""
    x, d, n = _along("narrow", input, dim, RuntimeError)
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _view_at(x, (slice(None),) * d + (slice(start, start + int(length)),))


def select(input, dim, index):
    """The view at ``index`` along ``dim`` (that dim removed)."""
    x, d, n = _along("select", input, dim, IndexError)
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{list(x._array.shape)} at dimension {d}")
    return _view_at(x, (slice(None),) * d + (i % n,))


# ------------------------------------------------------------- rearrange
class FlipFn(Function):
    """Reverses the order along dims (a copy, as PyTorch's flip)."""
    raw = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy() if x.ndim else x.copy()

    @staticmethod
    def backward(ctx, g):
        return np.flip(g, ctx.dims) if g.ndim else g


def flip(input, dims):
    """A copy with the order of the elements reversed along ``dims``."""
    x = tensor(input)
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    d = dims_arg("flip", tuple(dims), x._array.ndim)
    return FlipFn.apply(x, d)


def fliplr(input):
    """flip(input, 1) (at least 2-D)."""
    x = tensor(input)
    if x._array.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(x, (1,))


def flipud(input):
    """flip(input, 0) (at least 1-D)."""
    x = tensor(input)
    if x._array.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(x, (0,))


class RollFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        s = ctx.shifts
        neg = tuple(-v for v in s) if isinstance(s, tuple) else -s
        return np.roll(g, neg, ctx.dims)


def roll(input, shifts, dims=None):
    """Rotates the elements by ``shifts`` along ``dims`` (the flattened
    tensor when ``dims`` is None)."""
    x = tensor(input)
    nd = x._array.ndim
    if dims is None:
        if isinstance(shifts, (tuple, list)):
            if len(shifts) != 1:
                raise RuntimeError(f"roll: shifts {tuple(shifts)} need dims of the same length")
            shifts = shifts[0]
        return RollFn.apply(x, int(shifts), None)
    if isinstance(dims, (tuple, list)) or isinstance(shifts, (tuple, list)):
        sh = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
        dm = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if len(sh) != len(dm):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, "
                               f"dims:{len(dm)}")
        dm = tuple(normalize_dim("roll", d, nd) for d in dm)
        return RollFn.apply(x, tuple(int(v) for v in sh), dm)
    return RollFn.apply(x, int(shifts), normalize_dim("roll", dims, nd))


class TriFn(Function):
    """Lower (tril) or upper (triu) triangle of the last two dims."""
    raw = True

    @staticmethod
    def _torch_name(ctx):
        return "TriuBackward0" if ctx.upper else "TrilBackward0"

    @staticmethod
    def forward(ctx, x, diagonal, upper):
        name = "triu" if upper else "tril"
        if x.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        ctx.k, ctx.upper = diagonal, upper
        return np.triu(x, diagonal) if upper else np.tril(x, diagonal)

    @staticmethod
    def backward(ctx, g):
        return np.triu(g, ctx.k) if ctx.upper else np.tril(g, ctx.k)


def tril(input, diagonal=0):
    """Zeros above the ``diagonal``-th diagonal of the last two dims."""
    return TriFn.apply(tensor(input), int(diagonal), False)


def triu(input, diagonal=0):
    """Zeros below the ``diagonal``-th diagonal of the last two dims."""
    return TriFn.apply(tensor(input), int(diagonal), True)


class RepeatFn(Function):
    """``Tensor.repeat``: tiles x ``sizes[i]`` times along dim i (x's shape
    padded with leading ones); the backward sums the tiles."""
    raw = True

    @staticmethod
    def forward(ctx, x, sizes):
        if len(sizes) < x.ndim:
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than "
                               "number of dimensions of tensor")
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"Trying to create tensor with negative dimension: {sizes}")
        ctx.shape = x.shape
        return np.tile(x, sizes)

    @staticmethod
    def backward(ctx, g):
        shape = ctx.shape
        k = g.ndim - len(shape)
        full = (1,) * k + tuple(shape)
        reps = [g.shape[i] // full[i] if full[i] else 0 for i in range(g.ndim)]
        inter = []
        for r, s in zip(reps, full):
            inter += [r, s]
        if 0 in g.shape:
            return np.zeros(shape, g.dtype)
        gs = g.reshape(inter).sum(axis=tuple(range(0, 2 * g.ndim, 2)))
        return gs.reshape(shape)


def tile(input, dims):
    """``repeat`` with ``dims`` padded by leading ones to the tensor's rank."""
    x = tensor(input)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    dims = (1,) * (x._array.ndim - len(dims)) + dims
    return RepeatFn.apply(x, tuple(int(d) for d in dims))


class RepeatInterleaveFn(Function):
    raw = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint

    @staticmethod
    def forward(ctx, x, repeats, dim):
        n = x.shape[dim]
        if isinstance(repeats, np.ndarray) and repeats.size not in (1, n):
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {repeats.size} and input.size({dim}) = {n}")
        if np.any(np.asarray(repeats) < 0):
            raise RuntimeError("repeats can not be negative")
        ctx.dim, ctx.n = dim, n
        ctx.src = np.repeat(np.arange(n), repeats)
        return np.repeat(x, repeats, axis=dim)

    @staticmethod
    def backward(ctx, g):
        shape = list(g.shape)
        shape[ctx.dim] = ctx.n
        gx = np.zeros(shape, g.dtype)
        np.add.at(gx, (slice(None),) * ctx.dim + (ctx.src,), g)
        return gx


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times
    (an int or one count per element); ``repeat_interleave(counts)`` alone
    repeats the indices 0..n-1."""
    x = tensor(input)
    if repeats is None:
        c = x._array
        if c.ndim != 1 or c.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be a 1-D integer tensor")
        from .._core import wrap
        return wrap(np.repeat(np.arange(c.size, dtype=np.int64), c))
    r = repeats._array if isinstance(repeats, TensorBase) else repeats
    if isinstance(r, np.ndarray) and r.ndim == 0:
        r = int(r)
    if dim is None:
        return RepeatInterleaveFn.apply(x.reshape(-1), r, 0)
    return RepeatInterleaveFn.apply(x, r, normalize_dim("repeat_interleave", dim,
                                                        x._array.ndim))


class DiagonalFn(Function):
    """The diagonal of dims (dim1, dim2) at ``offset``, as the last dim: a
    view that writes through to x, as PyTorch's (NumPy's own is read-only)."""
    raw = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint
    _view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.meta = (x.shape, offset, dim1, dim2)
        m = np.moveaxis(x, (dim1, dim2), (-2, -1))
        m = m[..., :, offset:] if offset >= 0 else m[..., -offset:, :]
        n = min(m.shape[-2], m.shape[-1])
        # one step along the diagonal is one step along each of the two dims
        # (as_strided keeps x's writeability: an expand()ed x stays read-only)
        return np.lib.stride_tricks.as_strided(
            m, m.shape[:-2] + (n,), m.strides[:-2] + (m.strides[-2] + m.strides[-1],))

    @staticmethod
    def backward(ctx, g):
        shape, offset, d1, d2 = ctx.meta
        gx = np.zeros(shape, g.dtype)
        m = np.moveaxis(gx, (d1, d2), (-2, -1))
        i = np.arange(g.shape[-1])
        m[..., i + max(-offset, 0), i + max(offset, 0)] = g
        return gx


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal (``offset`` above the main one) of dims dim1, dim2, as
    a view with that diagonal as the last dim."""
    x = tensor(input)
    nd = x._array.ndim
    if nd < 2:
        raise OutOfRangeError(f"diagonal(): input must have at least 2 dimensions, got {nd}")
    d1, d2 = normalize_dim("diagonal", dim1, nd), normalize_dim("diagonal", dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = int(offset)
    out = DiagonalFn.apply(x, offset, d1, d2)
    if {d1, d2} == {nd - 2, nd - 1}:
        # the same elements as an index of x in the same order (the last two
        # dims indexed by arrays), so an in-place change of the diagonal under
        # autograd is replayed on x as an index assignment (Tensor._inplace)
        i = np.arange(out._array.shape[-1])
        idx = [slice(None)] * nd
        idx[d1], idx[d2] = i + max(-offset, 0), i + max(offset, 0)
        out._view_of = (x, tuple(idx))
    return out


class DiagEmbedFn(Function):
    """(*, k) -> (*, n, n): square matrices with the last dim of x on their
    ``offset`` diagonal (n = k + |offset|)."""
    raw = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint

    @staticmethod
    def forward(ctx, x, offset):
        n = x.shape[-1] + abs(offset)
        out = np.zeros(x.shape[:-1] + (n, n), x.dtype)
        i = np.arange(x.shape[-1])
        ctx.rc = (Ellipsis, i + max(-offset, 0), i + max(offset, 0))
        out[ctx.rc] = x
        return out

    @staticmethod
    def backward(ctx, g):
        return np.ascontiguousarray(g[ctx.rc]), None


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices with the last dim of input on their ``offset`` diagonal, the
    two new dims at ``dim1`` and ``dim2`` of the output (``torch.diag_embed``)."""
    x = tensor(input)
    nd = x._array.ndim + 1
    d1, d2 = normalize_dim("diag_embed", dim1, nd), normalize_dim("diag_embed", dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if x._array.ndim == 0:
        raise RuntimeError("diag_embed(): input must have at least 1 dimension")
    y = DiagEmbedFn.apply(x, int(offset))
    return movedim(y, (nd - 2, nd - 1), (d1, d2))


def diag(input, diagonal=0):
    """1-D input: the square matrix with it on a diagonal; 2-D input: a copy
    of that diagonal."""
    x = tensor(input)
    nd = x._array.ndim
    if nd == 1:
        return DiagEmbedFn.apply(x, int(diagonal))
    if nd == 2:
        return CloneFn.apply(DiagonalFn.apply(x, int(diagonal), 0, 1))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")


def trace(input):
    """The sum of the main diagonal of a 2-D tensor."""
    x = tensor(input)
    if x._array.ndim != 2:
        raise RuntimeError("trace: expected a matrix")
    return DiagonalFn.apply(x, 0, 0, 1).sum()


def movedim(input, source, destination):
    """Moves dims ``source`` to positions ``destination`` (ints or tuples)."""
    x = tensor(input)
    nd = x._array.ndim
    src = source if isinstance(source, (tuple, list)) else (source,)
    dst = destination if isinstance(destination, (tuple, list)) else (destination,)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src = [normalize_dim("movedim", d, nd) for d in src]
    dst = [normalize_dim("movedim", d, nd) for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError("movedim: repeated dim in source or destination")
    order = [d for d in range(nd) if d not in src]
    perm = [None] * nd
    for s_, d_ in zip(src, dst):
        perm[d_] = s_
    it = iter(order)
    perm = [p if p is not None else next(it) for p in perm]
    return PermuteFn.apply(x, tuple(perm))
