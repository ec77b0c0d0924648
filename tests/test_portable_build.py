"""The build without OpenMP and without per-ISA helper clones.

The shipped extension compiles its hot element-wise helpers several times
(AVX-512, AVX2+FMA, baseline) and picks one at load time from cpuid, so the
baseline copies never run on this machine.  This test builds a copy of the
source tree with ``FASTNN_NO_OPENMP=1 FASTNN_PORTABLE=1`` (serial, baseline
helpers only) and runs the kernel and op tests against that build: the
portable path is checked against the NumPy oracle like the fast one, and the
serial build is shown to build, report itself and compute correctly.
"""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _source_tree_present():
    return all(os.path.exists(os.path.join(ROOT, p))
               for p in ("setup.py", "pyproject.toml", "csrc", "fastnn/_core.pyx"))


@pytest.mark.slow
@pytest.mark.skipif(not _source_tree_present(), reason="needs the source checkout (setup.py, csrc/)")
def test_serial_portable_build_passes_kernel_tests(tmp_path):
    pytest.importorskip("Cython", reason="Cython (a test extra) builds the extension")
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("*.so", "*.pyd", "_core.c", "__pycache__", "build")
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy2(os.path.join(ROOT, name), src / name)
    for name in ("csrc", "fastnn"):
        shutil.copytree(os.path.join(ROOT, name), src / name, ignore=ignore)
    tests = src / "tests"
    tests.mkdir()
    shutil.copy2(os.path.join(ROOT, "tests", "conftest.py"), tests / "conftest.py")
    for name in ("kernels", "ops"):
        shutil.copytree(os.path.join(ROOT, "tests", name), tests / name, ignore=ignore)

    env = dict(os.environ, FASTNN_NO_OPENMP="1", FASTNN_PORTABLE="1")
    env.pop("PYTHONPATH", None)
    b = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", "-q"], cwd=src,
                       env=env, capture_output=True, text=True, timeout=900)
    assert b.returncode == 0, b.stdout[-3000:] + b.stderr[-3000:]
    assert "portable helpers only" in b.stdout + b.stderr

    # ``python -m`` puts the copy first on sys.path, so its fastnn is the one tested
    probe = subprocess.run(
        [sys.executable, "-c",
         "import fastnn, fastnn._core as c; print(fastnn.__file__); print(c.openmp_enabled())"],
        cwd=src, env=env, capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    where, omp = probe.stdout.split()
    assert where.startswith(str(src)), where
    assert omp == "False"

    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                        "tests/kernels", "tests/ops"], cwd=src, env=env, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " passed" in r.stdout and " failed" not in r.stdout
