"""``fastnn.save`` / ``fastnn.load``: checkpoints and whole modules, without pickle.

This module is also fastnn's ``torch.serialization``: ``safe_globals``,
``add_safe_globals``, ``get_safe_globals``, ``clear_safe_globals`` and
``get_unsafe_globals_in_checkpoint``.

File layout (all integers little-endian)::

    offset 0   8 bytes   magic  b"FASTNN\\x00\\x01"
    offset 8   8 bytes   uint64 n = length of the JSON header
    offset 16  n bytes   JSON header (UTF-8), space-padded so data starts 64-aligned
    then       the raw bytes of every array, each starting on a 64-byte boundary

The JSON header is ``{"format": "fastnn", "version": 1, "size": <file size>,
"root": <node>}``.  A node is a JSON ``null``/bool/number/string for Python
scalars, or an object tagged by ``"t"``:

* ``dict`` (``k`` keys, ``v`` values, so non-str keys and order survive;
  ``o`` for an OrderedDict; a key is a str, int, float, bool, null or a
  ``tuple`` node of keys), ``list``, ``tuple``, ``set``, ``frozenset``;
* ``bytes`` / ``bytearray`` (stored as a uint8 array), ``device`` (``v``:
  ``"cpu"``), ``complex`` (``v``: ``[real, imag]``), ``size`` (a
  ``fastnn.Size``, ``v`` its ints) -- the plain values PyTorch's
  ``weights_only`` loader also restores;
* ``nd`` (ndarray) / ``tensor`` / ``npscalar`` (``dtype``, ``shape``,
  ``off``, ``len``; a tensor also ``rg`` for requires_grad, ``param`` for a
  Parameter and ``id``);
* ``dtype`` (a NumPy dtype, ``v`` its string), ``fn`` (one of fastnn's own
  functions, ``v`` its name);
* ``module``: ``cls`` (the class as ``module.qualname``), ``id``,
  ``training``, ``params``/``buffers``/``modules``/``attrs`` as lists of
  ``[name, node]`` pairs, ``np`` the non-persistent buffer names;
* ``ref`` (``id``): the Tensor or module of that id again (shared weights,
  a module used twice).

Loading parses JSON and copies bytes; it never evaluates anything, so a
malicious file cannot run code.  A module is rebuilt only from a class that
is fastnn's own (``fastnn.nn``'s modules; PyTorch's names of them, such as
``torch.nn.modules.linear.Linear``, map to them) or that the caller
allowlisted (``safe_globals``/``add_safe_globals``), found by name in that
registry -- nothing is imported -- and created with ``cls.__new__(cls)``
plus ``Module.__init__`` (the registries), never the class's own
constructor; then its parameters, buffers, submodules and plain attributes
are filled in from the file.  With ``weights_only=False`` a class may also be
a ``Module`` subclass of a module the program has already imported (looked up
in ``sys.modules``, never imported); nothing is ever unpickled.

On save, a module's attributes must be data: numbers, strings, None, bools,
tuples, lists, sets, bytes, dicts (keys: str, int, float, bool, None or
tuples of them), arrays, Tensors, dtypes, devices, modules and fastnn's own
functions.  Anything else (a lambda, an open file, an arbitrary
object) is an error naming the attribute and the module.  Hooks are code,
so a module with hooks registered cannot be saved either.

Pickle files, torch ``.pt`` zip archives, truncated or corrupted files
raise ``ValueError`` with a message saying what was found.  ``load`` also
reads ``.safetensors`` files (as a flat dict of ndarrays) and ``.npz``
archives (with ``allow_pickle=False``).

Writes to a path are atomic: the data go to a temporary file in the
destination's directory, which is flushed, fsync'ed and then renamed over
the destination, so an interrupted save leaves the previous file intact.
"""
import io
import json
import numbers
import os
import re
import sys
import tempfile
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from ._core import Size
from ._dtype import dtype as _FnnDtype
from ._dtype import of as _dtype_of
from ._tensor import Tensor, from_numpy

