"""Views over a tensor's storage and tensors made from memory:
``as_strided``, ``Tensor.unfold`` (sliding windows), ``empty_strided``,
``Tensor.storage_offset``, ``Tensor.resize_``, ``frombuffer``, ``asarray``,
and the dtype queries ``result_type``, ``can_cast``, ``promote_types``.

A fastnn tensor's *storage* is the memory of the ndarray at the root of
its ``.base`` chain (the array that owns the data); sizes, strides and
offsets count elements, as PyTorch's.  ``as_strided`` checks that the view
stays inside that memory before NumPy's ``as_strided`` builds it, so it can
never read outside the array (PyTorch's error names the storage size
needed); negative strides and offsets raise, as in PyTorch.  Its gradient
is PyTorch's: the upstream gradient summed into storage positions, read
back at the input's positions (divided by the number of input elements
sharing one position).  ``unfold`` is a view of the tensor itself; its
gradient adds each window back.

Examples
--------
>>> import fastnn
>>> x = fastnn.arange(6.0)
>>> x.unfold(0, 3, 2)
tensor([[0., 1., 2.],
        [2., 3., 4.]])
>>> fastnn.as_strided(x, (2, 2), (1, 2))
tensor([[0., 2.],
        [1., 3.]])
>>> x[2:].storage_offset()
2
"""
import numbers
import warnings

import numpy as np

from .._core import TensorBase
from .._core import wrap as _wrap
from ..autograd.function import Function
from .. import _defaults
from ._common import promote_types as _promote, result_type as _result_type, tensor
from ._util import normalize_dim
from .._dtype import of as _dtype_of

try:
    from numpy.lib.array_utils import byte_bounds as _byte_bounds
except ImportError:                                    # NumPy < 2
    _byte_bounds = np.byte_bounds


# ------------------------------------------------------------------ storage
def _root(a):
    """The array owning a's memory: up a's ``.base`` chain, also through
    the holder NumPy's ``as_strided`` puts between a view and its base."""
    r = a
    while True:
        b = r.base
        if not isinstance(b, np.ndarray):
            b = getattr(b, "base", None)       # (as_strided's DummyArray)
            if not isinstance(b, np.ndarray):
                return r
        r = b


def _storage(a):
    """(flat, offset, n): the storage of ndarray a (the memory of the array
    at the root of its ``.base`` chain) as a 1-D array of a's dtype, the
    position of a's first element in it, and its length (elements)."""
    r = _root(a)
    if not (r.flags.c_contiguous or r.flags.f_contiguous):
        raise RuntimeError("as_strided: the tensor's storage is not one contiguous block "
                           "(made from a strided NumPy array); clone() it first")
    lo, hi = _byte_bounds(r)
    isz = a.dtype.itemsize
    first = a.__array_interface__["data"][0] - lo
    if (hi - lo) % isz or first % isz or any(s % isz for s in a.strides):
        raise RuntimeError("as_strided: the tensor's strides are not whole elements of its "
                           "storage (a dtype view); clone() it first")
    flat = r.reshape(-1, order="A") if r.flags.c_contiguous else r.ravel(order="K")
    flat = flat.view(np.uint8).view(a.dtype) if flat.dtype != a.dtype else flat
    if not a.flags.writeable:
        flat = flat.view()
        flat.flags.writeable = False
    return flat, first // isz, (hi - lo) // isz


def _positions(shape, strides, offset):
    """The storage position of every element of a view, in C order."""
    pos = np.full(tuple(shape), offset, np.int64)
    for k, (n, s) in enumerate(zip(shape, strides)):
        pos += (np.arange(n, dtype=np.int64) * s).reshape([n if j == k else 1
                                                             for j in range(len(shape))])
    return pos


def storage_offset(t):
    """The offset (in elements) of a tensor's first element in its storage."""
    a = t._array
    r = _root(a)
    return (a.__array_interface__["data"][0] - _byte_bounds(r)[0]) // a.dtype.itemsize


def _int_list(op, name, v):
    if isinstance(v, (numbers.Integral, TensorBase)):
        v = (v,)
    out = []
    for s in v:
        if isinstance(s, bool) or not isinstance(s, (numbers.Integral, TensorBase)):
            raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, but found element "
                            f"of type {type(s).__name__}")
        out.append(int(s))
    return tuple(out)


