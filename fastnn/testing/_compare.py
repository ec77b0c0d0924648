"""``torch.testing.assert_close`` and ``make_tensor``."""
import math
import numbers

import numpy as np

_TOL = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
        np.dtype(np.float64): (1e-7, 1e-7)}


def _is_tensor(x):
    from .._tensor import Tensor
    return isinstance(x, Tensor)


def _fail(msg, extra):
    raise AssertionError(msg if extra is None else (extra(msg) if callable(extra) else extra))


def _tols(dt, rtol, atol):
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return float(rtol), float(atol)
    return _TOL.get(np.dtype(dt), (0.0, 0.0))


def _close_arrays(a, b, rtol, atol, equal_nan, kind, msg):
    if a.shape != b.shape:
        _fail(f"The values for attribute 'shape' do not match: {_shape(a)} != {_shape(b)}.", msg)
    if a.dtype.kind == "b" or b.dtype.kind == "b":
        bad = a != b
    else:
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(a64 - b64)
            ok = diff <= atol + rtol * np.abs(b64)
            ok |= a64 == b64
            if equal_nan:
                ok |= np.isnan(a64) & np.isnan(b64)
        bad = ~ok
    if not bad.any():
        return
    n, total = int(bad.sum()), a.size
    if kind == "Scalars":
        _fail(f"Scalars are not close!\n\nExpected {b.item()} but got {a.item()}.\n"
              f"Absolute difference: {abs(float(a) - float(b))} (up to {atol} allowed)\n"
              f"Relative difference: {_rel(float(a), float(b))} (up to {rtol} allowed)", msg)
    lines = [f"{kind} are not {'equal' if rtol == atol == 0 else 'close'}!", "",
             f"Mismatched elements: {n} / {total} ({100.0 * n / total:.1f}%)"]
    if a.dtype.kind != "b":
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.abs(a.astype(np.float64) - b.astype(np.float64))
            r = d / np.abs(b.astype(np.float64))
        d = np.where(np.isnan(d), -np.inf, d)
        r = np.where(np.isnan(r), -np.inf, r)
        ia = np.unravel_index(int(np.argmax(d)), a.shape) if a.ndim else ()
        ir = np.unravel_index(int(np.argmax(r)), a.shape) if a.ndim else ()
        lines.append(f"Greatest absolute difference: {float(d[ia])} at index "
                     f"{tuple(int(i) for i in ia)} (up to {atol} allowed)")
        lines.append(f"Greatest relative difference: {float(r[ir])} at index "
                     f"{tuple(int(i) for i in ir)} (up to {rtol} allowed)")
    _fail("\n".join(lines), msg)


def _rel(a, b):
    return abs(a - b) / abs(b) if b != 0 else math.inf


def _shape(a):
    from .._core import Size
    return Size(a.shape)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raises AssertionError unless ``actual`` and ``expected`` are close:
    ``|actual - expected| <= atol + rtol * |expected|`` elementwise, with
    PyTorch's default tolerances per dtype (float32: rtol 1.3e-6, atol 1e-5;
    float64: 1e-7, 1e-7; integers and bool: exact).  Tensors, NumPy arrays,
    numbers, and sequences or mappings of them (compared item by item)."""
    if isinstance(expected, (list, tuple)) and not _is_tensor(expected):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch: {_len(actual)} != {len(expected)}",
                  msg)
        for a, b in zip(actual, expected):
            assert_close(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            _fail(f"The keys of the mappings do not match: {sorted(map(str, actual))} != "
                  f"{sorted(map(str, expected))}", msg)
        for k in expected:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    scalar = isinstance(expected, numbers.Number) and not _is_tensor(expected)
    if scalar:
        if not isinstance(actual, numbers.Number) or _is_tensor(actual):
            _fail(f"No comparison pair was able to handle inputs of type {type(actual)} and "
                  f"{type(expected)}.", msg)
        if check_dtype and type(actual) is not type(expected) and not (
                isinstance(actual, numbers.Real) and isinstance(expected, numbers.Real)
                and isinstance(actual, int) == isinstance(expected, int)):
            _fail(f"The values for attribute 'dtype' do not match: {type(actual)} != "
                  f"{type(expected)}.", msg)
        a, b = np.asarray(actual), np.asarray(expected)
        dt = np.float64 if isinstance(expected, float) else b.dtype
        r, t = _tols(dt, rtol, atol)
        _close_arrays(a, b, r, t, equal_nan, "Scalars", msg)
        return
    if _is_tensor(expected) != _is_tensor(actual) and not allow_subclasses:
        _fail("The types do not match", msg)
    if not (_is_tensor(expected) or isinstance(expected, np.ndarray)):
        _fail(f"No comparison pair was able to handle inputs of type {type(actual)} and "
              f"{type(expected)}.", msg)
    if not (_is_tensor(actual) or isinstance(actual, np.ndarray)):
        _fail(f"No comparison pair was able to handle inputs of type {type(actual)} and "
              f"{type(expected)}.", msg)
    a = actual._array if _is_tensor(actual) else actual
    b = expected._array if _is_tensor(expected) else expected
    if check_dtype and a.dtype != b.dtype:
        _fail(f"The values for attribute 'dtype' do not match: fastnn.{a.dtype} != "
              f"fastnn.{b.dtype}.", msg)
    r, t = _tols(np.promote_types(a.dtype, b.dtype) if not check_dtype else b.dtype, rtol,
                 atol)
    _close_arrays(a, b, r, t, equal_nan, "Tensor-likes", msg)


def _len(x):
    try:
        return len(x)
    except TypeError:
        return type(x).__name__


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A tensor of random values: floats uniform in [low, high) (default
    [-9, 9)), integers in [low, high) (default [-9, 10)), bools random."""
    from .._tensor import Tensor
    from ..random import _numpy_generator
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    dt = np.dtype(dtype)
    rng = _numpy_generator(None)
    if dt.kind == "b":
        a = rng.integers(0, 2, shape).astype(bool)
    elif dt.kind in "iu":
        lo = -9 if low is None else int(math.ceil(low))
        hi = 10 if high is None else int(math.ceil(high))
        if dt.kind == "u":
            lo = max(lo, 0)
        if lo >= hi:
            raise ValueError(f"make_tensor: low ({lo}) must be less than high ({hi})")
        a = rng.integers(lo, hi, shape).astype(dt)
        if exclude_zero:
            a[a == 0] = 1 if hi > 1 else -1
    else:
        lo = -9.0 if low is None else float(low)
        hi = 9.0 if high is None else float(high)
        if lo > hi:
            raise ValueError(f"make_tensor: low ({lo}) must not exceed high ({hi})")
        a = rng.uniform(lo, hi, shape).astype(dt)
        if exclude_zero:
            a[a == 0] = np.finfo(dt).eps
    t = Tensor._wrap(np.ascontiguousarray(a))
    if requires_grad:
        t.requires_grad_(True)
    return t
