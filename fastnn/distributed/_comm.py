"""The process world: MPI start-up (lazy), rank and size, collectives on
ndarrays, metric reduction, and the abort-on-exception guard.

mpi4py is imported only by :func:`init` and only when this process was
started by an MPI launcher, so ``import fastnn`` never loads MPI and a
script run with plain ``python`` is a world of one.
"""
import contextlib
import json
import os
import sys
import traceback
import time
import zlib

import numpy as np

from .._core import TensorBase
from .._core import wrap as _wrap

# Environment variables that MPI launchers set in every rank they start
# (MPICH/Hydra and Intel MPI: PMI_*; Open MPI: OMPI_COMM_WORLD_*; PMIx: PMIX_RANK).
_LAUNCHER_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS")
_LAUNCHER_VARS = _LAUNCHER_SIZE_VARS + ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")

_OPS = ("mean", "sum", "max", "min")

# Seconds a failing rank waits after flushing its traceback and before
# MPI_Abort, so that the launcher forwards the traceback before teardown.
_ABORT_GRACE_S = 0.5


class _World:
    initialized = False
    rank = 0
    size = 1
    comm = None          # mpi4py.MPI.Comm or None for the world of one
    MPI = None           # the mpi4py.MPI module, when loaded
    local_rank = None    # filled on first use of local_size()
    local_size = None
    prev_excepthook = None
    _pg = False          # init_process_group called (torch_api.py)


world = _World()


def _launched_size():
    """The world size the launcher announced, 0 when not started by one."""
    for var in _LAUNCHER_SIZE_VARS:
        v = os.environ.get(var, "").strip()
        if v.isdigit():
            return int(v)
    if any(os.environ.get(v) for v in _LAUNCHER_VARS):
        return 1
    return 0


def init(use_mpi=None):
    """Starts the distributed world and returns ``(rank, size)``.

    Under ``mpirun``/``mpiexec`` this loads mpi4py, uses ``MPI.COMM_WORLD``
    and installs an exception hook that aborts every rank when one of them
    dies of an unhandled exception (so no rank hangs in a collective).
    Started with plain ``python`` (or without mpi4py in a world of one), it
    is a no-op world: rank 0 of 1, and every collective returns its input.
    Calling it again returns the same answer.

    Parameters
    ----------
    use_mpi : bool or None
        None (default): use MPI when an MPI launcher started this process.
        True: always load mpi4py (a singleton world when not launched).
        False: a world of one even under ``mpirun``.

    Returns
    -------
    (int, int)
        This process's rank and the number of processes.

    Examples
    --------
    >>> import fastnn.distributed as dist
    >>> dist.init()
    (0, 1)
    """
    if world.initialized:
        return world.rank, world.size
    launched = _launched_size()
    want = (launched > 0) if use_mpi is None else bool(use_mpi)
    if want:
        try:
            from mpi4py import MPI
        except ImportError as e:
            if launched > 1:
                raise RuntimeError(
                    f"fastnn.distributed.init: started by an MPI launcher with {launched} ranks "
                    f"but mpi4py cannot be imported ({e}); install it with "
                    f"`pip install fastnn[mpi]`, or every rank would train alone") from e
            if use_mpi:
                raise
            MPI = None
        if MPI is not None:
            world.MPI = MPI
            world.comm = MPI.COMM_WORLD
            world.rank = world.comm.Get_rank()
            world.size = world.comm.Get_size()
    world.initialized = True
    if world.size > 1:
        _install_excepthook()
    return world.rank, world.size


def is_initialized():
    """True once :func:`init` has run (explicitly or through another call)."""
    return world.initialized


def _ensure():
    if not world.initialized:
        init()
    return world


def rank():
    """This process's rank (0 in a world of one). Initialises on first use."""
    return _ensure().rank


def size():
    """The number of processes in the world (1 without MPI)."""
    return _ensure().size


def local_size():
    """How many ranks of this job run on this machine (1 without MPI): divide
    the cores by it for each rank's thread count."""
    w = _ensure()
    if w.size == 1:
        return 1
    if w.local_size is None:
        node = w.comm.Split_type(w.MPI.COMM_TYPE_SHARED)
        w.local_rank, w.local_size = node.Get_rank(), node.Get_size()
        node.Free()
    return w.local_size


def local_rank():
    """This rank's index among the ranks on its machine (0 without MPI)."""
    local_size()
    return _ensure().local_rank or 0


