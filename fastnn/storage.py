"""``torch.UntypedStorage``: the bytes behind a tensor (and the deprecated
``TypedStorage`` of ``Tensor.storage()``: the same bytes seen as elements).

A fastnn tensor's storage is the memory of the ndarray at the root of its
``.base`` chain (see ``fastnn/ops/strided.py``), so every view of one base
(slices, ``view``, ``permute``, ``expand``, ``detach``) has the same
storage: ``untyped_storage().data_ptr()`` is the address of its first byte,
``nbytes()`` (= ``size()`` = ``len()``) its length in bytes, and a tensor's
``data_ptr()`` is ``storage.data_ptr() + storage_offset() * element_size()``,
as in PyTorch.  While a storage object is alive, asking any of those
tensors again returns that same object (PyTorch's ``is`` holds too).

Example
-------
>>> import fastnn
>>> x = fastnn.arange(10.0)
>>> s = x[2:].untyped_storage()
>>> s.data_ptr() == x.data_ptr(), s.nbytes()
(True, 40)
"""
import weakref

import numpy as np

from .ops.strided import _root

try:
    from numpy.lib.array_utils import byte_bounds as _byte_bounds
except ImportError:                                    # NumPy < 2
    _byte_bounds = np.byte_bounds

__all__ = ["UntypedStorage", "TypedStorage"]

_LIVE = weakref.WeakValueDictionary()    # (id(root array), first, end) -> its storage


def _span(addr, n):
    import ctypes
    return (ctypes.c_uint8 * n).from_address(addr)


class UntypedStorage:
    """The bytes a tensor lives in (``Tensor.untyped_storage()``)."""

    __slots__ = ("_bytes", "_ptr", "_owner", "__weakref__")

    def __init__(self, *args, device=None):
        """``UntypedStorage(n)``: n zero bytes; ``UntypedStorage(seq)``: the
        given byte values."""
        if len(args) > 1:
            raise TypeError("UntypedStorage(): expected at most one argument (a size or a "
                            "sequence of bytes)")
        if not args:
            arr = np.zeros(0, np.uint8)
        elif isinstance(args[0], (int, np.integer)) and not isinstance(args[0], bool):
            if args[0] < 0:
                raise RuntimeError(f"Storage size must be non-negative, got {args[0]}")
            arr = np.zeros(int(args[0]), np.uint8)
        else:
            arr = np.asarray(args[0])
            if arr.ndim != 1 or arr.dtype.kind not in "iub":
                raise TypeError("UntypedStorage(): expected a size or a flat sequence of "
                                "byte values")
            if arr.size and (arr.min() < 0 or arr.max() > 255):
                raise RuntimeError("UntypedStorage(): byte values must be in [0, 255]")
            arr = arr.astype(np.uint8)
        self._set(arr, arr, arr.ctypes.data if arr.size else 0)

    def _set(self, owner, flat, ptr):
        self._owner = owner              # keeps the memory alive
        self._bytes = flat
        self._ptr = ptr

    @classmethod
    def _of_array(cls, a):
        root = _root(a)
        lo, hi = _byte_bounds(root)
        key = (id(root), lo, hi)
        s = _LIVE.get(key)
        if s is not None and s._owner is root:
            return s
        s = cls.__new__(cls)
        if hi == lo:
            s._set(root, np.empty(0, np.uint8), 0)
        elif root.flags.c_contiguous or root.flags.f_contiguous:
            flat = root.reshape(-1, order="A") if root.flags.c_contiguous else \
                root.ravel(order="K")
            s._set(root, flat.view(np.uint8), lo)
        else:                            # a strided root: its whole byte span
            span = np.frombuffer(_span(lo, hi - lo), np.uint8)
            if not root.flags.writeable:
                span.flags.writeable = False
            s._set(root, span, lo)
        _LIVE[key] = s
        return s

    # --------------------------------------------------------------- queries
    def data_ptr(self):
        """The address of the first byte (0 for an empty storage)."""
        return self._ptr

    def nbytes(self):
        return int(self._bytes.size)

    def size(self):
        """The length in bytes (an untyped storage counts bytes)."""
        return int(self._bytes.size)

    def __len__(self):
        return int(self._bytes.size)

    def element_size(self):
        return 1

    @property
    def device(self):
        from .device import cpu
        return cpu

    @property
    def is_cuda(self):
        return False

    is_sparse = False
    is_sparse_csr = False

    def get_device(self):
        return -1

    def is_shared(self):
        return False

    def is_pinned(self, device="cuda"):
        return False

    def resizable(self):
        return False

    def type(self, dtype=None, non_blocking=False):
        return "torch.storage.UntypedStorage"

    def tolist(self):
        return self._bytes.tolist()

    def __getitem__(self, i):
        if isinstance(i, slice):
            out = UntypedStorage.__new__(UntypedStorage)
            part = self._bytes[i]
            if part.size and part.strides[0] != 1:
                raise RuntimeError("UntypedStorage: a slice must have step 1")
            out._set(self._owner, part, part.ctypes.data if part.size else 0)
            return out
        return int(self._bytes[i])

    def __setitem__(self, i, value):
        self._bytes[i] = value

    def __iter__(self):
        return iter(self._bytes.tolist())

    # -------------------------------------------------------------- changes
    def fill_(self, value):
        self._bytes[...] = value
        return self

    def copy_(self, src, non_blocking=None):
        if not isinstance(src, UntypedStorage):
            raise TypeError(f"copy_(): expected an UntypedStorage, got {type(src).__name__}")
        if src.nbytes() != self.nbytes():
            raise RuntimeError(f"size mismatch, {self.nbytes()} vs {src.nbytes()}")
        self._bytes[...] = src._bytes
        return self

    def clone(self):
        return UntypedStorage(self._bytes.copy())

    def cpu(self):
        return self

    def untyped(self):
        return self

    def __repr__(self):
        body = "\n".join(f" {v}" for v in self._bytes.tolist())
        head = f"[torch.storage.UntypedStorage(device=cpu) of size {self.nbytes()}]"
        return body + "\n" + head if body else head

    def __copy__(self):
        return self.clone()

    def __deepcopy__(self, memo):
        return self.clone()

    def __reduce__(self):
        raise TypeError("fastnn does not pickle storages; save tensors with "
                        "fastnn.save (safetensors) instead")


