"""The optimiser examples run to completion (each asserts its own claims)."""
import os
import subprocess
import sys

import pytest

import fastnn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# the fastnn under test (installed or built in place), not the source tree
FASTNN_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))


@pytest.mark.parametrize("script,expect", [("optimizer_comparison.py", "RandomLocalSearch"),
                                           ("regularization.py", "max-norm")])
def test_example_runs(script, expect):
    env = dict(os.environ)
    env["PYTHONPATH"] = FASTNN_PARENT + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert expect in r.stdout