__all__ = ["save", "load", "save_safetensors", "load_safetensors", "safe_globals",
           "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "get_unsafe_globals_in_checkpoint", "UnsupportedGlobalError"]

MAGIC = b"FASTNN\x00\x01"
_ALIGN = 64
_OK_KINDS = "biuf"
_MAX_DEPTH = 250
_TENSOR_DTYPES = tuple(np.dtype(t) for t in (np.float32, np.float64, np.int64, np.int32,
                                               np.int16, np.int8, np.uint8, np.bool_))


def _pad(n):
    return (-n) % _ALIGN


# --------------------------------------------------------------- allowlist
_SAFE_GLOBALS = []


class UnsupportedGlobalError(ValueError):
    """A file names a class that is neither fastnn's nor allowlisted."""


def add_safe_globals(safe_globals):
    """Allowlists classes (``Module`` subclasses) that ``load`` may rebuild.

    Entries are classes, or ``(cls, "module.qualname")`` pairs naming the
    class under another name.  Other objects (functions, NumPy's
    reconstructors that PyTorch programs list) are accepted and unused."""
    for g in safe_globals:
        if isinstance(g, tuple) and (len(g) != 2 or not isinstance(g[1], str)):
            raise TypeError(f"add_safe_globals: a tuple entry must be (obj, 'module.name'), "
                            f"got {g!r}")
        _SAFE_GLOBALS.append(g)


def get_safe_globals():
    """The allowlist (a copy)."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals():
    """Empties the allowlist."""
    del _SAFE_GLOBALS[:]


class safe_globals:
    """Context manager: ``with safe_globals([Net]): fastnn.load(f)`` allowlists
    ``Net`` inside the block only."""

    def __init__(self, safe_globals):
        self.safe_globals = list(safe_globals)
        self._saved = None

    def __enter__(self):
        self._saved = list(_SAFE_GLOBALS)
        add_safe_globals(self.safe_globals)
        return self

    def __exit__(self, *exc):
        _SAFE_GLOBALS[:] = self._saved
        return False


def _class_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _module_base():
    from .nn.modules.module import Module
    return Module


def _fastnn_classes():
    """{"module.qualname": cls} for every Module subclass defined in fastnn."""
    Module = _module_base()
    out, stack = {}, [Module]
    while stack:
        c = stack.pop()
        if c.__module__.split(".")[0] == "fastnn":
            out[_class_name(c)] = c
        stack.extend(c.__subclasses__())
    return out


def _allowlisted():
    out = {}
    for g in _SAFE_GLOBALS:
        if isinstance(g, tuple):
            obj, name = g
            out[name] = obj
        elif hasattr(g, "__module__") and hasattr(g, "__qualname__"):
            out[_class_name(g)] = g
    return out


def _torch_alias(name):
    """fastnn.nn's class for a PyTorch name such as torch.nn.modules.linear.Linear."""
    if not name.startswith("torch.nn."):
        return None
    import fastnn.nn as fnn
    c = vars(fnn).get(name.rsplit(".", 1)[-1])
    return c if isinstance(c, type) and issubclass(c, _module_base()) else None


def _from_sys_modules(name):
    """A class already imported by the program (dict lookups only: no import,
    no module __getattr__)."""
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        mod = sys.modules.get(".".join(parts[:i]))
        if mod is None:
            continue
        obj = mod
        for p in parts[i:]:
            if p == "<locals>":
                return None
            obj = vars(obj).get(p) if hasattr(obj, "__dict__") else None
            if obj is None:
                return None
        return obj
    return None


def _resolve_class(name, weights_only):
    """The class a file's ``cls`` names, or None when it is not allowed."""
    Module = _module_base()
    allowed = _allowlisted()
    cls = _fastnn_classes().get(name) or allowed.get(name) or _torch_alias(name)
    if cls is None:       # saved as __main__.Net, allowlisted as train.Net: same qualname
        hits = {id(c): c for c in allowed.values()
                if isinstance(c, type) and name.endswith("." + c.__qualname__)}
        if len(hits) == 1:
            cls = next(iter(hits.values()))
    if cls is None and not weights_only:
        cls = _from_sys_modules(name)
    if isinstance(cls, type) and issubclass(cls, Module):
        return cls
    return None


def _unsupported_global(name, src):
    short = name.rsplit(".", 1)[-1]
    return UnsupportedGlobalError(
        f"fastnn.load: {src}: Unsupported global: GLOBAL {name} was not an allowed global by "
        f"default. Please use `fastnn.serialization.add_safe_globals([{short}])` or the "
        f"`fastnn.serialization.safe_globals([{short}])` context manager to allowlist this "
        "class if you trust it (fastnn rebuilds the module from the file's data without "
        "running its constructor; it never unpickles, so weights_only=False does not load "
        "classes the program has not imported either).")


# ------------------------------------------------------ fastnn's functions
_FN_CACHE = []
_MATH_MODULES = ("fastnn.nn.functional", "fastnn.ops.", "fastnn._tensor")


def _functions():
    """({name: fn}, {id(fn): name}) for the public functions of fastnn and
    fastnn.nn.functional (what a module may hold as an attribute)."""
    if not _FN_CACHE:
        import types

        import fastnn
        import fastnn.nn.functional as F
        by_name = {}
        for prefix, ns in (("fastnn.nn.functional", F), ("fastnn", fastnn)):
            for k, v in vars(ns).items():
                # the maths only (not fastnn's settings, I/O or helpers)
                if not k.startswith("_") and isinstance(v, (types.FunctionType,
                                                            types.BuiltinFunctionType)) \
                        and getattr(v, "__module__", "").startswith(_MATH_MODULES):
                    by_name.setdefault(f"{prefix}.{k}", v)
        by_id = {}
        for k, v in by_name.items():
            by_id.setdefault(id(v), k)
        _FN_CACHE.append((by_name, by_id))
    return _FN_CACHE[0]


def _function_named(name):
    by_name = _functions()[0]
    if name.startswith("torch."):
        name = "fastnn." + name[len("torch."):]
    return by_name.get(name)


# ------------------------------------------------------------------- save
def _transient(cls):
    out = set()
    for c in cls.__mro__:
        out.update(vars(c).get("_transient_attrs", ()))
    return out


def _describe(obj):
    r = repr(obj)
    return r if len(r) <= 60 else r[:57] + "..."


class _Encoder:
    def __init__(self):
        self.arrays = []
        self.offset = 0
        self.ids = {}               # id(Tensor or module) -> node id
        self.keep = []              # keeps memoized objects alive (ids stay unique)
        self.open_modules = set()

    def _array(self, arr, tag, extra=None):
        if arr.dtype.kind not in _OK_KINDS or arr.dtype.itemsize > 8 and arr.dtype.kind != "f":
            raise TypeError(f"fastnn.save: arrays of dtype {arr.dtype} cannot be saved "
                            "(bool, integer and floating arrays only)")
        arr = np.array(arr, order="C", copy=not arr.flags.c_contiguous)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        node = {"t": tag, "dtype": arr.dtype.str, "shape": list(arr.shape),
                "off": self.offset, "len": arr.nbytes}
        if extra:
            node.update(extra)
        self.arrays.append((self.offset, arr))
        self.offset += arr.nbytes + _pad(arr.nbytes)
        return node

    def _memo(self, obj):
        """(node id, seen before) for a Tensor or module."""
        k = id(obj)
        if k in self.ids:
            return self.ids[k], True
        self.ids[k] = len(self.ids)
        self.keep.append(obj)
        return self.ids[k], False

    def _tensor(self, t):
        from .nn.parameter import Parameter
        nid, seen = self._memo(t)
        if seen:
            return {"t": "ref", "id": nid}
        extra = {"id": nid}
        if t.requires_grad:
            extra["rg"] = True
        if isinstance(t, Parameter):
            extra["param"] = True
        return self._array(t._array, "tensor", extra)

    def encode(self, obj, path="obj", depth=0, owner=None):
        if depth > 200:
            raise ValueError("fastnn.save: structure nested too deeply (a cycle?)")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, Tensor):
            return self._tensor(obj)
        if isinstance(obj, np.ndarray):
            return self._array(obj, "nd")
        if isinstance(obj, np.generic):
            return self._array(np.asarray(obj), "npscalar")
        if isinstance(obj, numbers.Integral):
            return int(obj)
        if isinstance(obj, float):
            return obj
        if isinstance(obj, complex):
            return {"t": "complex", "v": [obj.real, obj.imag]}
        if isinstance(obj, Size):
            return {"t": "size", "v": [int(n) for n in obj]}
        if isinstance(obj, (np.dtype, _FnnDtype)):
            return {"t": "dtype", "v": np.dtype(obj).str}
        if hasattr(obj, "detach") and hasattr(obj, "numpy") and not isinstance(obj, type):
            return self._array(obj.detach().cpu().numpy(), "nd")        # a torch.Tensor
        if isinstance(obj, dict):
            keys, vals = [], []
            for k, v in obj.items():
                keys.append(self._key(k, path))
                vals.append(self.encode(v, f"{path}[{k!r}]", depth + 1, owner))
            node = {"t": "dict", "k": keys, "v": vals}
            if isinstance(obj, OrderedDict):
                node["o"] = 1
            return node
        if isinstance(obj, (list, tuple)):        # (a namedtuple is saved as a tuple)
            return {"t": "list" if isinstance(obj, list) else "tuple",
                    "v": [self.encode(v, f"{path}[{i}]", depth + 1, owner)
                          for i, v in enumerate(obj)]}
        if isinstance(obj, (set, frozenset)):
            return {"t": "set" if isinstance(obj, set) else "frozenset",
                    "v": [self.encode(v, f"{path}{{{i}}}", depth + 1, owner)
                          for i, v in enumerate(obj)]}
        if isinstance(obj, (bytes, bytearray)):
            return self._array(np.frombuffer(bytes(obj), np.uint8),
                               "bytes" if isinstance(obj, bytes) else "bytearray")
        if isinstance(obj, _device_cls()):
            return {"t": "device", "v": str(obj)}
        if isinstance(obj, _module_base()):
            return self._module(obj, path, depth)
        name = _functions()[1].get(id(obj))
        if name is not None:
            return {"t": "fn", "v": name}
        raise self._unsupported(obj, path, owner)

    def _key(self, k, path):
        """A dict key as a header node: str, int, float, bool and None as
        themselves (JSON keeps them apart), a tuple of keys as a tuple node."""
        if k is None or isinstance(k, (str, bool, float)):
            return k
        if isinstance(k, numbers.Integral):
            return int(k)
        if isinstance(k, np.floating):
            return float(k)
        if isinstance(k, tuple):
            return {"t": "tuple", "v": [self._key(e, path) for e in k]}
        raise TypeError(f"fastnn.save: dict key {k!r} at {path} is a {type(k).__name__}; "
                        "keys may be str, int, float, bool, None or tuples of them")

    def _unsupported(self, obj, path, owner):
        what = f"a {type(obj).__name__} ({_describe(obj)})"
        if owner is None:
            return TypeError(f"fastnn.save: cannot save {path}: {what} (supported: dict, list, "
                             "tuple, set, str, bytes, int, float, complex, bool, None, ndarray, Tensor, "
                             "dtype, device, nn.Module, fastnn's functions; fastnn never "
                             "pickles)")
        modpath, cls, attr = owner
        return TypeError(
            f"fastnn.save: cannot save {path}: attribute {attr!r} of module "
            f"{modpath!r} ({cls}) holds {what}, which is not plain data. fastnn saves a "
            "module as data (numbers, strings, None, bools, tuples, lists, dicts, arrays, "
            "Tensors, modules) and never pickles code: delete the attribute or make it a "
            "class attribute before saving, or save model.state_dict() instead.")

    def _module(self, m, path, depth):
        nid, seen = self._memo(m)
        if seen:
            if nid in self.open_modules:
                raise ValueError(f"fastnn.save: module {path} contains itself (a cycle)")
            return {"t": "ref", "id": nid}
        cls = type(m)
        for c in cls.__mro__:
            slots = vars(c).get("__slots__", ())
            slots = (slots,) if isinstance(slots, str) else slots
            if any(s not in ("__dict__", "__weakref__") for s in slots):
                raise TypeError(f"fastnn.save: cannot save {path}: {c.__qualname__} uses "
                                "__slots__, whose values fastnn does not store")
        from .nn.modules.module import _HOOK_DICTS, _INTERNAL_ATTRS
        d = m.__dict__
        for h in _HOOK_DICTS:
            if d.get(h):
                raise TypeError(f"fastnn.save: cannot save {path} ({cls.__qualname__}): it has "
                                f"hooks registered ({h}); hooks are code, which fastnn never "
                                "saves. Remove them (handle.remove()) before saving.")
        self.open_modules.add(nid)
        skip = _INTERNAL_ATTRS | _transient(cls)
        qual = cls.__qualname__

        def pairs(items):
            return [[k, None if v is None else
                     self.encode(v, f"{path}.{k}", depth + 1, (path, qual, k))]
                    for k, v in items]
        node = {"t": "module", "id": nid, "cls": _class_name(cls),
                "training": bool(d.get("training", True)),
                "params": pairs(d["_parameters"].items()),
                "buffers": pairs(d["_buffers"].items()),
                "np": sorted(d.get("_non_persistent", ())),
                "modules": pairs(d["_modules"].items()),
                "attrs": pairs((k, v) for k, v in d.items() if k not in skip)}
        self.open_modules.discard(nid)
        return node