def suggested_num_threads():
    """Threads per rank that share this machine's cores fairly:
    ``max(1, cores // ranks on this machine)``.

    Examples
    --------
    >>> import fastnn, fastnn.distributed as dist
    >>> fastnn.set_num_threads(dist.suggested_num_threads())
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    n = local_size()
    # A rank that the launcher bound to fewer cores than there are local ranks
    # already has its share; otherwise the ranks share the cores it can see.
    return max(1, cores // n if cores >= n else cores)


def is_main_process():
    """True on rank 0: the one rank that prints, logs and writes files."""
    return _ensure().rank == 0


def barrier():
    """Waits until every rank reaches this call."""
    w = _ensure()
    if w.size > 1:
        w.comm.Barrier()


# ----------------------------------------------------------- abort on error
def _abort(code=1):
    """Ends the whole job.  The launcher forwards a rank's output through
    pipes that it stops reading once it handles the abort, so the output is
    flushed first and the launcher gets a moment to forward it (otherwise the
    traceback saying why the job died can be lost).  MPI_Abort may return
    before the launcher has killed the ranks (MPICH does), so this process
    then exits at once."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(_ABORT_GRACE_S)
    finally:
        try:
            world.comm.Abort(code)
        finally:
            os._exit(code)


def _excepthook(exc_type, exc, tb):
    if issubclass(exc_type, KeyboardInterrupt) or world.size <= 1:
        return (world.prev_excepthook or sys.__excepthook__)(exc_type, exc, tb)
    try:
        msg = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(f"[fastnn.distributed rank {world.rank}/{world.size}] unhandled "
                         f"exception, aborting the MPI job:\n{msg}")
    finally:
        _abort(1)


def _install_excepthook():
    if sys.excepthook is not _excepthook:
        world.prev_excepthook = sys.excepthook
        sys.excepthook = _excepthook


@contextlib.contextmanager
def abort_on_exception(code=1):
    """Context manager: an exception escaping the block aborts the whole MPI
    job (``MPI.COMM_WORLD.Abort(code)``) after printing the traceback.

    :func:`init` already installs the same behaviour as ``sys.excepthook``;
    use this where the exception would otherwise be caught by a framework
    (a test runner, a notebook) before reaching the hook.

    Examples
    --------
    >>> import fastnn.distributed as dist
    >>> with dist.abort_on_exception():
    ...     pass
    """
    try:
        yield
    except BaseException:
        w = _ensure()
        if w.size <= 1:
            raise
        exc_type, exc, tb = sys.exc_info()
        sys.stderr.write(f"[fastnn.distributed rank {w.rank}/{w.size}] aborting the MPI job:\n"
                         + "".join(traceback.format_exception(exc_type, exc, tb)))
        _abort(code)


# -------------------------------------------------------------- collectives
def _mpi_op(op):
    MPI = world.MPI
    return {"mean": MPI.SUM, "sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op]


def _check_op(op, fn):
    if op not in _OPS:
        raise ValueError(f"{fn}: op must be one of {_OPS}, got {op!r}")


def allreduce(array, op="mean"):
    """Reduces ``array`` element-wise across all ranks; every rank gets the result.

    Parameters
    ----------
    array : ndarray, Tensor or number
        Same shape and dtype on every rank.
    op : {'mean', 'sum', 'max', 'min'}

    Returns
    -------
    ndarray (or float for a number input)
        A new array; the input is not modified.  The mean of an integer array
        is float64.

    Examples
    --------
    >>> import numpy as np, fastnn.distributed as dist
    >>> dist.allreduce(np.array([1.0, 3.0]), op="sum")
    array([1., 3.])
    """
    _check_op(op, "allreduce")
    scalar = isinstance(array, (int, float, np.generic))
    a = np.asarray(getattr(array, "data", array))
    if op == "mean" and a.dtype.kind not in "fc":
        a = a.astype(np.float64)
    src = np.ascontiguousarray(a)
    w = _ensure()
    if w.size > 1:
        out = np.empty_like(src)
        w.comm.Allreduce(src, out, op=_mpi_op(op))
        if op == "mean":
            out /= w.size
    else:
        out = src.copy()
    return out.item() if scalar else out


def broadcast_array_(a, root=0):
    """Broadcasts a C-contiguous ndarray from ``root`` into ``a`` in place on every rank."""
    w = _ensure()
    if w.size > 1:
        if not (isinstance(a, np.ndarray) and a.flags.c_contiguous and a.flags.writeable):
            raise ValueError("broadcast_array_: the array must be a writeable C-contiguous ndarray")
        w.comm.Bcast(a, root=root)
    return a


def _check_root(root, fn):
    w = _ensure()
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or not 0 <= root < w.size:
        raise ValueError(f"{fn}: root must be a rank in [0, {w.size}), got {root!r}")


# -------------------------------------------------- object broadcast (no pickle)
def _encode(obj, arrays):
    """A JSON-able description of nested dicts/lists/tuples of numbers,
    strings and arrays; arrays are appended to ``arrays`` by reference."""
    if isinstance(obj, dict):
        return {"d": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"l" if isinstance(obj, list) else "t": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, TensorBase):       # (an optimiser's state: comes back a Tensor)
        a = obj._array
        arrays.append(a if a.flags.c_contiguous else np.ascontiguousarray(a))   # (0-d stays 0-d)
        return {"T": [len(arrays) - 1, a.dtype.str, list(a.shape)]}
    if isinstance(obj, np.ndarray):
        arrays.append(obj if obj.flags.c_contiguous else np.ascontiguousarray(obj))
        return {"a": [len(arrays) - 1, obj.dtype.str, list(obj.shape)]}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"v": obj}
    raise TypeError(f"broadcast_object: cannot send a {type(obj).__name__} "
                    f"(only dicts, lists, tuples, numbers, strings, None and arrays)")


