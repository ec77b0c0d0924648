"""fastnn.save / fastnn.load of whole modules (stored as data, rebuilt only
from fastnn's classes and allowlisted ones), torch.save/torch.load's
arguments, and the safety of loading a hostile file."""
import io
import json
import os
from collections import OrderedDict

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn import serialization
from fastnn.serialization import (UnsupportedGlobalError, add_safe_globals, clear_safe_globals,
                                  get_safe_globals, get_unsafe_globals_in_checkpoint,
                                  safe_globals)


class Net(nn.Module):
    """The tutorials' CNN, with plain attributes and a buffer."""

    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(),
                                      nn.MaxPool2d(2), nn.Conv2d(6, 8, 3), nn.BatchNorm2d(8),
                                      nn.ReLU())
        self.fc1 = nn.Linear(8 * 2 * 2, 16)
        self.drop = nn.Dropout(0.25)
        self.fc2 = nn.Linear(16, classes)
        self.classes = classes
        self.config = {"name": "net", "sizes": (8, 16), "tags": ["a", None, True], 3: 1.5}
        self.act = F.relu
        self.register_buffer("seen", fastnn.zeros(1, dtype=fastnn.int64))
        self.register_buffer("scratch", fastnn.zeros(2), persistent=False)

    def forward(self, x):
        x = self.features(x)
        x = self.act(self.fc1(x.reshape(x.shape[0], -1)))
        return self.fc2(self.drop(x))


class NotAllowed(nn.Module):
    def forward(self, x):
        return x


@pytest.fixture(autouse=True)
def _clean_allowlist():
    clear_safe_globals()
    yield
    clear_safe_globals()


def _round_trip(obj, **load_kw):
    buf = io.BytesIO()
    fastnn.save(obj, buf)
    buf.seek(0)
    return fastnn.load(buf, **load_kw)


def _trained_net():
    fastnn.manual_seed(0)
    net = Net()
    opt = fastnn.optim.SGD(net.parameters(), lr=0.1)
    x, y = fastnn.randn(8, 1, 8, 8), fastnn.randint(0, 10, (8,))
    F.cross_entropy(net(x), y).backward()
    opt.step()
    return net.eval(), x


def test_user_cnn_round_trip_gives_identical_outputs(tmp_path):
    net, x = _trained_net()
    p = tmp_path / "net.pt"
    fastnn.save(net, p)
    with safe_globals([Net]):
        back = fastnn.load(p, map_location="cpu")
    assert type(back) is Net and not back.training and not back.features[4].training
    np.testing.assert_array_equal(back(x).detach().numpy(), net(x).detach().numpy())
    assert back.classes == 10 and back.act is F.relu
    assert back.config == net.config and isinstance(back.config["sizes"], tuple)
    assert list(back.state_dict()) == list(net.state_dict())
    for (k, a), b in zip(net.state_dict().items(), back.state_dict().values()):
        assert a.dtype == b.dtype, k
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in back.parameters())
    assert "scratch" in dict(back.named_buffers()) and "scratch" not in back.state_dict()
    assert repr(back) == repr(net)
    # it trains like the original
    back.train()
    net.train()
    for m in (net, back):
        m.zero_grad()
        fastnn.manual_seed(1)
        opt = fastnn.optim.SGD(m.parameters(), lr=0.1)
        F.cross_entropy(m(x), fastnn.zeros(8, dtype=fastnn.int64)).backward()
        opt.step()
    np.testing.assert_array_equal(back.fc2.weight.detach().numpy(),
                                  net.fc2.weight.detach().numpy())


def test_user_class_is_refused_without_allowlist():
    net, _ = _trained_net()
    buf = io.BytesIO()
    fastnn.save(net, buf)
    name = f"{Net.__module__}.Net"
    assert get_unsafe_globals_in_checkpoint(io.BytesIO(buf.getvalue())) == [name]
    buf.seek(0)
    with pytest.raises(UnsupportedGlobalError) as e:
        fastnn.load(buf)
    msg = str(e.value)
    assert f"Unsupported global: GLOBAL {name}" in msg
    assert "add_safe_globals([Net])" in msg and "safe_globals([Net])" in msg
    assert isinstance(e.value, ValueError)
    buf.seek(0)
    with pytest.raises(UnsupportedGlobalError):      # the context manager has ended
        with safe_globals([NotAllowed]):
            fastnn.load(buf)
    assert get_safe_globals() == []


def test_add_safe_globals_and_name_pairs():
    net, x = _trained_net()
    add_safe_globals([Net, np.ndarray])          # non-module entries are accepted and unused
    assert get_safe_globals() == [Net, np.ndarray]
    assert type(_round_trip(net)) is Net
    clear_safe_globals()
    add_safe_globals([(Net, f"{Net.__module__}.Net")])
    assert type(_round_trip(net)) is Net
    with pytest.raises(TypeError):
        add_safe_globals([(Net, 3)])