def _header_bytes(root, data_len):
    # The header states the file size; its own length depends on that number,
    # so iterate until stable (two rounds at most in practice).
    size = 0
    for _ in range(5):
        text = json.dumps({"format": "fastnn", "version": 1, "size": size, "root": root},
                          separators=(",", ":"), ensure_ascii=True).encode("ascii")
        n = len(text) + _pad(16 + len(text))
        new_size = 16 + n + data_len
        if new_size == size:
            return text + b" " * (n - len(text))
        size = new_size
    raise RuntimeError("fastnn.save: header size did not converge")


def _write_payload(f, header, arrays):
    """Writes the whole file body; one function so tests can interrupt it."""
    f.write(MAGIC)
    f.write(len(header).to_bytes(8, "little"))
    f.write(header)
    for _, arr in arrays:
        _write_array(f, arr)


def _write_array(f, arr):
    f.write(memoryview(arr).cast("B") if arr.ndim and arr.size else arr.tobytes())
    f.write(b"\x00" * _pad(arr.nbytes))


def _atomic_write(path, writer):
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:   # make the rename itself durable (best effort; not possible on every OS)
        dfd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def save(obj, f, pickle_module=None, pickle_protocol=None, **kwargs):
    """Saves nested containers of numbers, strings, arrays and Tensors, or
    whole modules, as ``torch.save`` does (without pickle).

    Parameters
    ----------
    obj : object
        A state dict, a checkpoint dict (model, optimizer, epoch, ...), a
        ``nn.Module`` (stored as data: see the module docstring), or any
        nesting of dict (str/int keys), list, tuple, str, int, float, bool,
        None, ndarray, Tensor, Parameter, dtype and modules.
    f : str, path-like or binary file object
        A path is written exactly as given (no extension added), atomically.
    pickle_module, pickle_protocol, **kwargs
        Accepted for ``torch.save`` compatibility and ignored.

    Examples
    --------
    >>> import fastnn, numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "ckpt.fnn")
    >>> fastnn.save({"epoch": 3, "w": np.arange(3.0)}, p)
    >>> fastnn.load(p)["w"]
    array([0., 1., 2.])
    """
    enc = _Encoder()
    root = enc.encode(obj)
    header = _header_bytes(root, enc.offset)
    if hasattr(f, "write"):
        _write_payload(f, header, enc.arrays)
        return
    _atomic_write(f, lambda fh: _write_payload(fh, header, enc.arrays))


