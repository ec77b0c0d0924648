"""Datasets and the ``DataLoader``.

A ``TensorDataset`` holds equally long arrays; the ``DataLoader`` batches it
by fancy indexing the whole arrays with one index vector per batch, so no
Python work is done per sample on the hot path.  Any other dataset (an object
with ``__len__`` and ``__getitem__``) is batched sample by sample and stacked.
"""
import numpy as np

from ..tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "DataLoader"]


class Dataset:
    """Base class of map-style datasets: ``__len__`` and ``__getitem__``."""

    def __len__(self):
        raise NotImplementedError

    def __getitem__(self, index):
        raise NotImplementedError


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
    """Samples are the rows (first axis) of equally long arrays.

    Parameters
    ----------
    *arrays : Tensor or ndarray
        At least one array; all with the same length along the first axis.

    Examples
    --------
    >>> import numpy as np
    >>> from fastnn.data import TensorDataset
    >>> ds = TensorDataset(np.zeros((5, 3)), np.arange(5))
    >>> len(ds), int(ds[2][1])
    (5, 2)
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: at least one array is required")
        arrs = []
        for i, a in enumerate(arrays):
            arr = _as_array(a, f"array {i}")
            if arr.ndim == 0:
                raise ValueError(f"TensorDataset: array {i} is a scalar; arrays need a first "
                                 "(sample) axis")
            arrs.append(arr)
        n = len(arrs[0])
        for i, a in enumerate(arrs[1:], 1):
            if len(a) != n:
                raise ValueError("TensorDataset: size mismatch between arrays: array 0 has "
                                 f"{n} samples, array {i} has {len(a)}")
        self.arrays = tuple(arrs)
        # Keep the PyTorch spelling too.
        self.tensors = self.arrays

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)


def _to_tensor(a):
    a = np.asarray(a)
    if a.dtype.kind == "f" and a.dtype != np.float64 and a.dtype != np.float32:
        a = a.astype(np.float32)
    elif a.dtype.kind in "iu" and a.dtype != np.int64:
        a = a.astype(np.int64)
    return Tensor._wrap(a) if a.dtype.kind in "fib" else Tensor(a)


class DataLoader:
    """Iterates over a dataset in mini-batches of Tensors.

    Parameters
    ----------
    dataset : TensorDataset or map-style dataset
        ``len(dataset)`` samples; a ``TensorDataset`` is batched by fancy
        indexing its arrays.
    batch_size : int
        Samples per batch (> 0).
    shuffle : bool
        Draw a new permutation at the start of every epoch.
    drop_last : bool
        Drop the last batch when it is smaller than ``batch_size``.
    seed : int or None
        Seed of the loader's own ``numpy.random.Generator`` (shuffling does
        not touch the global random state).
    sampler : iterable of int, optional
        Sample order for each epoch (mutually exclusive with ``shuffle``).
    num_workers, pin_memory
        Accepted for PyTorch compatibility and ignored (batches are made in
        the calling thread).

    Yields
    ------
    tuple of Tensor
        One Tensor per dataset array, each with ``batch_size`` rows.

    Examples
    --------
    >>> import numpy as np
    >>> from fastnn.data import TensorDataset, DataLoader
    >>> dl = DataLoader(TensorDataset(np.zeros((10, 2)), np.arange(10)), batch_size=4)
    >>> [len(y) for x, y in dl]
    [4, 4, 2]
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 sampler=None, num_workers=0, pin_memory=False):
        # num_workers/pin_memory are accepted so PyTorch scripts run unchanged; batching
        # is one fancy-indexing copy per array, so worker processes would not pay off.
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
                or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got {num_workers!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size should be a positive integer, got "
                            f"{batch_size!r}")
        if batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size should be a positive integer value, "
                             f"but got batch_size={batch_size}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__, got "
                            f"{type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.sampler = sampler
        self._rng = np.random.default_rng(seed)

    def __len__(self):
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if self.sampler is not None:
            return np.fromiter(iter(self.sampler), dtype=np.int64)
        if self.shuffle:
            return self._rng.permutation(n)
        return None

    def __iter__(self):
        order = self._order()
        n = len(order) if order is not None else len(self.dataset)
        bs = self.batch_size
        stop = (n // bs) * bs if self.drop_last else n
        ds = self.dataset
        fast = isinstance(ds, TensorDataset)
        for start in range(0, stop, bs):
            end = min(start + bs, n)
            if fast:
                if order is None:
                    idx = slice(start, end)
                else:
                    idx = order[start:end]
                yield tuple(_to_tensor(a[idx].copy() if order is None else a[idx])
                            for a in ds.arrays)
            else:
                idx = range(start, end) if order is None else order[start:end]
                samples = [ds[int(i)] for i in idx]
                if not isinstance(samples[0], tuple):
                    samples = [(s,) for s in samples]
                cols = zip(*samples)
                yield tuple(_to_tensor(np.stack([_as_array(c, "sample") for c in col]))
                            for col in cols)
