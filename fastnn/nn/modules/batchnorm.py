"""PyTorch's module path ``torch.nn.modules.batchnorm`` (programs test
``isinstance(m, nn.modules.batchnorm._BatchNorm)``)."""
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, LazyBatchNorm1d,
                            LazyBatchNorm2d, LazyBatchNorm3d, SyncBatchNorm, _BatchNorm)

_NormBase = _BatchNorm

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "SyncBatchNorm"]
