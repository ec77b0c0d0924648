import json
import os
import pickle

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn import serialization


def _eq(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _eq(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _eq(u, v)
    elif isinstance(a, fastnn.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert a.requires_grad == b.requires_grad
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_round_trip_nested_exact(tmp_path):
    rng = np.random.default_rng(0)
    obj = {
        "model": {"fc.weight": rng.normal(size=(3, 4)).astype(np.float32),
                  "fc.bias": fastnn.Tensor(rng.normal(size=3).astype(np.float32))},
        "optimizer": {"state": {0: {"step": 5, "exp_avg": rng.normal(size=(3, 4))},
                                1: {"momentum_buffer": None}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1],
                                        "nesterov": False}]},
        "epoch": 7,
        "big": 2 ** 70,
        "f64": rng.normal(size=(2, 2, 2)),
        "i64": np.arange(-5, 5, dtype=np.int64),
        "u8": np.arange(7, dtype=np.uint8),
        "bool": np.array([True, False]),
        "empty": np.zeros((0, 4), np.float32),
        "scalar0d": np.array(3.25),
        "npscalar": np.float32(0.1),
        "text": "héllo\n\"quoted\"",
        "floats": [0.1, -0.0, 1e300, float("inf"), float("nan")],
        "none": None,
        "grad_tensor": fastnn.Tensor(np.ones(2, np.float64), requires_grad=True),
    }
    p = tmp_path / "ckpt.fnn"
    fastnn.save(obj, str(p))
    got = fastnn.load(str(p))
    _eq(obj, got)
    assert got["optimizer"]["state"][0]["step"] == 5          # int keys survive
    assert isinstance(got["optimizer"]["param_groups"][0]["betas"], tuple)


def test_save_writes_exactly_the_given_path(tmp_path):
    p = tmp_path / "weights"
    fastnn.save({"a": 1}, p)
    assert sorted(os.listdir(tmp_path)) == ["weights"]
    assert fastnn.load(p) == {"a": 1}


def test_noncontiguous_and_big_endian_arrays(tmp_path):
    a = np.arange(12.0).reshape(3, 4).T
    b = np.arange(5, dtype=">i4")
    fastnn.save([a, b], tmp_path / "x")
    u, v = fastnn.load(tmp_path / "x")
    np.testing.assert_array_equal(u, a)
    np.testing.assert_array_equal(v, b)
    assert v.dtype == np.int32


def test_state_dict_round_trip_into_model(tmp_path):
    fastnn.manual_seed(0)
    m1 = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    fastnn.save(m1.state_dict(), tmp_path / "m")
    fastnn.manual_seed(1)
    m2 = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    m2.load_state_dict(fastnn.load(tmp_path / "m"))
    x = fastnn.randn(3, 5)
    np.testing.assert_array_equal(m1(x).detach().numpy(), m2(x).detach().numpy())


def test_unsupported_objects(tmp_path):
    with pytest.raises(TypeError):
        fastnn.save({"f": lambda: 0}, tmp_path / "x")
    with pytest.raises(TypeError):
        fastnn.save({frozenset({1}): 3}, tmp_path / "x")       # (a key that is not plain)
    with pytest.raises(TypeError):
        fastnn.save({(1, object()): 3}, tmp_path / "x")
    with pytest.raises(TypeError):
        fastnn.save(np.array(["a"], dtype=object), tmp_path / "x")
    assert not os.listdir(tmp_path)


def test_keys_and_values_pytorch_checkpoints_hold(tmp_path):
    """Dict keys of every plain kind (tuple, float, bool, None, NumPy
    scalars), sets, bytes and the device come back as saved, as torch.load
    gives them back."""
    obj = {(1, "a"): 1, 2.5: "f", None: [1], True: "b", 3: {(): 0}, "x": {1, 2, (3, 4)},
           "fs": frozenset({"a"}), "b": b"\x00\x01abc", "ba": bytearray(b"zz"),
           "dev": fastnn.device("cpu"), "np": {np.int64(4): 1, np.float32(0.5): 2}}
    fastnn.save(obj, tmp_path / "c")
    back = fastnn.load(tmp_path / "c")
    want = dict(obj, np={4: 1, 0.5: 2})
    assert back == want
    assert [type(k) for k in back] == [type(k) for k in want]
    assert type(back["ba"]) is bytearray and type(back["fs"]) is frozenset
    assert type(back[3]) is dict and list(back[3]) == [()]


def test_malformed_keys_and_sets_in_a_file_are_refused(tmp_path):
    fastnn.save({(1, 2): {3}}, tmp_path / "c")
    raw = (tmp_path / "c").read_bytes()
    for old, new in ((b'"k":[{"t":"tuple"', b'"k":[{"t":"dict!"'),
                     (b'{"t":"set","v":[3]}', b'{"t":"set","v":3 }')):
        assert old in raw, raw[:200]
        bad = tmp_path / "bad"
        bad.write_bytes(raw.replace(old, new))
        with pytest.raises(ValueError):
            fastnn.load(bad)


def test_killed_save_leaves_previous_file(tmp_path, monkeypatch):
    p = tmp_path / "ckpt"
    old = {"w": np.arange(1000, dtype=np.float32), "epoch": 1}
    fastnn.save(old, p)
    calls = {"n": 0}
    real = serialization._write_array

    def dying(f, arr):
        calls["n"] += 1
        if calls["n"] == 2:
            f.write(b"\x01" * 17)
            raise KeyboardInterrupt("killed mid-write")
        real(f, arr)

    monkeypatch.setattr(serialization, "_write_array", dying)
    with pytest.raises(KeyboardInterrupt):
        fastnn.save({"w": np.ones(1000, np.float32), "v": np.ones(10), "epoch": 2}, p)
    monkeypatch.undo()
    got = fastnn.load(p)
    assert got["epoch"] == 1
    np.testing.assert_array_equal(got["w"], old["w"])
    assert os.listdir(tmp_path) == ["ckpt"]       # no temp file left behind


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_loading_a_pickle_raises_and_runs_nothing(tmp_path):
    marker = tmp_path / "PWNED"
    for proto in (0, 2, pickle.HIGHEST_PROTOCOL):
        p = tmp_path / f"evil{proto}.pkl"
        p.write_bytes(pickle.dumps({"x": _Evil(str(marker))}, protocol=proto))
        with pytest.raises(ValueError):
            fastnn.load(p)
        assert not marker.exists()
    with pytest.raises(ValueError, match="pickle"):
        fastnn.load(tmp_path / "evil2.pkl")


def test_loading_a_torch_save_file_raises_without_unpickling(tmp_path):
    torch = fastnn.testing.requires_torch()
    marker = tmp_path / "PWNED"
    p = tmp_path / "m.pt"
    torch.save({"w": torch.zeros(2), "e": _Evil(str(marker))}, str(p))
    with pytest.raises(ValueError, match="pickle"):
        fastnn.load(p)
    assert not marker.exists()


def test_truncated_and_corrupted_files(tmp_path):
    p = tmp_path / "ckpt"
    fastnn.save({"w": np.arange(100.0), "s": "x"}, p)
    raw = p.read_bytes()
    for cut in (4, 12, 40, len(raw) - 1, len(raw) // 2):
        q = tmp_path / f"cut{cut}"
        q.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match="truncated|not a valid|empty"):
            fastnn.load(q)
    bad = bytearray(raw)
    bad[20] ^= 0xFF
    (tmp_path / "bad").write_bytes(bytes(bad))
    with pytest.raises(ValueError):
        fastnn.load(tmp_path / "bad")
    (tmp_path / "junk").write_bytes(b"hello world, not a checkpoint")
    with pytest.raises(ValueError):
        fastnn.load(tmp_path / "junk")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ValueError):
        fastnn.load(tmp_path / "empty")