def _decode(node, arrays):
    (kind, val), = node.items()
    if kind == "d":
        return {_decode(k, arrays): _decode(v, arrays) for k, v in val}
    if kind == "l":
        return [_decode(v, arrays) for v in val]
    if kind == "t":
        return tuple(_decode(v, arrays) for v in val)
    if kind == "a":
        return arrays[val[0]]
    if kind == "T":
        return _wrap(arrays[val[0]])
    return val


def broadcast_object(obj, root=0):
    """Sends a nested structure of dicts, lists, tuples, numbers, strings and
    ndarrays from ``root`` to every rank and returns it (no pickle: the
    structure travels as JSON, the arrays as raw buffers).

    Examples
    --------
    >>> import fastnn.distributed as dist
    >>> dist.broadcast_object({"epoch": 3})
    {'epoch': 3}
    """
    w = _ensure()
    _check_root(root, "broadcast_object")
    if w.size == 1:
        return obj
    arrays = []
    if w.rank == root:
        blob = np.frombuffer(json.dumps(_encode(obj, arrays)).encode(), np.uint8)
        n = np.array([blob.size], np.int64)
    else:
        n = np.zeros(1, np.int64)
    w.comm.Bcast(n, root=root)
    if w.rank != root:
        blob = np.empty(int(n[0]), np.uint8)
    w.comm.Bcast(blob, root=root)
    tree = json.loads(blob.tobytes().decode())
    if w.rank != root:
        specs = []
        _collect_specs(tree, specs)
        arrays = [np.empty(shape, np.dtype(dt)) for _, dt, shape in sorted(specs)]
    for a in arrays:
        if a.size:
            w.comm.Bcast(a, root=root)
    return obj if w.rank == root else _decode(tree, arrays)


def _collect_specs(node, out):
    (kind, val), = node.items()
    if kind == "d":
        for k, v in val:
            _collect_specs(k, out)
            _collect_specs(v, out)
    elif kind in ("l", "t"):
        for v in val:
            _collect_specs(v, out)
    elif kind in ("a", "T"):
        out.append(tuple(val))


# ------------------------------------------------------------------ metrics
def reduce_metrics(metrics, weight=None):
    """Averages a dict of scalar metrics across ranks; every rank gets the
    same dict of floats (so decisions taken from it, such as early stopping,
    agree everywhere).

    Parameters
    ----------
    metrics : dict of str -> number (or 0-d array/Tensor)
        The same keys on every rank.
    weight : number, optional
        This rank's weight (e.g. how many samples it evaluated): the result
        is then the weighted mean, exact even when ranks saw unequal counts.

    Returns
    -------
    dict of str -> float

    Examples
    --------
    >>> import fastnn.distributed as dist
    >>> dist.reduce_metrics({"val_loss": 0.5, "accuracy": 0.9})
    {'val_loss': 0.5, 'accuracy': 0.9}
    """
    if not isinstance(metrics, dict):
        raise TypeError(f"reduce_metrics: metrics must be a dict, got {type(metrics).__name__}")
    keys = list(metrics)
    vals = np.array([float(np.asarray(getattr(metrics[k], "data", metrics[k]))) for k in keys],
                    np.float64)
    w = _ensure()
    if w.size == 1:
        return dict(zip(keys, vals.tolist()))
    # Every rank must send the same keys: check with a fixed-size message first
    # so a mismatch raises the same error on every rank instead of hanging.
    crc = float(zlib.crc32("\0".join(map(str, keys)).encode()))
    probe = np.array([len(keys), crc, -len(keys), -crc], np.float64)
    w.comm.Allreduce(np.copy(probe), probe, op=w.MPI.MAX)
    if probe[0] != -probe[2] or probe[1] != -probe[3]:
        raise ValueError("reduce_metrics: ranks passed different metric names; "
                         f"rank {w.rank} has {sorted(map(str, keys))}")
    wt = 1.0 if weight is None else float(weight)
    buf = np.append(vals * wt, wt)
    out = np.empty_like(buf)
    w.comm.Allreduce(buf, out, op=w.MPI.SUM)
    res = out[:-1] / out[-1] if out[-1] != 0 else np.full(len(keys), np.nan)
    return dict(zip(keys, res.tolist()))
