"""fastnn.data: datasets, the DataLoader, preprocessing and real datasets.

Examples
--------
>>> from fastnn.data import load_digits, Standardize, TensorDataset, DataLoader
>>> x, y = load_digits()
>>> x = Standardize().fit_transform(x)
>>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)
>>> xb, yb = next(iter(loader))
>>> tuple(xb.shape), yb.dtype.name
((64, 1, 8, 8), 'int64')
"""
from .dataset import DataLoader, Dataset, TensorDataset
from .datasets import (ChecksumError, load_cifar10, load_digits, load_mnist, read_cifar10_binary,
                       read_idx)
from .preprocessing import PCA, Standardize

__all__ = ["Dataset", "TensorDataset", "DataLoader", "Standardize", "PCA", "load_digits",
           "load_mnist", "load_cifar10", "read_idx", "read_cifar10_binary", "ChecksumError"]
