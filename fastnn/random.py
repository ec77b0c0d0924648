"""``fastnn.Generator`` and the ``torch.random``-style helpers.

A ``Generator`` is a NumPy ``PCG64`` bit generator behind PyTorch's
``torch.Generator`` interface: ``manual_seed`` (returns the generator),
``seed``, ``initial_seed``, ``get_state``/``set_state`` (a uint8 Tensor).
Seeded with ``s`` it produces the same stream as fastnn's global random
state after ``fastnn.manual_seed(s)`` (both are ``numpy.random.default_rng(s)``).

``default_generator`` is a view of that global state (``fastnn._config``):
seeding it is ``fastnn.manual_seed``, drawing from it advances the stream
``fastnn.randn`` and the initialisers use.  Code that takes
``generator=None`` and draws from ``_numpy_generator(generator)`` follows
``fastnn.manual_seed`` without a special case.

The state is 64 bytes: the magic ``b"FNNPCG64"``, PCG64's 128-bit state and
increment, its buffered 32-bit half-word and flag, and the initial seed.

Examples
--------
>>> import fastnn
>>> g = fastnn.random.Generator().manual_seed(0)
>>> s = g.get_state()
>>> a = g._np.integers(0, 100, 3)
>>> _ = g.set_state(s)
>>> bool((g._np.integers(0, 100, 3) == a).all())
True
"""
import contextlib
import os

import numpy as np

from . import _config

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng"]

_MASK64 = (1 << 64) - 1
_DEFAULT_SEED = 67280421310721          # torch.Generator().initial_seed()
_MAGIC = b"FNNPCG64"
_STATE_BYTES = 64


def _check_seed(seed, who):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f"{who} expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed <= _MASK64:
        raise ValueError(f"{who}: seed {seed} is out of range [-0x8000_0000_0000_0000, "
                         "0xffff_ffff_ffff_ffff]")
    return seed & _MASK64        # negative seeds wrap, as torch's do


def _check_device(device):
    name = device if isinstance(device, str) else getattr(device, "type", None)
    if name is None and device is not None:
        name = str(device)
    if name is not None and name.split(":")[0] != "cpu":
        raise RuntimeError(f"Generator: device {device!r} is not available; fastnn runs on "
                           "the CPU only")


def _nondeterministic_seed():
    return int.from_bytes(os.urandom(8), "little")


def _pack(bitgen_state, initial_seed):
    st = bitgen_state["state"]
    out = bytearray(_MAGIC)
    out += int(st["state"]).to_bytes(16, "little")
    out += int(st["inc"]).to_bytes(16, "little")
    out += int(bitgen_state["uinteger"]).to_bytes(8, "little")
    out += int(bitgen_state["has_uint32"]).to_bytes(8, "little")
    out += int(initial_seed).to_bytes(8, "little")
    from ._tensor import from_numpy
    return from_numpy(np.frombuffer(bytes(out), dtype=np.uint8).copy())


def _unpack(new_state, who):
    arr = getattr(new_state, "_array", new_state)
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{who}: expected a uint8 Tensor or ndarray, got "
                        f"{type(new_state).__name__}")
    if arr.dtype != np.uint8 or arr.ndim != 1 or arr.size != _STATE_BYTES \
            or bytes(arr[:8]) != _MAGIC:
        raise RuntimeError(f"{who}: expected a fastnn generator state (a uint8 tensor of "
                           f"{_STATE_BYTES} bytes from get_state()), got dtype {arr.dtype} "
                           f"and shape {tuple(arr.shape)}")
    b = bytes(arr)
    state = {"bit_generator": "PCG64",
             "state": {"state": int.from_bytes(b[8:24], "little"),
                       "inc": int.from_bytes(b[24:40], "little")},
             "uinteger": int.from_bytes(b[40:48], "little"),
             "has_uint32": int.from_bytes(b[48:56], "little")}
    if state["has_uint32"] not in (0, 1) or state["uinteger"] > 0xFFFFFFFF \
            or not state["state"]["inc"] & 1:
        raise RuntimeError(f"{who}: corrupted generator state")
    return state, int.from_bytes(b[56:64], "little")


