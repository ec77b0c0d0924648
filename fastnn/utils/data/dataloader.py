"""``DataLoader``: batches from a dataset, in this process or in workers.

Arguments, defaults and checks are ``torch.utils.data.DataLoader``'s, plus
fastnn's ``seed=`` (the loader's own generator, seeded; the same as
``generator=fastnn.Generator().manual_seed(seed)``).

One epoch, that is one ``iter(loader)``:

1. the batch sampler's first batch of indices is drawn (a shuffling
   sampler draws the epoch's permutation then: from ``generator`` if given,
   else from one seed drawn from fastnn's global random state, so the order
   follows ``fastnn.manual_seed``);
2. a base seed is drawn from the same generator (worker ``i`` seeds its
   random state with ``base_seed + i``); it is drawn with or without
   workers, so ``num_workers`` never changes the order of later epochs;
3. batches are fetched: ``collate_fn([dataset[i] for i in indices])``, or
   for a plain ``TensorDataset`` with the default ``collate_fn`` one fancy
   indexing of each array per batch.

With ``num_workers > 0`` the fetching happens in worker processes (the
``fork`` start method on Linux, as PyTorch).  The main process sends index
batches round-robin, at most ``prefetch_factor * num_workers`` ahead, and
yields the results in sampler order, so the batches are those of
``num_workers=0``.  Each worker returns its results on its own pipe; the
main process waits on those pipes and on the workers' process sentinels
together, so a worker that dies is reported at once, and ``timeout``
bounds every wait.  Errors in a worker are re-raised in the main process
with the worker's traceback.  The workers stop when the epoch ends (or the
iterator is deleted), unless ``persistent_workers``: then they serve every
epoch of this loader and stop with it.
"""
import functools
import numbers
import os
import pickle
import sys
import time
import types

import numpy as np

from ...random import Generator, _numpy_generator
from ._utils.collate import as_batch_tensor, default_collate, default_convert
from ._utils.worker import ExceptionWrapper, _IterableDatasetStop, from_wire
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader"]

_SHUTDOWN_WAIT = 2.0           # seconds workers get to exit before they are terminated
_CHECK_INTERVAL = 5.0          # seconds between liveness checks while waiting for a batch


# -------------------------------------------------------------------- fetchers
class _MapFetcher:
    """One batch of a map-style dataset from its indices."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        # a plain TensorDataset (or a Subset of one, as random_split makes) with
        # the default collate: fancy-index its arrays
        self.arrays, self.remap = _tensor_arrays(dataset)
        self.fast = auto_collation and collate_fn is default_collate and self.arrays is not None

    def fetch(self, indices):
        ds = self.dataset
        if not self.auto_collation:
            return self.collate_fn(ds[int(indices) if isinstance(indices, np.integer)
                                      else indices])
        if self.fast:
            idx = np.asarray(indices, dtype=np.int64)
            if self.remap is not None:
                idx = self.remap[idx]
            return [as_batch_tensor(a[idx]) for a in self.arrays]
        if isinstance(indices, np.ndarray):
            indices = indices.tolist()
        getitems = getattr(ds, "__getitems__", None)
        if callable(getitems):
            data = getitems(indices)
        else:
            data = [ds[i] for i in indices]
        return self.collate_fn(data)


def _tensor_arrays(dataset):
    """(arrays, index map or None) of a plain TensorDataset, or of Subsets of
    one with integer indices; (None, None) for anything else."""
    remap = None
    while type(dataset) is Subset:
        try:
            idx = np.asarray(dataset.indices)
        except (TypeError, ValueError):
            return None, None
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            return None, None
        idx = idx.astype(np.int64, copy=False)
        remap = idx if remap is None else idx[remap]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:
        return None, None
    n = len(dataset)
    if remap is not None and len(remap) and (remap.min() < -n or remap.max() >= n):
        return None, None                # let indexing raise the usual error
    return dataset.arrays, remap


class _IterableFetcher:
    """The next batch of an iterable dataset (StopIteration at its end)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.it = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, batch_size):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.it))
        data = []
        for _ in range(batch_size):
            try:
                data.append(next(self.it))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < batch_size):
            raise StopIteration
        return self.collate_fn(data)


def _make_fetcher(iterable, auto_collation, collate_fn, drop_last, dataset):
    cls = _IterableFetcher if iterable else _MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


