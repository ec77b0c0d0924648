"""``DistributedSampler``: each rank's disjoint shard of every epoch."""
import numpy as np

from ..utils.data.sampler import Sampler
from . import _comm


class DistributedSampler(Sampler):
    """Indices of one rank's shard of a dataset, reshuffled every epoch.

    Every rank builds the same permutation of ``range(len(dataset))`` (a
    NumPy generator seeded with ``seed + epoch``, so all ranks agree without
    talking), then takes every ``num_replicas``-th index starting at its
    rank.  So that every rank runs the same number of steps (a rank with
    fewer batches would hang the others in the gradient allreduce), the
    permutation is padded by repeating its first indices up to a multiple of
    ``num_replicas`` or, with ``drop_last=True``, its tail is dropped.
    Same arithmetic as ``torch.utils.data.DistributedSampler``.

    Iterate it for the indices, or pass it to
    ``fastnn.data.DataLoader(dataset, batch_size, sampler=sampler)``; call
    :meth:`set_epoch` at the start of every epoch (or the order repeats).

    Parameters
    ----------
    dataset : int or sized
        The dataset, or its length.
    num_replicas : int, optional
        The number of ranks (default: the MPI world size).
    rank : int, optional
        This rank (default: the MPI rank).
    shuffle : bool
        Permute the indices each epoch (else ``0, 1, 2, ...`` dealt round-robin).
    seed : int
        Shared by all ranks.
    drop_last : bool
        Drop the tail instead of padding it.

    Examples
    --------
    >>> from fastnn.distributed import DistributedSampler
    >>> list(DistributedSampler(5, num_replicas=2, rank=1, shuffle=False))
    [1, 3, 0]
    >>> list(DistributedSampler(5, num_replicas=2, rank=1, shuffle=False, drop_last=True))
    [1, 3]
    """

    # (a Sampler, as PyTorch's: isinstance checks hold, and
    # ``DistributedSampler[int]`` works through Sampler's __class_getitem__)

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if isinstance(dataset, (int, np.integer)) and not isinstance(dataset, bool):
            n = int(dataset)
        elif hasattr(dataset, "__len__"):
            n = len(dataset)
        else:
            raise TypeError("DistributedSampler: dataset must be an int or have a length, "
                            f"got {type(dataset).__name__}")
        if n < 0:
            raise ValueError(f"DistributedSampler: dataset length must be >= 0, got {n}")
        if num_replicas is None:
            num_replicas = _comm.size()
        if rank is None:
            rank = _comm.rank()
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, (int, np.integer)) \
                or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be an int >= 1, "
                             f"got {num_replicas!r}")
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) \
                or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}, rank should be in "
                             f"the interval [0, {num_replicas - 1}]")
        self.dataset_len = n
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        if self.drop_last:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = -(-n // self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """Sets the epoch, which selects this epoch's shared permutation."""
        self.epoch = int(epoch)

    def indices(self):
        """This rank's indices for the current epoch, as an int64 array."""
        n = self.dataset_len
        if self.shuffle:
            rng = np.random.default_rng(self.seed + self.epoch)
            order = rng.permutation(n).astype(np.int64)
        else:
            order = np.arange(n, dtype=np.int64)
        if self.drop_last:
            order = order[:self.total_size]
        elif self.total_size > n and n > 0:
            order = np.resize(order, self.total_size)    # repeats from the start
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples

    def __repr__(self):
        return (f"DistributedSampler(len={self.dataset_len}, num_replicas={self.num_replicas}, "
                f"rank={self.rank}, shuffle={self.shuffle}, seed={self.seed}, "
                f"drop_last={self.drop_last})")