# ------------------------------------------------------------------- load
def _bad(src, why):
    return ValueError(f"fastnn.load: {src} is not a valid fastnn file: {why}")


def _no_duplicates(pairs):
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"duplicate key {dup[:40]!r}")
    return d


def _device_cls():
    from .device import device
    return device


def _parse_json(text):
    """json.loads refusing duplicate keys (which one would win is a guess);
    RecursionError (deep nesting) becomes a ValueError."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise ValueError("structure nested too deeply") from None


def _count(shape):
    """Elements of a shape read from a file, in Python ints (no int64 wrap)."""
    n = 1
    for s in shape:
        n *= s
    return n


class _Decoder:
    def __init__(self, buf, data_start, src, weights_only):
        self.buf, self.data_start, self.src = buf, data_start, src
        self.weights_only = weights_only
        self.memo = {}
        self.open_modules = set()

    def decode(self, node, depth=0):
        src = self.src
        if depth > _MAX_DEPTH:
            raise _bad(src, "structure nested too deeply")
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        if not isinstance(node, dict) or "t" not in node:
            raise _bad(src, f"unexpected header node {str(node)[:80]!r}")
        t = node["t"]
        if t == "dict":
            k, v = node.get("k"), node.get("v")
            if not isinstance(k, list) or not isinstance(v, list) or len(k) != len(v):
                raise _bad(src, "malformed dict node")
            out = OrderedDict() if node.get("o") else {}
            for key, val in zip(k, v):
                out[self._key(key, depth + 1)] = self.decode(val, depth + 1)
            return out
        if t in ("set", "frozenset"):
            if not isinstance(node.get("v"), list):
                raise _bad(src, f"malformed {t} node")
            items = [self.decode(val, depth + 1) for val in node["v"]]
            try:
                return set(items) if t == "set" else frozenset(items)
            except TypeError:
                raise _bad(src, f"unhashable element in a {t}") from None
        if t in ("bytes", "bytearray"):
            arr = self._array(node)
            if arr.dtype != np.uint8 or arr.ndim != 1:
                raise _bad(src, f"malformed {t} node")
            return bytes(arr) if t == "bytes" else bytearray(arr.tobytes())
        if t == "device":
            if node.get("v") not in ("cpu", "cpu:0"):
                raise _bad(src, f"device {str(node.get('v'))[:40]!r} (fastnn runs on the CPU)")
            return _device_cls()(node["v"])
        if t == "complex":
            v = node.get("v")
            if not (isinstance(v, list) and len(v) == 2
                    and all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in v)):
                raise _bad(src, "malformed complex node")
            return complex(v[0], v[1])
        if t == "size":
            v = node.get("v")
            if not (isinstance(v, list) and all(isinstance(e, int) and not isinstance(e, bool)
                                                for e in v)):
                raise _bad(src, "malformed size node")
            return Size(v)
        if t in ("list", "tuple"):
            if not isinstance(node.get("v"), list):
                raise _bad(src, f"malformed {t} node")
            items = [self.decode(val, depth + 1) for val in node["v"]]
            return items if t == "list" else tuple(items)
        if t in ("nd", "npscalar"):
            arr = self._array(node)
            return arr[()] if t == "npscalar" else arr
        if t == "tensor":
            return self._remember(node, self._tensor(node))
        if t == "dtype":
            return _dtype_of(_file_dtype(node.get("v"), src))
        if t == "fn":
            fn = _function_named(str(node.get("v")))
            if fn is None:
                raise UnsupportedGlobalError(f"fastnn.load: {src}: unknown function "
                                             f"{str(node.get('v'))[:80]!r} (only fastnn's own "
                                             "functions can be loaded)")
            return fn
        if t == "ref":
            nid = node.get("id")
            if not isinstance(nid, int) or isinstance(nid, bool) or nid not in self.memo:
                raise _bad(src, f"reference to an unknown object {str(nid)[:20]}")
            if nid in self.open_modules:
                raise _bad(src, "a module contains itself (a cycle)")
            return self.memo[nid]
        if t == "module":
            return self._module(node, depth)
        raise _bad(src, f"unknown node type {str(t)[:40]!r}")

    def _key(self, node, depth):
        """A dict key from its header node (see _Encoder._key)."""
        if node is None or isinstance(node, (str, bool, int, float)):
            return node
        if isinstance(node, dict) and node.get("t") == "tuple" and isinstance(node.get("v"), list) \
                and depth <= _MAX_DEPTH:
            return tuple(self._key(e, depth + 1) for e in node["v"])
        raise _bad(self.src, "malformed dict key")

    def _remember(self, node, obj):
        nid = node.get("id")
        if nid is not None:
            if not isinstance(nid, int) or isinstance(nid, bool) or nid in self.memo:
                raise _bad(self.src, f"duplicate or malformed object id {str(nid)[:20]}")
            self.memo[nid] = obj
        return obj

    def _array(self, node):
        return _array_from(self.buf, self.data_start, node.get("dtype"), node.get("shape"),
                           node.get("off"), node.get("len"), self.src)

    def _tensor(self, node):
        arr = self._array(node)
        if not arr.dtype.isnative:   # (fastnn.save writes little-endian)
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if arr.dtype not in _TENSOR_DTYPES:
            raise _bad(self.src, f"a tensor of dtype {arr.dtype} (fastnn tensors hold "
                                 "float32/64, int8/16/32/64, uint8 or bool)")
        rg = bool(node.get("rg", False))
        if node.get("param"):
            from .nn.parameter import Parameter
            if rg and arr.dtype.kind != "f":
                raise _bad(self.src, f"a Parameter of dtype {arr.dtype} cannot require grad")
            return Parameter(from_numpy(arr), requires_grad=rg)
        t = from_numpy(arr)
        if rg:
            if arr.dtype.kind != "f":
                raise _bad(self.src, f"a tensor of dtype {arr.dtype} cannot require grad")
            t.requires_grad_(True)
        return t

    def _pairs(self, node, key):
        v = node.get(key, [])
        if not isinstance(v, list) or not all(
                isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in v):
            raise _bad(self.src, f"malformed module entry {key!r}")
        return v

    def _module(self, node, depth):
        from .nn.modules.module import _INTERNAL_ATTRS, Module
        from .nn.parameter import Parameter
        src, name = self.src, node.get("cls")
        if not isinstance(name, str) or not name:
            raise _bad(src, "module node without a class name")
        cls = _resolve_class(name, self.weights_only)
        if cls is None:
            raise _unsupported_global(name, src)
        try:
            obj = cls.__new__(cls)
        except Exception as e:
            raise ValueError(f"fastnn.load: {src}: cannot create a {name} without running its "
                             f"constructor ({type(e).__name__}: {e})") from None
        Module.__init__(obj)
        nid = node.get("id")
        self._remember(node, obj)
        self.open_modules.add(nid)
        d = obj.__dict__
        d["training"] = bool(node.get("training", True))
        for key, reg_name in (("params", "_parameters"), ("buffers", "_buffers"),
                              ("modules", "_modules")):
            reg = d[reg_name]
            for k, v in self._pairs(node, key):
                if not k or "." in k:
                    raise _bad(src, f"invalid {key[:-1]} name {k[:40]!r} in {name}")
                val = None if v is None else self.decode(v, depth + 1)
                if key == "params" and val is not None and not isinstance(val, Parameter):
                    if not isinstance(val, Tensor):
                        raise _bad(src, f"parameter {k!r} of {name} is not a tensor")
                    val = Parameter(val, requires_grad=val.requires_grad)
                if key == "buffers" and val is not None and not isinstance(val, Tensor):
                    raise _bad(src, f"buffer {k!r} of {name} is not a tensor")
                if key == "modules" and val is not None and not isinstance(val, Module):
                    raise _bad(src, f"submodule {k!r} of {name} is not a module")
                reg[k] = val
        nonp = node.get("np", [])
        if not isinstance(nonp, list) or not all(isinstance(k, str) for k in nonp):
            raise _bad(src, f"malformed non-persistent buffer list in {name}")
        d["_non_persistent"].update(nonp)
        for k, v in self._pairs(node, "attrs"):
            if not k.isidentifier() or k.startswith("__") or k in _INTERNAL_ATTRS \
                    or k in d["_parameters"] or k in d["_buffers"] or k in d["_modules"] \
                    or callable(getattr(cls, k, None)):     # (no shadowing forward & co)
                raise _bad(src, f"invalid attribute name {k[:40]!r} in {name}")
            d[k] = self.decode(v, depth + 1)
        self.open_modules.discard(nid)
        return obj


_DTYPE_STR = re.compile(r"[<>|=]?[biuf][0-9]{1,2}")


def _file_dtype(s, src):
    """The dtype a file names, as ``dtype.str`` writes it ('<f4', '|b1'):
    only such strings reach np.dtype (which would parse other strings with
    ast.literal_eval, raising SyntaxError or recursing on nested input)."""
    if not isinstance(s, str) or not _DTYPE_STR.fullmatch(s):
        raise _bad(src, f"unsupported dtype {str(s)[:40]!r}")
    try:
        dt = np.dtype(s)
    except (TypeError, ValueError):
        raise _bad(src, f"unsupported dtype {s!r}") from None
    if dt.kind not in _OK_KINDS:
        raise _bad(src, f"unsupported dtype {s!r}")
    return dt


def _array_from(buf, data_start, dtype, shape, off, length, src):
    dt = _file_dtype(dtype, src)
    if (not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape)
            or not isinstance(off, int) or not isinstance(length, int) or off < 0):
        raise _bad(src, "malformed array entry")
    if any(isinstance(s, bool) for s in shape):
        raise _bad(src, "malformed array entry")
    n = _count(shape)
    if n * dt.itemsize != length:
        raise _bad(src, f"array of shape {shape} and dtype {dt} needs {n * dt.itemsize} "
                        f"bytes, header says {length}")
    start = data_start + off
    if start + length > len(buf):
        raise _bad(src, "file is truncated (array data past the end)")
    return np.frombuffer(buf, dtype=dt, count=n, offset=start).reshape(tuple(shape))


def _read_source(f, mmap=False):
    if hasattr(f, "read"):
        if mmap:
            raise ValueError("f must be a file path in order to use the mmap argument")
        return bytearray(f.read()), "<file object>"
    path = os.fspath(f)
    if not os.path.exists(path):
        raise FileNotFoundError(f"fastnn.load: no such file: {path!r}")
    with open(path, "rb") as fh:
        if mmap and os.fstat(fh.fileno()).st_size > 0:
            import mmap as _mmap
            # private copy-on-write pages: arrays are writable, the file never changes
            return _mmap.mmap(fh.fileno(), 0, access=_mmap.ACCESS_COPY), repr(path)
        return bytearray(fh.read()), repr(path)


def _looks_like_pickle(head):
    return head[:1] == b"\x80" and len(head) > 1 and 0 < head[1] <= 5


_DEVICE_HINT = ("fastnn runs on the CPU only; map_location may be None, 'cpu', a CPU device, "
                "a dict mapping locations to 'cpu', or a callable")


def _check_map_location(ml):
    """map_location is a no-op on the CPU; anything naming another device is an error.

    A callable is accepted and not called: every tensor fastnn loads already
    lives in CPU memory, which is what the usual remapping callables
    (``lambda storage, loc: storage``) return."""
    def cpu(dev):
        name = dev if isinstance(dev, str) else getattr(dev, "type", None)
        return isinstance(name, str) and name.split(":")[0] == "cpu"
    if ml is None:
        return
    if isinstance(ml, str) or (hasattr(ml, "type") and not callable(ml)):
        if not cpu(ml):
            raise RuntimeError(f"fastnn.load: map_location={str(ml)!r} is not available; "
                               + _DEVICE_HINT)
        return
    if isinstance(ml, dict):
        for k, v in ml.items():
            if not cpu(v):
                raise RuntimeError(f"fastnn.load: map_location maps {k!r} to {str(v)!r}, "
                                   "which is not available; " + _DEVICE_HINT)
        return
    if callable(ml):
        return
    raise TypeError(f"fastnn.load: unsupported map_location {type(ml).__name__}; "
                    + _DEVICE_HINT)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Loads what ``save`` wrote (or a ``.safetensors``/``.npz`` file), as
    ``torch.load`` does (without pickle).

    Arrays saved as Tensors come back as Tensors (Parameters as
    Parameters, ``requires_grad`` kept), ndarrays as ndarrays; tuples stay
    tuples, int dict keys stay ints, OrderedDicts stay OrderedDicts, a Tensor
    or module saved twice comes back as one object.  Never unpickles.

    Parameters
    ----------
    f : str, path-like or binary file object
    map_location : None, str, device, dict or callable
        Accepted; only the CPU exists (see ``_check_map_location``).
    pickle_module, **pickle_load_args
        Accepted for ``torch.load`` compatibility and ignored.
    weights_only : bool
        True (default): modules are rebuilt only from fastnn's classes and the
        allowlisted ones (``safe_globals``).  False: also from ``Module``
        subclasses the program has already imported.
    mmap : bool, optional
        Map the file (copy-on-write) instead of reading it; f must be a path.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    UnsupportedGlobalError (a ValueError)
        The file holds a module whose class is not allowed.
    ValueError
        The file is a pickle, truncated, corrupted, or in an unknown format.

    Examples
    --------
    >>> import io, fastnn
    >>> buf = io.BytesIO()
    >>> fastnn.save(fastnn.nn.Linear(2, 3), buf)
    >>> _ = buf.seek(0)
    >>> fastnn.load(buf, map_location="cpu")
    Linear(in_features=2, out_features=3, bias=True)
    """
    _check_map_location(map_location)
    weights_only = True if weights_only is None else bool(weights_only)
    buf, src = _read_source(f, bool(mmap))
    head = bytes(buf[:16])
    if head[:8] == MAGIC:
        return _load_fastnn(buf, src, weights_only)
    if _looks_like_pickle(head) or head[:1] in (b"(", b"}", b"]") and b"." == bytes(buf[-1:]):
        raise ValueError(f"fastnn.load: {src} is a Python pickle; fastnn never unpickles "
                         "(it could run arbitrary code). Re-save the data with fastnn.save, "
                         "safetensors or numpy.savez.")
    if head[:4] == b"PK\x03\x04":
        return _load_zip(buf, src)
    if _is_safetensors(buf):
        return _parse_safetensors(buf, src)
    if len(buf) < 16:
        raise ValueError(f"fastnn.load: {src} is empty or truncated ({len(buf)} bytes)")
    raise ValueError(f"fastnn.load: {src} is not a fastnn, safetensors or npz file "
                     f"(starts with {head[:8]!r})")


