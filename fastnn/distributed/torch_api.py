"""PyTorch's ``torch.distributed`` names on fastnn's MPI world, so DDP-style
programs run unchanged: as one process (world size 1, the collectives copy
nothing), or under ``mpirun`` as that many ranks.

``init_process_group`` starts the MPI world (``backend`` and
``init_method`` are accepted; MPI decides the ranks), the collectives work
in place on Tensors as PyTorch's do, and ``nn.parallel.
DistributedDataParallel`` averages gradients across ranks during backward.
"""
import numpy as np

from .._tensor import Tensor
from . import _comm

__all__ = ["is_available", "init_process_group", "destroy_process_group", "get_rank",
           "get_world_size", "get_backend", "ReduceOp", "all_reduce", "broadcast",
           "all_gather", "reduce", "barrier", "new_group", "is_mpi_available",
           "is_nccl_available", "is_gloo_available", "is_torchelastic_launched", "GroupMember"]


class ReduceOp:
    SUM = "sum"
    AVG = "mean"
    MIN = "min"
    MAX = "max"
    PRODUCT = "product"


class GroupMember:
    WORLD = None
    NON_GROUP_MEMBER = -100


class _Work:
    """What an ``async_op=True`` collective returns (already complete)."""

    def wait(self, timeout=None):
        return True

    def is_completed(self):
        return True


def is_available():
    return True


def is_mpi_available():
    try:
        import mpi4py  # noqa: F401
        return True
    except ImportError:
        return False


def is_nccl_available():
    return False


def is_gloo_available():
    return False


def is_torchelastic_launched():
    return False


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Starts the MPI world (one process without MPI).  A ``world_size`` or
    ``rank`` that disagrees with what MPI launched is an error."""
    if _comm.is_initialized() and getattr(_comm.world, "_pg", False):
        raise ValueError("trying to initialize the default process group twice!")
    r, n = _comm.init()
    if world_size not in (-1, None) and world_size != n:
        raise ValueError(f"init_process_group: world_size={world_size} but this job runs "
                         f"{n} process(es) (launch with mpirun -n {world_size})")
    if rank not in (-1, None) and rank != r:
        raise ValueError(f"init_process_group: rank={rank} but this process is rank {r}")
    _comm.world._pg = True


def destroy_process_group(group=None):
    """Ends the process group (the MPI world itself stays up until exit)."""
    _comm.world._pg = False


def _need_pg(fn):
    if not getattr(_comm.world, "_pg", False):
        raise ValueError("Default process group has not been initialized, please make sure to "
                         f"call init_process_group. ({fn})")


def get_rank(group=None):
    _need_pg("get_rank")
    return _comm.rank()


def get_world_size(group=None):
    _need_pg("get_world_size")
    return _comm.size()


def get_backend(group=None):
    _need_pg("get_backend")
    return "mpi"


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False):
    """Only the whole world is a group in fastnn."""
    n = _comm.size()
    if ranks is not None and sorted(ranks) != list(range(n)):
        raise NotImplementedError("new_group: fastnn supports only the group of all ranks")
    return GroupMember.WORLD


def _tensor_arr(t, fn):
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}: expected a Tensor, got {type(t).__name__}")
    a = t._array
    if not (a.flags.c_contiguous and a.flags.writeable):
        raise ValueError(f"{fn}: the tensor must be contiguous and writeable")
    return a


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces ``tensor`` across ranks in place (SUM, AVG, MIN, MAX, PRODUCT)."""
    _need_pg("all_reduce")
    a = _tensor_arr(tensor, "all_reduce")
    if op == ReduceOp.PRODUCT:
        w = _comm._ensure()
        if w.size > 1:
            out = np.empty_like(a)
            w.comm.Allreduce(np.ascontiguousarray(a), out, op=w.MPI.PROD)
            a[...] = out
    else:
        if op not in ("sum", "mean", "min", "max"):
            raise ValueError(f"all_reduce: unknown op {op!r}")
        a[...] = _comm.allreduce(a, op=op)
    return _Work() if async_op else None


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    """As ``all_reduce`` (every rank gets the result; ``dst`` certainly does)."""
    return all_reduce(tensor, op, group, async_op)


def broadcast(tensor, src, group=None, async_op=False):
    """Copies rank ``src``'s tensor into every rank's, in place."""
    _need_pg("broadcast")
    _comm._check_root(src, "broadcast")
    _comm.broadcast_array_(_tensor_arr(tensor, "broadcast"), root=src)
    return _Work() if async_op else None


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fills ``tensor_list[r]`` with rank r's ``tensor``."""
    _need_pg("all_gather")
    w = _comm._ensure()
    if len(tensor_list) != w.size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors for a world "
                         f"of {w.size}")
    a = np.ascontiguousarray(tensor._array)
    if w.size == 1:
        tensor_list[0]._array[...] = a
    else:
        out = np.empty((w.size,) + a.shape, a.dtype)
        w.comm.Allgather(a, out)
        for r in range(w.size):
            tensor_list[r]._array[...] = out[r]
    return _Work() if async_op else None


def barrier(group=None, async_op=False, device_ids=None):
    _comm.barrier()
    return _Work() if async_op else None
