"""fastnn.load on hostile files (see _hostile.py for the list): each must
end in a ValueError naming the problem, within a bounded time and under a
memory limit that a load allocating a declared size would hit -- in a child
process, so a crash or a hang is a test failure.  (tests/test_serialization.py
and test_serialization_modules.py hold the first such tests: a pickle, a
torch.save file, truncations, a header pointing outside, hostile module
nodes, nesting; these extend them.)"""
import io
import json
import pickle
import sys

import pytest

import fastnn
import fastnn.testing

import _hostile

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the memory limit uses RLIMIT_AS and /proc (Linux)")
TIME_LIMIT = 10.0   # seconds per file: generous, a guard against hangs only


def _torch_files():
    try:
        import torch
    except Exception:
        return {}
    out = {}
    for name, kw in (("torch_save_zip", {}),
                     ("torch_save_legacy", dict(_use_new_zipfile_serialization=False))):
        buf = io.BytesIO()
        torch.save({"w": torch.zeros(3), "n": 1}, buf, **kw)
        out[name] = buf.getvalue()
    buf = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2).state_dict(), buf)
    out["torch_state_dict"] = buf.getvalue()
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    files = dict(_hostile.hostile_files(), **_torch_files())
    entries = []
    for name, raw in files.items():
        (d / name).write_bytes(raw)
        entries.append((name, str(d / name)))
    (d / "LIST.json").write_text(json.dumps(entries))
    (d / "warmup").write_bytes(_hostile.valid_file())
    p = fastnn.testing.run_python(_hostile.loader_code(d / "LIST.json", d / "warmup"),
                                  timeout=300)
    got = {}
    for line in p.stdout.splitlines():
        name, kind, msg, secs = json.loads(line)
        got[name] = (kind, msg, secs)
    assert p.returncode == 0, (f"the loading child died (exit {p.returncode}) after "
                               f"{list(got)[-1:]}\n{p.stderr[-3000:]}")
    return files, got


def test_memory_limit_is_in_force(results):
    _, got = results
    assert got["__limit__"][0] == "MemoryError"


def test_every_hostile_file_is_a_value_error_in_bounded_time(results):
    files, got = results
    bad = []
    for name in files:
        if name not in got:
            bad.append(f"{name}: no result")
            continue
        kind, msg, secs = got[name]
        want = "ok" if name in _hostile.LOADABLE else "ValueError"
        if kind != want or secs > TIME_LIMIT:
            bad.append(f"{name}: {kind} ({msg[:200]}) in {secs:.2f} s, expected {want}")
    assert not bad, "\n".join(bad)


def test_pickle_messages_name_the_problem(results):
    _, got = results
    for name in ("pickle_protocol_0", "pickle_protocol_2", "pickle_protocol_5",
                 "torch_save_zip", "torch_save_legacy", "npz_with_pickle_member",
                 "npz_object_array"):
        if name.startswith("torch") and name not in got:
            continue
        assert "pickle" in got[name][1], got[name]


def test_hostile_files_are_not_pickles_by_accident():
    # the builders must give what they say: a control on the test itself
    files = _hostile.hostile_files()
    assert pickle.loads(files["pickle_protocol_2"]) == {"w": [1.0, 2.0]}
    assert fastnn.load(io.BytesIO(files["st_ok_reference"]))["a"].shape == (2,)
