"""Shared fixtures: seeds, dtype tolerances, optional torch."""
import os
import sys

import numpy as np
import pytest

import fastnn

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


@pytest.fixture
def rng():
    fastnn.manual_seed(1234)
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _threads():
    before = fastnn.get_num_threads()
    yield
    fastnn.set_num_threads(before)
    # torch.compile's first call turns torch.distributions' argument checks
    # off for the whole process: a later test comparing error messages
    # with torch's then failed, depending on which worker ran what before
    torch = sys.modules.get("torch")
    dist = getattr(torch, "distributions", None)
    if dist is not None and not dist.Distribution._validate_args:
        dist.Distribution.set_default_validate_args(True)


@pytest.fixture
def f64():
    """The default dtype float64 for one test, in fastnn and (when it is
    installed) torch; float32 restored whatever happens, since the tests of
    a worker share the process."""
    torch = None
    if HAVE_TORCH:
        import torch
    fastnn.set_default_dtype(fastnn.float64)
    if torch is not None:
        torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        fastnn.set_default_dtype(fastnn.float32)
        if torch is not None:
            torch.set_default_dtype(torch.float32)


def tol(dtype):
    return TOL[np.dtype(dtype).type]


class _NoTorch:
    """A meta-path finder refusing torch: every import of it fails with
    ModuleNotFoundError (sys.modules stays without a "torch" entry, which
    libraries such as SciPy probe)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r} (FASTNN_TEST_NO_TORCH is set)",
                                      name=name)
        return None


if os.environ.get("FASTNN_TEST_NO_TORCH"):
    # torch must not load at all (the sanitizer run, .ci/sanitize.sh: its own
    # libraries would trip AddressSanitizer), so the comparisons with PyTorch
    # skip (requires_torch / importorskip)
    sys.meta_path.insert(0, _NoTorch())

try:  # PyTorch parity tests run where torch is importable
    import torch  # noqa: F401
    HAVE_TORCH = True
except Exception:  # pragma: no cover - depends on the machine
    HAVE_TORCH = False

needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed")


def pytest_sessionfinish(session, exitstatus):
    """With FASTNN_PARALLEL_REPORT=path, writes which kernel regions ran in
    parallel during the session (tests/test_parallel_coverage.py reads it)."""
    import json
    import os
    path = os.environ.get("FASTNN_PARALLEL_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(fastnn._core.parallel_regions(), f)
