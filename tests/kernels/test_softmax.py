"""Kernel tests: softmax / log-softmax (csrc/softmax.c), any axis."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

DT = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("shape,dim", [((5, 7), 1), ((5, 7), 0), ((2, 3, 4, 5), 1),
                                       ((2, 3, 4, 5), 3), ((1, 1), 1), ((9,), 0),
                                       ((3, 1000), 1)])
def test_forward_backward(dtype, log, shape, dim):
    rng = np.random.default_rng(len(shape) * 10 + dim)
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    y = _core.softmax_fwd(x, np.empty_like(x), dim, log, 2)
    ref = R.log_softmax(x, dim) if log else R.softmax(x, dim)
    np.testing.assert_allclose(y, ref, **TOL[dtype])
    gx = _core.softmax_bwd(y, g, np.empty_like(x), dim, log, 2)
    gref = R.log_softmax_grad(x, g, dim) if log else R.softmax_grad(x, g, dim)
    np.testing.assert_allclose(gx, gref, rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10)


@pytest.mark.parametrize("dtype", DT)
def test_large_logits_are_finite(dtype):
    x = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]], dtype)
    y = _core.softmax_fwd(x, np.empty_like(x), 1, False, 1)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    ly = _core.softmax_fwd(x, np.empty_like(x), 1, True, 1)
    np.testing.assert_allclose(ly[0], [0, -1e4, -2e4], rtol=1e-6)


def test_nan_spreads_to_its_row_only():
    x = np.array([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]], np.float32)
    for log in (False, True):
        y = _core.softmax_fwd(x, np.empty_like(x), 1, log, 1)
        assert np.isnan(y[0]).all() and np.isfinite(y[1]).all()


@pytest.mark.parametrize("dim", [0, 1])
def test_thread_count_invariant(dim):
    x = np.random.default_rng(1).standard_normal((300, 200)).astype(np.float32)
    a = _core.softmax_fwd(x, np.empty_like(x), dim, False, 1)
    b = _core.softmax_fwd(x, np.empty_like(x), dim, False, 2)
    np.testing.assert_array_equal(a, b)


def test_binding_checks():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(IndexError):
        _core.softmax_fwd(x, np.empty_like(x), 2, False, 1)
    with pytest.raises(ValueError):
        _core.softmax_fwd(x, np.empty(5, np.float32), 1, False, 1)
    with pytest.raises(TypeError):
        _core.softmax_fwd(x, np.empty((2, 3)), 1, False, 1)


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("log", [False, True])
def test_strided_axis_column_blocks(dtype, log):
    """inner > 1 runs in blocks of 64 columns: sizes around the block, a NaN
    that stays in its column, +-inf logits, against the oracle."""
    rng = np.random.default_rng(9)
    x = (3 * rng.standard_normal((3, 11, 130))).astype(dtype)
    x[1, 4, 70] = np.nan
    x[2, :, 5] = -np.inf
    x[2, 3, 5] = 1.0
    g = rng.standard_normal(x.shape).astype(dtype)
    y = _core.softmax_fwd(x, np.empty_like(x), 1, log, 2)
    assert np.isnan(y[1, :, 70]).all() and np.isnan(y).sum() == 11
    ok = ~np.isnan(x).any(axis=1, keepdims=True).repeat(11, axis=1)
    ref = R.log_softmax(x, 1) if log else R.softmax(x, 1)
    np.testing.assert_allclose(y[ok], ref[ok], **TOL[dtype])
    gx = _core.softmax_bwd(y, g, np.empty_like(x), 1, log, 2)
    xs = x[:2, :, :64]      # finite part: gradient against the oracle
    gref = R.log_softmax_grad(xs, g[:2, :, :64], 1) if log else R.softmax_grad(xs, g[:2, :, :64], 1)
    np.testing.assert_allclose(gx[:2, :, :64], gref, rtol=TOL[dtype]["rtol"] * 10,
                               atol=TOL[dtype]["atol"] * 10)
    gx1 = _core.softmax_bwd(y, g, np.empty_like(x), 1, log, 1)
    np.testing.assert_array_equal(gx, gx1)
