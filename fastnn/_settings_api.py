"""``fastnn.set_printoptions`` and ``fastnn.set_float32_matmul_precision``.

Print options: tensors print as PyTorch prints them.  Floating tensors
choose one notation for all their elements from their non-zero finite
values: integers only print as ``1.``; otherwise fixed with ``precision``
digits (4 by default), or scientific when the largest is above 1e8, below
1e-4 or more than 1000 times the smallest; every element is padded to one
width.  ``threshold`` elements before the summary with ``...`` (1000),
``edgeitems`` per edge (3), ``linewidth`` (80); ``sci_mode`` True/False
forces or forbids scientific notation.  The profiles: ``'default'``,
``'short'`` (precision 2, edgeitems 2) and ``'full'`` (never summarises);
explicit arguments override the profile's, as in PyTorch.

Examples
--------
>>> import fastnn
>>> fastnn.tensor([1.23456, 2.0])
tensor([1.2346, 2.0000])
>>> fastnn.set_printoptions(precision=2)
>>> fastnn.tensor([1.23456, 2.0])
tensor([1.23, 2.00])
>>> fastnn.set_printoptions(profile="default")
>>> fastnn.tensor([1.0, 2.0, 3e9])
tensor([1.0000e+00, 2.0000e+00, 3.0000e+09])
"""
import math
import sys
import threading
import warnings

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
             "sci_mode": None}
_opts = dict(_DEFAULTS)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Sets how tensors print (PyTorch's ``torch.set_printoptions``).
    ``sci_mode=None`` leaves the choice of notation automatic."""
    if profile == "default":
        _opts.update(_DEFAULTS)
    elif profile == "short":
        _opts.update(_DEFAULTS, precision=2, edgeitems=2)
    elif profile == "full":
        _opts.update(_DEFAULTS, threshold=sys.maxsize)
    for name, v in (("precision", precision), ("threshold", threshold),
                    ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if v is not None:
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise TypeError(f"set_printoptions: {name} must be a non-negative int, got "
                                f"{v!r}")
            _opts[name] = v
    _opts["sci_mode"] = sci_mode


def get_printoptions():
    """The current print options as a dict."""
    return dict(_opts)


def _float_formatter(a):
    """PyTorch's choice of notation and width for floating array a: a
    function formatting one element."""
    p = _opts["precision"]
    flat = a.reshape(-1).astype(np.float64)
    vals = flat[np.isfinite(flat) & (flat != 0)]
    int_mode, sci = True, False
    width = 1
    if vals.size:
        av = np.abs(vals)
        lo, hi = float(av.min()), float(av.max())
        int_mode = bool(np.all(vals == np.ceil(vals)))
        if int_mode:
            sci = hi / lo > 1000.0 or hi > 1.0e8
        else:
            sci = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
    if _opts["sci_mode"] is not None:
        sci = _opts["sci_mode"]
    if vals.size:
        if sci:
            width = max(len(f"{v:.{p}e}") for v in vals)
        elif int_mode:
            width = max(len(f"{v:.0f}") + 1 for v in vals)
        else:
            width = max(len(f"{v:.{p}f}") for v in vals)

    def fmt(v):
        v = float(v)
        if sci:
            r = f"{v:{width}.{p}e}"
        elif int_mode:
            r = f"{v:.0f}"
            if not (math.isinf(v) or math.isnan(v)):
                r += "."
        else:
            r = f"{v:.{p}f}"
        return r.rjust(width)
    return fmt


def format_body(a):
    """The element text of ``Tensor.__repr__`` for ndarray a."""
    kw = {"threshold": _opts["threshold"], "edgeitems": _opts["edgeitems"],
          "max_line_width": _opts["linewidth"], "separator": ", ", "prefix": "tensor("}
    if a.dtype.kind == "f" and a.size:
        fmt = _float_formatter(a if a.size <= _opts["threshold"] else _edges(a))
        kw["formatter"] = {"float_kind": fmt}
    elif a.dtype.kind == "b" and a.size:
        # PyTorch pads True to False's width only when a False is shown
        width = 4 if bool(np.all(a if a.size <= _opts["threshold"] else _edges(a))) else 5
        kw["formatter"] = {"bool": lambda v: str(bool(v)).rjust(width)}
    if a.size > _opts["threshold"] and a.ndim and a.shape[-1] > 2 * _opts["edgeitems"]:
        # PyTorch writes a summarised row as ",  ...," (two spaces before it):
        # every row is summarised, so each is wrapped one column earlier
        kw["max_line_width"] -= 1
        return np.array2string(a, **kw).replace(", ..., ", ",  ..., ")
    return np.array2string(a, **kw)


def _edges(a):
    """The elements a summarised print shows (the first and last edgeitems
    along every dim), for choosing the notation."""
    e = _opts["edgeitems"]
    for d in range(a.ndim):
        if a.shape[d] > 2 * e:
            a = np.concatenate([np.take(a, range(e), axis=d),
                                np.take(a, range(a.shape[d] - e, a.shape[d]), axis=d)], axis=d)
    return a


_MATMUL_PRECISIONS = ("highest", "high", "medium")
_matmul = {"precision": "highest"}
_lock = threading.Lock()


def set_float32_matmul_precision(precision):
    """Accepted for compatibility: ``'highest'``, ``'high'`` or ``'medium'``
    is recorded and returned by ``get_float32_matmul_precision``, but fastnn
    always multiplies float32 matrices in full float32 precision (no TF32 or
    bfloat16 passes).  Another string warns and has no effect, and a
    non-string raises RuntimeError, as in PyTorch."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in _MATMUL_PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    with _lock:
        _matmul["precision"] = precision


def get_float32_matmul_precision():
    """The value last set by ``set_float32_matmul_precision`` (``'highest'``
    by default); fastnn computes in full float32 whatever it is."""
    return _matmul["precision"]
