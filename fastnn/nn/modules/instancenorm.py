"""PyTorch's module path ``torch.nn.modules.instancenorm``."""
from .normalization import (InstanceNorm1d, InstanceNorm2d, LazyInstanceNorm1d,
                            LazyInstanceNorm2d, _InstanceNorm)

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "LazyInstanceNorm1d", "LazyInstanceNorm2d"]
