"""Data-parallel training over MPI (``pip install fastnn[mpi]``), Horovod-style.

Every rank (process) holds a full replica of the model, trains on its own
shard of each batch, and before each optimiser step the gradients are
averaged across ranks with allreduce, so the replicas stay identical.
Launch with ``mpirun -n 2 python train.py``; without a launcher the same
script runs as a world of one (all calls below are cheap no-ops).
``import fastnn`` does not load mpi4py; :func:`init` does, and only under
an MPI launcher.

Recipe (the manual loop)::

    import fastnn, fastnn.distributed as dist
    rank, world = dist.init()
    fastnn.set_num_threads(dist.suggested_num_threads())   # cores // ranks per machine
    model = make_model()
    dist.broadcast_parameters(model, root=0)        # every rank starts equal
    opt = dist.DistributedOptimizer(fastnn.optim.SGD(model.parameters(), lr=0.1))
    dist.broadcast_optimizer_state(opt, root=0)     # after loading a checkpoint on rank 0
    sampler = dist.DistributedSampler(len(train_set), shuffle=True, seed=0)
    loader = fastnn.data.DataLoader(train_set, batch_size=B // world, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)                   # a new shared permutation
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()                              # allreduce(mean) of grads, then step
        metrics = dist.reduce_metrics({"val_loss": v, "acc": a}, weight=n_val_local)
        if dist.is_main_process():                  # only rank 0 prints / saves
            print(epoch, metrics)
        stop = early_stopping_decision(metrics)     # same numbers -> same decision everywhere

With ``fastnn.train.Trainer``: ``dist.make_distributed(trainer)`` does the
wrapping, the broadcasts, ``set_epoch``, the metric reduction (before
History, schedulers and callbacks see them, so ``EarlyStopping`` stops
every rank at the same epoch) and rank-0-only progress bar and
checkpoints; give it ``DataLoader(..., sampler=DistributedSampler(...))``.

With per-rank batch ``B / world`` and the mean loss, the averaged gradient
is the gradient of the mean loss over the global batch of ``B``: two ranks
at ``B/2`` train the same weights as one process at ``B``, up to float32
rounding in the summation order.

The exception is **batch normalisation**: each rank normalises with the
mean and variance of its own ``B/world`` samples (and updates its own
running statistics from them), not those of the global batch, so a model
with BatchNorm trains slightly differently from one process at ``B``, and
the ranks' running statistics drift apart (broadcast the buffers from rank
0 with :func:`broadcast_parameters` before evaluating or saving).

A rank that dies of an unhandled exception aborts the whole job
(``MPI.COMM_WORLD.Abort``, installed by :func:`init` as ``sys.excepthook``,
or the :func:`abort_on_exception` context manager), so the others never
hang in a collective waiting for it.  Every rank must run the same number
of steps: :class:`DistributedSampler` pads (or drops) to make it so.
"""
from ._comm import (abort_on_exception, allreduce, broadcast_object, init,
                    is_initialized, is_main_process, local_rank, local_size, rank,
                    reduce_metrics, size, suggested_num_threads)
from .optimizer import DistributedOptimizer, broadcast_optimizer_state, broadcast_parameters
from .sampler import DistributedSampler
from .trainer import make_distributed
from .torch_api import (GroupMember, ReduceOp, all_gather, all_reduce, broadcast,  # noqa: F401
                        destroy_process_group, get_backend, get_rank, get_world_size,
                        init_process_group, is_available, is_gloo_available, is_mpi_available,
                        is_nccl_available, is_torchelastic_launched, new_group, reduce)
from .torch_api import barrier as _torch_barrier


def barrier(group=None, async_op=False, device_ids=None):
    """Waits until every rank reaches this call (PyTorch's arguments accepted)."""
    return _torch_barrier(group, async_op, device_ids)

__all__ = ["init", "rank", "size", "local_rank", "local_size", "suggested_num_threads",
           "is_initialized", "is_main_process", "barrier",
           "allreduce", "broadcast_object", "broadcast_parameters",
           "broadcast_optimizer_state", "reduce_metrics", "abort_on_exception",
           "DistributedSampler", "DistributedOptimizer", "make_distributed",
           # PyTorch's torch.distributed names (torch_api.py)
           "is_available", "init_process_group", "destroy_process_group", "get_rank",
           "get_world_size", "get_backend", "ReduceOp", "all_reduce", "reduce", "broadcast",
           "all_gather", "new_group", "GroupMember"]
