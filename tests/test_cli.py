"""The fastnn command: info, bench and the main job (demo)."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import fastnn
from fastnn import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the fastnn under test (installed or built in place), not the source tree
FASTNN_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))


def _run(args, cwd, timeout=300):
    env = dict(os.environ)
    env["PYTHONPATH"] = FASTNN_PARENT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "fastnn"] + args, cwd=str(cwd), env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_info(tmp_path):
    r = _run(["info"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert re.search(r"version: " + re.escape(fastnn.__version__), r.stdout)
    assert "openmp" in r.stdout and "num_threads" in r.stdout
    r = _run(["info", "--json"], tmp_path)
    import json
    assert json.loads(r.stdout)["version"] == fastnn.__version__


def test_no_command_prints_help(tmp_path):
    r = _run([], tmp_path)
    assert r.returncode == 2 and "demo" in r.stdout


def test_bad_arguments(tmp_path):
    r = _run(["demo", "--epochs", "0"], tmp_path)
    assert r.returncode != 0 and "epochs" in r.stderr
    r = _run(["frobnicate"], tmp_path)
    assert r.returncode != 0


def test_bench_quick(tmp_path):
    r = _run(["bench", "--min-time", "0.01", "--small", "--no-torch"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert re.search(r"gemm 128x128x128\s+\d+\.\d+\s+\d+\.\d+", r.stdout)
    assert "linear fwd+bwd" in r.stdout


def test_demo_main_job(tmp_path):
    out = tmp_path / "model.fnn"
    r = _run(["demo", "--out", str(out), "--threads", "1"], tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    m = re.search(r"test accuracy: (\d+\.\d+)%", r.stdout)
    assert m, r.stdout
    assert float(m.group(1)) >= 97.0
    assert re.search(r"training time: \d+\.\d+ s", r.stdout)
    assert re.search(r"throughput: [\d,]+ images/s", r.stdout)
    sd = fastnn.load(out)
    from fastnn.cli import build_digits_cnn
    model = build_digits_cnn()
    model.load_state_dict(sd)
    # The saved model reproduces the reported accuracy.
    from fastnn.cli import digits_split
    _, _, xte, yte = digits_split(0)
    model.eval()
    with fastnn.no_grad():
        acc = np.mean(model(fastnn.Tensor(xte)).detach().numpy().argmax(1) == yte)
    assert abs(100 * acc - float(m.group(1))) < 0.01


# ---- fastnn bench (medians over rounds, spread, --peak) and the
# GEMM facts of fastnn info.  Smoke tests: no timing is asserted.

def test_spread_of():
    assert cli.spread_of([1.0]) == 0.0
    assert cli.spread_of([1.0, 1.0, 1.0]) == 0.0
    assert cli.spread_of([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(2.0 / 3.0)
    assert cli.spread_of([None, 2.0, 2.0]) == 0.0


def test_measure_alternates_and_takes_medians():
    calls = []
    r = cli.measure({"a": lambda: calls.append("a"), "b": lambda: calls.append("b"),
                     "c": None}, min_time=0.0, rounds=3)
    assert r["c"] is None
    assert set(r) == {"a", "b", "c"}
    for k in ("a", "b"):
        med, spread = r[k]
        assert med >= 0 and spread >= 0
    # one warm-up call each, then 3 rounds of at least 3 calls, a's then b's
    assert calls[:2] == ["a", "b"]
    rounds = calls[2:]
    assert rounds.count("a") >= 9 and rounds.count("b") >= 9
    assert rounds[:3] == ["a"] * 3 and rounds[3:6] == ["b"] * 3


def test_bench_prints_medians_and_spread(tmp_path):
    r = _run(["bench", "--min-time", "0.02", "--rounds", "2", "--small", "--no-torch"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "median time in ms over 2 rounds, each library on its own" in r.stdout
    assert re.search(r"gemm 128x128x128\s+\d+\.\d+\s+\d+\.\d+\s+\d+\.\d+x\s+\d+%", r.stdout)


def test_bench_peak_small(tmp_path):
    r = _run(["bench", "--peak", "--small", "--no-torch", "--min-time", "0.05", "--rounds", "2",
              "--threads", "1"], tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert re.search(r"1 thread: FMA probe peak \d+\.\d GFLOP/s", out)
    assert "MR=" in out and "KC=" in out and "NumPy BLAS:" in out
    assert re.search(r"^128 128x128x128\s+\d+\.\d+\s+\d+%\s+\d+\.\d+\s+\d+%\s+\d+%", out, re.M)
    assert "conv bwd weight /64 64x576x1024" in out


def test_run_peak_rows():
    rows = cli.run_peak(min_time=0.02, small=True, use_torch=False, threads=(1,), rounds=1,
                        out_stream=open(os.devnull, "w"))
    assert len(rows) == len(cli.PEAK_GEMMS_SMALL)
    for row in rows:
        assert row["threads"] == 1 and row["peak"] > 0
        assert row["fastnn"] > 0 and row["numpy"] > 0 and row["torch"] is None


def test_peak_arrays_on_cache_lines():
    """bench --peak feeds fastnn and NumPy arrays on 64-byte lines, as
    fastnn's tensors are, whatever the size (NumPy alone puts large ones 16
    bytes into a page)."""
    rng = np.random.default_rng(0)
    for shape in [(1,), (3, 5), (128, 784), (256, 256)]:
        a = cli._on_lines(shape, rng)
        assert a.shape == shape and a.dtype == np.float32 and a.ctypes.data % 64 == 0
        assert a.flags.c_contiguous and np.isfinite(a).all() and a.std() > 0 or a.size < 2
    c = cli._on_lines((7, 9))
    assert c.ctypes.data % 64 == 0 and c.shape == (7, 9)


def test_bench_bad_arguments(tmp_path):
    assert _run(["bench", "--rounds", "0"], tmp_path).returncode != 0
    assert _run(["bench", "--min-time", "-1"], tmp_path).returncode != 0


def test_info_prints_gemm_blocking(tmp_path):
    import fastnn._core as core
    r = _run(["info"], tmp_path)
    assert r.returncode == 0, r.stderr
    bl = core.gemm_blocking("float32")
    want = f"MR={bl['mr']} NR={bl['nr']} MC={bl['mc']} KC={bl['kc']} NC={bl['nc']}"
    assert re.search(r"gemm_float32: " + re.escape(want), r.stdout), r.stdout
    assert re.search(r"cpu_caches: L1 \d+ KiB", r.stdout)
    r = _run(["info", "--json"], tmp_path)
    g = json.loads(r.stdout)["gemm"]
    assert g["gemm_float32"] == want and g["gemm_path"] == fastnn.info()["kernel_path"]


def test_bench_times_each_library_on_its_own(monkeypatch):
    """A row's libraries are timed one after the other, not alternated, with a
    pause after each: the pools of NumPy's BLAS and of PyTorch spin after a
    call and would hold the cores fastnn's team needs."""
    from fastnn import cli
    seen, sleeps = [], []
    real = cli.measure

    def spy(fns, min_time=0.2, rounds=cli.ROUNDS):
        seen.append(sorted(k for k, f in fns.items() if f is not None))
        return real(fns, 0.001, 1)
    monkeypatch.setattr(cli, "measure", spy)
    monkeypatch.setattr(cli.time, "sleep", lambda s: sleeps.append(s))
    cli.run_bench(min_time=0.001, out_stream=open(os.devnull, "w"), small=True,
                  use_torch=False, rounds=1)
    assert seen and all(len(k) <= 1 for k in seen)
    assert ["f"] in seen and ["n"] in seen
    assert len(sleeps) >= len([k for k in seen if k])
