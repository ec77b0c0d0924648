"""Datasets: the classes ``torch.utils.data`` programs subclass and combine.

``Dataset`` (map-style: ``__getitem__`` and ``__len__``), ``IterableDataset``
(``__iter__``), ``TensorDataset`` (rows of equally long arrays),
``Subset``, ``ConcatDataset``, ``ChainDataset``, ``StackDataset`` and
``random_split``, with PyTorch's semantics and messages.

A ``TensorDataset`` keeps both the Tensors (``tensors``) and their arrays
(``arrays``); the ``DataLoader`` batches it by fancy-indexing the arrays
with one index array per batch, so no Python work is done per sample.
"""
import bisect
import math
import numbers
import types
import warnings

import numpy as np

from ...random import _numpy_generator, default_generator
from ..._tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
           "ChainDataset", "Subset", "random_split"]



class _SizeMismatch(ValueError, AssertionError):
    """TensorDataset's tensors differ in length: PyTorch asserts this (an
    AssertionError); a ValueError too, as fastnn raised before."""

class Dataset:
    """Base class of map-style datasets: ``__getitem__`` (and usually
    ``__len__``); ``a + b`` concatenates two datasets."""

    # generic as PyTorch's (``class D(Dataset[Tuple[Tensor, int]])``,
    # ``DataLoader[T]`` annotations): X[T] is a types.GenericAlias of X
    __class_getitem__ = classmethod(types.GenericAlias)

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of datasets that are streams: ``__iter__``.

    With ``num_workers > 0`` every worker iterates its own copy, so the
    dataset should split the stream using ``get_worker_info()``:

    >>> import math
    >>> from fastnn.utils.data import IterableDataset, get_worker_info
    >>> class Range(IterableDataset):
    ...     def __init__(self, start, end):
    ...         self.start, self.end = start, end
    ...     def __iter__(self):
    ...         info = get_worker_info()
    ...         if info is None:                      # the main process: everything
    ...             return iter(range(self.start, self.end))
    ...         per = int(math.ceil((self.end - self.start) / info.num_workers))
    ...         lo = self.start + info.id * per
    ...         return iter(range(lo, min(lo + per, self.end)))
    >>> list(Range(3, 7))
    [3, 4, 5, 6]
    """

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


def _as_array(a, name):
    if isinstance(a, Tensor):
        return a._array
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "detach") and hasattr(a, "numpy"):     # a torch.Tensor
        return a.detach().cpu().numpy()
    arr = np.asarray(a)
    if arr.dtype == object:
        raise TypeError(f"TensorDataset: {name} is not array-like ({type(a).__name__})")
    return arr


class TensorDataset(Dataset):
    """Samples are the rows (first axis) of equally long Tensors or arrays.

    Parameters
    ----------
    *tensors : Tensor or ndarray
        At least one; all with the same length along the first axis.

    Examples
    --------
    >>> import numpy as np
    >>> from fastnn.utils.data import TensorDataset
    >>> ds = TensorDataset(np.zeros((5, 3)), np.arange(5))
    >>> len(ds), int(ds[2][1])
    (5, 2)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: at least one tensor is required")
        arrs = []
        for i, a in enumerate(tensors):
            arr = _as_array(a, f"tensor {i}")
            if arr.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is a scalar; tensors need a first "
                                 "(sample) axis")
            arrs.append(arr)
        n = len(arrs[0])
        for i, a in enumerate(arrs[1:], 1):
            if len(a) != n:
                raise _SizeMismatch("TensorDataset: size mismatch between tensors: tensor 0 has "
                                 f"{n} samples, tensor {i} has {len(a)}")
        self.arrays = tuple(arrs)
        self.tensors = tuple(t if isinstance(t, Tensor) else _batch_tensor(a)
                             for t, a in zip(tensors, arrs))

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    # What a spawned DataLoader worker receives: the arrays (the Tensors are
    # made again from them), so only NumPy arrays need to cross.
    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("tensors", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.tensors = tuple(_batch_tensor(a) for a in self.arrays)


def _batch_tensor(arr):
    from ._utils.collate import as_batch_tensor
    return as_batch_tensor(arr)


class StackDataset(Dataset):
    """Samples are tuples (positional) or dicts (keyword) of the samples of
    equally long datasets."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        sets = args or tuple(kwargs.values())
        if not sets:
            raise ValueError("At least one dataset should be passed")
        self._length = len(sets[0])
        if any(self._length != len(d) for d in sets):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


class ConcatDataset(Dataset):
    """The datasets one after the other."""

    @staticmethod
    def cumsum(sequence):
        out, s = [], 0
        for d in sequence:
            s += len(d)
            out.append(s)
        return out

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise ValueError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        if k >= len(self.datasets):
            raise IndexError(f"index {idx} is out of range for a ConcatDataset of {len(self)}")
        start = self.cumulative_sizes[k - 1] if k > 0 else 0
        return self.datasets[k][idx - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        inner = getattr(self.dataset, "__getitems__", None)
        if callable(inner):
            return inner([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=default_generator):
    """Splits ``dataset`` into non-overlapping random ``Subset``s.

    ``lengths`` are sizes summing to ``len(dataset)``, or fractions summing
    to 1 (each ``floor(n * frac)``, the remainder added one by one from the
    first split on).  The permutation comes from ``generator`` (default:
    fastnn's global random state).

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.utils.data import random_split
    >>> a, b = random_split(range(10), [0.7, 0.3], generator=fastnn.random.Generator().manual_seed(0))
    >>> len(a), len(b)
    (7, 3)
    """
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(int(math.floor(n * frac)))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an "
                              "empty dataset.", stacklevel=2)
        lengths = sizes
    for length in lengths:
        if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length < 0:
            raise ValueError(f"random_split: lengths must be non-negative ints or fractions "
                             f"summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = _numpy_generator(generator).permutation(n).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, indices[offset:offset + int(length)]))
        offset += int(length)
    return out

