"""Property-based differential fuzzing of the public ops against PyTorch.

The Hypothesis searches run in a child process (see conftest.py); each
test here reports one op's result, with the failing example when there is
one.  The cases are in _opcases.py, the checker in _harness.py.
"""
import pytest

pytest.importorskip("hypothesis", reason="hypothesis is not installed (pip install .[test])")
import _opcases  # noqa: E402


@pytest.mark.parametrize("op", list(_opcases.CASES))
def test_op_matches_torch(op, op_results):
    r = op_results[op]
    assert r["status"] == "ok", f"fuzzing {op}:\n{r['detail']}"
    assert r["examples"] > 0, f"fuzzing {op}: no example was generated"