def _read_header(buf, src):
    if len(buf) < 16:
        raise _bad(src, "file is truncated (incomplete header)")
    n = int.from_bytes(buf[8:16], "little")
    if 16 + n > len(buf):
        raise _bad(src, f"file is truncated (header of {n} bytes, file of {len(buf)})")
    try:
        header = _parse_json(bytes(buf[16:16 + n]).decode("ascii"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad(src, f"corrupted header ({type(e).__name__}: {str(e)[:80]})") from None
    if not isinstance(header, dict) or header.get("format") != "fastnn" or "root" not in header:
        raise _bad(src, "corrupted header")
    if header.get("version") != 1:
        raise _bad(src, f"unsupported format version {header.get('version')!r}")
    size = header.get("size")
    if size != len(buf):
        what = "truncated" if isinstance(size, int) and len(buf) < size else "corrupted"
        raise _bad(src, f"file is {what}: {len(buf)} bytes, the header says {size}")
    return header, 16 + n


def _load_fastnn(buf, src, weights_only=True):
    header, data_start = _read_header(buf, src)
    return _Decoder(buf, data_start, src, weights_only).decode(header["root"])


def get_unsafe_globals_in_checkpoint(f):
    """The class names in a fastnn file that ``load(f)`` would refuse
    (neither fastnn's nor allowlisted), without loading anything."""
    buf, src = _read_source(f)
    if bytes(buf[:8]) != MAGIC:
        return []
    header, _ = _read_header(buf, src)
    names, stack, seen = [], [(header["root"], 0)], set()
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise _bad(src, "structure nested too deeply")
        if isinstance(node, list):
            stack.extend((x, depth + 1) for x in node)
        elif isinstance(node, dict):
            name = node.get("cls") if node.get("t") == "module" else None
            if isinstance(name, str) and name not in seen:
                seen.add(name)
                if _resolve_class(name, True) is None:
                    names.append(name)
            stack.extend((x, depth + 1) for x in node.values())
    return sorted(names)


def _load_zip(buf, src):
    try:
        zf = zipfile.ZipFile(io.BytesIO(bytes(buf)))
        names = zf.namelist()
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as e:
        raise ValueError(f"fastnn.load: {src} is a corrupted zip archive: {e}") from None
    if any(n.endswith(".pkl") for n in names) or not all(n.endswith(".npy") for n in names):
        raise ValueError(f"fastnn.load: {src} is a zip archive that is not an .npz (a "
                         "torch.save file?); its data.pkl is a pickle, which fastnn never "
                         "loads. Save the state dict with safetensors instead.")
    for info in zf.infolist():
        _check_npy_member(zf, info, src)
    try:
        with np.load(io.BytesIO(bytes(buf)), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (ValueError, zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError,
            EOFError, zlib.error) as e:   # (a bad CRC, a corrupted deflate stream)
        raise ValueError(f"fastnn.load: {src}: cannot read the .npz: {e}") from None


_DEFLATE_MAX_RATIO = 1100   # deflate expands at most ~1032:1


def _check_npy_member(zf, info, src):
    """Refuses an .npy member whose header declares more (or fewer) bytes than
    the member holds, before NumPy allocates the declared array, and a member
    claiming to expand beyond what deflate can."""
    def bad(why):
        return ValueError(f"fastnn.load: {src}: member {info.filename!r} {why}")
    if info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 4096:
        raise bad(f"claims {info.file_size} bytes from {info.compress_size} compressed")
    fmt = np.lib.format
    try:
        with zf.open(info) as fh:
            version = fmt.read_magic(fh)
            read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"unsupported .npy version {version}")
            shape, _, dtype = read(fh)
            header_len = fh.tell()
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, SyntaxError, NotImplementedError,
            RuntimeError, zlib.error) as e:   # (an unknown compression method, encryption)
        raise bad(f"is not a valid .npy ({type(e).__name__}: {str(e)[:80]})") from None
    if dtype.hasobject:
        raise bad("holds Python objects (a pickle), which fastnn never loads")
    need = _count(shape) * dtype.itemsize
    if need != info.file_size - header_len:
        raise bad(f"declares {need} bytes of data (shape {shape}, {dtype}) but holds "
                  f"{info.file_size - header_len}")


# ------------------------------------------------------------- safetensors
_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
              "I16": "<i2", "I8": "i1", "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8",
              "BOOL": "?", "BF16": "<u2"}
