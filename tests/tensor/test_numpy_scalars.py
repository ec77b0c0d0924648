"""NumPy scalars and arrays as operands of Tensor arithmetic, on either side
(a NumPy scalar is also a numbers.Number: left as one, its own operator used
to hand the Tensor back to __array_ufunc__ until the recursion limit)."""
import numpy as np
import pytest

import fastnn



CASES = [
    ("mul", lambda L: np.float64(2.0) * L.ones(2)),
    ("add", lambda L: np.float32(1) + L.ones(2)),
    ("sub", lambda L: np.int64(3) - L.ones(2, dtype=L.long)),
    ("sqrt scalar", lambda L: np.sqrt(2) * L.ones(2)),
    ("div", lambda L: np.float64(2.0) / L.ones(2)),
    ("floordiv", lambda L: np.float64(7.0) // L.full((2,), 2.0)),
    ("mod", lambda L: np.float64(7.0) % L.full((2,), 2.0)),
    ("pow", lambda L: np.float64(2.0) ** L.ones(2)),
    ("array div", lambda L: np.ones(2) / L.ones(2)),
    ("right mul", lambda L: L.ones(2) * np.float64(3.0)),
]


@pytest.mark.parametrize("name,f", CASES, ids=[c[0] for c in CASES])
def test_numpy_operands_match_torch(name, f):
    T = pytest.importorskip("torch")
    got, want = f(fastnn), f(T)
    assert got.dtype == getattr(fastnn, str(want.dtype).split(".")[-1])
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_numpy_scalar_keeps_the_graph():
    x = fastnn.ones(3, requires_grad=True)
    y = (np.float64(2.0) * x + np.float32(1.0) / (x + 1)).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0 - 0.25] * 3, rtol=1e-6)
    assert x.grad.dtype == fastnn.float32
