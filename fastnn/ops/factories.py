"""Tensor factories: ``tensor``, ``zeros``, ``ones``, ``full``, ``empty``,
``eye``, ``arange``, ``linspace``, ``logspace``, the ``*_like`` forms and
the random ones (``rand``, ``randn``, ``randint``, ``randperm``).

As PyTorch's: every one takes ``dtype=``, ``device=`` (validated by
``fastnn.device``: the CPU only) and ``requires_grad=``; the random ones
take ``generator=`` (a ``fastnn.Generator``) and otherwise draw from the generator that
``fastnn.manual_seed`` seeds.  Floating results are in the default dtype
(``get_default_dtype()``, float32 unless set) unless a dtype
is given; ``arange`` of ints and ``randint``/``randperm`` are int64.
``arange`` and ``linspace`` compute their values as PyTorch's CPU kernels
do (``start + i * step`` in double for arange; linspace from both ends with
the step in the result's dtype), so the values and lengths agree bit for bit.

Examples
--------
>>> import fastnn
>>> fastnn.arange(0, 1, 0.25)
tensor([0.0000, 0.2500, 0.5000, 0.7500])
>>> fastnn.linspace(0, 1, steps=5)
tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
>>> fastnn.full((2, 2), 7)
tensor([[7, 7],
        [7, 7]])
>>> fastnn.eye(2, 3, dtype=fastnn.float64)
tensor([[1., 0., 0.],
        [0., 1., 0.]], dtype=torch.float64)
"""
import builtins
import functools
import math
import warnings

import numpy as np

from .. import _defaults
from ..random import _numpy_generator
from .._core import TensorBase
from .._core import wrap as _wrap
from .._tensor import (_SUPPORTED, _data_array, _resolve_dtype, _to_array, bool_, float32,
                       float64, int64)

__all__ = ["tensor", "as_tensor", "from_numpy", "scalar_tensor", "zeros", "ones", "full",
           "empty", "eye", "arange", "range", "linspace", "logspace", "zeros_like",
           "ones_like", "full_like", "empty_like", "rand", "randn", "randint", "randperm",
           "rand_like", "randn_like", "randint_like", "hann_window", "hamming_window",
           "blackman_window", "bartlett_window", "kaiser_window"]

_bmax = builtins.max


def _device(device):
    if device is not None:
        from ..device import device as _dev
        _dev(device)


def _size_kw(f):
    """``f(*size)`` also callable as ``f(size=shape)``, as PyTorch's factories."""
    @functools.wraps(f)
    def g(*args, **kwargs):
        if "size" in kwargs:
            if args:
                raise TypeError(f"{f.__name__}() got multiple values for argument 'size'")
            args = (kwargs.pop("size"),)
        return f(*args, **kwargs)
    return g


def _takes_out(f):
    """The factory with ``out=`` as PyTorch's: the values are written into
    ``out`` (resized if need be) and ``out`` is returned; without a dtype
    the result takes ``out``'s."""
    @functools.wraps(f)
    def g(*args, out=None, **kwargs):
        if out is None:
            return f(*args, **kwargs)
        from .reduction import into
        if kwargs.get("dtype") is None and isinstance(out, TensorBase):
            kwargs["dtype"] = out.dtype
        return into(out, f(*args, **kwargs), f.__name__)
    return g


def _finish(arr, requires_grad, device=None):
    _device(device)
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    out = []
    for s in shape:
        if isinstance(s, TensorBase):
            s = s.item()
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"size must be a sequence of ints, got {type(s).__name__} in "
                            f"{tuple(shape)}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(shape)}")
        out.append(int(s))
    return tuple(out)


def _float_dtype(op, dtype):
    dt = _resolve_dtype(dtype) or _defaults.FLOAT
    if dt.kind != "f":
        raise RuntimeError(f'"{op}" not implemented for \'{dt}\'; use a floating dtype')
    return dt


def _rng(generator):
    return _numpy_generator(generator)


