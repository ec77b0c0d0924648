"""Datasets and the ``DataLoader`` (``fastnn.data`` names).

These are the classes of ``fastnn.utils.data`` (PyTorch's
``torch.utils.data``): ``fastnn.data.DataLoader is
fastnn.utils.data.DataLoader``.  See that package for the semantics; the
``DataLoader`` also takes fastnn's ``seed=`` (a private, seeded generator
for shuffling).
"""
from ..utils.data import DataLoader, Dataset, IterableDataset, TensorDataset

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "DataLoader"]
