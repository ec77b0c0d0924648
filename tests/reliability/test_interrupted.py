"""Interrupted work.  A child process saves a large state (several MB) to one
path over and over -- with ``fastnn.save`` and with
``Trainer.save_checkpoint`` -- and is SIGKILLed at random moments, 20 times:
the file at the path always loads and is exactly one complete version (the
write goes to a temporary file renamed over the path).  And a training run
resumed from a checkpoint in a fresh process reproduces the uninterrupted
run bitwise (parameters, optimizer and scheduler state, history, dropout
RNG); tests/train has the same within one process."""
import glob
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fastnn
from fastnn.testing import run_python

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL, fork")

_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))

SAVER = r'''
import sys
import numpy as np
import fastnn
import fastnn.nn as nn
from fastnn.train import Trainer
path, kind, v = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "trainer":
    model = nn.Sequential(nn.Linear(1000, 1000), nn.ReLU(), nn.Linear(1000, 500))  # ~6 MB
    t = Trainer(model, "cross_entropy", fastnn.optim.SGD(model.parameters(), lr=0.1),
                progress=False)
while True:
    if kind == "save":
        # 4 arrays of 0.5 M float32 (8 MB) all holding v, and v itself
        state = {"version": v, "arrays": [np.full(500_000, v, np.float32) for _ in range(4)],
                 "meta": {"name": f"version {v}", "shape": [v, v + 1]}}
        fastnn.save(state, path)
    else:
        for p in model.parameters():
            p._array[...] = v
        t.epoch = v
        t.save_checkpoint(path)
    print(v, flush=True)
    v += 1
'''


def _check_save(path):
    s = fastnn.load(path)
    v = s["version"]
    assert s["meta"] == {"name": f"version {v}", "shape": [v, v + 1]}
    assert len(s["arrays"]) == 4
    for a in s["arrays"]:
        assert a.shape == (500_000,) and (a == v).all()
    return v


def _check_trainer(path):
    import fastnn.nn as nn
    from fastnn.train import Trainer
    model = nn.Sequential(nn.Linear(1000, 1000), nn.ReLU(), nn.Linear(1000, 500))
    t = Trainer(model, "cross_entropy", fastnn.optim.SGD(model.parameters(), lr=0.1),
                progress=False)
    v = t.load_checkpoint(path)
    for p in model.parameters():
        assert (p._array == v).all()
    return v


@pytest.mark.slow   # ~10 s each (20 child processes): in the default run, not the sanitizer job
@pytest.mark.parametrize("kind", ["save", "trainer"])
def test_sigkill_during_save_leaves_a_complete_file(tmp_path, kind):
    path = str(tmp_path / "state.fnn")
    check = _check_save if kind == "save" else _check_trainer
    env = dict(os.environ, PYTHONPATH=_PKG_PARENT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    rnd = random.Random(17)
    v, last_seen, mid_write = 0, -1, 0
    for kill in range(20):
        # (cwd outside the checkout: "-c" puts the cwd first on the path)
        p = subprocess.Popen([sys.executable, "-c", SAVER, path, kind, str(v)], env=env,
                             cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = p.stdout.readline()          # one complete version written
            assert first.strip() == str(v), (first, p.stderr.read() if p.poll() else "")
            time.sleep(rnd.uniform(0.0, 0.25))  # then kill it somewhere in a later write
        finally:
            p.send_signal(signal.SIGKILL)
            out, _ = p.communicate(timeout=60)
        done = [int(s) for s in ([first] + out.split()) if s.strip()]
        got = check(path)
        # the file holds a version the child finished, at least the one it reported
        # first, and never one it had not started
        assert done[0] <= got <= done[-1] + 1, (got, done)
        assert got >= last_seen
        last_seen = got
        leftovers = glob.glob(str(tmp_path / ".state.fnn.*.tmp"))
        mid_write += bool(leftovers)
        for f in leftovers:                      # a write cut short: only its temporary file
            os.unlink(f)
        v = max(done) + 2
    assert sorted(os.listdir(tmp_path)) == ["state.fnn"]
    # most kills land in a write (the child does little else); at least some must
    assert mid_write >= 1


RESUME = r'''
import json, sys
import numpy as np
import fastnn
import fastnn.nn as nn
from fastnn.cli import digits_split
from fastnn.data import DataLoader, TensorDataset
from fastnn.optim import lr_scheduler
from fastnn.train import Trainer

mode, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
xtr, ytr, _, _ = digits_split()
xtr, ytr = xtr[:480], ytr[:480]
fastnn.manual_seed(7)
model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(8 * 4 * 4, 10))
opt = fastnn.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
sch = lr_scheduler.StepLR(opt, step_size=1, gamma=0.8)
t = Trainer(model, "cross_entropy", opt, scheduler=sch, progress=False)
loader = DataLoader(TensorDataset(xtr, ytr), batch_size=32, shuffle=True, seed=3)
if mode == "first":          # epochs 0, 1 and a checkpoint
    t.fit(loader, 2)
    t.save_checkpoint(path)
    sys.exit(0)
if mode == "resume":         # a fresh process: other seed, then the checkpoint
    fastnn.manual_seed(12345)
    assert t.load_checkpoint(path) == 2
    h = t.fit(loader, 2)
else:                        # uninterrupted: epochs 0..3
    h = t.fit(loader, 4)
fastnn.save({"state": model.state_dict(), "opt": opt.state_dict()["state"],
             "lr": h.history["lr"], "loss": h.history["loss"], "epoch": list(h.epoch)}, out)
'''


def test_resumed_training_in_a_fresh_process_is_bitwise_the_uninterrupted_run(tmp_path):
    ck, a, b = (str(tmp_path / n) for n in ("ck.fnn", "full.fnn", "resumed.fnn"))
    for args in (("full", ck, a), ("first", ck, b), ("resume", ck, b)):
        p = run_python(RESUME.replace("sys.argv[1], sys.argv[2], sys.argv[3]", repr(args)),
                       timeout=300)
        assert p.returncode == 0, p.stderr[-3000:]
    full, resumed = fastnn.load(a), fastnn.load(b)
    assert full["epoch"] == resumed["epoch"] == [0, 1, 2, 3]
    assert full["loss"] == resumed["loss"] and full["lr"] == resumed["lr"]
    assert full["state"].keys() == resumed["state"].keys()
    for k in full["state"]:
        np.testing.assert_array_equal(np.asarray(full["state"][k]), np.asarray(resumed["state"][k]),
                                      err_msg=k)
    for i in full["opt"]:
        for k in full["opt"][i]:
            np.testing.assert_array_equal(np.asarray(full["opt"][i][k]),
                                          np.asarray(resumed["opt"][i][k]), err_msg=f"{i}/{k}")
