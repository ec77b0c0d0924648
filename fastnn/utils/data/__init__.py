"""``fastnn.utils.data``: datasets, samplers and the ``DataLoader``, as
``torch.utils.data``.

Examples
--------
>>> import numpy as np
>>> import fastnn
>>> from fastnn.utils.data import DataLoader, TensorDataset, random_split
>>> ds = TensorDataset(np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10))
>>> train, val = random_split(ds, [0.8, 0.2])
>>> xb, yb = next(iter(DataLoader(train, batch_size=4, shuffle=True)))
>>> tuple(xb.shape), yb.dtype.name
((4, 2), 'int64')
"""
from ._utils.collate import default_collate, default_convert
from ._utils.worker import WorkerInfo, get_worker_info
from .dataloader import DataLoader
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset,
                      Subset, TensorDataset, random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
           "ChainDataset", "Subset", "random_split", "DataLoader", "default_collate",
           "default_convert", "get_worker_info", "WorkerInfo", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DistributedSampler"]


def __getattr__(name):
    if name == "DistributedSampler":     # (fastnn.distributed loads on first use)
        from ...distributed.sampler import DistributedSampler
        return DistributedSampler
    if name == "distributed":            # torch.utils.data.distributed, on first use
        import importlib
        return importlib.import_module(f"{__name__}.distributed")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
