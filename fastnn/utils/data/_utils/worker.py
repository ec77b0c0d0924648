"""What runs inside a ``DataLoader`` worker process, and ``get_worker_info``.

A worker is started with its id, the dataset, the collate function and a
base seed; it seeds Python's ``random``, NumPy's global state and fastnn's
(``base_seed + worker_id``, as PyTorch), sets fastnn to one thread (the
workers already run in parallel), calls ``worker_init_fn(worker_id)``, then
loops: a task ``(epoch, idx, indices)`` from its index queue becomes one
batch, sent back on its own pipe as ``(epoch, idx, payload)``.  ``None``
ends the loop; so do the shared ``done_event`` (set by the main process
when it shuts the workers down: it works even from a garbage collection,
where the queue that would carry ``None`` may already be closed), a parent
that has gone away and a closed pipe.

Payloads are pickled here, in the worker, so an error pickling a batch is
reported like any other error instead of being lost in a queue's feeder
thread.  Tensors travel as their NumPy arrays (``_WireTensor``) and become
Tensors again in the main process.  An exception becomes an
``ExceptionWrapper`` carrying the worker's traceback text, re-raised by the
main process with PyTorch's wording; an iterable dataset's end is
``_IterableDatasetStop``.

Nothing here imports ``multiprocessing`` (or ``queue``, ``random``) at import time.
"""
import collections.abc
import copy
import os
import pickle
import sys

import numpy as np

from .... import _config
from ...._tensor import Tensor, from_numpy

__all__ = ["WorkerInfo", "get_worker_info", "ExceptionWrapper"]

_CHECK_INTERVAL = 0.5          # seconds between checks of the parent and the done event
_worker_info = None


class WorkerInfo:
    """What ``get_worker_info()`` returns in a worker: ``id``,
    ``num_workers``, ``seed`` and ``dataset`` (this worker's copy)."""

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{type(self).__name__}({items})"


def get_worker_info():
    """In a DataLoader worker process, its ``WorkerInfo`` (``id``,
    ``num_workers``, ``seed``, ``dataset``); in the main process, None.

    An ``IterableDataset`` uses it to give each worker its own share of the
    data (see ``IterableDataset``)."""
    return _worker_info


class _IterableDatasetStop:
    """The worker's iterable dataset has no more batches."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class ExceptionWrapper:
    """An exception raised in a worker, with its traceback as text."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        import traceback
        exc_type = exc_info[0]
        try:
            pickle.dumps(exc_type)
            self.exc_type = exc_type
        except Exception:              # a class pickle cannot name: re-raised as RuntimeError
            self.exc_type = None
        self.exc_name = exc_type.__name__
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        exc = None
        if self.exc_type is not None:
            try:
                exc = self.exc_type(msg)
            except Exception:
                exc = None
        if exc is None:
            exc = RuntimeError(msg)
        try:
            raise exc
        finally:
            exc = None        # no cycle exception -> traceback -> this frame -> exception


class _KeyErrorMessage(str):
    """Shows a KeyError's multi-line message as written (not repr'd)."""

    def __repr__(self):
        return str(self)


class _WireTensor:
    """A Tensor on its way from a worker: just its array."""
    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __reduce__(self):
        return (_WireTensor, (self.array,))


def _map_structure(obj, leaf):
    """obj with every leaf replaced by leaf(x) (None: keep it), through
    lists, tuples, namedtuples and mappings."""
    r = leaf(obj)
    if r is not None:
        return r
    t = type(obj)
    if t is list or t is tuple:
        return t(_map_structure(x, leaf) for x in obj)
    if t is dict:
        return {k: _map_structure(v, leaf) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return t(*(_map_structure(x, leaf) for x in obj))
    if isinstance(obj, collections.abc.MutableMapping):
        out = copy.copy(obj)
        for k, v in obj.items():
            out[k] = _map_structure(v, leaf)
        return out
    return obj


def _tensor_to_wire(x):
    return _WireTensor(x._array) if isinstance(x, Tensor) else None


def _wire_to_tensor(x):
    return from_numpy(x.array) if isinstance(x, _WireTensor) else None


def to_wire(batch):
    return _map_structure(batch, _tensor_to_wire)


def from_wire(batch):
    return _map_structure(batch, _wire_to_tensor)


def _seed_worker(base_seed, worker_id):
    import random
    seed = base_seed + worker_id
    random.seed(seed)
    _config.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    _config.set_num_threads(1)
    return seed


def worker_loop(make_fetcher, dataset, index_queue, conn, done_event, base_seed, init_fn,
                worker_id, num_workers, parent_pid):
    """The body of worker process ``worker_id`` (see the module docstring).

    ``make_fetcher(dataset)`` builds the object whose ``fetch(indices)``
    returns one collated batch (a new one for each epoch)."""
    global _worker_info
    import queue
    where = f"in DataLoader worker process {worker_id}"
    try:
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        init_error = fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
        except Exception:
            init_error = ExceptionWrapper(where=where)
        epoch = None
        while True:
            try:
                task = index_queue.get(timeout=_CHECK_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent_pid or done_event.is_set():
                    break
                continue
            if task is None or done_event.is_set():
                break
            ep, idx, indices = task
            if init_error is not None:
                payload = init_error
            else:
                try:
                    if ep != epoch or fetcher is None:
                        epoch, fetcher = ep, make_fetcher(dataset)
                    payload = to_wire(fetcher.fetch(indices))
                except StopIteration:
                    payload = _IterableDatasetStop(worker_id)
                except Exception:
                    payload = ExceptionWrapper(where=where)
            try:
                blob = pickle.dumps((ep, idx, payload), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                blob = pickle.dumps((ep, idx, ExceptionWrapper(where=where + " (sending the "
                                                               "batch to the main process)")))
            try:
                conn.send_bytes(blob)
            except (OSError, ValueError):       # the main process closed the pipe
                break
    except KeyboardInterrupt:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass
