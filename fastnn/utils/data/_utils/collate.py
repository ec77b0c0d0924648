"""``default_collate`` and ``default_convert``, with PyTorch's rules.

``default_collate`` turns a list of samples into a batch:

========================  ==================================================
element                   batch
========================  ==================================================
Tensor                    the Tensors stacked on a new first axis
ndarray                   a Tensor, the arrays stacked (their dtype kept)
NumPy scalar              a 1-D Tensor of the scalars' dtype
int (and bool)            an int64 (bool) Tensor
float                     a float64 Tensor
str, bytes                the list of them, unchanged
Mapping                   the same mapping type, each key collated
namedtuple                the same namedtuple, each field collated
tuple, other sequences    a list (a tuple) / the same sequence type, each
                          position collated; lengths must agree
========================  ==================================================

``collate(batch, collate_fn_map=...)`` is the general form: a dict from
type to function(batch, *, collate_fn_map) consulted first (exact type,
then ``isinstance`` in insertion order), so programs can extend
``default_collate_fn_map`` as in PyTorch.

Batches are fastnn Tensors built from NumPy arrays (``np.stack`` then
``fastnn.from_numpy``); float16 becomes float32 and integer types fastnn
holds no Tensors of become int64.
"""
import collections.abc
import copy

import numpy as np

from .... import _defaults
from ...._tensor import Tensor, from_numpy

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map",
           "as_batch_tensor"]

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")
_KEPT = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.int64, np.int32, np.uint8,
                                        np.bool_))


def as_batch_tensor(arr):
    """A Tensor sharing ``arr`` (made contiguous; float16 -> float32, other
    integer types -> int64)."""
    dt = arr.dtype
    if dt not in _KEPT:
        if dt.kind == "f":
            arr = arr.astype(np.float32)
        elif dt.kind in "iu":
            arr = arr.astype(np.int64)
        elif dt.kind == "b":
            arr = arr.astype(np.bool_)
        else:
            raise TypeError(_ERR.format(dt))
    elif dt.byteorder == ">":
        arr = arr.astype(dt.newbyteorder("="))
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    return from_numpy(arr)


def _stack(arrays, what):
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != first:
            raise RuntimeError(f"stack expects each {what} to be equal size, but got "
                               f"{list(first)} at entry 0 and {list(a.shape)} at entry {i}")
    return np.stack(arrays)


def collate_tensor_fn(batch, *, collate_fn_map=None):
    if any(t.requires_grad for t in batch):
        from ...._tensor import stack
        return stack(list(batch))           # keeps the graph, as torch.stack does
    return as_batch_tensor(_stack([t._array for t in batch], "tensor"))


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if elem.dtype.kind in "OUSV":
        raise TypeError(_ERR.format(elem.dtype.str))
    return as_batch_tensor(_stack([np.asarray(b) for b in batch], "tensor"))


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return as_batch_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    return from_numpy(np.asarray(batch, dtype=np.float64))


def collate_int_fn(batch, *, collate_fn_map=None):
    arr = np.asarray(batch)
    if arr.dtype.kind == "f":                 # ints mixed with floats: the default dtype
        arr = arr.astype(_defaults.FLOAT)
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.int64, copy=False)
    return as_batch_tensor(arr)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


def _same_mapping(like, fields):
    """``fields`` in a mapping of ``like``'s type (a copy of a mutable one
    keeps a subclass's extra state); a dict if the type will not take them."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            out = copy.copy(like)
            out.update(fields)
            return out
        return type(like)(fields)
    except TypeError:
        return fields


def _same_sequence(like, items):
    """``items`` in a sequence of ``like``'s type; a list if it will not take them."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            out = copy.copy(like)
            for i, x in enumerate(items):
                out[i] = x
            return out
        return type(like)(items)
    except TypeError:
        return items


def collate(batch, *, collate_fn_map=None):
    """Collates ``batch`` (a list of samples), dispatching on the type of
    its first element through ``collate_fn_map`` and then on containers."""
    if not isinstance(batch, (list, tuple)):
        batch = list(batch)
    if not batch:
        raise ValueError("collate: the batch is empty")
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for t, fn in collate_fn_map.items():
            if isinstance(elem, t):
                return fn(batch, collate_fn_map=collate_fn_map)

    def sub(samples):
        return collate(samples, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        return _same_mapping(elem, {key: sub([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):     # namedtuple
        return elem_type(*(sub(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        if any(len(e) != n for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [sub(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns               # PyTorch gives a list for tuples
        return _same_sequence(elem, columns)
    raise TypeError(_ERR.format(elem_type))


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Stacks a list of samples into a batch of Tensors, as
    ``torch.utils.data.default_collate`` (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from fastnn.utils.data import default_collate
    >>> xb, yb = default_collate([(np.zeros(3, np.float32), 1), (np.ones(3, np.float32), 0)])
    >>> tuple(xb.shape), yb.dtype.name
    ((2, 3), 'int64')
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """Converts one sample's arrays to Tensors without batching (the
    ``collate_fn`` of ``DataLoader(batch_size=None)``)."""
    t = type(data)
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        if data.dtype.kind in "OUSV":
            return data
        return as_batch_tensor(data)
    if isinstance(data, (np.bool_, np.number)):
        return as_batch_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return t(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_sequence(data, [default_convert(d) for d in data])
    return data