# ----------------------------------------------------------------- from data
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new Tensor holding a copy of ``data``, with ``torch.tensor``'s dtype
    inference: a Python float is the default dtype (float32 unless
    ``set_default_dtype`` changed it), an int int64, a bool bool; a NumPy
    scalar, an ndarray or a Tensor keeps its own dtype (fastnn has no
    float16 or uint16/32/64: those become float32 and int64); a sequence
    promotes its elements' dtypes (``[1, np.float64(2)]`` is float64), and a
    Tensor inside a sequence is read as its one value."""
    return _finish(_data_array(data, dtype), requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """A Tensor sharing memory with ``data`` when it already is an ndarray
    or Tensor of the right dtype (other data: as ``tensor``)."""
    _device(device)
    if isinstance(data, TensorBase) and (dtype is None or
                                         _resolve_dtype(dtype) == data._array.dtype):
        return data
    if isinstance(data, (TensorBase, np.ndarray)):
        return _wrap(_to_array(data, dtype, keep_ints=True))
    return _wrap(_data_array(data, dtype))


def from_numpy(a):
    """A Tensor sharing memory with ndarray ``a`` (its dtype is kept when fastnn
    supports it; negative strides raise, as PyTorch)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    if a.dtype not in _SUPPORTED:
        raise TypeError(f"can't convert np.ndarray of type {a.dtype}. The only supported "
                        "types are: float64, float32, int64, int32, int16, int8, uint8, and bool.")
    if a.ndim and min(a.strides) < 0:
        raise ValueError("At least one stride in the given numpy array is negative, and tensors "
                         "with negative strides are not currently supported. (You can probably "
                         "work around this by making a copy of your array  with array.copy().) ")
    return _wrap(a)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding ``s`` (the default dtype, float32 unless set, unless ``dtype``)."""
    return _finish(np.asarray(s, _resolve_dtype(dtype) or _defaults.FLOAT), requires_grad, device)


# -------------------------------------------------------------- filled
@_size_kw
@_takes_out
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of zeros (the default dtype, float32 unless set, unless ``dtype``)."""
    return _finish(np.zeros(_shape_args(size), _resolve_dtype(dtype) or _defaults.FLOAT),
                   requires_grad, device)


@_size_kw
@_takes_out
def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of ones (the default dtype, float32 unless set, unless ``dtype``)."""
    return _finish(np.ones(_shape_args(size), _resolve_dtype(dtype) or _defaults.FLOAT),
                   requires_grad, device)


@_size_kw
@_takes_out
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    """An uninitialised tensor (the default dtype, float32 unless set, unless ``dtype``)."""
    return _finish(np.empty(_shape_args(size), _resolve_dtype(dtype) or _defaults.FLOAT),
                   requires_grad, device)


def _fill_dtype(fill_value):
    v = fill_value.item() if isinstance(fill_value, TensorBase) else fill_value
    if isinstance(v, (bool, np.bool_)):
        return bool_, v
    if isinstance(v, (int, np.integer)):
        return int64, v
    return _defaults.FLOAT, v


@_takes_out
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False):
    """A tensor filled with ``fill_value``; its dtype follows the value as
    PyTorch's does (bool, int64 or the default float dtype) unless ``dtype`` is given."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    dt, v = _fill_dtype(fill_value)
    dt = _resolve_dtype(dtype) or dt
    shape = _shape_args((size,))
    return _finish(np.full(shape, v, dt), requires_grad, device)


@_takes_out
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The n x m identity matrix (m = n by default)."""
    n, = _shape_args((n,))
    m = n if m is None else _shape_args((m,))[0]
    dt = _resolve_dtype(dtype) or _defaults.FLOAT
    return _finish(np.eye(n, m, dtype=dt), requires_grad, device)


# ------------------------------------------------------------------ ranges
def _num(v, name):
    if isinstance(v, TensorBase):
        v = v.item()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(v).__name__}")
    return v


@_takes_out
def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``: int64 when
    every bound is an int, else the default float dtype; ``ceil((end - start) / step)``
    values ``start + i * step`` computed in double, as PyTorch."""
    if end is None:
        start, end = 0, start
    s, e, st = _num(start, "start"), _num(end, "end"), _num(step, "step")
    ints = all(isinstance(v, int) for v in (s, e, st))
    dt = _resolve_dtype(dtype) or (int64 if ints else _defaults.FLOAT)
    if st == 0:
        raise RuntimeError("step must be nonzero")
    if not all(math.isfinite(v) for v in (s, e, st)):
        raise RuntimeError(f"unsupported range: {s} -> {e}")
    if (e - s) * st < 0 and e != s:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if ints and dt.kind in "iub":
        arr = np.arange(s, e, st, dtype=np.int64)
    else:
        n = _bmax(int(math.ceil((float(e) - float(s)) / float(st))), 0)
        arr = float(s) + np.arange(n, dtype=np.float64) * float(st)
    return _finish(arr.astype(dt), requires_grad, device)


