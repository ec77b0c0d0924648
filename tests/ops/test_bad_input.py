"""Bad input to the basic ops ends as a Python exception naming the op and
the values.  Each call runs in a fresh interpreter, so a crash would show as
a failed process rather than a dead test run."""
import pytest

from fastnn.testing import run_python

CASES = [
    ("fastnn.ones(2, 3) + fastnn.ones(4)", "ShapeError", "add"),
    ("fastnn.ones(2, 3) * fastnn.ones(3, 2)", "ShapeError", "mul"),
    ("fastnn.ones(2, 3) @ fastnn.ones(2, 3)", "ShapeError", "matmul"),
    ("fastnn.matmul(fastnn.ones(3), fastnn.tensor(2.0))", "ShapeError", "matmul"),
    ("fastnn.tensor(['a', 'b'])", "TypeError", "unsupported"),
    ("fastnn.tensor(np.ones(3, complex))", "TypeError", "complex"),
    ("fastnn.ones(2, 3).reshape(4, 2)", "ShapeError", "reshape"),
    ("fastnn.ones(2, 3).sum(dim=5)", "IndexError", "dim 5"),
    ("fastnn.ones(2, 3).permute(0, 0)", "ShapeError", "permute"),
    ("fastnn.cat([fastnn.ones(2, 3), fastnn.ones(2, 4)])", "ShapeError", "cat"),
    ("fastnn.nn.functional.linear(fastnn.ones(2, 3), fastnn.ones(4, 5))", "ShapeError", "linear"),
    ("fastnn.nn.functional.linear(fastnn.ones(2, 3), fastnn.ones(4, 3), fastnn.ones(5))",
     "ShapeError", "bias"),
    ("fastnn.ones(2, 2, requires_grad=True).backward()", "RuntimeError", "scalar"),
    ("fastnn.set_num_threads(-1)", "ValueError", "set_num_threads"),
    ("fastnn.ones(2).backward(fastnn.ones(3))", "RuntimeError", "does not require grad"),
    ("fastnn._core.gemm(np.ones((2, 3), np.float32), np.ones((4, 2), np.float32), "
     "np.ones((2, 2), np.float32))", "ValueError", "gemm"),
    ("fastnn._core.gemm(np.ones((2, 3), np.float32), np.ones((3, 2)), "
     "np.ones((2, 2), np.float32))", "TypeError", "gemm"),
]


@pytest.mark.parametrize("expr,exc,words", CASES)
def test_bad_call_raises_clear_error(expr, exc, words):
    code = (
        "import numpy as np, fastnn\n"
        "try:\n"
        f"    {expr}\n"
        "except Exception as e:\n"
        "    print(type(e).__name__ + '|' + ' '.join(c.__name__ for c in type(e).__mro__) + '|' + str(e))\n"
        "else:\n"
        "    print('NO ERROR')\n")
    r = run_python(code)
    assert r.returncode == 0, f"interpreter died: {r.returncode} {r.stderr[-500:]}"
    out = r.stdout.strip()
    assert out != "NO ERROR", expr
    name, mro, msg = out.split("|", 2)
    assert exc in mro.split(), out
    assert words in msg, out


def test_shape_error_is_value_and_runtime_error():
    import fastnn
    assert issubclass(fastnn.ShapeError, ValueError)
    assert issubclass(fastnn.ShapeError, RuntimeError)
