"""``import`` time (PERF.md footprint: ``import fastnn`` <= 1.3x ``import numpy``).

Each round starts a fresh interpreter that imports one library; the group
holds ``import numpy``, ``import fastnn`` (which includes numpy's import) and,
when installed, ``import torch``, plus the bare interpreter start-up so the
libraries' own share can be read off.  Bytecode caching follows the
environment (an installed wheel has its ``.pyc`` files; a source tree under
``PYTHONDONTWRITEBYTECODE=1`` recompiles every module on every import).
"""
import importlib.util
import os
import subprocess
import sys

import pytest

import fastnn

FASTNN_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(fastnn.__file__)))


@pytest.mark.parametrize("what", ["python", "numpy", "fastnn", "torch"])
def test_import_time(benchmark, what):
    if what == "torch" and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    benchmark.group = "import"
    code = "pass" if what == "python" else f"import {what}"
    env = dict(os.environ)
    env["PYTHONPATH"] = FASTNN_PARENT + os.pathsep + env.get("PYTHONPATH", "")

    def run():
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
        assert p.returncode == 0, p.stderr

    benchmark.pedantic(run, rounds=7, iterations=1, warmup_rounds=1)
