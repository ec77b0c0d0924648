"""``fastnn.save`` / ``fastnn.load``: checkpoints without pickle.

File layout (all integers little-endian)::

    offset 0   8 bytes   magic  b"FASTNN\\x00\\x01"
    offset 8   8 bytes   uint64 n = length of the JSON header
    offset 16  n bytes   JSON header (UTF-8), space-padded so data starts 64-aligned
    then       the raw bytes of every array, each starting on a 64-byte boundary

The JSON header is ``{"format": "fastnn", "version": 1, "size": <file size>,
"root": <node>}``.  A node is a JSON ``null``/bool/number/string for Python
scalars, or an object tagged by ``"t"``: ``dict`` (``k`` keys, ``v`` values,
so int keys and order survive), ``list``, ``tuple``, ``nd`` (ndarray) /
``tensor`` / ``npscalar`` (``dtype``, ``shape``, ``off``, ``len``).

Loading parses JSON and copies bytes; it never evaluates anything, so a
malicious file cannot run code.  Pickle files, torch ``.pt`` zip archives,
truncated or corrupted files raise ``ValueError`` with a message saying what
was found.  ``load`` also reads ``.safetensors`` files (as a flat dict of
ndarrays) and ``.npz`` archives (with ``allow_pickle=False``).

Writes are atomic: the data go to a temporary file in the destination's
directory, which is flushed, fsync'ed and then renamed over the destination,
so an interrupted save leaves the previous file intact.
"""
import io
import json
import numbers
import os
import tempfile
import zipfile

import numpy as np

from .tensor import Tensor

__all__ = ["save", "load", "save_safetensors", "load_safetensors"]

MAGIC = b"FASTNN\x00\x01"
_ALIGN = 64
_OK_KINDS = "biuf"


def _pad(n):
    return (-n) % _ALIGN


# ------------------------------------------------------------------- save
class _Encoder:
    def __init__(self):
        self.arrays = []
        self.offset = 0

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

    def encode(self, obj, path="obj", depth=0):
        if depth > 200:
            raise ValueError("fastnn.save: structure nested too deeply (a cycle?)")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, Tensor):
            return self._array(obj._array, "tensor",
                               {"rg": True} if obj.requires_grad else None)
        if isinstance(obj, np.ndarray):
            return self._array(obj, "nd")
        if isinstance(obj, np.generic):
            return self._array(np.asarray(obj), "npscalar")
        if isinstance(obj, numbers.Integral):
            return int(obj)
        if isinstance(obj, float):
            return obj
        if hasattr(obj, "detach") and hasattr(obj, "numpy"):   # a torch.Tensor
            return self._array(obj.detach().cpu().numpy(), "nd")
        if isinstance(obj, dict):
            keys, vals = [], []
            for k, v in obj.items():
                if isinstance(k, bool) or not isinstance(k, (str, numbers.Integral)):
                    raise TypeError(f"fastnn.save: dict key {k!r} at {path} is a "
                                    f"{type(k).__name__}; only str and int keys are supported")
                keys.append(k if isinstance(k, str) else int(k))
                vals.append(self.encode(v, f"{path}[{k!r}]", depth + 1))
            return {"t": "dict", "k": keys, "v": vals}
        if isinstance(obj, (list, tuple)):
            return {"t": "list" if isinstance(obj, list) else "tuple",
                    "v": [self.encode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(obj)]}
        raise TypeError(f"fastnn.save: cannot save {type(obj).__name__} at {path} (supported: "
                        "dict, list, tuple, str, int, float, bool, None, ndarray, Tensor)")


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