_ST_NAMES = {np.dtype(v).str: k for k, v in _ST_DTYPES.items() if k != "BF16"}


def _is_safetensors(buf):
    if len(buf) < 10:
        return False
    n = int.from_bytes(buf[:8], "little")
    return 2 <= n <= len(buf) - 8 and buf[8:9] == b"{"


def _check_st_offsets(header, data_len, bad):
    """Every entry well-formed, and the tensors' byte ranges tile the data
    exactly (start at 0, no gap, no overlap, end at the end of the file), as
    the safetensors format requires."""
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or not isinstance(info.get("dtype"), str) \
                or info["dtype"] not in _ST_DTYPES:
            raise bad(f"tensor {name!r} has an unsupported entry {str(info)[:80]}")
        shape, offs = info.get("shape"), info.get("data_offsets")
        if (not isinstance(shape, list) or not all(
                type(s) is int and s >= 0 for s in shape)
                or not isinstance(offs, list) or len(offs) != 2
                or not all(type(o) is int for o in offs) or not 0 <= offs[0] <= offs[1]):
            raise bad(f"tensor {name!r} has a malformed entry")
        spans.append((offs[0], offs[1], name))
    end = 0
    for lo, hi, name in sorted(spans):
        if lo != end:
            raise bad(f"tensor {name!r}: data_offsets {[lo, hi]} "
                      + ("overlap the previous tensor" if lo < end else
                         f"leave a gap after byte {end}"))
        end = hi
    if end > data_len:
        raise bad(f"file is truncated (the tensors need {end} bytes of data, the file holds "
                  f"{data_len})")
    if end != data_len:
        raise bad(f"{data_len - end} bytes after the last tensor's data")