def test_header_cannot_point_outside_file(tmp_path):
    p = tmp_path / "ckpt"
    fastnn.save({"w": np.arange(4.0)}, p)
    raw = p.read_bytes()
    n = int.from_bytes(raw[8:16], "little")
    hdr = raw[16:16 + n].decode()
    evil = hdr.replace('"len":32', '"len":320000').replace('"shape":[4]', '"shape":[40000]')
    assert evil != hdr
    evil = evil.ljust(n)[:n].encode()
    (tmp_path / "e").write_bytes(raw[:16] + evil + raw[16 + n:])
    with pytest.raises(ValueError):
        fastnn.load(tmp_path / "e")


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        fastnn.load("/nonexistent/dir/ckpt.fnn")


def _write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    names = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64", np.dtype("<i8"): "I64"}
    for k, a in tensors.items():
        header[k] = {"dtype": names[a.dtype], "shape": list(a.shape),
                     "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header).encode()
    path.write_bytes(len(h).to_bytes(8, "little") + h + b"".join(blobs))


def test_safetensors_read_by_hand(tmp_path):
    rng = np.random.default_rng(0)
    sd = {"0.weight": rng.normal(size=(4, 5)).astype(np.float32),
          "0.bias": rng.normal(size=4).astype(np.float32),
          "2.weight": rng.normal(size=(2, 4)).astype(np.float32),
          "2.bias": rng.normal(size=2).astype(np.float32)}
    p = tmp_path / "model.safetensors"
    _write_safetensors(p, sd)
    got = fastnn.load(p)
    assert set(got) == set(sd)
    for k in sd:
        np.testing.assert_array_equal(got[k], sd[k])
    m = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    m.load_state_dict(got)
    np.testing.assert_array_equal(m[2].weight.detach().numpy(), sd["2.weight"])
    raw = p.read_bytes()
    (tmp_path / "t.safetensors").write_bytes(raw[:-3])
    with pytest.raises(ValueError, match="truncated"):
        fastnn.load(tmp_path / "t.safetensors")


def test_safetensors_writer_round_trip(tmp_path):
    sd = {"a": np.arange(6, dtype=np.int64).reshape(2, 3), "b": np.ones(3, np.float64)}
    serialization.save_safetensors(sd, tmp_path / "x.safetensors")
    got = fastnn.load(tmp_path / "x.safetensors")
    for k in sd:
        np.testing.assert_array_equal(got[k], sd[k])
        assert got[k].dtype == sd[k].dtype


def test_torch_state_dict_via_safetensors(tmp_path):
    torch = fastnn.testing.requires_torch()
    try:
        from safetensors.torch import save_file
    except ImportError:
        save_file = None
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    sd = {k: v.detach().contiguous() for k, v in tm.state_dict().items()}
    p = tmp_path / "torch.safetensors"
    if save_file is not None:
        save_file(sd, str(p))
    else:
        _write_safetensors(p, {k: v.numpy() for k, v in sd.items()})
    m = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    m.load_state_dict(fastnn.load(p))
    x = np.random.default_rng(1).normal(size=(3, 5)).astype(np.float32)
    np.testing.assert_allclose(m(fastnn.Tensor(x)).detach().numpy(),
                               tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_npz_without_pickle(tmp_path):
    np.savez(tmp_path / "a.npz", w=np.arange(3.0))
    got = fastnn.load(tmp_path / "a.npz")
    np.testing.assert_array_equal(got["w"], np.arange(3.0))


def test_file_objects():
    import io
    buf = io.BytesIO()
    fastnn.save({"w": np.arange(3, dtype=np.float32), "n": [1, "a"]}, buf)
    buf.seek(0)
    got = fastnn.load(buf)
    np.testing.assert_array_equal(got["w"], np.arange(3, dtype=np.float32))
    assert got["n"] == [1, "a"]


def test_save_into_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        fastnn.save({"a": 1}, tmp_path / "no" / "such" / "dir" / "f")


def test_safetensors_library_output_all_dtypes(tmp_path):
    torch = fastnn.testing.requires_torch()
    st = pytest.importorskip("safetensors.torch")
    sd = {"f32": torch.randn(3, 4), "i64": torch.arange(5), "f16": torch.randn(2).half(),
          "bf16": torch.randn(3).bfloat16(), "f64": torch.randn(2, dtype=torch.float64),
          "bool": torch.tensor([True, False]), "scalar": torch.tensor(2.5)}
    st.save_file(sd, str(tmp_path / "m.safetensors"))
    got = fastnn.load(tmp_path / "m.safetensors")
    assert set(got) == set(sd)
    for k, v in sd.items():
        ref = v.float().numpy() if k == "bf16" else v.numpy()
        assert got[k].dtype == ref.dtype and got[k].shape == ref.shape, k
        np.testing.assert_array_equal(got[k], ref)
    # and the other way: fastnn's writer is readable by the safetensors library
    serialization.save_safetensors({"w": np.arange(6, dtype=np.float32).reshape(2, 3)},
                                   tmp_path / "f.safetensors")
    back = st.load_file(str(tmp_path / "f.safetensors"))
    np.testing.assert_array_equal(back["w"].numpy(), np.arange(6, dtype=np.float32).reshape(2, 3))


def _plain_checkpoint(L):
    """The plain Python values a checkpoint holds, built from library L."""
    return {"c": 1 + 2j, "cl": [1j, complex(2.5, -1.0), complex(float("inf"), 0.0)],
            "size": L.Size([2, 3]), "empty_size": L.Size([]),
            "opt": {"state": {0: {"step": L.tensor(3.0), "exp_avg": L.ones(2)}},
                    "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0],
                                      "amsgrad": False, "foreach": None}]},
            "od": __import__("collections").OrderedDict([("b", 1), ("a", [L.zeros(1)])]),
            "misc": {(1, 2): {3, 4}, None: True, 2.5: "x", "big": 2 ** 70}}


