"""Peak memory of ``cnn_train`` (PERF.md: "a benchmark reports peak RSS of
cnn_train for fastnn and PyTorch").

Each library runs in its own fresh interpreter (peak RSS is per process):
it builds the PERF.md CNN, takes 20 SGD-momentum steps at batch 64, and
reports ``ru_maxrss`` together with the RSS measured just before the first
step, so the table separates what the library costs to import and hold
(``base``) from what training adds (``train``).  The timed figure is the
whole subprocess; the interesting numbers are in ``extra_info`` and are
printed by ``benchmarks/compare.py``.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

import fastnn

FASTNN_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))

_SCRIPT = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    lib_name = sys.argv[1]
    if lib_name == "torch":
        import torch as L
    else:
        import fastnn as L
    L.set_num_threads(2)
    L.manual_seed(0)
    n = L.nn
    model = n.Sequential(
        n.Conv2d(3, 32, 3, padding=1), n.BatchNorm2d(32), n.ReLU(), n.MaxPool2d(2),
        n.Conv2d(32, 64, 3, padding=1), n.BatchNorm2d(64), n.ReLU(), n.MaxPool2d(2),
        n.Flatten(), n.Linear(4096, 10))
    opt = L.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    r = np.random.default_rng(0)
    x = L.tensor(r.standard_normal((64, 3, 32, 32)).astype(np.float32))
    y = L.tensor(r.integers(0, 10, 64).astype(np.int64))
    loss_fn = n.CrossEntropyLoss()

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20

    base = rss_mb()
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    # VmHWM: the high-water mark of this process's own memory map (ru_maxrss
    # is not: it keeps the forking parent's peak across the exec)
    with open("/proc/self/status") as f:
        peak = next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:")) / 1024
    print(json.dumps({"base_mb": base, "peak_mb": peak, "first": losses[0], "last": losses[-1]}))
""")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
@pytest.mark.parametrize("lib", ["fastnn", "torch"])
def test_cnn_train_peak_rss(benchmark, lib, tmp_path):
    if lib == "torch":
        pytest.importorskip("torch")
    benchmark.group = "cnn_train_peak_rss"
    script = tmp_path / "rss.py"
    script.write_text(_SCRIPT)
    env = dict(os.environ)
    env["PYTHONPATH"] = FASTNN_PARENT + os.pathsep + env.get("PYTHONPATH", "")
    result = {}

    def run():
        p = subprocess.run([sys.executable, str(script), lib], capture_output=True, text=True,
                           env=env, timeout=600)
        assert p.returncode == 0, p.stderr
        result.update(json.loads(p.stdout.strip().splitlines()[-1]))

    benchmark.pedantic(run, rounds=1, iterations=1)
    # training ran and learned something (outside the timing's meaning)
    assert result["last"] < result["first"], result
    assert result["peak_mb"] >= result["base_mb"] > 0
    benchmark.extra_info["peak_rss_mb"] = round(result["peak_mb"], 1)
    benchmark.extra_info["base_rss_mb"] = round(result["base_mb"], 1)
    benchmark.extra_info["train_rss_mb"] = round(result["peak_mb"] - result["base_mb"], 1)
