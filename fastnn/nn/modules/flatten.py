"""``Flatten`` module."""
from ..._core import is_grad_enabled as _grad_enabled
from ...tensor import Tensor
from .. import functional as F
from .module import Module


class Flatten(Module):
    """Flattens dims start_dim..end_dim (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        if (type(x) is Tensor and not (_grad_enabled() and x.requires_grad)
                and self.start_dim == 1 and self.end_dim == -1):
            # nothing to record, the default dims: the reshape view directly
            # (as Tensor.flatten computes it)
            d = x._array
            if d.ndim >= 2:
                n = 1
                for s in d.shape[1:]:
                    n *= s
                return Tensor._wrap(d.reshape(d.shape[0], n))
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