class Generator:
    """A random-number generator object, as ``torch.Generator``.

    Parameters
    ----------
    device : str or device
        Only ``"cpu"``.

    Examples
    --------
    >>> import fastnn
    >>> g = fastnn.random.Generator().manual_seed(42)
    >>> g.initial_seed()
    42
    """

    def __init__(self, device="cpu"):
        _check_device(device)
        self.device = _cpu_device()
        self._seed = _DEFAULT_SEED
        self._gen = np.random.Generator(np.random.PCG64(self._seed))

    @property
    def _np(self):
        """The ``numpy.random.Generator`` this generator draws from."""
        return self._gen

    def manual_seed(self, seed):
        """Seeds the generator (negative seeds wrap to 64 bits); returns it."""
        seed = _check_seed(seed, "manual_seed")
        self._seed = seed
        self._gen = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        """Seeds from the operating system's entropy; returns the seed."""
        s = _nondeterministic_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self):
        """The generator's state as a uint8 Tensor (64 bytes)."""
        return _pack(self._gen.bit_generator.state, self._seed)

    def set_state(self, new_state):
        """Restores a state from ``get_state``; returns the generator."""
        state, seed = _unpack(new_state, "Generator.set_state")
        gen = np.random.Generator(np.random.PCG64())
        gen.bit_generator.state = state
        self._gen, self._seed = gen, seed
        return self

    def __repr__(self):
        return f"<fastnn.Generator object (device='cpu', initial_seed={self._seed})>"


class _DefaultGenerator(Generator):
    """``fastnn.random.default_generator``: the global random state
    (``fastnn.manual_seed``) seen as a Generator."""

    def __init__(self):
        self.device = _cpu_device()

    @property
    def _np(self):
        return _config.rng()

    def manual_seed(self, seed):
        _config.manual_seed(_check_seed(seed, "manual_seed"))
        return self

    def initial_seed(self):
        return _config.state.seed & _MASK64

    def get_state(self):
        return _pack(_config.rng().bit_generator.state, self.initial_seed())

    def set_state(self, new_state):
        state, seed = _unpack(new_state, "set_rng_state")
        gen = np.random.Generator(np.random.PCG64())
        gen.bit_generator.state = state
        _config.state.seed = seed
        _config.state.rng = gen
        return self

    def __repr__(self):
        return "<fastnn.Generator object (the default generator)>"


def _cpu_device():
    import fastnn
    dev = getattr(fastnn, "device", None)
    if isinstance(dev, type):
        try:
            return dev("cpu")
        except Exception:       # a device type that does not take a string
            pass
    return "cpu"


default_generator = _DefaultGenerator()


def _numpy_generator(generator=None):
    """The numpy Generator to draw from for ``generator=`` (None: the global one)."""
    if generator is None:
        return _config.rng()
    if isinstance(generator, Generator):
        return generator._np
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a fastnn.Generator or None, got "
                    f"{type(generator).__name__}")


def manual_seed(seed):
    """Seeds the global random state; returns ``default_generator`` (as
    ``torch.manual_seed``, which takes anything ``int()`` takes: a 0-d
    tensor, a float, a numeric string)."""
    return default_generator.manual_seed(int(seed))


def seed():
    """Seeds the global random state from the OS's entropy; returns the seed."""
    s = _nondeterministic_seed() >> 1       # fits an int64 like torch's
    default_generator.manual_seed(s)
    return s


def initial_seed():
    """The seed of the global random state."""
    return default_generator.initial_seed()


def get_rng_state():
    """The global random state as a uint8 Tensor."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restores the global random state from ``get_rng_state``."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """Forks the random state (``torch.random.fork_rng``): on leaving the
    block (or the decorated function) the global random state and the
    dropout stream are what they were on entering it.  ``devices`` and
    ``device_type`` name accelerators, which fastnn has none of; with
    ``enabled=False`` it does nothing."""
    if not enabled:
        yield
        return
    saved, counter = get_rng_state(), _config.state.dropout_counter
    try:
        yield
    finally:
        set_rng_state(saved)
        _config.state.dropout_counter = counter
