"""fastnn._core max/avg pooling kernels against the loop reference."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

# (N, C, H, W, kernel, stride, padding)
CASES = [
    (2, 3, 8, 8, (2, 2), (2, 2), (0, 0)),
    (2, 2, 7, 11, (2, 2), (2, 2), (0, 0)),   # 2x2 fast paths, odd sizes (uncovered edge)
    (2, 2, 7, 9, (3, 3), (2, 2), (1, 1)),    # overlapping windows, padding
    (1, 1, 5, 6, (3, 2), (1, 3), (1, 1)),    # non-square kernel/stride, one channel
    (3, 2, 7, 7, (2, 2), (3, 3), (0, 1)),    # stride > kernel
    (2, 2, 4, 5, (4, 5), (1, 1), (0, 0)),    # kernel = input
]


def _out(x, k, s, p):
    oh, ow = _core.pool2d_out_size(x.shape[2], x.shape[3], *k, *s, *p)
    return x.shape[:2] + (oh, ow)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nt", [1, 2])
def test_max_pool(case, dtype, nt, rng):
    N, C, H, W, k, s, p = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    yr, ir = R.max_pool2d(x, k, s, p, return_indices=True)
    y = np.empty(_out(x, k, s, p), dtype)
    idx = np.empty(y.shape, np.int64)
    _core.max_pool2d_fwd(x, y, idx, *k, *s, *p, nt)
    assert np.array_equal(y, yr) and np.array_equal(idx, ir)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = np.full_like(x, 7.0)
    _core.max_pool2d_bwd(dy, idx, dx, *k, *s, *p, nt)
    np.testing.assert_allclose(dx, R.max_pool2d_backward(x, dy, k, s, p), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nt", [1, 2])
def test_avg_pool(case, dtype, nt, rng):
    N, C, H, W, k, s, p = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    y = np.empty(_out(x, k, s, p), dtype)
    _core.avg_pool2d_fwd(x, y, *k, *s, *p, nt)
    np.testing.assert_allclose(y, R.avg_pool2d(x, k, s, p), rtol=1e-6, atol=1e-6)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = np.full_like(x, 7.0)
    _core.avg_pool2d_bwd(dy, dx, *k, *s, *p, nt)
    np.testing.assert_allclose(dx, R.avg_pool2d_backward(x, dy, k, s, p), rtol=1e-6, atol=1e-6)


def test_max_pool_nan_and_inf():
    x = np.full((1, 1, 4, 4), -np.inf)
    x[0, 0, 0, 1] = np.nan
    x[0, 0, 1, 0] = np.nan          # last NaN of the first window wins
    x[0, 0, 3, 3] = 5.0
    y = np.empty((1, 1, 2, 2))
    idx = np.empty((1, 1, 2, 2), np.int64)
    _core.max_pool2d_fwd(x, y, idx, 2, 2, 2, 2, 0, 0, 1)
    assert np.isnan(y[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 4
    assert y[0, 0, 0, 1] == -np.inf and idx[0, 0, 0, 1] == 2      # first of all -inf
    assert y[0, 0, 1, 1] == 5.0 and idx[0, 0, 1, 1] == 15


def test_bad_arguments_raise_not_crash():
    x = np.zeros((1, 2, 4, 4), np.float32)
    y = np.zeros((1, 2, 2, 2), np.float32)
    idx = np.zeros((1, 2, 2, 2), np.int64)
    with pytest.raises(ValueError, match="geometry"):
        _core.max_pool2d_fwd(x, y, idx, 2, 2, 2, 2, 2, 0)          # pad > kernel / 2
    with pytest.raises(ValueError, match="geometry"):
        _core.avg_pool2d_fwd(x, y, 2, 2, 0, 2, 0, 0)               # stride 0
    with pytest.raises(ValueError, match="elements"):
        _core.avg_pool2d_fwd(x, np.zeros((1, 2, 3, 2), np.float32), 2, 2, 2, 2)
    with pytest.raises(TypeError):
        _core.max_pool2d_fwd(x, y, idx.astype(np.int32), 2, 2, 2, 2)
    bad = np.full((1, 2, 2, 2), 99, np.int64)
    with pytest.raises(IndexError):
        _core.max_pool2d_bwd(y, bad, np.zeros_like(x), 2, 2, 2, 2)
    assert _core.pool2d_out_size(3, 3, 5, 5, 1, 1, 0, 0) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_2x2_fast_path_ties(dtype, rng):
    # the 2x2 / stride-2 fast path (vectorised for float32): many ties, signed
    # zeros, widths that leave a scalar remainder, odd heights
    for W in (18, 8, 3, 38, 45):   # AVX2 8-wide, SSE2 4-wide and scalar remainders
        x = rng.integers(-1, 2, (2, 3, 7, W)).astype(dtype)
        x[x == 0] = np.where(rng.random((x == 0).sum()) < 0.5, -0.0, 0.0)
        yr, ir = R.max_pool2d(x, 2, 2, 0, return_indices=True)
        y = np.empty(yr.shape, dtype)
        idx = np.empty(yr.shape, np.int64)
        _core.max_pool2d_fwd(x, y, idx, 2, 2, 2, 2, 0, 0, 1)
        assert np.array_equal(idx, ir)
        assert np.array_equal(np.signbit(y), np.signbit(yr)) and np.array_equal(y, yr)
        x[0, 1, 3, 1] = np.nan                     # a NaN plane takes the exact slow path
        yr, ir = R.max_pool2d(x, 2, 2, 0, return_indices=True)
        _core.max_pool2d_fwd(x, y, idx, 2, 2, 2, 2, 0, 0, 1)
        assert np.array_equal(idx, ir) and np.array_equal(y, yr, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_2x2_backward_indices_outside_their_window(dtype, rng):
    """The 2x2 backward writes dx window by window; an index that is not in
    its own window (any in-plane index is accepted) sends the plane to the
    general zero-and-scatter path."""
    x = rng.standard_normal((2, 2, 6, 10)).astype(dtype)
    y = np.empty((2, 2, 3, 5), dtype)
    idx = np.empty(y.shape, np.int64)
    _core.max_pool2d_fwd(x, y, idx, 2, 2, 2, 2, 0, 0, 1)
    idx[1, 0, 2, 4] = 0                       # plane (1, 0): all into pixel 0 too
    idx[1, 0, 0, 0] = 0
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = np.full_like(x, 3.0)
    _core.max_pool2d_bwd(dy, idx, dx, 2, 2, 2, 2, 0, 0, 2)
    ref = np.zeros((4, 60))
    for p, (gi, ii) in enumerate(zip(dy.reshape(4, -1), idx.reshape(4, -1))):
        np.add.at(ref[p], ii, gi.astype(np.float64))
    np.testing.assert_allclose(dx.reshape(4, -1), ref, rtol=1e-6)
