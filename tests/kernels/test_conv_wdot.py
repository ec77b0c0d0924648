"""The weight gradient of few-column convolutions by dot products
(csrc/conv_wdot.inc): layers whose input channels x taps are at most 80 (an
RGB or greyscale first layer).  Each case asserts the path is taken
(``_core.conv2d_algorithm(..., grad_input=2) == 'dot'``), then checks dw
(and db, computed apart) against the loop reference, float32 and float64,
and 1, 2 and 3 threads bitwise equal."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

TOL = {np.float32: (2e-4, 2e-6), np.float64: (1e-10, 1e-13)}

# (N, C, H, W, K, R, S, sh, ph, pw, dil)
DOT = [
    (4, 3, 32, 32, 32, 3, 3, 1, 1, 1, 1),    # conv_first: OW = 32, dy read in place
    (3, 1, 28, 28, 13, 3, 3, 1, 1, 1, 1),    # greyscale, K not a multiple of 4, OW % 16
    (2, 1, 28, 28, 6, 5, 5, 1, 0, 0, 1),     # LeNet's first layer, CRS = 25
    (2, 3, 17, 23, 10, 5, 5, 1, 2, 2, 1),    # CRS = 75, odd sizes
    (2, 2, 15, 19, 5, 3, 3, 2, 1, 1, 1),     # row stride 2 (column stride 1)
    (2, 3, 14, 14, 7, 3, 3, 1, 2, 2, 2),     # dilation 2
    (1, 8, 9, 9, 3, 1, 3, 1, 0, 0, 1),       # 1x3, fewer rows than a tile
    # above the serial cut-off, so 2 and 3 threads really split the tiles:
    (8, 3, 32, 40, 24, 3, 3, 1, 1, 1, 1),
]


def _geom(case):
    N, C, H, W, K, Rk, S, sh, ph, pw, dil = case
    return (N, C, H, W), (K, C, Rk, S), (sh, 1), (ph, pw), dil


def _grads(x, w, dy, case, nt):
    _, _, (sh, sw), (ph, pw), dil = _geom(case)
    dw, db = np.empty_like(w), np.empty(w.shape[0], w.dtype)
    _core.conv2d_bwd(x, w, dy, None, dw, db, sh, sw, ph, pw, nt, dil_h=dil, dil_w=dil)
    return dw, db


def _close(a, want):
    rtol, atol = TOL[want.dtype.type]
    np.testing.assert_allclose(a, want, rtol=rtol, atol=atol * max(np.abs(want).max(), 1.0))


@pytest.mark.parametrize("case", DOT)
def test_dot_path_is_taken(case):
    xs, ws, st, pad, dil = _geom(case)
    assert _core.conv2d_algorithm(xs, ws, st, pad, (dil, dil), 1, 2) == "dot"


@pytest.mark.parametrize("case", DOT)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dot_matches_reference(case, dtype, rng):
    xs, ws, st, pad, dil = _geom(case)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    y = R.conv2d(x, w, None, st, pad, dil)
    dy = rng.standard_normal(y.shape).astype(dtype)
    _, dwr, dbr = R.conv2d_backward(x, w, dy, st, pad, dil)
    dw, db = _grads(x, w, dy, case, 2)
    _close(dw, dwr)
    _close(db, dbr)


@pytest.mark.parametrize("case", [DOT[1], DOT[-1]])
def test_dot_thread_invariant(case, rng):
    xs, ws, st, pad, dil = _geom(case)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    dy = rng.standard_normal(R.conv2d(x, w, None, st, pad, dil).shape).astype(np.float32)
    dw1, db1 = _grads(x, w, dy, case, 1)
    for nt in (2, 3):
        dw, db = _grads(x, w, dy, case, nt)
        assert np.array_equal(dw, dw1) and np.array_equal(db, db1)


def test_dot_nonfinite_reaches_only_its_weights(rng):
    """An inf in the last input column (past the lanes of the last output
    column for most taps) makes NaN/inf exactly where the reference does."""
    case = DOT[1]
    xs, ws, st, pad, dil = _geom(case)
    x = rng.standard_normal(xs)
    x[0, 0, 5, -1] = np.inf
    w = rng.standard_normal(ws)
    dy = rng.standard_normal(R.conv2d(x, w, None, st, pad, dil).shape)
    _, dwr, _ = R.conv2d_backward(x, w, dy, st, pad, dil)
    dw, _ = _grads(x, w, dy, case, 1)
    assert np.array_equal(np.isfinite(dw), np.isfinite(dwr))
    assert not np.isfinite(dwr).all() and np.isfinite(dwr).any()


def test_wider_layers_keep_the_gemm_path():
    assert _core.conv2d_algorithm((2, 16, 8, 8), (8, 16, 3, 3), grad_input=2) == "packed"
    assert _core.conv2d_algorithm((2, 3, 8, 8), (8, 3, 3, 3), (1, 2), grad_input=2) == "packed"
    assert _core.conv2d_algorithm((2, 64, 8, 8), (8, 64, 1, 1), grad_input=2) == "packed"
