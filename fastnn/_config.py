"""Process-wide settings: every ``FASTNN_*`` environment variable, read once
with one parsing rule, plus the run-time state (thread count, random seed).

``settings`` is read at ``import fastnn``; ``fastnn/__init__.py`` applies it
explicitly (kernel path, Winograd, buffer cache); kernels receive switches
as arguments.  The table (also in the README):

=========================  =======  ==========================================
variable                   kind     meaning (default)
=========================  =======  ==========================================
``FASTNN_NUM_THREADS``     int      threads per kernel (``OMP_NUM_THREADS``,
                                    else the cores this process may use)
``FASTNN_ISA``             choice   kernel path: ``auto``, ``avx512``,
                                    ``avx2``, ``portable`` (``auto``)
``FASTNN_WINOGRAD``        bool     Winograd F(2x2, 3x3) for 3x3 convs (on)
``FASTNN_BUFFER_CACHE``    bool     NumPy allocator keeping large blocks (on)
``FASTNN_DATA``            path     dataset cache (``~/.cache/fastnn``); read
                                    when a dataset loads, as the next two
``FASTNN_MNIST_MIRRORS``   list     comma-separated MNIST base URLs
``FASTNN_CIFAR10_URL``     str      the CIFAR-10 archive URL
=========================  =======  ==========================================

The rule: surrounding spaces are ignored and an empty value means unset.
Booleans are ``1/true/yes/on`` or ``0/false/no/off`` (any case); ints are
decimal integers >= 1; choices are one of the listed words (any case).  A
value that does not parse is reported with a warning naming the variable,
and the default is used.  Build-time variables (``FASTNN_NO_OPENMP``,
``FASTNN_PORTABLE``, ``FASTNN_SANITIZE``) are read by ``setup.py`` only.
"""
import os
import warnings

import numpy as np

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
ISA_CHOICES = ("auto", "avx512", "avx2", "portable")


def _raw(name, environ):
    v = environ.get(name)
    if v is None:
        return None
    v = v.strip()
    return v or None


def _bad(name, value, expected, default):
    warnings.warn(f"fastnn: ignoring {name}={value!r} (expected {expected}); using "
                  f"{default!r}", RuntimeWarning, stacklevel=3)
    return default


def parse(kind, name, default, environ=None, choices=None):
    """Reads one variable by the rule above: kind is 'bool', 'int',
    'choice', 'str', 'path' or 'list'."""
    environ = os.environ if environ is None else environ
    v = _raw(name, environ)
    if v is None:
        return default
    if kind == "bool":
        low = v.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        return _bad(name, v, "one of 1/true/yes/on or 0/false/no/off", default)
    if kind == "int":
        try:
            n = int(v.split(",")[0])
        except ValueError:
            return _bad(name, v, "an integer >= 1", default)
        return n if n >= 1 else _bad(name, v, "an integer >= 1", default)
    if kind == "choice":
        low = v.lower()
        return low if low in choices else _bad(name, v, "one of " + ", ".join(choices), default)
    if kind == "list":
        return [p.strip() for p in v.split(",") if p.strip()]
    if kind == "path":
        return os.path.expanduser(v)
    return v


def _usable_cores():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class Settings:
    """The FASTNN_* settings of this process (read by ``read_settings``)."""

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.num_threads = (parse("int", "FASTNN_NUM_THREADS", None, env)
                            or parse("int", "OMP_NUM_THREADS", None, env)
                            or _usable_cores())
        self.isa = parse("choice", "FASTNN_ISA", "auto", env, ISA_CHOICES)
        self.winograd = parse("bool", "FASTNN_WINOGRAD", True, env)
        self.buffer_cache = parse("bool", "FASTNN_BUFFER_CACHE", True, env)
        # FASTNN_DATA, FASTNN_MNIST_MIRRORS and FASTNN_CIFAR10_URL are read
        # by fastnn.data.datasets when a dataset is loaded (same rule, parse())

    def __repr__(self):
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"


settings = Settings()


def prepare_openmp_environment(environ=None):
    """Before the compiled core loads: libgomp spins ~300k iterations before
    a waiting thread sleeps; on a shared or busy machine that burns the other
    core between every parallel region.  A shorter spin keeps wake-ups fast
    on a quiet machine without the waste (an explicit GOMP_SPINCOUNT or
    OMP_WAIT_POLICY from the user wins)."""
    env = os.environ if environ is None else environ
    if "OMP_WAIT_POLICY" not in env:
        env.setdefault("GOMP_SPINCOUNT", "20000")


class _State:
    threads = settings.num_threads
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
    """Seeds fastnn's random numbers (randn, init, dropout masks, shuffling).

    Returns the seed, like ``torch.manual_seed`` returns its generator."""
    if hasattr(seed, "item") and not isinstance(seed, (int, np.integer)):
        seed = seed.item()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    state.seed = int(seed)
    state.rng = None                 # re-created from the seed on first use
    state.dropout_counter = 0
    return state.seed


def rng():
    """The generator behind fastnn's random numbers."""
    return state.rng
