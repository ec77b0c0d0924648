"""Builders of hostile files for ``fastnn.load`` and the child-side loader
that tries each one under a memory limit.

``hostile_files()`` returns ``{name: bytes}``: truncations, flipped bits,
headers declaring huge or negative sizes, offsets outside the file,
duplicate keys, deep nesting, non-UTF-8 names, pickle payloads, and
safetensors/npz files with inconsistent offsets or sizes.  ``LOADER`` is
the code a child process runs (``fastnn.testing.run_python``): it lowers
RLIMIT_AS to what the interpreter already uses plus a margin, loads every
file, and prints one JSON line per file: the exception type (or "ok") and
the seconds taken.  So an allocation of a declared size ends as a
MemoryError (reported, a failure), and a crash or a hang fails the test.
"""
import io
import json
import pickle
import struct
import zipfile

import numpy as np

import fastnn

MARGIN = 512 << 20   # bytes of address space the loads may add


def valid_file(obj=None):
    buf = io.BytesIO()
    fastnn.save({"w": np.arange(12.0).reshape(3, 4), "b": fastnn.ones(3), "n": 7, "s": "x"}
                if obj is None else obj, buf)
    return buf.getvalue()


def split(raw):
    n = int.from_bytes(raw[8:16], "little")
    return raw[:16], raw[16:16 + n].decode("ascii"), raw[16 + n:]


def fastnn_file(header, data=b"", size=None):
    """A fastnn file with this header (a dict, or raw text where ``"size":0``
    is replaced) and data bytes; ``size`` fixes the header's size field
    (default: the true file size, so the other defects are what is tested)."""
    def build(sz):
        text = header if isinstance(header, (str, bytes)) else json.dumps(
            dict(header, size=sz), separators=(",", ":"))
        text = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        text = text.replace(b'"size":0', b'"size":%d' % sz, 1)  # (raw text headers)
        text += b" " * ((-len(text) - 16) % 64)
        return b"FASTNN\x00\x01" + len(text).to_bytes(8, "little") + text + data
    raw = build(0)
    for _ in range(3):  # the size field's digits change the header's length
        raw = build(len(raw) if size is None else size)
    return raw


def _root_array(**over):
    node = {"t": "nd", "dtype": "<f8", "shape": [4], "off": 0, "len": 32}
    node.update(over)
    return {"format": "fastnn", "version": 1, "root": node}


def safetensors(header, data, n=None):
    text = header if isinstance(header, bytes) else json.dumps(header).encode(
        "utf-8", "surrogatepass")
    return (len(text) if n is None else n).to_bytes(8, "little") + text + data


def _st(**entries):
    return {k: dict(dtype="F32", shape=[2], data_offsets=[0, 8]) | v
            for k, v in entries.items()}


def npz(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def npy_header(shape, descr="<f8"):
    d = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple(shape)!r}, }}"
    d = d.encode("latin1")
    d += b" " * ((-len(d) - 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d)) + d


