"""``fastnn.nn.parallel``: ``DataParallel`` as a pass-through on the CPU (the
kernels already use every core) and ``DistributedDataParallel`` over
fastnn's MPI world (``fastnn.distributed``): gradients averaged across the
ranks during backward, as PyTorch's."""
import contextlib

import numpy as np

from ..modules.module import Module

__all__ = ["DataParallel", "DistributedDataParallel"]


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


class DistributedDataParallel(Module):
    """Wraps a module for data-parallel training over the ranks of
    ``fastnn.distributed`` (started by ``init_process_group`` or ``init``).

    On construction rank 0's parameters and buffers are broadcast to every
    rank; during each backward each parameter's gradient is averaged across
    the ranks as soon as it is accumulated (so the optimiser steps on the
    mean gradient, as with PyTorch's DDP); ``no_sync()`` skips the averaging
    for gradient-accumulation steps.  With one process it only wraps.
    ``device_ids`` and the bucketing options are accepted."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        from ... import distributed as dist
        self.module = module
        self.device_ids = device_ids
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        object.__setattr__(self, "_sync", True)
        w = dist._comm._ensure()
        object.__setattr__(self, "_world", w.size)
        if w.size > 1:
            for t in list(module.parameters()) + list(module.buffers()):
                a = t._array
                if not (a.flags.c_contiguous and a.flags.writeable):
                    t._array = a = np.ascontiguousarray(a)
                dist._comm.broadcast_array_(a, root=0)
            for p in module.parameters():
                if p.requires_grad:
                    p.register_post_accumulate_grad_hook(self._average)

    def _average(self, p):
        if not self._sync or p.grad is None:
            return
        from ... import distributed as dist
        g = p.grad._array
        p.grad._array = dist._comm.allreduce(g, op="mean").astype(g.dtype, copy=False)

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate locally (no averaging) inside the block."""
        prev = self._sync
        object.__setattr__(self, "_sync", False)
        try:
            yield
        finally:
            object.__setattr__(self, "_sync", prev)

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
