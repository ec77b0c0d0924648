"""``torch.utils.data.distributed``: the ``DistributedSampler`` of
``fastnn.distributed`` (same signature and arithmetic as PyTorch's; each
rank's shard of a permutation seeded with ``seed + epoch``).  Without a
launcher the world is one process, so it yields every index."""
from ...distributed.sampler import DistributedSampler

__all__ = ["DistributedSampler"]
