"""Mutation fuzzer of ``fastnn.load`` (run as a child process by
test_fuzz_files.py, so a crash is a test failure).

Valid files (a CNN's state dict, the whole module, an Adam state dict, a
nested checkpoint, a safetensors file, an npz archive) are mutated with a
fixed seed: bytes flipped, truncated, inserted, deleted or overwritten with
big integers (mostly inside the header, where the parser is), and the JSON
header edited as a tree (a node replaced by a hostile value or another
subtree, a key deleted, a list entry repeated), with the header length and
size fields fixed up so the edit reaches the decoder.  Every load must
either succeed and return well-formed data (arrays whose memory can be
read, modules whose state_dict works and whose forward, on the original
model's input, raises at most a Python exception) or raise ValueError;
anything else is a finding.  A memory limit (RLIMIT_AS) turns an allocation of a declared
size into a MemoryError, which is a finding too.

Usage: python _mutate.py --seed S --count N --progress P.txt --out R.json
"""
import argparse
import io
import json
import os
import re
import resource
import sys
import time
import traceback

import numpy as np

import fastnn
from fastnn import nn

BIG_INTS = [0, 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**62,
            -1 & (2**64 - 1), 16, 64]
HOSTILE = [-1, 0, 1, 2**31, 2**63, 2**64, 2**100, -2**63, 1.5, float("1e308"), None, True,
           "", "x", "<f8", "O", "|V8", "nd", "tensor", "module", "ref", "dict", "list",
           [], {}, [1, 2], [-1], [2**62, 4], {"t": "nd"}, {"t": "ref", "id": 0},
           {"t": "module", "cls": "fastnn.nn.Linear"}, {"t": "fn", "v": "os.system"},
           "fastnn.nn.modules.linear.Linear", "builtins.object", "__class__", "forward"]
MARGIN = 512 << 20


def base_files():
    fastnn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8, 3))
    opt = fastnn.optim.Adam(model.parameters(), lr=1e-3)
    model(fastnn.randn(2, 1, 4, 4)).sum().backward()
    opt.step()
    out = {}
    for name, obj in (("state_dict", model.state_dict()), ("module", model),
                      ("optimizer", opt.state_dict()),
                      ("checkpoint", {"epoch": 3, "lr": [0.1, 0.01], "t": (1, "a"), 7: None,
                                      "arr": np.arange(6, dtype=np.int32).reshape(2, 3),
                                      "model": model.state_dict()})):
        buf = io.BytesIO()
        fastnn.save(obj, buf)
        out[name] = buf.getvalue()
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "m.safetensors")
        fastnn.serialization.save_safetensors(model.state_dict(), p)
        out["safetensors"] = open(p, "rb").read()
    buf = io.BytesIO()
    np.savez(buf, a=np.arange(5.0), b=np.ones((2, 2), np.float32))
    out["npz"] = buf.getvalue()
    return out


def header_span(raw):
    """(start, end) of the JSON header in a fastnn or safetensors file."""
    if raw[:8] == fastnn.serialization.MAGIC:
        return 16, 16 + int.from_bytes(raw[8:16], "little")
    if raw[:2] == b"PK":
        return 0, min(len(raw), 256)
    return 8, 8 + int.from_bytes(raw[:8], "little")


def rebuild(raw, text):
    """The file with its header replaced by ``text`` (bytes), length and size
    fields fixed so the edit reaches the decoder."""
    if raw[:8] == fastnn.serialization.MAGIC:
        n = int.from_bytes(raw[8:16], "little")
        data = raw[16 + n:]
        for _ in range(3):
            total = 16 + len(text) + len(data)
            text = re.sub(rb'"size":\s*-?\d+', b'"size":%d' % total, text, count=1)
        return raw[:8] + len(text).to_bytes(8, "little") + text + data
    n = int.from_bytes(raw[:8], "little")
    return len(text).to_bytes(8, "little") + text + raw[8 + n:]


def _nodes(obj, out):
    """Every (container, key) pair of a JSON tree."""
    if isinstance(obj, dict):
        for k in list(obj):
            out.append((obj, k))
            _nodes(obj[k], out)
    elif isinstance(obj, list):
        for i in range(len(obj)):
            out.append((obj, i))
            _nodes(obj[i], out)
    return out


def tree_mutation(raw, rng):
    a, b = header_span(raw)
    try:
        tree = json.loads(raw[a:b])
    except ValueError:
        return raw, "tree: header not JSON"
    nodes = _nodes(tree, [])
    if not nodes:
        return raw, "tree: empty"
    cont, key = nodes[rng.integers(len(nodes))]
    op = rng.integers(4)
    if op == 0 and isinstance(cont, dict):
        del cont[key]
        what = f"deleted {key!r}"
    elif op == 1 and isinstance(cont, list):
        cont.insert(key, cont[key])
        what = f"repeated item {key}"
    elif op == 2:
        other_c, other_k = nodes[rng.integers(len(nodes))]
        cont[key] = json.loads(json.dumps(other_c[other_k]))
        what = f"{key!r} := copy of {other_k!r}"
    else:
        v = HOSTILE[rng.integers(len(HOSTILE))]
        cont[key] = json.loads(json.dumps(v))
        what = f"{key!r} := {str(v)[:40]}"
    return rebuild(raw, json.dumps(tree, separators=(",", ":")).encode()), "tree: " + what