def test_class_saved_from_main_loads_under_its_qualname():
    net, x = _trained_net()
    buf = io.BytesIO()
    fastnn.save(net, buf)
    raw = _rewrite_header(buf.getvalue(), lambda h: h.replace(f"{Net.__module__}.Net",
                                                              "__main__.Net"))
    with safe_globals([Net]):
        back = fastnn.load(io.BytesIO(raw))
    assert type(back) is Net


def test_fastnn_modules_need_no_allowlist_and_torch_names_map():
    fastnn.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 2), nn.Tanh()))
    back = _round_trip(m)
    x = fastnn.randn(2, 4)
    np.testing.assert_array_equal(back(x).detach().numpy(), m(x).detach().numpy())
    raw = io.BytesIO()
    fastnn.save(nn.Linear(2, 2), raw)
    torchy = _rewrite_header(raw.getvalue(), lambda h: h.replace(
        "fastnn.nn.modules.linear.Linear", "torch.nn.modules.linear.Linear"))
    assert type(fastnn.load(io.BytesIO(torchy))) is nn.Linear
    torch = fastnn.testing.requires_torch()
    with safe_globals([torch.nn.Linear, torch.nn.Sequential]):
        assert type(_round_trip(m)) is nn.Sequential


def test_weights_only_false_uses_imported_classes_but_never_imports():
    net, x = _trained_net()
    back = _round_trip(net, weights_only=False)
    assert type(back) is Net
    raw = io.BytesIO()
    fastnn.save(net, raw)
    ghost = _rewrite_header(raw.getvalue(), lambda h: h.replace(
        f"{Net.__module__}.Net", "fastnn_no_such_module_xyz.Net"))
    with pytest.raises(UnsupportedGlobalError, match="fastnn_no_such_module_xyz.Net"):
        fastnn.load(io.BytesIO(ghost), weights_only=False)
    import sys
    assert "fastnn_no_such_module_xyz" not in sys.modules
    for evil in ("os.system", "builtins.eval", "subprocess.Popen", "fastnn.nn.functional.relu"):
        bad = _rewrite_header(raw.getvalue(), lambda h: h.replace(f"{Net.__module__}.Net", evil))
        with pytest.raises(UnsupportedGlobalError):
            fastnn.load(io.BytesIO(bad), weights_only=False)


def test_checkpoint_with_module_parameters_and_shared_weights():
    enc = nn.Linear(3, 3)
    dec = nn.Linear(3, 3)
    dec.weight = enc.weight                       # weight tying
    model = nn.Sequential(enc, nn.ReLU(), dec, enc)
    ckpt = {"model": model, "epoch": 3, "sd": model.state_dict(),
            "param": enc.bias, "frozen": nn.Parameter(fastnn.ones(2), requires_grad=False),
            "size": (2, 3)}
    back = _round_trip(ckpt)
    m = back["model"]
    assert m[2].weight is m[0].weight and m[3] is m[0]
    assert len(list(m.parameters())) == len(list(model.parameters())) == 3
    assert isinstance(back["sd"], OrderedDict) and list(back["sd"]) == list(model.state_dict())
    assert isinstance(back["param"], nn.Parameter) and back["param"].requires_grad
    assert isinstance(back["frozen"], nn.Parameter) and not back["frozen"].requires_grad
    assert back["size"] == (2, 3) and back["epoch"] == 3


@pytest.mark.parametrize("value, what", [
    (lambda x: x, "function"),
    (object(), "object"),
    ({"f": open}, "builtin_function_or_method"),
    ([1, {2: range(3)}], "range"),
])
def test_save_refuses_attributes_that_are_not_data(tmp_path, value, what):
    net = Net()
    net.features[0].bad = value
    p = tmp_path / "m"
    with pytest.raises(TypeError) as e:
        fastnn.save({"model": net}, p)
    msg = str(e.value)
    assert "attribute 'bad' of module" in msg and "Conv2d" in msg and what in msg
    assert "features.0" in msg
    assert not os.listdir(tmp_path)


def test_save_refuses_open_files_hooks_and_cycles(tmp_path):
    net = Net()
    with open(tmp_path / "f", "w") as fh:
        net.log = fh
        with pytest.raises(TypeError, match="attribute 'log' of module 'obj' \\(Net\\) holds a "
                                            "TextIOWrapper"):
            fastnn.save(net, io.BytesIO())
    del net.log
    h = net.fc1.register_forward_hook(lambda *a: None)
    with pytest.raises(TypeError, match="hooks registered"):
        fastnn.save(net, io.BytesIO())
    h.remove()
    fastnn.save(net, io.BytesIO())
    loop = nn.Sequential(nn.ReLU())
    loop.add_module("self", loop)
    with pytest.raises(ValueError, match="contains itself"):
        fastnn.save(loop, io.BytesIO())


