"""Kernel tests: leaky ReLU (csrc/activation.c) against the NumPy reference."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

DT = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("n", [1, 7, 100, 40000])
def test_leaky_relu_fwd_bwd(dtype, n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    y = _core.leaky_relu_fwd(x, np.empty_like(x), 0.2, 2)
    np.testing.assert_allclose(y, R.leaky_relu(x, 0.2), rtol=1e-6)
    gx = _core.leaky_relu_bwd(x, g, np.empty_like(x), 0.2, 2)
    np.testing.assert_allclose(gx, R.leaky_relu_grad(x, g, 0.2), rtol=1e-6)


def test_leaky_relu_nan_and_inplace():
    x = np.array([np.nan, -np.inf, np.inf, -2.0, 0.0], np.float32)
    y = _core.leaky_relu_fwd(x.copy(), np.empty_like(x), 0.5, 1)
    assert np.isnan(y[0]) and y[1] == -np.inf and y[2] == np.inf and y[3] == -1.0
    x2 = x.copy()
    _core.leaky_relu_fwd(x2, x2, 0.5, 1)   # out may alias x
    np.testing.assert_array_equal(x2, y)


def test_leaky_relu_threads_identical():
    x = np.random.default_rng(0).standard_normal(100000).astype(np.float32)
    a = _core.leaky_relu_fwd(x, np.empty_like(x), 0.01, 1)
    b = _core.leaky_relu_fwd(x, np.empty_like(x), 0.01, 2)
    np.testing.assert_array_equal(a, b)


def test_leaky_relu_binding_rejects_bad_arrays():
    x = np.zeros(4, np.float32)
    with pytest.raises(TypeError):
        _core.leaky_relu_fwd(x.astype(np.int64), np.empty(4), 0.1, 1)
    with pytest.raises(ValueError):
        _core.leaky_relu_fwd(x, np.empty(3, np.float32), 0.1, 1)
