"""Kernel tests: the pooling options (dilation, ceil_mode, count_include_pad,
divisor_override), adaptive pooling and max unpooling (csrc/pool2d.c,
csrc/adaptive_pool.c) against the NumPy reference; thread-count invariance
above the serial cut-off; bad geometries."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

DT = [np.float32, np.float64]

# (input shape, kernel, stride, padding, dilation, ceil_mode)
MAX_CASES = [
    ((2, 3, 9, 9), (3, 3), (2, 2), (1, 1), (2, 2), False),
    ((1, 2, 7, 8), (2, 3), (2, 2), (0, 1), (1, 2), True),
    ((2, 1, 5, 5), (2, 2), (2, 2), (0, 0), (1, 1), True),     # odd size, ceil: partial windows
    ((1, 2, 6, 7), (3, 3), (3, 3), (1, 1), (1, 1), True),
    ((1, 1, 4, 4), (4, 4), (1, 1), (2, 2), (1, 1), True),     # padding = kernel / 2
    ((1, 1, 3, 10), (1, 3), (1, 2), (0, 1), (1, 3), False),   # 1-D shaped
]
AVG_CASES = [   # (shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    ((2, 3, 7, 7), (3, 3), (2, 2), (1, 1), True, True, 0),
    ((2, 3, 7, 7), (3, 3), (2, 2), (1, 1), True, False, 0),
    ((1, 2, 6, 5), (2, 3), (2, 2), (1, 1), False, False, 0),
    ((1, 2, 6, 5), (2, 3), (1, 2), (0, 1), False, True, 7),
    ((2, 1, 5, 5), (2, 2), (2, 2), (0, 0), True, True, 0),
]


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool_dilation_ceil(case, dtype):
    shape, k, s, p, d, ceil = case
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(dtype)
    OH, OW = _core.pool2d_out_size(shape[2], shape[3], *k, *s, *p, *d, ceil)
    assert (OH, OW) == (R.pool_out(shape[2], k[0], s[0], p[0], d[0], ceil),
                        R.pool_out(shape[3], k[1], s[1], p[1], d[1], ceil))
    y = np.empty(shape[:2] + (OH, OW), dtype)
    idx = np.empty(y.shape, np.int64)
    _core.max_pool2d_fwd(x, y, idx, *k, *s, *p, 2, *d, ceil)
    ry, ridx = R.max_pool2d_ex(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)
    g = rng.standard_normal(y.shape).astype(dtype)
    dx = _core.max_pool2d_bwd(g, idx, np.empty_like(x), *k, *s, *p, 2, *d, ceil)
    np.testing.assert_allclose(dx, R.max_pool2d_ex_backward(x, g, k, s, p, d, ceil),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool_options(case, dtype):
    shape, k, s, p, ceil, inc, div = case
    rng = np.random.default_rng(sum(shape) + div)
    x = rng.standard_normal(shape).astype(dtype)
    OH, OW = _core.pool2d_out_size(shape[2], shape[3], *k, *s, *p, 1, 1, ceil)
    y = np.empty(shape[:2] + (OH, OW), dtype)
    _core.avg_pool2d_fwd(x, y, *k, *s, *p, 2, ceil, inc, div)
    np.testing.assert_allclose(y, R.avg_pool2d_ex(x, k, s, p, ceil, inc, div or None),
                               rtol=1e-6, atol=1e-6)
    g = rng.standard_normal(y.shape).astype(dtype)
    dx = _core.avg_pool2d_bwd(g, np.empty_like(x), *k, *s, *p, 2, ceil, inc, div)
    np.testing.assert_allclose(dx, R.avg_pool2d_ex_backward(x, g, k, s, p, ceil, inc,
                                                            div or None), rtol=1e-6, atol=1e-6)


def test_pool_geometry_rules():
    # PyTorch's ceil rule: the last window must start inside the input or left padding
    assert _core.pool2d_out_size(5, 5, 2, 2, 2, 2, 0, 0, 1, 1, True) == (3, 3)
    assert _core.pool2d_out_size(4, 4, 2, 2, 2, 2, 0, 0, 1, 1, True) == (2, 2)
    assert _core.pool2d_out_size(6, 6, 3, 3, 3, 3, 1, 1, 1, 1, True) == (3, 3)
    assert _core.pool2d_out_size(5, 5, 3, 3, 2, 2, 1, 1, 2, 2, False) == (2, 2)
    assert _core.pool2d_out_size(5, 5, 3, 3, 1, 1, 2, 2) is None              # pad > k/2
    assert _core.pool2d_out_size(3, 3, 2, 2, 1, 1, 0, 0, 4, 4) is None        # no window fits
    assert _core.pool2d_out_size(3, 3, 2, 2, 1, 1, 1, 1, 4, 4) is None        # empty window
    assert _core.pool2d_out_size(3, 3, 2, 2, 1, 1, 0, 0, 0, 1) is None        # dilation 0


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape,out", [((2, 3, 7, 9), (3, 4)), ((1, 2, 5, 5), (5, 5)),
                                       ((2, 2, 6, 4), (1, 1)), ((1, 3, 4, 7), (6, 3)),
                                       ((1, 1, 1, 9), (1, 4))])
def test_adaptive_pools(shape, out, dtype):
    rng = np.random.default_rng(out[0] * 7 + out[1])
    x = rng.standard_normal(shape).astype(dtype)
    P, (H, W), (OH, OW) = shape[0] * shape[1], shape[2:], out
    y = np.empty(shape[:2] + out, dtype)
    _core.adaptive_pool2d_fwd(x, y, None, P, H, W, OH, OW, 2)
    np.testing.assert_allclose(y, R.adaptive_avg_pool2d(x, OH, OW), rtol=1e-6, atol=1e-7)
    g = rng.standard_normal(y.shape).astype(dtype)
    dx = _core.adaptive_avg_pool2d_bwd(g, np.empty_like(x), P, H, W, OH, OW, 2)
    np.testing.assert_allclose(dx, R.adaptive_pool2d_backward(x, g, OH, OW, "avg"), rtol=1e-6,
                               atol=1e-7)
    idx = np.empty(y.shape, np.int64)
    _core.adaptive_pool2d_fwd(x, y, idx, P, H, W, OH, OW, 2)
    ry, ridx = R.adaptive_max_pool2d(x, OH, OW)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(idx, ridx)
    dx = _core.max_pool2d_scatter(g, idx, np.empty_like(x), P, H * W, OH * OW, 2)
    np.testing.assert_allclose(dx, R.adaptive_pool2d_backward(x, g, OH, OW, "max"), rtol=1e-6,
                               atol=1e-7)


@pytest.mark.parametrize("dtype", DT)
def test_max_unpool_roundtrip(dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 8)).astype(dtype)
    y = np.empty((2, 3, 3, 4), dtype)
    idx = np.empty(y.shape, np.int64)
    _core.max_pool2d_fwd(x, y, idx, 2, 2, 2, 2)
    u = _core.max_unpool2d(y, idx, np.empty_like(x), 6, 12, 48)
    np.testing.assert_array_equal(u, R.max_unpool2d(y, idx, 6, 8))
    g = rng.standard_normal(x.shape).astype(dtype)
    back = _core.max_unpool2d(g, idx, np.empty_like(y), 6, 12, 48, True)
    np.testing.assert_array_equal(back, np.take_along_axis(g.reshape(6, 48),
                                                           idx.reshape(6, 12), 1).reshape(y.shape))
    bad = idx.copy()
    bad[0, 0, 0, 0] = 48
    with pytest.raises(IndexError):
        _core.max_unpool2d(y, bad, np.empty_like(x), 6, 12, 48)
    with pytest.raises(IndexError):
        _core.max_unpool2d(g, bad, np.empty_like(y), 6, 12, 48, True)


def test_threads_bitwise_above_cutoff():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 16, 33, 33)).astype(np.float32)     # 69696 elements
    P, H, W = 64, 33, 33
    runs = []
    for nt in (1, 2):
        r = []
        y = np.empty((4, 16) + _core.pool2d_out_size(H, W, 3, 3, 2, 2, 1, 1, 2, 2, True),
                     np.float32)
        idx = np.empty(y.shape, np.int64)
        _core.max_pool2d_fwd(x, y, idx, 3, 3, 2, 2, 1, 1, nt, 2, 2, True)
        r += [y.copy(), idx.copy(),
              _core.max_pool2d_bwd(y, idx, np.empty_like(x), 3, 3, 2, 2, 1, 1, nt, 2, 2, True)]
        y = np.empty((4, 16) + _core.pool2d_out_size(H, W, 3, 3, 2, 2, 1, 1, 1, 1, True),
                     np.float32)
        _core.avg_pool2d_fwd(x, y, 3, 3, 2, 2, 1, 1, nt, True, False, 0)
        r += [y.copy(), _core.avg_pool2d_bwd(y, np.empty_like(x), 3, 3, 2, 2, 1, 1, nt, True,
                                             False, 0)]
        for out in ((5, 7), (1, 1)):
            a = np.empty((4, 16) + out, np.float32)
            _core.adaptive_pool2d_fwd(x, a, None, P, H, W, *out, nt)
            r += [a.copy(), _core.adaptive_avg_pool2d_bwd(a, np.empty_like(x), P, H, W, *out,
                                                          nt)]
            ai = np.empty(a.shape, np.int64)
            _core.adaptive_pool2d_fwd(x, a, ai, P, H, W, *out, nt)
            r += [a.copy(), ai.copy()]
        runs.append(r)
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_bindings_reject_bad_arguments():
    x = np.zeros((1, 1, 4, 4), np.float32)
    y = np.empty((1, 1, 2, 2), np.float32)
    with pytest.raises(ValueError):
        _core.avg_pool2d_fwd(x, y, 2, 2, 2, 2, 0, 0, 1, False, True, -1)       # divisor < 0
    with pytest.raises(ValueError):
        _core.adaptive_pool2d_fwd(x, y, None, 1, 4, 4, 0, 2)
    with pytest.raises(ValueError):
        _core.adaptive_pool2d_fwd(x, y, None, 1, 4, 5, 2, 2)                   # wrong size
    with pytest.raises(TypeError):
        _core.max_unpool2d(y, np.zeros(4, np.int32), x, 1, 4, 16)
