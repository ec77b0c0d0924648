"""The build without OpenMP and without per-ISA helper clones.

The shipped extension compiles its hot element-wise helpers several times
(AVX-512, AVX2+FMA, baseline) and picks one at load time from cpuid, so the
baseline copies never run on this machine (nor the AVX2 ones on an AVX-512
machine).  This test builds a copy of the source tree with
``FASTNN_NO_OPENMP=1 FASTNN_PORTABLE=1`` (serial, one copy of each helper)
for the baseline ISA and, where the CPU has AVX2 and FMA, once more with
``CFLAGS=-march=x86-64-v3`` (the code of the AVX2 clones), and runs the
kernel and op tests against each build: those paths are checked against the
NumPy oracle like the fast one, and the serial build is shown to build,
report itself and compute correctly.
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


def _cpu_has_avx2_fma():
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx2" in flags and "fma" in flags


@pytest.mark.slow
@pytest.mark.skipif(not _source_tree_present(), reason="needs the source checkout (setup.py, csrc/)")
@pytest.mark.parametrize("cflags", [
    "",
    pytest.param("-march=x86-64-v3", marks=pytest.mark.skipif(
        not _cpu_has_avx2_fma(), reason="the AVX2 helpers need a CPU with AVX2 and FMA")),
], ids=["baseline", "avx2"])
def test_serial_portable_build_passes_kernel_tests(tmp_path, cflags):
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

    env = dict(os.environ, FASTNN_NO_OPENMP="1", FASTNN_PORTABLE="1", CFLAGS=cflags)
    env.pop("PYTHONPATH", None)
    b = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", "-q", "-j", "2"],
                       cwd=src, env=env, capture_output=True, text=True, timeout=900)
    assert b.returncode == 0, b.stdout[-3000:] + b.stderr[-3000:]
    assert "portable helpers only" in b.stdout + b.stderr
    assert cflags in b.stdout + b.stderr   # (the compile lines carry it)

    # ``python -m`` puts the copy first on sys.path, so its fastnn is the one tested
    probe = subprocess.run(
        [sys.executable, "-c",
         "import fastnn, fastnn._core as c; print(fastnn.__file__); print(c.openmp_enabled())"],
        cwd=src, env=env, capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    where, omp = probe.stdout.split()
    assert where.startswith(str(src)), where
    assert omp == "False"

    # (built with -march=x86-64-v3, activation.c -- which keeps contraction
    # on -- has FMA for all its code: the AVX-512 sigmoid table's scalar
    # emulation, at_scalar, then fuses multiply-adds the vector kernel
    # rounds twice, and the two differ in the last bit, as setup.py says
    # activation.c's baseline and FMA clones do.  A shipped build compiles
    # at_scalar for the baseline, without FMA.)
    deselect = (["--deselect", "tests/kernels/test_act_table.py::"
                 "test_sigmoid_vector_kernel_bitwise_equal_to_its_emulation"] if cflags else [])
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                        *deselect, "tests/kernels", "tests/ops"], cwd=src, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " passed" in r.stdout and " failed" not in r.stdout
