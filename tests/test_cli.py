"""The fastnn command: info, bench and the main job (demo)."""
import os
import re
import subprocess
import sys

import numpy as np

import fastnn

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
