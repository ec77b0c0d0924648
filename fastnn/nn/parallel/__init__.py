"""``fastnn.nn.parallel``: ``DataParallel`` as a pass-through on the CPU (the
kernels already use every core); ``DistributedDataParallel`` lives in
``fastnn.distributed``."""
from ..modules.module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Wraps a module and runs it unchanged (``.module`` is the wrapped one,
    so state-dict keys gain the ``module.`` prefix as in PyTorch)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = device_ids or []
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