# ------------------------------------------------------------------ DataLoader
def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        return False
    return True


def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers):
    """Validates the worker options as PyTorch does; returns the prefetch factor
    (2 by default with workers)."""
    if not _check_int("num_workers", num_workers, 0):
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if not isinstance(timeout, numbers.Real) or timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in "
                         "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                         "otherwise set prefetch_factor to None.")
    if num_workers > 0 and prefetch_factor is None:
        prefetch_factor = 2
    if prefetch_factor is not None and not _check_int("prefetch_factor", prefetch_factor, 0):
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    return prefetch_factor


def _check_sampling(dataset, shuffle, sampler, batch_sampler, batch_size, drop_last):
    """Validates the dataset and sampling options as PyTorch does; returns
    (iterable, shuffle, batch_size, drop_last) normalised."""
    iterable = isinstance(dataset, IterableDataset)
    if iterable:
        if shuffle not in (None, False):
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                             f"option, but got shuffle={shuffle}")
        if sampler is not None:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                             f"option, but got sampler={sampler}")
        if batch_sampler is not None:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                             f"batch_sampler option, but got batch_sampler={batch_sampler}")
    elif not hasattr(dataset, "__getitem__"):
        raise TypeError(f"DataLoader: dataset must be a map-style dataset (__getitem__) or "
                        f"an IterableDataset, got {type(dataset).__name__}")
    shuffle = bool(shuffle)
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        batch_size, drop_last = None, False
    elif batch_size is None:
        if drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
    elif not _check_int("batch_size", batch_size, 1):
        raise ValueError(f"batch_size should be a positive integer value, but got "
                         f"batch_size={batch_size}")
    return iterable, shuffle, batch_size, drop_last


class DataLoader:
    """Iterates over a dataset in batches, as ``torch.utils.data.DataLoader``.

    Parameters
    ----------
    dataset : Dataset or IterableDataset
        Map-style (``__getitem__``, ``__len__``) or iterable.
    batch_size : int or None
        Samples per batch; None yields single samples (``default_convert``).
    shuffle : bool, optional
        A new permutation every epoch (``RandomSampler``).
    sampler, batch_sampler : Sampler or iterable, optional
        The order of indices / of lists of indices (``batch_sampler`` excludes
        ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``).
    num_workers : int
        Worker processes (0: load in this process).
    collate_fn : callable, optional
        Makes a batch from a list of samples (default ``default_collate``).
    pin_memory : bool
        Accepted; CPU memory is what fastnn uses anyway.
    drop_last : bool
        Drop the last, incomplete batch.
    timeout : float
        Seconds to wait for a batch from the workers (0: no limit).
    worker_init_fn : callable, optional
        Called as ``worker_init_fn(worker_id)`` in each worker after seeding.
    multiprocessing_context : str or context, optional
        ``"fork"`` (the default on Linux), ``"spawn"`` or ``"forkserver"``.
    generator : fastnn.Generator, optional
        Draws the shuffling order and the workers' base seed.
    prefetch_factor : int, optional
        Batches in flight per worker (default 2 with workers).
    persistent_workers : bool
        Keep the workers between epochs.
    pin_memory_device : str
        Accepted and ignored.
    seed : int, optional
        fastnn's shortcut for ``generator=fastnn.Generator().manual_seed(seed)``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastnn.utils.data import TensorDataset, DataLoader
    >>> dl = DataLoader(TensorDataset(np.zeros((10, 2)), np.arange(10)), batch_size=4)
    >>> [len(y) for x, y in dl]
    [4, 4, 2]
    """

    # generic as PyTorch's (``class D(Dataset[Tuple[Tensor, int]])``,
    # ``DataLoader[T]`` annotations): X[T] is a types.GenericAlias of X
    __class_getitem__ = classmethod(types.GenericAlias)

    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
               "persistent_workers")
    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True, seed=None):
        prefetch_factor = _check_worker_options(num_workers, timeout, prefetch_factor,
                                                persistent_workers)
        if seed is not None:
            if generator is not None:
                raise ValueError("DataLoader: pass either seed= or generator=, not both")
            generator = Generator().manual_seed(seed)
        elif generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"DataLoader: generator must be a fastnn.Generator, got "
                            f"{type(generator).__name__}")
        iterable, shuffle, batch_size, drop_last = _check_sampling(
            dataset, shuffle, sampler, batch_sampler, batch_size, drop_last)
        if not iterable and sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if not iterable and batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))

        self.dataset = dataset
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.batch_size = None if batch_size is None else int(batch_size)
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.seed = seed
        self.in_order = in_order
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = bool(persistent_workers)
        self._iterable = iterable
        self._iterator = None
        self.__initialized = True

    def __setattr__(self, name, value):
        if self.__initialized and name in self._FROZEN:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (self._iterable_kind()
                                                  and self.batch_size is not None)

    def _iterable_kind(self):
        return isinstance(self.dataset, IterableDataset)

    @property
    def _rng(self):
        """The numpy Generator behind ``generator`` (None: the global one is
        used); ``fastnn.train.Trainer`` saves and restores its state."""
        return None if self.generator is None else self.generator._np

    def __len__(self):
        if self._iterable_kind():
            n = len(self.dataset)          # TypeError if the dataset has no length
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shutdown:   # (first, or after an error)
                self._iterator = _MultiProcessingIter(self)
            else:
                self._iterator._reset()
            return self._iterator
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        return _MultiProcessingIter(self)

    # -- what the iterators use
    def _index_batches(self):
        """The epoch's index batches (a lazy generator)."""
        if self._iterable_kind():
            item = self.batch_size if self._auto_collation else None
            while True:
                yield item
        bs = self.batch_sampler
        if type(bs) is BatchSampler:
            yield from bs._index_batches()
        elif bs is not None:
            yield from bs
        else:
            yield from self.sampler

    def _draw_base_seed(self):
        return int(_numpy_generator(self.generator).integers(0, 1 << 63))

    def _fetcher_factory(self):
        return functools.partial(_make_fetcher, self._iterable_kind(), self._auto_collation,
                                 self.collate_fn, self.drop_last)

    def _mp_context(self):
        import multiprocessing as mp
        ctx = self.multiprocessing_context
        if ctx is None:
            if sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods():
                return mp.get_context("fork")
            return mp.get_context()
        if isinstance(ctx, str):
            if ctx not in mp.get_all_start_methods():
                raise ValueError(f"multiprocessing_context option should specify a valid start "
                                 f"method in {mp.get_all_start_methods()!r}, but got "
                                 f"multiprocessing_context={ctx!r}")
            return mp.get_context(ctx)
        return ctx

    def __del__(self):
        it = self.__dict__.get("_iterator")
        if it is not None:
            it._shutdown_workers()