def _plain(o):
    """Tensors as lists (and their dtype's name), the rest as it is, with types."""
    if hasattr(o, "tolist") and hasattr(o, "dtype") and not isinstance(o, (int, float)):
        return ("tensor", str(o.dtype).split(".")[-1], o.tolist())
    if isinstance(o, dict):
        return (type(o).__name__, [(k, _plain(v)) for k, v in o.items()])
    if isinstance(o, (list, tuple)):
        return (type(o).__name__, [_plain(v) for v in o])
    return (type(o).__name__, o)


def test_complex_size_and_optimizer_values_round_trip_as_torch(tmp_path):
    torch = pytest.importorskip("torch")
    fastnn.save(_plain_checkpoint(fastnn), tmp_path / "f")
    torch.save(_plain_checkpoint(torch), tmp_path / "t")
    got = fastnn.load(tmp_path / "f")
    want = torch.load(tmp_path / "t", weights_only=True)
    assert _plain(got) == _plain(want)
    assert type(got["c"]) is complex and isinstance(got["size"], fastnn.Size)
    raw = (tmp_path / "f").read_bytes()
    assert b"pickle" not in raw and raw.startswith(b"FASTNN")
    bad = tmp_path / "bad"
    bad.write_bytes(raw.replace(b'{"t":"complex","v":[1.0,2.0]}', b'{"t":"complex","v":[1.0,"a"]}'))
    with pytest.raises(ValueError, match="malformed complex"):
        fastnn.load(bad)