def save(obj, path):
    """Saves nested dicts/lists/tuples of numbers, strings, arrays and Tensors.

    Parameters
    ----------
    obj : object
        A state dict, an optimizer state dict, or a checkpoint dict holding
        them with an epoch number, a history, etc.  Dict keys are str or int.
    path : str, path-like or binary file object
        Written exactly as given (no extension added), atomically.

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
    if hasattr(path, "write"):
        _write_payload(path, header, enc.arrays)
        return
    _atomic_write(path, lambda f: _write_payload(f, header, enc.arrays))


# ------------------------------------------------------------------- load
def _bad(src, why):
    return ValueError(f"fastnn.load: {src} is not a valid fastnn file: {why}")


def _decode(node, buf, data_start, src, depth=0):
    if depth > 400:
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
        return {key: _decode(val, buf, data_start, src, depth + 1) for key, val in zip(k, v)}
    if t in ("list", "tuple"):
        if not isinstance(node.get("v"), list):
            raise _bad(src, f"malformed {t} node")
        items = [_decode(val, buf, data_start, src, depth + 1) for val in node["v"]]
        return items if t == "list" else tuple(items)
    if t in ("nd", "tensor", "npscalar"):
        arr = _array_from(buf, data_start, node.get("dtype"), node.get("shape"),
                          node.get("off"), node.get("len"), src)
        if t == "tensor":
            return Tensor(arr, requires_grad=bool(node.get("rg", False)))
        return arr[()] if t == "npscalar" else arr
    raise _bad(src, f"unknown node type {t!r}")


def _array_from(buf, data_start, dtype, shape, off, length, src):
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):
        raise _bad(src, f"unsupported dtype {dtype!r}") from None
    if dt.kind not in _OK_KINDS or dt.hasobject or dt.fields is not None:
        raise _bad(src, f"unsupported dtype {dtype!r}")
    if (not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape)
            or not isinstance(off, int) or not isinstance(length, int) or off < 0):
        raise _bad(src, "malformed array entry")
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if n * dt.itemsize != length:
        raise _bad(src, f"array of shape {shape} and dtype {dt} needs {n * dt.itemsize} "
                        f"bytes, header says {length}")
    start = data_start + off
    if start + length > len(buf):
        raise _bad(src, "file is truncated (array data past the end)")
    return np.frombuffer(buf, dtype=dt, count=n, offset=start).reshape(tuple(shape))


def _read_source(path):
    if hasattr(path, "read"):
        data = path.read()
        return bytearray(data), "<file object>"
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"fastnn.load: no such file: {path!r}")
    with open(path, "rb") as f:
        return bytearray(f.read()), repr(path)


def _looks_like_pickle(head):
    return head[:1] == b"\x80" and len(head) > 1 and 0 < head[1] <= 5


def load(path):
    """Loads what ``save`` wrote (or a ``.safetensors``/``.npz`` file).

    Arrays saved as Tensors come back as Tensors, ndarrays as ndarrays;
    tuples stay tuples and int dict keys stay ints.  Never unpickles.

    Parameters
    ----------
    path : str, path-like or binary file object

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is a pickle, truncated, corrupted, or in an unknown format.
    """
    buf, src = _read_source(path)
    head = bytes(buf[:16])
    if head[:8] == MAGIC:
        return _load_fastnn(buf, src)
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


def _load_fastnn(buf, src):
    if len(buf) < 16:
        raise _bad(src, "file is truncated (incomplete header)")
    n = int.from_bytes(buf[8:16], "little")
    if 16 + n > len(buf):
        raise _bad(src, f"file is truncated (header of {n} bytes, file of {len(buf)})")
    try:
        header = json.loads(bytes(buf[16:16 + n]).decode("ascii"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad(src, f"corrupted header ({e})") from None
    if not isinstance(header, dict) or header.get("format") != "fastnn" or "root" not in header:
        raise _bad(src, "corrupted header")
    if header.get("version") != 1:
        raise _bad(src, f"unsupported format version {header.get('version')!r}")
    size = header.get("size")
    if size != len(buf):
        what = "truncated" if isinstance(size, int) and len(buf) < size else "corrupted"
        raise _bad(src, f"file is {what}: {len(buf)} bytes, the header says {size}")
    return _decode(header["root"], buf, 16 + n, src)


def _load_zip(buf, src):
    try:
        zf = zipfile.ZipFile(io.BytesIO(bytes(buf)))
        names = zf.namelist()
    except zipfile.BadZipFile as e:
        raise ValueError(f"fastnn.load: {src} is a corrupted zip archive: {e}") from None
    if any(n.endswith(".pkl") for n in names) or not all(n.endswith(".npy") for n in names):
        raise ValueError(f"fastnn.load: {src} is a zip archive that is not an .npz (a "
                         "torch.save file?); its data.pkl is a pickle, which fastnn never "
                         "loads. Save the state dict with safetensors instead.")
    try:
        with np.load(io.BytesIO(bytes(buf)), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as e:
        raise ValueError(f"fastnn.load: {src}: cannot read .npz without pickle: {e}") from None


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


def _parse_safetensors(buf, src):
    def bad(why):
        return ValueError(f"fastnn.load: {src} is not a valid safetensors file: {why}")
    if len(buf) < 8:
        raise bad("file is truncated")
    n = int.from_bytes(buf[:8], "little")
    if n > len(buf) - 8:
        raise bad(f"file is truncated (header of {n} bytes, file of {len(buf)})")
    try:
        header = json.loads(bytes(buf[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"corrupted header ({e})") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    start = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or info.get("dtype") not in _ST_DTYPES:
            raise bad(f"tensor {name!r} has an unsupported entry {str(info)[:80]}")
        shape, offs = info.get("shape"), info.get("data_offsets")
        if (not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape)
                or not isinstance(offs, list) or len(offs) != 2
                or not all(isinstance(o, int) for o in offs) or not 0 <= offs[0] <= offs[1]):
            raise bad(f"tensor {name!r} has a malformed entry")
        dt = np.dtype(_ST_DTYPES[info["dtype"]])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
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