_TYPED_WARNED = [False]
_TYPED_MSG = ("TypedStorage is deprecated. It will be removed in the future and UntypedStorage "
              "will be the only storage class. This should only matter to you if you are using "
              "storages directly.  To access UntypedStorage directly, use "
              "tensor.untyped_storage() instead of tensor.storage()")


def _warn_typed():
    if not _TYPED_WARNED[0]:
        _TYPED_WARNED[0] = True
        import warnings
        warnings.warn(_TYPED_MSG, UserWarning, stacklevel=3)


class TypedStorage:
    """``Tensor.storage()``: a tensor's storage as elements of its dtype
    (deprecated in PyTorch, which warns once; so does fastnn)."""

    __slots__ = ("_untyped_storage", "_np_dtype")

    def __init__(self, *args, **kwargs):
        raise TypeError("fastnn.TypedStorage is made by Tensor.storage(); build an "
                        "UntypedStorage or a tensor instead")

    @classmethod
    def _of(cls, untyped, np_dtype):
        s = cls.__new__(cls)
        s._untyped_storage = untyped
        s._np_dtype = np.dtype(np_dtype)
        return s

    def _elements(self):
        b = self._untyped_storage._bytes
        n = b.size // self._np_dtype.itemsize
        return b[:n * self._np_dtype.itemsize].view(self._np_dtype)

    @property
    def dtype(self):
        from ._dtype import of
        return of(self._np_dtype)

    @property
    def device(self):
        return self._untyped_storage.device

    def size(self):
        return self._untyped_storage.nbytes() // self._np_dtype.itemsize

    def __len__(self):
        return self.size()

    def nbytes(self):
        return self._untyped_storage.nbytes()

    def element_size(self):
        return self._np_dtype.itemsize

    def data_ptr(self):
        return self._untyped_storage.data_ptr()

    def untyped(self):
        return self._untyped_storage

    def tolist(self):
        return self._elements().tolist()

    def __getitem__(self, i):
        if isinstance(i, slice):
            raise RuntimeError("TypedStorage: slicing is not supported by fastnn; use "
                               "untyped_storage() or the tensor")
        return self._elements()[i].item()

    def __setitem__(self, i, value):
        self._elements()[i] = value

    def fill_(self, value):
        self._elements()[...] = value
        return self

    def is_shared(self):
        return False

    def is_pinned(self, device="cuda"):
        return False

    def get_device(self):
        return -1

    def cpu(self):
        return self

    def __repr__(self):
        body = "\n".join(f" {v}" for v in self._elements().tolist())
        head = (f"[torch.storage.TypedStorage(dtype={self.dtype}, device=cpu) of size "
                f"{self.size()}]")
        return body + "\n" + head if body else head

    def __reduce__(self):
        raise TypeError("fastnn does not pickle storages; save tensors with "
                        "fastnn.save (safetensors) instead")
