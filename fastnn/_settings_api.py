"""``fastnn.set_printoptions`` and ``fastnn.set_float32_matmul_precision``.

Print options: fastnn prints tensors through ``numpy.array2string``;
``set_printoptions`` passes PyTorch's options on (``precision`` digits after
the point, printed fixed as PyTorch does; ``threshold`` elements before the
summary with ``...``; ``edgeitems`` per edge; ``linewidth``; ``sci_mode``
True/False forces or forbids scientific notation).  The profiles:
``'default'`` restores fastnn's own defaults (NumPy's shortest-round-trip
digits, threshold 1000, edgeitems 3), ``'short'`` is precision 2 and
edgeitems 2, ``'full'`` never summarises.  Explicit arguments override the
profile's, as in PyTorch.

Examples
--------
>>> import fastnn
>>> fastnn.set_printoptions(precision=2)
>>> fastnn.tensor([1.23456, 2.0])
tensor([1.23, 2.00])
>>> fastnn.set_printoptions(profile="default")
>>> fastnn.tensor([1.23456, 2.0])
tensor([1.23456, 2.     ])
"""
import sys
import threading
import warnings

__all__ = ["set_printoptions", "get_printoptions", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]

_DEFAULTS = {"precision": None, "threshold": 1000, "edgeitems": 3, "linewidth": 75,
             "sci_mode": None}
_opts = dict(_DEFAULTS)
_np_kwargs = {}            # what Tensor.__repr__ passes to array2string ({} by default)


def _rebuild():
    kw = {}
    if _opts["precision"] is not None:
        kw["precision"] = _opts["precision"]
        kw["floatmode"] = "fixed"
    for k in ("threshold", "edgeitems"):
        if _opts[k] != _DEFAULTS[k]:
            kw[k] = _opts[k]
    if _opts["linewidth"] != _DEFAULTS["linewidth"]:
        kw["max_line_width"] = _opts["linewidth"]
    if _opts["sci_mode"] is True:
        p = 4 if _opts["precision"] is None else _opts["precision"]
        kw["formatter"] = {"float_kind": lambda v, p=p: f"{v:.{p}e}"}
    elif _opts["sci_mode"] is False:
        kw["suppress_small"] = True
        kw.setdefault("precision", 4)
        kw["floatmode"] = "fixed"
    _np_kwargs.clear()
    _np_kwargs.update(kw)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Sets how tensors print (PyTorch's ``torch.set_printoptions``; see the
    module docstring for fastnn's defaults).  ``sci_mode=None`` leaves the
    choice of notation automatic."""
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
    _rebuild()


def get_printoptions():
    """The current print options as a dict (``precision`` None: NumPy's
    shortest digits)."""
    return dict(_opts)


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
