"""``torch.multiprocessing``: Python's ``multiprocessing`` (everything it
exports) plus ``spawn``, for programs that start worker processes.
fastnn Tensors travel between processes as copies (their arrays are
pickled for the pipe, as NumPy arrays are); no shared-memory tensors.
"""
import multiprocessing as _mp
from multiprocessing import *  # noqa: F401,F403

__all__ = list(getattr(_mp, "__all__", [])) + ["spawn", "start_processes", "ProcessContext",
                                               "ProcessRaisedException",
                                               "ProcessExitedException",
                                               "get_all_sharing_strategies",
                                               "get_sharing_strategy", "set_sharing_strategy"]


class ProcessRaisedException(Exception):
    """A spawned process ended with an exception (its traceback in the message)."""

    def __init__(self, msg, error_index, error_pid):
        super().__init__(msg)
        self.error_index = error_index
        self.pid = error_pid


class ProcessExitedException(Exception):
    """A spawned process exited with a non-zero code."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg)
        self.error_index = error_index
        self.pid = error_pid
        self.exit_code = exit_code
        self.signal_name = signal_name


def _wrap(fn, i, args, queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        import traceback
        queue.put(traceback.format_exc())
        raise SystemExit(1)


class ProcessContext:
    """The processes ``spawn`` started; ``join()`` waits for them."""

    def __init__(self, processes, queues):
        self.processes = processes
        self.error_queues = queues

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        """Waits for every process; True when all are done.  Raises if one
        failed (the others are terminated)."""
        for i, p in enumerate(self.processes):
            p.join(timeout)
            if p.exitcode not in (None, 0):
                for q in self.processes:
                    if q.is_alive():
                        q.terminate()
                q = self.error_queues[i]
                if not q.empty():
                    raise ProcessRaisedException(
                        f"\n\n-- Process {i} terminated with the following error:\n{q.get()}",
                        i, p.pid)
                raise ProcessExitedException(f"process {i} terminated with exit code "
                                             f"{p.exitcode}", i, p.pid, p.exitcode)
        return all(p.exitcode is not None for p in self.processes)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    ctx = _mp.get_context(start_method)
    procs, queues = [], []
    for i in range(nprocs):
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_wrap, args=(fn, i, args, q), daemon=daemon)
        p.start()
        procs.append(p)
        queues.append(q)
    pc = ProcessContext(procs, queues)
    if not join:
        return pc
    while not pc.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Runs ``fn(i, *args)`` in ``nprocs`` new processes (i = 0 .. nprocs-1)."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)


_STRATEGY = ["file_system"]


def get_all_sharing_strategies():
    return {"file_system", "file_descriptor"}


def get_sharing_strategy():
    return _STRATEGY[0]


def set_sharing_strategy(new_strategy):
    if new_strategy not in get_all_sharing_strategies():
        raise ValueError(f"invalid sharing strategy {new_strategy!r}")
    _STRATEGY[0] = new_strategy