_RANGE_WARNING = ("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).")


@_takes_out
def range(start, end, step=1, *, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Deprecated (PyTorch's warning): values from ``start`` to ``end``
    *inclusive* by ``step``, ``floor((end - start) / step) + 1`` of them,
    in the default float dtype unless ``dtype`` is given (the bounds are
    first cast to an integer dtype, as PyTorch does)."""
    warnings.warn(_RANGE_WARNING, UserWarning, stacklevel=2)
    s, e, st = _num(start, "start"), _num(end, "end"), _num(step, "step")
    dt = _resolve_dtype(dtype) or _defaults.FLOAT
    if dt.kind in "iub":
        if not all(math.isfinite(v) for v in (s, e, st)):
            raise RuntimeError(f"unsupported range: {s} -> {e}")
        s, e, st = int(s), int(e), int(st)
    else:
        s, e, st = float(s), float(e), float(st)
    if st == 0:
        raise RuntimeError("step must be nonzero")
    if not all(math.isfinite(v) for v in (s, e, st)):
        raise RuntimeError(f"unsupported range: {s} -> {e}")
    if (e - s) * st < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dt.kind in "iub":
        arr = s + np.arange((e - s) // st + 1, dtype=np.int64) * st
    else:
        n = int(math.floor((e - s) / st)) + 1
        arr = s + np.arange(n, dtype=np.float64) * st
    return _finish(arr.astype(dt), requires_grad, device)


def _steps(steps):
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return int(steps)


@_takes_out
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included)."""
    s, e, n = _num(start, "start"), _num(end, "end"), _steps(steps)
    dt = _resolve_dtype(dtype) or _defaults.FLOAT
    return _finish(_linspace(s, e, n, dt), requires_grad, device)


def _linspace(s, e, n, dt):
    """PyTorch's CPU formula: start + i * step for the first half, end - (n -
    1 - i) * step for the second; the step in the result dtype (double for
    integers), the products and sums with one rounding (as its vectorised
    fused multiply-add), so the values agree bit for bit."""
    if n == 0:
        return np.empty(0, dt)
    if n == 1:
        return np.full(1, s, dt)
    ct = dt if dt.kind == "f" else float64
    wide = np.float64 if ct == float32 else np.longdouble     # exact products
    lo, hi = ct.type(s), ct.type(e)
    step = wide((hi - lo) / ct.type(n - 1))
    idx = np.arange(n, dtype=wide)
    half = n // 2
    out = np.empty(n, wide)
    out[:half] = wide(lo) + step * idx[:half]
    out[half:] = wide(hi) - step * ((n - 1) - idx[half:])
    return out.astype(ct).astype(dt)


@_takes_out
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    s, e, n = _num(start, "start"), _num(end, "end"), _steps(steps)
    dt = _resolve_dtype(dtype) or _defaults.FLOAT
    exps = _linspace(s, e, n, float64)
    return _finish(np.power(float(base), exps).astype(dt), requires_grad, device)


# -------------------------------------------------------------------- likes
def _like(input, dtype):
    a = input._array if isinstance(input, TensorBase) else np.asarray(input)
    return a.shape, (_resolve_dtype(dtype) or a.dtype)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    shape, dt = _like(input, dtype)
    return _finish(np.zeros(shape, dt), requires_grad, device)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    shape, dt = _like(input, dtype)
    return _finish(np.ones(shape, dt), requires_grad, device)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    shape, dt = _like(input, dtype)
    return _finish(np.empty(shape, dt), requires_grad, device)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None):
    shape, dt = _like(input, dtype)
    v = fill_value.item() if isinstance(fill_value, TensorBase) else fill_value
    return _finish(np.full(shape, v, dt), requires_grad, device)


# ------------------------------------------------------------------- random
@_size_kw
@_takes_out
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Uniform samples in [0, 1)."""
    dt = _float_dtype("check_uniform_bounds", dtype)
    arr = _rng(generator).random(_shape_args(size)).astype(dt)
    return _finish(arr, requires_grad, device)


@_size_kw
@_takes_out
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal samples."""
    dt = _float_dtype("normal_kernel_cpu", dtype)
    arr = _rng(generator).standard_normal(_shape_args(size)).astype(dt)
    return _finish(arr, requires_grad, device)


@_takes_out
def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False):
    """Integers in [low, high) (``randint(high, size)`` also works), int64."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing 1 required positional argument: 'size'")
    low, high = int(_num(low, "low")), int(_num(high, "high"))
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    dt = _resolve_dtype(dtype) or int64
    arr = _rng(generator).integers(low, high, size=_shape_args((size,) if isinstance(
        size, (int, np.integer)) else tuple(size))).astype(dt)
    return _finish(arr, requires_grad, device)


@_takes_out
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """A random permutation of 0..n-1 (int64)."""
    n, = _shape_args((n,))
    dt = _resolve_dtype(dtype) or int64
    return _finish(_rng(generator).permutation(n).astype(dt), requires_grad, device)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, generator=None):
    shape, dt = _like(input, dtype)
    return rand(shape, dtype=dt, device=device, requires_grad=requires_grad,
                generator=generator)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, generator=None):
    shape, dt = _like(input, dtype)
    return randn(shape, dtype=dt, device=device, requires_grad=requires_grad,
                 generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None, generator=None):
    """Integers in [low, high) of ``input``'s shape and dtype."""
    shape, dt = _like(input, dtype)
    if high is None:
        low, high = 0, low
    return randint(low, high, shape, dtype=dt, device=device, requires_grad=requires_grad,
                   generator=generator)


