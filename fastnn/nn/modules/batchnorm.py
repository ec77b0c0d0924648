"""``torch.nn.modules.batchnorm``: the batch-norm classes where PyTorch
keeps them, for ``isinstance(m, torch.nn.modules.batchnorm._BatchNorm)``
(they live in ``normalization.py``)."""
from .normalization import BatchNorm1d, BatchNorm2d, SyncBatchNorm, _BatchNorm

__all__ = ["_BatchNorm", "BatchNorm1d", "BatchNorm2d", "SyncBatchNorm"]