def byte_mutation(raw, rng):
    b = bytearray(raw)
    a, e = header_span(raw)
    def pos(n=1):
        if rng.random() < 0.7 and e - a > n:
            return int(rng.integers(a, max(a + 1, min(e, len(b)) - n + 1)))
        return int(rng.integers(0, max(1, len(b) - n + 1)))
    op = rng.integers(6)
    if op == 0:
        k = int(rng.integers(1, 9))
        for _ in range(k):
            if b:
                b[pos()] ^= 1 << int(rng.integers(8))
        return bytes(b), f"flipped {k} bits"
    if op == 1:
        n = int(rng.integers(0, len(b) + 1))
        return bytes(b[:n]), f"truncated to {n}"
    if op == 2:
        p, ins = pos(), rng.bytes(int(rng.integers(1, 17)))
        return bytes(b[:p] + ins + b[p:]), f"inserted {len(ins)} bytes at {p}"
    if op == 3:
        p = pos()
        n = int(rng.integers(1, 33))
        return bytes(b[:p] + b[p + n:]), f"deleted {n} bytes at {p}"
    if op == 4:   # the length fields
        v = BIG_INTS[rng.integers(len(BIG_INTS))]
        at = 8 if raw[:8] == fastnn.serialization.MAGIC else 0
        b[at:at + 8] = int(v).to_bytes(8, "little")
        return bytes(b), f"length field := {v}"
    v = BIG_INTS[rng.integers(len(BIG_INTS))]
    p = pos(8)
    b[p:p + 8] = int(v).to_bytes(8, "little")
    return bytes(b), f"overwrote 8 bytes at {p} with {v}"


def text_mutation(raw, rng):
    """A number in the header replaced by a hostile one (length fixed up)."""
    a, e = header_span(raw)
    text = bytes(raw[a:e])
    nums = list(re.finditer(rb"-?\d+", text))
    if not nums:
        return raw, "text: no number"
    m = nums[rng.integers(len(nums))]
    v = str(HOSTILE[rng.integers(9)]).encode()
    return rebuild(raw, text[:m.start()] + v + text[m.end():]), f"text: number := {v!r}"


def check_loaded(obj, depth=0):
    """Raises AssertionError unless obj is well-formed."""
    from fastnn._tensor import Tensor
    assert depth < 300, "nesting"
    if isinstance(obj, Tensor):
        obj = obj._array
    if isinstance(obj, np.ndarray):
        n = 1
        for s in obj.shape:
            n *= s
        assert obj.size == n and obj.nbytes == n * obj.itemsize, "array size"
        obj.tobytes()   # the memory is readable
        return
    if isinstance(obj, dict):
        for v in obj.values():
            check_loaded(v, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            check_loaded(v, depth + 1)
    elif isinstance(obj, nn.Module):
        for v in obj.state_dict().values():
            check_loaded(v, depth + 1)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--progress", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    import warnings
    warnings.simplefilter("ignore")
    bases = base_files()
    for raw in bases.values():   # the originals load (and warm up lazy imports)
        check_loaded(fastnn.load(io.BytesIO(raw)))
    vm = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
              if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + MARGIN, vm + MARGIN))
    rng = np.random.default_rng(a.seed)
    names = sorted(bases)
    stats = dict(mutations=0, loaded=0, refused=0, findings=[], by_base={})
    prog = open(a.progress, "w")
    t0 = time.perf_counter()
    for i in range(a.count):
        base = names[i % len(names)]
        raw = bases[base]
        kind = rng.integers(10)
        if kind < 4:
            mutated, what = byte_mutation(raw, rng)
        elif kind < 8:
            mutated, what = tree_mutation(raw, rng)
        else:
            mutated, what = text_mutation(raw, rng)
        desc = f"#{i} {base}: {what}"
        prog.seek(0)
        prog.write(desc + "\n" + mutated.hex())
        prog.truncate()
        prog.flush()
        stats["mutations"] += 1
        stats["by_base"][base] = stats["by_base"].get(base, 0) + 1
        t = time.perf_counter()
        try:
            obj = fastnn.load(io.BytesIO(mutated))
            check_loaded(obj)
            stats["loaded"] += 1
            if isinstance(obj, nn.Module):   # a loaded module may be used: no crash then
                try:
                    with fastnn.no_grad():
                        obj(fastnn.randn(2, 1, 4, 4))
                except Exception:
                    pass
        except ValueError:
            stats["refused"] += 1
        except BaseException as e:
            if len(stats["findings"]) < 20:
                stats["findings"].append(dict(
                    what=desc, error=f"{type(e).__name__}: {str(e)[:300]}",
                    trace="".join(traceback.format_exception(e)[-3:]),
                    file_hex=mutated.hex() if len(mutated) < 20000 else ""))
            else:
                stats["findings"].append(dict(what=desc, error=type(e).__name__))
        if time.perf_counter() - t > 10:
            stats["findings"].append(dict(what=desc, error="slow: over 10 s"))
    stats["seconds"] = time.perf_counter() - t0
    with open(a.out, "w") as f:
        json.dump(stats, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