# ------------------------------------------------------------------ windows
def _window(op, window_length, periodic, dtype, requires_grad, device, terms):
    """Generalised cosine window sum_k terms[k] * cos(2 pi k n / (N - 1))
    over N = window_length (+ 1 when periodic, then the last value dropped)."""
    n = int(window_length)
    if n < 0:
        raise RuntimeError(f"{op} requires non-negative window_length, got "
                           f"window_length={window_length}")
    dt = _float_dtype(op, dtype)
    if n <= 1:
        return _finish(np.ones(n, dt), requires_grad, device)
    m = n + 1 if periodic else n
    k = np.arange(n, dtype=np.float64) * (2.0 * math.pi / (m - 1))
    w = sum(c * np.cos(j * k) for j, c in enumerate(terms))
    return _finish(w.astype(dt), requires_grad, device)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False):
    """Hann window ``0.5 - 0.5 cos(2 pi n / (N - 1))`` (``torch.hann_window``)."""
    return _window("hann_window", window_length, periodic, dtype, requires_grad, device,
                   (0.5, -0.5))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False):
    """Hamming window ``alpha - beta cos(2 pi n / (N - 1))``."""
    return _window("hamming_window", window_length, periodic, dtype, requires_grad, device,
                   (float(alpha), -float(beta)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """Blackman window ``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``."""
    return _window("blackman_window", window_length, periodic, dtype, requires_grad, device,
                   (0.42, -0.5, 0.08))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, pin_memory=False, requires_grad=False):
    """Kaiser window ``I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta)``
    over N = window_length (+ 1 when periodic, then the last value dropped)."""
    n = int(window_length)
    if n < 0:
        raise RuntimeError(f"kaiser_window requires non-negative window_length, got "
                           f"window_length={window_length}")
    dt = _float_dtype("kaiser_window", dtype)
    if n <= 1:
        return _finish(np.ones(n, dt), requires_grad, device)
    m = n + 1 if periodic else n
    r = 2.0 * np.arange(n, dtype=np.float64) / (m - 1) - 1.0
    w = np.i0(float(beta) * np.sqrt(np.maximum(1.0 - r * r, 0.0))) / np.i0(float(beta))
    return _finish(w.astype(dt), requires_grad, device)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    """Bartlett (triangular) window ``1 - |2 n / (N - 1) - 1|``."""
    n = int(window_length)
    dt = _float_dtype("bartlett_window", dtype)
    if n < 0:
        raise RuntimeError(f"bartlett_window requires non-negative window_length, got "
                           f"window_length={window_length}")
    if n <= 1:
        return _finish(np.ones(n, dt), requires_grad, device)
    m = n + 1 if periodic else n
    w = 1.0 - np.abs(2.0 * np.arange(n, dtype=np.float64) / (m - 1) - 1.0)
    return _finish(w.astype(dt), requires_grad, device)
