"""Building and rearranging tensors: ``rot90``, ``vander``,
``tril_indices``/``triu_indices``, ``combinations``, ``cartesian_prod``,
``block_diag``, ``atleast_1d/2d/3d``, ``column_stack``/``row_stack``/``dstack``,
``hsplit``/``vsplit``/``dsplit``, ``ravel``, ``unflatten``, ``narrow_copy``,
``adjoint``, ``unravel_index`` and ``nonzero_static``.

All are compositions of the differentiable shape ops (flip, permute,
reshape, index, cat, stack, split), so gradients flow through them;
the index constructors give int64 tensors.  Mixed dtypes are promoted as
PyTorch's ``cat`` does (``block_diag``, the stacks).

Examples
--------
>>> import fastnn
>>> fastnn.rot90(fastnn.tensor([[1, 2], [3, 4]]))
tensor([[2, 4],
        [1, 3]])
>>> fastnn.tril_indices(3, 3)
tensor([[0, 1, 1, 2, 2, 2],
        [0, 0, 1, 0, 1, 2]])
>>> fastnn.combinations(fastnn.tensor([1, 2, 3]))
tensor([[1, 2],
        [1, 3],
        [2, 3]])
"""
import itertools
import numbers

import numpy as np

from .._core import TensorBase
from .._errors import ShapeError
from .._core import wrap as _wrap
from ._common import I64, promote_types, tensor
from ._util import normalize_dim
from .reduction import into


def _tensors(tensors):
    if isinstance(tensors, TensorBase):
        raise TypeError("expected a sequence of tensors, got a Tensor")
    return [tensor(t) for t in tensors]


def _promoted(ts):
    if not ts:
        return ts
    dt = ts[0]._array.dtype
    for t in ts[1:]:
        dt = promote_types(dt, t._array.dtype)
    return [t if t._array.dtype == dt else t.to(dt) for t in ts]


def _cat(ts, d):
    from .._tensor import cat
    return cat(_promoted(ts), d)


