"""Process-wide settings: the thread count and the random seed.

The thread count is one knob passed to every kernel as an argument
(``fastnn.set_num_threads``); its default comes from ``FASTNN_NUM_THREADS``,
then ``OMP_NUM_THREADS``, else the cores this process may use.
"""
import os

import numpy as np


def _default_threads():
    for var in ("FASTNN_NUM_THREADS", "OMP_NUM_THREADS"):
        v = os.environ.get(var, "").strip()
        if v:
            try:
                n = int(v.split(",")[0])
            except ValueError:
                continue
            if n >= 1:
                return n
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class _State:
    threads = _default_threads()
    seed = 0
    dropout_counter = 0
    _rng = None

    # numpy.random (with hashlib and secrets behind it) is imported on the
    # first random number, not by ``import fastnn``.
    @property
    def rng(self):
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed & 0xFFFFFFFFFFFFFFFF)
        return self._rng

    @rng.setter
    def rng(self, value):
        self._rng = value


state = _State()


def set_num_threads(n):
    """Sets the number of threads every kernel uses (n >= 1)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"set_num_threads: n must be >= 1, got {n}")
    state.threads = int(n)


def get_num_threads():
    """The number of threads kernels use."""
    return state.threads


def manual_seed(seed):
    """Seeds fastnn's random numbers (randn, init, dropout masks).

    Returns the seed, like ``torch.manual_seed`` returns its generator."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    state.seed = int(seed)
    state.rng = None                 # re-created from the seed on first use
    state.dropout_counter = 0
    return state.seed


def rng():
    """The generator behind fastnn's random numbers."""
    return state.rng
