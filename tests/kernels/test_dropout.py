"""Kernel tests: counter-based dropout (csrc/dropout.c)."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_matches_reference_mask(dtype, p):
    x = np.random.default_rng(0).standard_normal(5000).astype(dtype)
    y = _core.dropout_fwd(x, np.empty_like(x), p, 123, 7, 2)
    np.testing.assert_allclose(y, R.dropout(x, p, 123, 7), rtol=1e-6)
    mask = _core.dropout_mask(x.size, p, 123, 7, 1)
    np.testing.assert_array_equal(mask, R.dropout_mask(x.size, p, 123, 7))


def test_keep_rate_and_scale():
    x = np.ones(200000, np.float32)
    y = _core.dropout_fwd(x, np.empty_like(x), 0.3, 1, 0, 2)
    assert set(np.unique(y).tolist()) == {0.0, np.float32(1 / 0.7)}
    assert abs((y > 0).mean() - 0.7) < 0.005


def test_thread_and_dtype_invariant():
    x = np.ones(100001, np.float64)
    a = _core.dropout_fwd(x, np.empty_like(x), 0.5, 99, 3, 1)
    b = _core.dropout_fwd(x, np.empty_like(x), 0.5, 99, 3, 2)
    c = _core.dropout_fwd(x.astype(np.float32), np.empty(x.size, np.float32), 0.5, 99, 3, 2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a != 0, c != 0)


def test_streams_and_seeds_differ():
    m = [_core.dropout_mask(1000, 0.5, s, k, 1) for s, k in ((1, 0), (1, 1), (2, 0))]
    assert (m[0] != m[1]).any() and (m[0] != m[2]).any()


def test_bad_p():
    x = np.ones(3, np.float32)
    for p in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            _core.dropout_fwd(x, np.empty_like(x), p, 0, 0, 1)