_END = object()
_USED = object()


class _BaseIter:
    def __init__(self, loader):
        self._loader = loader
        self._num_yielded = 0
        self._start_epoch()

    def _start_epoch(self):
        # the first index batch first (a shuffling sampler draws its order),
        # then the workers' base seed, from the same generator
        self._index_iter = self._loader._index_batches()
        self._primed = next(self._index_iter, _END)
        self._base_seed = self._loader._draw_base_seed()

    def _next_index(self):
        x = self._primed
        if x is _USED:
            return next(self._index_iter)
        self._primed = _USED
        if x is _END:
            raise StopIteration
        return x

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        return data


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = loader._fetcher_factory()(loader.dataset)

    def _next_data(self):
        return self._fetcher.fetch(self._next_index())


class _MultiProcessingIter(_BaseIter):
    """Workers fetch; results come back in sampler order (module docstring)."""

    def __init__(self, loader):
        self._shutdown = True            # until the workers exist
        super().__init__(loader)
        n = loader.num_workers
        ctx = loader._mp_context()
        make = loader._fetcher_factory()
        self._workers, self._queues, self._conns = [], [], []
        self._owner = os.getpid()
        self._shutdown = False
        from ._utils.worker import worker_loop
        try:
            self._done_event = ctx.Event()
            for wid in range(n):
                q = ctx.Queue()
                q.cancel_join_thread()          # never block this process's exit on it
                r, w = ctx.Pipe(duplex=False)
                p = ctx.Process(target=worker_loop, daemon=True,
                                args=(make, loader.dataset, q, w, self._done_event,
                                      self._base_seed,
                                      loader.worker_init_fn, wid, n, os.getpid()))
                p.start()
                w.close()
                self._workers.append(p)
                self._queues.append(q)
                self._conns.append(r)
        except BaseException:
            self._shutdown_workers()
            raise
        self._epoch = 0
        self._init_epoch_state()

    def _init_epoch_state(self):
        n = len(self._workers)
        self._send_idx = self._rcvd_idx = 0
        self._pending = {}                  # idx -> worker, sent and not received
        self._done = {}                     # idx -> payload, received and not yielded
        self._skipped = set()               # idx of an iterable dataset's end
        self._active = [True] * n
        self._next_worker = 0
        self._exhausted = False
        for _ in range(self._in_flight()):
            self._try_put_index()

    def _in_flight(self):
        """Batches sent and not yet yielded, at most (at least one)."""
        return max(1, self._loader.prefetch_factor * len(self._workers))

    def _reset(self):
        """The next epoch with the same (persistent) workers."""
        self._start_epoch()
        self._epoch += 1
        self._init_epoch_state()

    def _try_put_index(self):
        n = len(self._workers)
        if self._exhausted or len(self._pending) + len(self._done) >= self._in_flight():
            return
        for _ in range(n):
            w = self._next_worker
            self._next_worker = (w + 1) % n
            if self._active[w]:
                break
        else:
            return
        try:
            indices = self._next_index()
        except StopIteration:
            self._exhausted = True
            return
        self._queues[w].put((self._epoch, self._send_idx, indices))
        self._pending[self._send_idx] = w
        self._send_idx += 1

    def _next_data(self):
        while True:
            if self._rcvd_idx in self._done:
                payload = self._done.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                self._try_put_index()
                if isinstance(payload, ExceptionWrapper):
                    payload.reraise()
                return from_wire(payload)
            if self._rcvd_idx in self._skipped:
                self._skipped.discard(self._rcvd_idx)
                self._rcvd_idx += 1
                continue
            if not self._pending:
                self._try_put_index()
                if not self._pending:
                    if not self._loader.persistent_workers:
                        self._shutdown_workers()
                    raise StopIteration
                continue
            epoch, idx, payload = self._receive()
            if epoch != self._epoch or idx not in self._pending:
                continue                    # from an epoch that was abandoned
            w = self._pending.pop(idx)
            if isinstance(payload, _IterableDatasetStop):
                self._active[w] = False
                self._skipped.add(idx)
                self._try_put_index()
                continue
            self._done[idx] = payload

    def _receive(self):
        """The next message of any worker, checking that they are alive."""
        from multiprocessing.connection import wait
        if self._shutdown:
            raise RuntimeError("DataLoader: the workers have been shut down")
        timeout = self._loader.timeout
        deadline = time.monotonic() + timeout if timeout > 0 else None
        sentinels = {p.sentinel: i for i, p in enumerate(self._workers)}
        while True:
            wait_s = _CHECK_INTERVAL
            if deadline is not None:
                wait_s = min(wait_s, deadline - time.monotonic())
                if wait_s <= 0:
                    self._shutdown_workers(wait=0.1)      # they are stuck: no grace period
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds")
            ready = wait(self._conns + list(sentinels), timeout=wait_s)
            conns = [c for c in ready if c in self._conns]
            if conns:
                try:
                    blob = conns[0].recv_bytes()
                except (EOFError, OSError):
                    self._worker_died()
                return pickle.loads(blob)
            if ready or not all(p.is_alive() for p in self._workers):
                self._worker_died()

    def _worker_died(self):
        for p in self._workers:
            p.join(0.05)                    # reap it, for its exit code
        dead = [p for p in self._workers if not p.is_alive()]
        info = ", ".join(f"{p.pid}" + (f" exit code {p.exitcode}" if p.exitcode else "")
                         for p in dead) or "unknown"
        self._shutdown_workers()
        raise RuntimeError(f"DataLoader worker (pid(s) {info}) exited unexpectedly")

    def _shutdown_workers(self, wait=_SHUTDOWN_WAIT):
        if self._shutdown or os.getpid() != self._owner:     # (a forked child's copy)
            return
        self._shutdown = True
        event = getattr(self, "_done_event", None)
        if event is not None:
            event.set()
        for q in self._queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for c in self._conns:           # a worker blocked sending gets a broken pipe
            c.close()
        deadline = time.monotonic() + wait
        for p in self._workers:
            p.join(max(0.0, deadline - time.monotonic()))
        for p in self._workers:
            if p.is_alive():
                p.terminate()
                p.join(1.0)
        for q in self._queues:
            q.close()

    def __del__(self):
        self._shutdown_workers()

