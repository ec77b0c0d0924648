"""The build and the process-wide knobs: OpenMP report, info(), threads,
seeding, that ``import fastnn`` stays light; ``fastnn --version``, the
message of an unbuilt source tree, and the wheel a user downloads."""
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import fastnn
from fastnn import _core
from fastnn.testing import run_python

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.dirname(os.path.abspath(fastnn.__file__))   # the fastnn under test


def test_openmp_reported():
    assert isinstance(_core.openmp_enabled(), bool)
    assert fastnn.info()["openmp"] == _core.openmp_enabled()


def test_info_fields():
    info = fastnn.info()
    assert info["version"] == fastnn.__version__
    assert info["kernel_path"] in ("portable", "avx2", "avx512")
    assert info["num_threads"] == fastnn.get_num_threads()


def test_winograd_switch_from_environment():
    assert fastnn.info()["winograd"] is _core.conv2d_set_winograd(None)
    code = "import fastnn; print(fastnn.info()['winograd'])"
    r = run_python(code, env={"FASTNN_WINOGRAD": "0"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"
    r = run_python(code, env={"FASTNN_WINOGRAD": ""})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"


def test_set_num_threads_validates():
    fastnn.set_num_threads(1)
    assert fastnn.get_num_threads() == 1
    with pytest.raises(ValueError, match="set_num_threads"):
        fastnn.set_num_threads(0)
    with pytest.raises(TypeError):
        fastnn.set_num_threads(1.5)


@pytest.mark.parametrize("var", ["FASTNN_NUM_THREADS", "OMP_NUM_THREADS"])
def test_thread_default_from_environment(var):
    env = {"FASTNN_NUM_THREADS": "", "OMP_NUM_THREADS": ""}
    env[var] = "3"
    r = run_python("import fastnn; print(fastnn.get_num_threads())", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "3"


def test_import_is_light():
    # PERF.md: ``import fastnn`` within 1.3x of ``import numpy``.  Besides the
    # heavy libraries, the standard-library network/archive stack and
    # numpy.random cost more to import than fastnn itself: loaded on use.
    code = ("import sys, json, fastnn; heavy = ['torch', 'tqdm', 'matplotlib', 'optuna', "
            "'scipy', 'sklearn', 'mpi4py', 'pandas', 'safetensors', 'urllib.request', "
            "'ssl', 'http.client', 'tarfile', 'gzip', 'numpy.random']; "
            "print(json.dumps([m for m in heavy if m in sys.modules]))")
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []


def test_manual_seed_reproducible():
    fastnn.manual_seed(7)
    a = fastnn.randn(5).numpy().copy()
    fastnn.manual_seed(7)
    b = fastnn.randn(5).numpy()
    assert np.array_equal(a, b)
    fastnn.manual_seed(8)
    assert not np.array_equal(a, fastnn.randn(5).numpy())


def test_isa_switch_reports_path():
    best = _core.cpu_best_isa()
    try:
        assert _core.gemm_set_isa("portable") == "portable"
        assert _core.gemm_isa() == "portable"
        with pytest.raises(ValueError, match="unknown path"):
            _core.gemm_set_isa("sse9")
    finally:
        assert _core.gemm_set_isa("auto") == best


def test_version_flag():
    r = run_python("import sys; from fastnn.cli import main; sys.exit(main(['--version']))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"fastnn {fastnn.__version__}"
    r = subprocess.run([sys.executable, "-m", "fastnn", "--version"], cwd=os.path.dirname(PKG),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == f"fastnn {fastnn.__version__}", r.stderr


def test_version_matches_the_project():
    pyproject = os.path.join(ROOT, "pyproject.toml")
    if not os.path.exists(pyproject):
        pytest.skip("needs the source checkout")
    m = re.search(r'^version = "([^"]+)"', open(pyproject).read(), re.M)
    assert m and m.group(1) == fastnn.__version__


def test_unbuilt_source_tree_says_to_build(tmp_path):
    # the package without its compiled core, imported from its parent
    # directory as in a fresh checkout
    shutil.copytree(PKG, tmp_path / "fastnn",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    r = subprocess.run([sys.executable, "-c", "import fastnn"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "ImportError: fastnn is not built" in r.stderr, r.stderr
    assert "pip install ." in r.stderr and "setup.py build_ext --inplace" in r.stderr
    assert "circular import" not in r.stderr


def _source_tree_present():
    return all(os.path.exists(os.path.join(ROOT, p))
               for p in ("setup.py", "pyproject.toml", "MANIFEST.in", "csrc", "fastnn/_core.pyx"))


@pytest.mark.slow
@pytest.mark.skipif(not _source_tree_present(), reason="needs the source checkout (setup.py, csrc/)")
def test_wheel_is_small_and_holds_no_sources(tmp_path):
    """The release wheel (a clean build of a copy of the tree, about a minute)
    is at most 2 MB and holds the compiled core, not the C or Cython
    sources it was built from."""
    pytest.importorskip("Cython", reason="Cython (a test extra) builds the extension")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy2(os.path.join(ROOT, name), src / name)
    ignore = shutil.ignore_patterns("*.so", "*.pyd", "_core.c", "__pycache__", "build")
    for name in ("csrc", "fastnn"):
        shutil.copytree(os.path.join(ROOT, name), src / name, ignore=ignore)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-w", str(tmp_path / "dist"), str(src)], env=env, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    wheels = list((tmp_path / "dist").glob("fastnn-*.whl"))
    assert len(wheels) == 1
    assert wheels[0].stat().st_size <= 2 * 2**20, wheels[0].stat().st_size
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert any(re.fullmatch(r"fastnn/_core\..*\.(so|pyd)", n) for n in names), names
    assert "fastnn/data/digits.npz" in names
    assert not [n for n in names if n.endswith((".c", ".h", ".inc", ".pyx", ".pxi", ".pxd"))]