# --------------------------------------------------------------- as_strided
class AsStridedFn(Function):
    """A view with the given sizes and strides (elements) at ``offset`` of
    the input's storage, bounds-checked against that storage."""
    raw = True
    _view = True

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        flat, xoff, n = _storage(x)
        off = xoff if offset is None else int(offset)
        _check_bounds(size, stride, off, n, x.dtype.itemsize)
        isz = x.dtype.itemsize
        base = flat[off:] if off < flat.size else flat[flat.size:]
        out = np.lib.stride_tricks.as_strided(base, size, tuple(s * isz for s in stride),
                                              writeable=flat.flags.writeable)
        if ctx.needs_input_grad[0]:
            xpos = _positions(x.shape, tuple(s // isz for s in x.strides), xoff)
            ctx.save_for_backward(_positions(size, stride, off), xpos)
            ctx.n = n
        return out

    @staticmethod
    def backward(ctx, g):
        opos, xpos = ctx.saved_tensors
        gs = np.zeros(ctx.n, g.dtype)
        np.add.at(gs, opos.reshape(-1), g.reshape(-1))
        count = np.bincount(xpos.reshape(-1), minlength=ctx.n)
        return (gs[xpos] / np.maximum(count[xpos], 1)).astype(g.dtype, copy=False)


def _check_bounds(size, stride, off, n, isz):
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: sizes {list(size)}, "
                           f"strides {list(stride)}")
    if any(s < 0 for s in size):
        raise RuntimeError(f"as_strided: negative size in {list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    if off < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {off}")
    need = 0 if any(s == 0 for s in size) else \
        off + 1 + sum((a - 1) * b for a, b in zip(size, stride))
    if need > n:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {off}, and itemsize {isz} requiring a storage size of "
                           f"{need * isz} are out of bounds for storage of size {n * isz}")


def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given sizes and strides (in
    elements) starting at ``storage_offset`` (default: input's own)."""
    x = tensor(input)
    size = _int_list("as_strided", "size", size)
    stride = _int_list("as_strided", "stride", stride)
    return AsStridedFn.apply(x, size, stride, storage_offset)


# -------------------------------------------------------------- unfold
class UnfoldDimFn(Function):
    """``Tensor.unfold``: windows of ``size`` every ``step`` along ``dim``,
    as a view with the window as a new last dim."""
    raw = True
    _view = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint

    @staticmethod
    def forward(ctx, x, dim, size, step):
        a = x if x.ndim else x.reshape(1)
        d = normalize_dim("unfold", dim, x.ndim)
        n = a.shape[d]
        if size < 0:
            raise RuntimeError(f"size is {size} but must be >= 0")
        if size > n:
            raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is "
                               f"{size}")
        if step <= 0:
            raise RuntimeError(f"step is {step} but must be > 0")
        nw = (n - size) // step + 1
        shape = a.shape[:d] + (nw,) + a.shape[d + 1:] + (size,)
        strides = a.strides[:d] + (a.strides[d] * step,) + a.strides[d + 1:] + (a.strides[d],)
        ctx.meta = (x.shape, d, size, step, nw)
        out = np.lib.stride_tricks.as_strided(a, shape, strides, writeable=a.flags.writeable)
        return out[..., 0] if x.ndim == 0 else out

    @staticmethod
    def backward(ctx, g):
        shape, d, size, step, nw = ctx.meta
        if not shape:
            return g.reshape(())
        gx = np.zeros(shape, g.dtype)
        pre = (slice(None),) * d
        if size <= nw:
            for k in range(size):
                gx[pre + (slice(k, k + step * (nw - 1) + 1, step),)] += g[..., k]
        else:
            for w in range(nw):
                gx[pre + (slice(w * step, w * step + size),)] += np.moveaxis(
                    g[pre + (w,)], -1, d)
        return gx


def unfold(input, dimension, size, step):
    """``input.unfold(dimension, size, step)``: every window of ``size``
    elements, ``step`` apart along ``dimension``, as a new last dim (a view)."""
    return UnfoldDimFn.apply(tensor(input), dimension, int(size), int(step))