# ------------------------------------------------------------------ rot90
def rot90(input, k=1, dims=(0, 1)):
    """Rotates by 90 degrees ``k`` times in the plane of ``dims`` (from the
    first dim towards the second)."""
    x = tensor(input)
    nd = x._array.ndim
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = (normalize_dim("rot90", d, nd) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k = int(k) % 4
    if k == 1:
        return x.flip([d1]).transpose(d0, d1)
    if k == 2:
        return x.flip([d0, d1])
    if k == 3:
        return x.flip([d0]).transpose(d0, d1)
    return x.clone()


# ---------------------------------------------------------------- vander
def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D tensor: columns x**(N-1), ..., x**0
    (``increasing``: the other order); bool and integers give int64.  (Powers,
    not PyTorch's running product, so the gradient is differentiable again.)"""
    v = tensor(x)
    if v._array.ndim != 1:
        raise ShapeError("x must be a one-dimensional tensor.")
    n = v._array.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if v._array.dtype.kind in "bu" or (v._array.dtype.kind == "i" and v._array.dtype != I64):
        v = v.to(I64)
    from .factories import arange
    p = arange(n) if increasing else arange(n - 1, -1, -1)
    return v.reshape(-1, 1) ** p.reshape(1, -1)


# --------------------------------------------------------- index builders
def _tri_indices(op, row, col, offset, dtype, lower):
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    from .._tensor import _resolve_dtype
    dt = _resolve_dtype(dtype) if dtype is not None else I64
    if dt.kind not in "iu":
        raise RuntimeError(f'"{op}" not implemented for \'{dt}\'')
    r, c = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return _wrap(np.stack([r, c]).astype(dt).reshape(2, -1))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the lower triangle of a row x col matrix
    (on and below diagonal ``offset``), row by row."""
    return _tri_indices("tril_indices", int(row), int(col), int(offset), dtype, True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the upper triangle (on and above ``offset``)."""
    return _tri_indices("triu_indices", int(row), int(col), int(offset), dtype, False)


def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of a 1-D tensor's elements, as rows (in
    ``itertools.combinations`` order); differentiable."""
    x = tensor(input)
    if x._array.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x._array.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _wrap(np.zeros(0, x._array.dtype))
    n = x._array.shape[0]
    gen = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = np.array(list(gen(range(n), r)), dtype=np.int64).reshape(-1, r)
    return x[idx]


def cartesian_prod(*tensors):
    """The Cartesian product of 1-D tensors (same dtype), as rows; one
    tensor is returned as it is."""
    ts = _tensors(tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple))
                  else tensors)
    for t in ts:
        if t._array.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._array.shape)}")
    if len(ts) == 1:
        return ts[0]
    if len({t._array.dtype for t in ts}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    from .._tensor import meshgrid, stack
    grids = meshgrid(*ts, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def block_diag(*tensors):
    """A block-diagonal matrix of the inputs (0-d: 1x1, 1-D: a row),
    promoted to a common dtype; differentiable."""
    ts = _tensors(tensors)
    for i, t in enumerate(ts):
        if t._array.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t._array.ndim} dimensions")
    from .factories import zeros
    if not ts:
        return zeros(1, 0)
    ts = _promoted([t.reshape(1, -1) if t._array.ndim < 2 else t for t in ts])
    dt = ts[0]._array.dtype
    cols = sum(t._array.shape[1] for t in ts)
    rows, c0 = [], 0
    for t in ts:
        r, c = t._array.shape
        parts = []
        if c0:
            parts.append(zeros(r, c0, dtype=dt))
        parts.append(t)
        if cols - c0 - c:
            parts.append(zeros(r, cols - c0 - c, dtype=dt))
        rows.append(_cat(parts, 1) if len(parts) > 1 else t)
        c0 += c
    return _cat(rows, 0)


# ---------------------------------------------------------- atleast / stacks
def _atleast(n, tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = []
    for t in tensors:
        t = tensor(t)
        nd = t._array.ndim
        if nd < n:
            shp = tuple(t._array.shape)
            if n == 3:
                shp = {0: (1, 1, 1), 1: (1,) + shp + (1,), 2: shp + (1,)}[nd]
            else:
                shp = (1,) * (n - nd) + shp
            t = t.reshape(shp)
        out.append(t)
    return out[0] if len(out) == 1 else tuple(out)


def atleast_1d(*tensors):
    """Each input with at least 1 dim (a 0-d tensor becomes shape (1,))."""
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    """Each input with at least 2 dims (leading 1s added)."""
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    """Each input with at least 3 dims: (1, 1, 1), (1, n, 1) or (m, n, 1)."""
    return _atleast(3, tensors)


def column_stack(tensors, *, out=None):
    """The inputs as columns side by side (0-d and 1-D ones as (n, 1))."""
    ts = [t.reshape(-1, 1) if t._array.ndim < 2 else t for t in _tensors(tensors)]
    if not ts:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    return into(out, _cat(ts, 1))


def row_stack(tensors, *, out=None):
    """``vstack``: the inputs as rows (1-D ones as (1, n))."""
    ts = [t.reshape(1, -1) if t._array.ndim < 2 else t for t in _tensors(tensors)]
    if not ts:
        raise RuntimeError("vstack expects a non-empty TensorList")
    return into(out, _cat(ts, 0))


def dstack(tensors, *, out=None):
    """The inputs stacked depth-wise (along dim 2, after ``atleast_3d``)."""
    ts = _tensors(tensors)
    if not ts:
        raise RuntimeError("dstack expects a non-empty TensorList")
    ts = [atleast_3d(t) for t in ts]
    return into(out, _cat(ts, 2))


def _split_family(op, input, sections, dim, min_dims):
    x = tensor(input)
    nd = x._array.ndim
    if nd < min_dims:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {min_dims} dimension, "
                           f"but got a tensor with {nd} dimensions!")
    d = dim if nd > 1 or op != "hsplit" else 0
    from .shape import tensor_split
    if isinstance(sections, numbers.Integral) and not isinstance(sections, bool):
        n = x._array.shape[d]
        if sections == 0 or n % sections:
            raise RuntimeError(f"torch.{op} attempted to split along dimension {d}, but the size "
                               f"of the dimension {n} is not divisible by the split_size "
                               f"{sections}!")
    return tensor_split(x, sections if isinstance(sections, numbers.Integral) else
                        list(sections), d)


def hsplit(input, indices_or_sections):
    """``tensor_split`` along dim 1 (dim 0 for 1-D input); an int must divide the size."""
    return _split_family("hsplit", input, indices_or_sections, 1, 1)


def vsplit(input, indices_or_sections):
    """``tensor_split`` along dim 0 (at least 2-D input)."""
    return _split_family("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    """``tensor_split`` along dim 2 (at least 3-D input)."""
    return _split_family("dsplit", input, indices_or_sections, 2, 3)


# ------------------------------------------------------------- reshaping
def ravel(input):
    """The elements as a 1-D tensor (a view when the input is contiguous)."""
    return tensor(input).reshape(-1)


def unflatten(input, dim, sizes):
    """Dim ``dim`` split into ``sizes`` (one entry may be -1)."""
    x = tensor(input)
    nd = x._array.ndim
    if nd == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = normalize_dim("unflatten", dim, nd)
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = x._array.shape[d]
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
    if (-1 not in sizes and known != n) or (-1 in sizes and (known == 0 or n % known)):
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of "
                           f"dim {dim} ({n}) in the input tensor")
    shp = x._array.shape
    return x.reshape(shp[:d] + tuple(sizes) + shp[d + 1:])


def narrow_copy(input, dim, start, length, *, out=None):
    """A copy of ``narrow(input, dim, start, length)``."""
    from .shape import narrow
    return into(out, narrow(input, dim, start, length).clone())


def adjoint(input):
    """The (conjugate) transpose of the last two dims, as a view."""
    x = tensor(input)
    if x._array.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {x._array.ndim}-D tensor.")
    return x.transpose(-2, -1)


# ------------------------------------------------------------- index maths
def unravel_index(indices, shape):
    """Flat indices to a tuple of coordinate tensors for ``shape`` (as
    PyTorch: each coordinate is (index // stride) % size)."""
    if not isinstance(indices, TensorBase):
        raise TypeError(f"expected 'indices' to be a Tensor, got {type(indices).__name__}")
    a = indices._array
    if a.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got fastnn.{a.dtype}")
    if isinstance(shape, numbers.Integral):
        shape = (int(shape),)
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got "
                         f"{tuple(shape)}")
    a = a.astype(np.int64)
    out, stride = [], 1
    for s in reversed(shape):
        out.append(np.floor_divide(a, stride) % s if s else np.zeros_like(a))
        stride *= max(s, 1)
    return tuple(_wrap(np.asarray(o, np.int64)) for o in reversed(out))


def nonzero_static(input, *, size, fill_value=-1):
    """``nonzero(input)`` with exactly ``size`` rows: cut, or padded with
    ``fill_value``."""
    x = tensor(input)
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got "
                           f"{size}")
    nz = np.argwhere(x._array).astype(np.int64)
    res = np.full((int(size), x._array.ndim), fill_value, np.int64)
    k = min(int(size), nz.shape[0])
    res[:k] = nz[:k]
    return _wrap(res)


# ------------------------------------------------ the *_copy functions
def _copy_of(name, fn):
    def f(*args, out=None, **kwargs):
        res = fn(*args, **kwargs)
        if isinstance(res, (tuple, list)):
            return tuple(r.clone() for r in res)
        return into(out, res.clone())
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"A copy of the result of ``{name[:-5]}`` (``torch.{name}``)."
    return f


def _method(name):
    def f(input, *args, **kwargs):
        return getattr(tensor(input), name)(*args, **kwargs)
    return f


def _slice(input, dim=0, start=None, end=None, step=1):
    x = tensor(input)
    d = normalize_dim("slice", dim, x._array.ndim)
    return x[(slice(None),) * d + (slice(start, end, step),)]


_COPIES = {n: _copy_of(n + "_copy", _method(n)) for n in (
    "as_strided", "diagonal", "expand", "permute", "select", "split", "split_with_sizes",
    "squeeze", "t", "transpose", "unbind", "unfold", "unsqueeze", "view", "detach")}
alias_copy = _copy_of("alias_copy", tensor)
slice_copy = _copy_of("slice_copy", _slice)
as_strided_copy, diagonal_copy, expand_copy = (_COPIES[n] for n in ("as_strided", "diagonal",
                                                                    "expand"))
permute_copy, select_copy, split_copy = (_COPIES[n] for n in ("permute", "select", "split"))
split_with_sizes_copy, squeeze_copy, t_copy = (_COPIES[n] for n in ("split_with_sizes",
                                                                    "squeeze", "t"))
transpose_copy, unbind_copy, unfold_copy = (_COPIES[n] for n in ("transpose", "unbind",
                                                                 "unfold"))
unsqueeze_copy, view_copy, detach_copy = (_COPIES[n] for n in ("unsqueeze", "view", "detach"))