def _parse_safetensors(buf, src):
    def bad(why):
        return ValueError(f"fastnn.load: {src} is not a valid safetensors file: {why}")
    if len(buf) < 8:
        raise bad("file is truncated")
    n = int.from_bytes(buf[:8], "little")
    if n > len(buf) - 8:
        raise bad(f"file is truncated (header of {n} bytes, file of {len(buf)})")
    try:
        header = _parse_json(bytes(buf[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"corrupted header ({e})") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise bad("__metadata__ must map strings to strings")
    start = 8 + n
    out = {}
    _check_st_offsets(header, len(buf) - start, bad)
    for name, info in header.items():
        if name == "__metadata__":
            continue
        shape, offs = info["shape"], info["data_offsets"]
        dt = np.dtype(_ST_DTYPES[info["dtype"]])
        count = _count(shape)
        if offs[1] - offs[0] != count * dt.itemsize:
            raise bad(f"tensor {name!r}: {offs[1] - offs[0]} bytes for shape {shape} "
                      f"{info['dtype']}")
        if start + offs[1] > len(buf):
            raise bad(f"file is truncated (tensor {name!r} ends past the end)")
        arr = np.frombuffer(buf, dtype=dt, count=count, offset=start + offs[0])
        arr = arr.reshape(tuple(shape))
        if info["dtype"] == "BF16":     # bfloat16 is the top half of a float32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[name] = arr
    return out


def load_safetensors(path):
    """Reads a ``.safetensors`` file as a dict of ndarrays (no dependency needed)."""
    buf, src = _read_source(path)
    return _parse_safetensors(buf, src)


def save_safetensors(tensors, path, metadata=None):
    """Writes a flat dict of arrays/Tensors as a ``.safetensors`` file (atomically)."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, v in tensors.items():
        arr = v._array if isinstance(v, Tensor) else np.asarray(v)
        arr = np.array(arr, order="C", copy=not arr.flags.c_contiguous)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        if arr.dtype.str not in _ST_NAMES:
            raise TypeError(f"save_safetensors: {name!r} has unsupported dtype {arr.dtype}")
        header[str(name)] = {"dtype": _ST_NAMES[arr.dtype.str], "shape": list(arr.shape),
                             "data_offsets": [off, off + arr.nbytes]}
        blobs.append(arr)
        off += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-len(text)) % 8)

    def writer(f):
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for a in blobs:
            f.write(a.tobytes())
    _atomic_write(path, writer)