# --------------------------------------------------------------- factories
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A zero-filled tensor with the given sizes and strides (elements) over
    a storage just large enough."""
    from .._tensor import _resolve_dtype
    from .factories import _finish
    size = _int_list("empty_strided", "size", size)
    stride = _int_list("empty_strided", "stride", stride)
    dt = _resolve_dtype(dtype) if dtype is not None else _defaults.FLOAT
    n = 0 if any(s == 0 for s in size) else 1 + sum((a - 1) * b for a, b in zip(size, stride))
    _check_bounds(size, stride, 0, n, dt.itemsize)
    flat = np.zeros(n, dt)
    arr = np.lib.stride_tricks.as_strided(flat, size, tuple(s * dt.itemsize for s in stride))
    return _finish(arr, requires_grad, device)


def resize_(t, sizes):
    """Resizes ``t`` in place to ``sizes`` (C order over its storage from
    its offset; the storage grows, zero-filled, when too small).  As in
    PyTorch, a tensor that requires grad cannot be resized."""
    if t._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    sizes = _int_list("resize_", "size", sizes)
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(sizes)}: "
                           f"{list(sizes)}")
    a = t._array
    n = int(np.prod(sizes, dtype=np.int64))
    if tuple(a.shape) == sizes:
        return t
    try:
        flat, off, total = _storage(a)
        fits = off + n <= total and flat.flags.writeable
    except RuntimeError:
        flat, off, total, fits = None, 0, 0, False
    if fits:
        new = flat[off:off + n].reshape(sizes)
    else:
        new = np.zeros(n, a.dtype)
        if flat is not None:
            k = min(n, total - off)
            new[:k] = flat[off:off + k]
        else:
            k = min(n, a.size)
            new[:k] = a.reshape(-1)[:k]
        new = new.reshape(sizes)
    t._array = new
    t._bump()
    return t


# ------------------------------------------------------------ from memory
def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor sharing the memory of an object with the buffer
    protocol (bytes, bytearray, memoryview, array.array, mmap ...)."""
    from .._tensor import _resolve_dtype
    from .factories import _finish
    dt = _resolve_dtype(dtype)
    mv = memoryview(buffer)
    length = mv.nbytes
    isz = dt.itemsize
    if length == 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({length} bytes) minus 1")
    if count < 0:
        if (length - offset) % isz:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({isz})")
        count = (length - offset) // isz
    elif offset + count * isz > length:
        raise ValueError(f"requested buffer length ({count} * {isz} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({length} bytes)")
    if mv.readonly:
        warnings.warn("The given buffer is not writable, and PyTorch does not support "
                      "non-writable tensors. This means you can write to the underlying "
                      "(supposedly non-writable) buffer using the tensor. You may want to copy "
                      "the buffer to protect its data or make it writable before converting it "
                      "to a tensor. (fastnn keeps such a tensor read-only.)", UserWarning,
                      stacklevel=2)
    arr = np.frombuffer(buffer, dtype=dt, count=count, offset=offset)
    return _finish(arr, requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """``torch.asarray``: a tensor from ``obj`` sharing its memory when it
    can (a tensor, a NumPy array, anything with the buffer protocol);
    ``copy=True`` always copies, ``copy=False`` raises where it cannot share."""
    from .._tensor import _resolve_dtype
    from .factories import _device
    dt = _resolve_dtype(dtype)
    if device is not None:
        _device(device)
    if isinstance(obj, TensorBase):
        src = obj._array.dtype
        if dt is not None and dt != src and copy is False:
            raise ValueError(f"can't alias tensor with dtype '{_short(src)}' into dtype "
                             f"'{_short(dt)}'.")
        if requires_grad is None and obj._requires_grad:
            warnings.warn("torch.asarray: unspecified requires_grad now defaults to "
                          "obj.requires_grad instead of False. Pass requires_grad=False "
                          "explicitly to get the old behavior and silence this warning.",
                          UserWarning, stacklevel=2)
        out = obj
        if requires_grad is False:
            out = out.detach()
        if dt is not None and dt != src:
            out = out.to(dt)
        elif copy:
            out = out.clone()
        if requires_grad:
            out.requires_grad_(True)
        return out
    if isinstance(obj, (bytes, bytearray, memoryview)):
        out = frombuffer(obj, dtype=dt or _defaults.FLOAT)
        if copy:
            out = _wrap(out._array.copy())
        return out.requires_grad_(True) if requires_grad else out
    shares = isinstance(obj, np.ndarray) or hasattr(obj, "__array_interface__") or \
        hasattr(obj, "__array__") and not isinstance(obj, (list, tuple))
    if copy is False and not shares:
        raise ValueError("can't alias arbitrary sequence into a tensor.")
    if shares and not isinstance(obj, np.generic):
        a = np.asarray(obj)
        src = a.dtype
        from .._tensor import _SUPPORTED
        if src not in _SUPPORTED:
            raise TypeError(f"asarray: unsupported dtype {src}; fastnn supports float32, "
                            "float64, int64, int32, int16, int8, uint8 and bool")
        if dt is not None and dt != src:
            if copy is False:
                raise ValueError(f"can't alias tensor with dtype '{_short(src)}' into dtype "
                                 f"'{_short(dt)}'.")
            a = a.astype(dt)
        elif copy:
            a = a.copy()
        out = _wrap(a)
    else:
        from .factories import tensor as _new
        out = _new(obj, dtype=dt)
    return out.requires_grad_(True) if requires_grad else out


_SHORT = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
          "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _short(dt):
    return _SHORT.get(str(dt), str(dt))


# ------------------------------------------------------------- dtype queries
def _dtype_arg(op, d):
    from .._tensor import _resolve_dtype
    if isinstance(d, TensorBase):
        raise TypeError(f"{op}(): argument must be a dtype, not Tensor")
    return _resolve_dtype(d)


def result_type(tensor1, tensor2):
    """The dtype PyTorch's promotion gives an op on the two (tensors or numbers)."""
    for v in (tensor1, tensor2):
        if not isinstance(v, (TensorBase, numbers.Number, np.ndarray)):
            raise TypeError(f"result_type(): expected a Tensor or a Number, got "
                            f"{type(v).__name__}")
    return _dtype_of(_result_type(tensor1, tensor2))     # (a fastnn.dtype, as torch's)


def promote_types(type1, type2):
    """The smallest dtype both ``type1`` and ``type2`` cast into (PyTorch's rule)."""
    return _dtype_of(_promote(_dtype_arg("promote_types", type1),
                              _dtype_arg("promote_types", type2)))


_CAT = {"b": 0, "u": 1, "i": 1, "f": 2}


def can_cast(from_, to):
    """Whether PyTorch's casting rules allow ``from_`` -> ``to`` in an op's
    output: never to a lower category (float -> integer, integer -> bool)."""
    a, b = _dtype_arg("can_cast", from_), _dtype_arg("can_cast", to)
    return _CAT[a.kind] <= _CAT[b.kind]


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of ``input`` with ``src`` written into the view
    ``as_strided(input, size, stride, storage_offset)`` (differentiable;
    the view must lie on input's own elements and not overlap itself)."""
    x, s = tensor(input), tensor(src)
    size = _int_list("as_strided_scatter", "size", size)
    stride = _int_list("as_strided_scatter", "stride", stride)
    a = x._array
    flat, xoff, n = _storage(a)
    off = xoff if storage_offset is None else int(storage_offset)
    _check_bounds(size, stride, off, n, a.dtype.itemsize)
    if tuple(s._array.shape) != size:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(s._array.shape)}, slice size = {list(size)}")
    isz = a.dtype.itemsize
    xpos = _positions(a.shape, tuple(st // isz for st in a.strides), xoff).reshape(-1)
    inv = np.full(n, -1, np.int64)
    inv[xpos] = np.arange(xpos.size)
    k = inv[_positions(size, stride, off).reshape(-1)]
    if (k < 0).any() or np.unique(k).size != k.size:
        raise RuntimeError("as_strided_scatter: the view must cover distinct elements of input")
    from .shape import IndexPutFn
    if s._array.dtype != a.dtype:
        s = s.to(a.dtype)
    out = IndexPutFn.apply(x.reshape(-1), s.reshape(-1), k, False)
    return out.reshape(a.shape)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """A zeroed tensor of ``size`` whose dims lie in memory in the order
    ``physical_layout`` (outermost first)."""
    from .._tensor import _resolve_dtype
    from .factories import _finish
    size = _int_list("empty_permuted", "size", size)
    perm = _int_list("empty_permuted", "physical_layout", physical_layout)
    if sorted(perm) != list(range(len(size))):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; or physical_layout {list(perm)} is not a "
                           f"permutation")
    dt = _resolve_dtype(dtype) if dtype is not None else _defaults.FLOAT
    phys = np.zeros([size[p] for p in perm], dt)
    return _finish(np.transpose(phys, np.argsort(perm)), requires_grad, device)


def from_dlpack(ext_tensor):
    """A tensor sharing memory with an object of the DLPack protocol
    (a NumPy array, a PyTorch CPU tensor, ...)."""
    if isinstance(ext_tensor, TensorBase):
        return ext_tensor
    return asarray(np.from_dlpack(ext_tensor))


def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None,
              pin_memory=False):
    """``size`` elements of a binary file: memory-mapped (writes reach the
    file) with ``shared=True``, else read into memory."""
    from .._tensor import _resolve_dtype
    from .factories import _finish
    dt = _resolve_dtype(dtype) if dtype is not None else _defaults.FLOAT
    import os
    nbytes = os.path.getsize(filename)
    if size * dt.itemsize > nbytes:
        raise RuntimeError(f"from_file: trying to read {size * dt.itemsize} bytes from "
                           f"{filename!r} of {nbytes} bytes")
    if shared:
        arr = np.memmap(filename, dtype=dt, mode="r+", shape=(int(size),)) if size else \
            np.zeros(0, dt)
    else:
        arr = np.fromfile(filename, dtype=dt, count=int(size))
    return _finish(np.asarray(arr) if not shared else arr, False, device)
