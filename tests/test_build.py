"""The build and the process-wide knobs: OpenMP report, info(), threads,
seeding, and that ``import fastnn`` stays light."""
import json

import numpy as np
import pytest

import fastnn
from fastnn import _core
from fastnn.testing import run_python


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
