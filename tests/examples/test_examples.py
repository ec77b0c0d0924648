"""Runs every example script in a subprocess and checks its key output line."""
import os
import re
import subprocess
import sys

import pytest

import fastnn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# the fastnn under test (installed or built in place), not the source tree
FASTNN_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

CASES = {
    "logistic_regression.py": r"test accuracy \(3 vs 8\): (9\d|100)\.\d\d%",
    "gradcheck_custom_function.py": r"Swish gradcheck passed: True[\s\S]*failed as expected",
    "pca_whitening.py": r"max \|C - I\| = \d\.\d\de-\d\d",
    "mlp.py": r"test accuracy: 9[5-9]\.\d\d%",
    "cnn_digits.py": r"test accuracy: 9[7-9]\.\d\d%",
    "lr_schedules.py": r"ReduceLROnPlateau: final training loss \d\.\d{4}",
    "resnet.py": r"test accuracy 0\.9[7-9]\d\d",
    "ensemble_digits.py": r"ensemble \(mean prob\): 9[5-9]\.\d\d%",
    "tune_digits.py": r"best val_loss: grid 0\.\d{4}, random 0\.\d{4}, bayes 0\.\d{4}",
    "circuit.py": r"f = -12; df/dx = -4, df/dy = -4, df/dz = 3\n(wrote circuit\.svg|\(.*\))",
    "char_lm.py": r"epoch 4: train ppl \d+\.\d\d, val ppl 1\.\d\d[\s\S]*sample:\nThe Brave Fox",
    "sequence_classification.py": r"epoch 12: loss \d\.\d{4}, test accuracy 9\d\.\d\d%",
    "onnx_digits.py": r"largest \|fastnn - onnxruntime\| difference: "
                      r"(\d\.\d\de-(0[5-9]|[1-9]\d)|0\.00e\+00)"
                      r"|onnx and onnxruntime are not installed",
}
# run by tests/optim/test_examples.py and tests/distributed/ (train_distributed.py,
# alone and under mpiexec -n 2)
TESTED_ELSEWHERE = {"optimizer_comparison.py", "regularization.py", "train_distributed.py"}


def run_example(name, tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = FASTNN_PARENT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    # Results, not speed, are checked here: one kernel thread keeps the run time
    # predictable on a busy machine.
    env.setdefault("FASTNN_NUM_THREADS", "1")
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, name)], cwd=str(tmp_path),
                          env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs(name, tmp_path):
    r = run_example(name, tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert re.search(CASES[name], r.stdout), r.stdout[-2000:]


def test_every_example_is_covered():
    scripts = {f for f in os.listdir(EXAMPLES) if f.endswith(".py")}
    missing = scripts - set(CASES) - TESTED_ELSEWHERE
    assert not missing, f"examples without a test: {sorted(missing)}"