def test_map_location_forms():
    torch = fastnn.testing.requires_torch()
    sd = nn.Linear(2, 2).state_dict()
    for ml in (None, "cpu", "cpu:0", torch.device("cpu"), {"cuda:0": "cpu"},
               lambda storage, loc: storage):
        back = _round_trip(sd, map_location=ml)
        assert list(back) == ["weight", "bias"]
    if hasattr(fastnn, "device"):
        _round_trip(sd, map_location=fastnn.device("cpu"))
    for ml in ("cuda", torch.device("meta"), {"cpu": "cuda:1"}):
        with pytest.raises(RuntimeError, match="not available"):
            _round_trip(sd, map_location=ml)
    with pytest.raises(TypeError):
        _round_trip(sd, map_location=3)


def test_torch_keywords_accepted(tmp_path):
    p = tmp_path / "x"
    fastnn.save({"a": 1}, p, pickle_protocol=2, _use_new_zipfile_serialization=True)
    assert fastnn.load(p, weights_only=None, encoding="latin1") == {"a": 1}


def test_mmap(tmp_path):
    p = tmp_path / "w"
    w = np.arange(1000, dtype=np.float32)
    fastnn.save({"w": fastnn.tensor(w)}, p)
    back = fastnn.load(p, mmap=True)
    np.testing.assert_array_equal(back["w"].numpy(), w)
    back["w"].numpy()[0] = -1                         # private pages: the file is unchanged
    np.testing.assert_array_equal(fastnn.load(p)["w"].numpy(), w)
    with pytest.raises(ValueError, match="must be a file path"):
        fastnn.load(io.BytesIO(p.read_bytes()), mmap=True)


def test_serialization_is_the_torch_serialization_namespace():
    for name in ("safe_globals", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
                 "get_unsafe_globals_in_checkpoint", "save", "load"):
        assert callable(getattr(serialization, name))


# ---------------------------------------------------------------- hostile files
def _rewrite_header(raw, edit):
    """raw with its JSON header edited (same length: space-padded)."""
    n = int.from_bytes(raw[8:16], "little")
    text = edit(raw[16:16 + n].decode().rstrip())
    assert len(text) <= n, "edited header is longer"
    return raw[:16] + text.ljust(n).encode() + raw[16 + n:]


def _edit_root(raw, fn):
    def edit(text):
        h = json.loads(text)
        fn(h["root"])
        return json.dumps(h, separators=(",", ":"))
    return _rewrite_header(raw, edit)


def _module_file():
    buf = io.BytesIO()
    fastnn.save(nn.Sequential(nn.Linear(2, 2)), buf)
    return buf.getvalue()


@pytest.mark.parametrize("mutate, match", [
    (lambda r: r["attrs"].append(["__class__", 1]), "invalid attribute name"),
    (lambda r: r["attrs"].append(["_parameters", 1]), "invalid attribute name"),
    (lambda r: r["attrs"].append(["a b", 1]), "invalid attribute name"),
    (lambda r: r["attrs"].append(["forward", {"t": "fn", "v": "fastnn.nn.functional.relu"}]),
     "invalid attribute name"),
    (lambda r: r["modules"].append(["x.y", None]), "invalid module name"),
    (lambda r: r["modules"][0][1]["params"].append(["p", 3]), "is not a tensor"),
    (lambda r: r["modules"].append(["again", {"t": "ref", "id": 0}]), "contains itself"),
    (lambda r: r["modules"].append(["ghost", {"t": "ref", "id": 99}]), "unknown object"),
    (lambda r: r["modules"].append(["n", {"t": "ref", "id": True}]), "unknown object"),
    (lambda r: r.update(params=[["w", {"t": "dtype", "v": "O"}]]), "unsupported dtype"),
    (lambda r: r.update(cls=["x"]), "without a class name"),
    (lambda r: r["attrs"].append(["f", {"t": "fn", "v": "os.system"}]), "unknown function"),
    (lambda r: r["attrs"].append(["f", {"t": "fn", "v": "fastnn.manual_seed"}]),
     "unknown function"),
    (lambda r: r.update(modules=[["0", {"t": "module", "cls": "builtins.object"}]]),
     "Unsupported global"),
])
def test_hostile_module_files_are_refused(mutate, match):
    bad = _edit_root(_module_file(), mutate)
    with pytest.raises(ValueError, match=match):
        fastnn.load(io.BytesIO(bad))


def test_deeply_nested_header_is_refused():
    raw = io.BytesIO()
    fastnn.save([0], raw)
    deep = "[" * 100000 + "]" * 100000
    payload = json.dumps({"format": "fastnn", "version": 1, "size": 0, "root": 0})
    text = payload.replace('"root":0', '"root":' + deep).replace(' ', '')
    head = b"FASTNN\x00\x01" + len(text).to_bytes(8, "little") + text.encode()
    with pytest.raises(ValueError):
        fastnn.load(io.BytesIO(head))
