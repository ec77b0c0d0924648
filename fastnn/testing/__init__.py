"""Testing helpers.

``fastnn.testing.reference`` is the readable NumPy oracle that tests take as
truth and benchmarks as the baseline.  ``run_python`` runs a snippet in a
fresh interpreter (so a crash shows up as a failed process, not a dead test
run), and ``requires_torch`` gives PyTorch or skips the test.  ``assert_close`` and
``make_tensor`` are ``torch.testing``'s.
"""
import os
import subprocess
import sys
import tempfile

from . import reference
from ._compare import assert_close, make_tensor

__all__ = ["reference", "run_python", "requires_torch", "assert_close", "make_tensor",
           "assert_allclose"]

_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_python(code, timeout=120, env=None):
    """Runs ``code`` with this interpreter in a temporary directory, importing
    the same fastnn as the caller.  Returns the CompletedProcess (text mode)."""
    e = dict(os.environ)
    e["PYTHONPATH"] = _PKG_PARENT + os.pathsep + e.get("PYTHONPATH", "")
    if env:
        e.update(env)
    with tempfile.TemporaryDirectory() as d:
        return subprocess.run([sys.executable, "-c", code], cwd=d, env=e, capture_output=True,
                              text=True, timeout=timeout)


def requires_torch():
    """The torch module, or skip the calling test when it is not importable."""
    import pytest
    return pytest.importorskip("torch", reason="PyTorch is not installed")


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """The deprecated ``torch.testing.assert_allclose``: ``assert_close``
    without the dtype check, NaNs equal."""
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_dtype=False, msg=msg or None)