def hostile_files():
    raw = valid_file()
    head, text, data = split(raw)
    out = {}
    # truncations
    for cut in (0, 1, 7, 8, 15, 16, 17, 16 + len(text) // 2, 16 + len(text), len(raw) - 1):
        out[f"truncated_at_{cut}"] = raw[:cut]
    # flipped bits: magic, header length, header text, data does not matter
    for pos in (0, 7, 8, 9, 15, 16, 17, 30):
        b = bytearray(raw)
        b[pos] ^= 0x80
        out[f"bit_flipped_at_{pos}"] = bytes(b)
    # header length fields
    for n in (2**64 - 1, 2**63, 2**32, len(raw)):
        out[f"header_length_{n}"] = raw[:8] + n.to_bytes(8, "little") + raw[16:]
    # declared sizes and offsets
    big = 2**62
    for name, over in {
        "shape_huge_product_wraps": dict(shape=[big, 4], len=0),
        "shape_beyond_int64": dict(shape=[2**70], len=2**73),
        "shape_huge_len_huge": dict(shape=[2**40], len=2**43),
        "shape_negative": dict(shape=[-4], len=-32),
        "shape_not_ints": dict(shape=[4.0], len=32),
        "shape_bool": dict(shape=[True, "x"], len=8),
        "off_negative": dict(off=-64),
        "off_past_end": dict(off=10**9),
        "off_huge": dict(off=2**80),
        "len_negative": dict(len=-1),
        "len_mismatch": dict(len=64),
        "dtype_object": dict(dtype="O"),
        "dtype_structured": dict(dtype=[["a", "<f8"]]),
        "dtype_subarray": dict(dtype="(1000000000000,)f8"),
        "dtype_unicode": dict(dtype="<U8"),
        "dtype_list": dict(dtype=["<f8"]),
        "dtype_dict": dict(dtype={"names": ["a"], "formats": ["<f8"]}),
        "dtype_comma_string": dict(dtype="<f8,"),
        "dtype_nested_comma_string": dict(dtype="f8,(" * 1000),
    }.items():
        out[name] = fastnn_file(_root_array(**over), np.arange(4.0).tobytes())
    out["size_field_lies"] = fastnn_file(_root_array(), np.arange(4.0).tobytes(), size=10**12)
    out["size_field_negative"] = fastnn_file(_root_array(), np.arange(4.0).tobytes(), size=-1)
    # duplicate keys
    out["duplicate_root"] = fastnn_file(
        '{"format":"fastnn","version":1,"size":0,"root":1,"root":2}')
    out["duplicate_dict_keys_in_node"] = fastnn_file(
        '{"format":"fastnn","version":1,"size":0,"root":{"t":"dict","k":["a","a"],"v":[1,2],'
        '"k":["b"]}}')
    # deep nesting
    deep = '{"t":"list","v":[' * 2000 + "0" + "]}" * 2000
    out["nested_2000_lists"] = fastnn_file(
        '{"format":"fastnn","version":1,"size":0,"root":' + deep + "}")
    out["nested_json_100000"] = fastnn_file(
        '{"format":"fastnn","version":1,"size":0,"root":' + "[" * 100000 + "]" * 100000 + "}")
    # names that are not UTF-8 / not text
    out["non_utf8_key"] = fastnn_file(b'{"format":"fastnn","version":1,"size":0,"root":'
                                      b'{"t":"dict","k":["\xff\xfe"],"v":[1]}}')
    out["lone_surrogate_key"] = fastnn_file(
        '{"format":"fastnn","version":1,"size":0,"root":{"t":"dict","k":["\\ud800"],"v":[1]}}')
    out["not_json"] = fastnn_file(b"\x00\x01{{{")
    out["root_missing"] = fastnn_file('{"format":"fastnn","version":1,"size":0}')
    out["header_is_a_list"] = fastnn_file('[1, 2, 3]')
    out["huge_int_literal"] = fastnn_file(
        '{"format":"fastnn","version":1,"size":0,"root":' + "9" * 100000 + "}")
    # pickles
    out["pickle_protocol_2"] = pickle.dumps({"w": [1.0, 2.0]}, protocol=2)
    out["pickle_protocol_5"] = pickle.dumps({"w": [1.0, 2.0]}, protocol=5)
    out["pickle_protocol_0"] = pickle.dumps({"w": [1.0, 2.0]}, protocol=0)
    out["npz_with_pickle_member"] = npz({"data.pkl": pickle.dumps({"a": 1}),
                                         "w.npy": npy_header((1,)) + b"\0" * 8})
    obj = io.BytesIO()
    np.save(obj, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    out["npz_object_array"] = npz({"x.npy": obj.getvalue()})
    # npz members declaring huge arrays
    out["npz_declares_huge_array"] = npz({"x.npy": npy_header((10**12,)) + b"\0" * 64})
    out["npz_declares_2gb_array"] = npz({"x.npy": npy_header((2**28,)) + b"\0" * 64})
    out["npz_declares_negative_shape"] = npz({"x.npy": npy_header((-5,)) + b"\0" * 64})
    out["npz_truncated"] = npz({"x.npy": npy_header((4,)) + b"\0" * 64})[:-30]
    # safetensors
    d8 = np.zeros(2, np.float32).tobytes()
    out["st_ok_reference"] = safetensors(_st(a={}), d8)   # the control: loads
    out["st_overlapping_offsets"] = safetensors(_st(a={}, b={}), d8)
    out["st_gap_between_tensors"] = safetensors(
        _st(a={}, b=dict(data_offsets=[16, 24])), d8 * 3)
    out["st_not_starting_at_0"] = safetensors(_st(a=dict(data_offsets=[8, 16])), d8 * 2)
    out["st_trailing_bytes"] = safetensors(_st(a={}), d8 * 2)
    out["st_end_past_file"] = safetensors(_st(a=dict(data_offsets=[0, 8000])), d8)
    out["st_begin_after_end"] = safetensors(_st(a=dict(data_offsets=[8, 0])), d8)
    out["st_negative_offsets"] = safetensors(_st(a=dict(data_offsets=[-8, 0])), d8)
    out["st_offsets_not_ints"] = safetensors(_st(a=dict(data_offsets=["0", 8])), d8)
    out["st_huge_shape_wraps"] = safetensors(_st(a=dict(shape=[2**62, 4],
                                                        data_offsets=[0, 0])), b"")
    out["st_shape_beyond_int64"] = safetensors(_st(a=dict(shape=[2**70],
                                                          data_offsets=[0, 8])), d8)
    out["st_negative_shape"] = safetensors(_st(a=dict(shape=[-2])), d8)
    out["st_dtype_unhashable"] = safetensors(_st(a=dict(dtype=["F32"])), d8)
    out["st_dtype_unknown"] = safetensors(_st(a=dict(dtype="F128")), d8)
    out["st_entry_not_object"] = safetensors({"a": [1, 2]}, d8)
    out["st_header_list"] = safetensors(b"[" + b" " * 8 + b"]", b"")
    out["st_header_length_huge"] = safetensors(_st(a={}), d8, n=2**63)
    out["st_header_length_short"] = safetensors(_st(a={}), d8, n=5)
    out["st_duplicate_keys"] = safetensors(
        b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
        b'"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', d8)
    out["st_non_utf8_name"] = safetensors(
        b'{"\xff\xfe":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', d8)
    out["st_deep_nesting"] = safetensors(
        b'{"__metadata__":' + b"[" * 100000 + b"]" * 100000 + b"}", b"")
    out["st_metadata_not_strings"] = safetensors(
        {"__metadata__": {"a": [1]}} | _st(a={}), d8)
    # junk
    out["empty"] = b""
    out["one_byte"] = b"\x80"
    out["random_bytes"] = np.random.default_rng(0).bytes(4096)
    return out


# Expected to load (controls, so the check of the others can fail).
LOADABLE = {"st_ok_reference", "lone_surrogate_key"}  # (a str key may hold a surrogate)

LOADER = r'''
import json, resource, time
import numpy as np
import fastnn
paths = json.load(open(LISTPATH))
def vm():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0
fastnn.load(WARMUP)   # lazy imports happen before the limit
limit = vm() + MARGIN
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:   # the control: the limit is in force
    np.ones(2 * MARGIN, np.uint8)
    print(json.dumps(["__limit__", "no limit", "", 0]), flush=True)
except MemoryError:
    print(json.dumps(["__limit__", "MemoryError", "", 0]), flush=True)
for name, path in paths:
    t = time.perf_counter()
    try:
        r = fastnn.load(path)
        kind, msg = "ok", type(r).__name__
    except BaseException as e:
        kind, msg = type(e).__name__, str(e)[:300]
        if isinstance(e, ValueError):
            kind = "ValueError"
    print(json.dumps([name, kind, msg, time.perf_counter() - t]), flush=True)
'''


def loader_code(list_path, warmup_path):
    return (LOADER.replace("LISTPATH", repr(str(list_path)))
            .replace("WARMUP", repr(str(warmup_path))).replace("MARGIN", str(MARGIN)))
