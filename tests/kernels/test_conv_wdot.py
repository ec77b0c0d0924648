"""The weight gradient of few-column and few-row convolutions by dot
products (csrc/conv_wdot.inc): layers whose input channels x taps are at
most 80 (an RGB or greyscale first layer), or with at most 16 output
channels and 640 taps, at any stride (a column stride > 1 through the
image's phase rows).  Each case asserts the path is taken
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
    # column stride > 1: phase rows (OW at least 3/4 of its 16 lanes)
    (2, 3, 32, 32, 16, 3, 3, 2, 1, 1, 1, 2),    # 3x3/2, OW = 16
    (2, 2, 27, 47, 5, 3, 3, 1, 1, 1, 1, 2),     # column stride 2 only, odd width
    (2, 3, 30, 45, 6, 5, 5, 2, 2, 2, 1, 3),     # stride 3, Wp not a multiple of 3
    (2, 2, 30, 35, 3, 3, 3, 2, 1, 0, 2, 2),     # stride 2 and dilation 2, no column pad
    (1, 3, 67, 67, 8, 11, 11, 4, 2, 2, 1, 4),   # AlexNet-style 11x11/4 (CRS 363, K 8)
    # few output channels, CRS > 80
    (2, 16, 24, 24, 8, 3, 3, 1, 1, 1, 1),       # CRS 144
    (2, 3, 56, 56, 16, 7, 7, 2, 3, 3, 1, 2),    # 7x7/2 stem with 16 outputs
    (2, 30, 14, 14, 5, 3, 3, 1, 1, 1, 1),       # CRS 270, K 5
    (8, 12, 16, 16, 12, 3, 3, 1, 1, 1, 1),      # 2 and 3 threads split the tiles
]


def _geom(case):
    N, C, H, W, K, Rk, S, sh, ph, pw, dil = case[:11]
    sw = case[11] if len(case) > 11 else 1
    return (N, C, H, W), (K, C, Rk, S), (sh, sw), (ph, pw), dil


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


@pytest.mark.parametrize("case", [DOT[1], DOT[7], DOT[8], DOT[-1]])
def test_dot_thread_invariant(case, rng):
    xs, ws, st, pad, dil = _geom(case)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    dy = rng.standard_normal(R.conv2d(x, w, None, st, pad, dil).shape).astype(np.float32)
    dw1, db1 = _grads(x, w, dy, case, 1)
    for nt in (2, 3):
        dw, db = _grads(x, w, dy, case, nt)
        assert np.array_equal(dw, dw1) and np.array_equal(db, db1)


@pytest.mark.parametrize("case", [DOT[1], DOT[3], DOT[9], DOT[-3], DOT[-1]])
def test_dot_tiles_of_every_path_give_the_same_bits(case, rng):
    """The AVX-512 path's tiles (4 x 3 of 64-byte vectors) and the other
    paths' (3 x 3 of 32-byte halves, one half at a time: on AVX2 GCC kept a
    64-byte vector on the stack) sum every lane in the same order: the same
    bits, including tile edges (K, CRS not multiples of 3 or 4) and an OW
    tail.  On a CPU without AVX-512 this compares the AVX2 path with the
    emulated AVX-512 path, which also takes the 32-byte tiles."""
    xs, ws, st, pad, dil = _geom(case)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    dy = rng.standard_normal(R.conv2d(x, w, None, st, pad, dil).shape).astype(np.float32)
    _, dwr, _ = R.conv2d_backward(x, w, dy, st, pad, dil)
    paths = ["avx2", "avx512sim"] + (["avx512"] if _core.cpu_best_isa() == "avx512" else [])
    out = []
    try:
        for isa in paths:
            _core.gemm_set_isa(isa)
            out.append(_grads(x, w, dy, case, 2)[0])
    finally:
        _core.gemm_set_isa("auto")
    _close(out[0], dwr)
    for dw in out[1:]:
        assert np.array_equal(dw, out[0])


@pytest.mark.parametrize("case, infs", [
    (DOT[1], [(0, 0, 5, -1)]),
    # column stride 2 and 3: the phase rows keep the confinement (an odd
    # and the last input column)
    (DOT[9], [(0, 0, 5, 7), (-1, -1, -3, -1)]),
    (DOT[13], [(0, 0, 5, 7), (-1, -1, -3, -1)]),
])
def test_dot_nonfinite_reaches_only_its_weights(case, infs, rng):
    """An inf in the last input column (past the lanes of the last output
    column for most taps) makes NaN/inf exactly where the reference does."""
    xs, ws, st, pad, dil = _geom(case)
    x = rng.standard_normal(xs)
    for i, pos in enumerate(infs):
        x[pos] = np.inf if i % 2 == 0 else -np.inf
    w = rng.standard_normal(ws)
    dy = rng.standard_normal(R.conv2d(x, w, None, st, pad, dil).shape)
    _, dwr, _ = R.conv2d_backward(x, w, dy, st, pad, dil)
    dw, _ = _grads(x, w, dy, case, 1)
    assert np.array_equal(np.isfinite(dw), np.isfinite(dwr))
    assert not np.isfinite(dwr).all() and np.isfinite(dwr).any()
    ok = np.isfinite(dwr)
    _close(np.where(ok, dw, 0), np.where(ok, dwr, 0))


@pytest.mark.parametrize("case", [DOT[1], DOT[3]])
def test_dy_read_in_place_keeps_nonfinite_values_apart(case, rng):
    """dy is read in place (rows OW apart, OW not a multiple of the 16
    lanes): a row's last vector runs into the next row's first values and
    must drop them.  An inf at the start of a row then gives its channel's
    weights exactly the reference's inf, -inf and NaN, not NaN (inf * 0)
    from the row before; the last image's rows are copied instead."""
    xs, ws, st, pad, dil = _geom(case)
    x = rng.standard_normal(xs)
    w = rng.standard_normal(ws)
    dy = rng.standard_normal(R.conv2d(x, w, None, st, pad, dil).shape)
    dy[0, 1, 3, 0] = np.inf
    dy[-1, 0, 2, 0] = -np.inf
    with np.errstate(invalid="ignore"):   # (inf * 0 in the padding: NaN)
        _, dwr, _ = R.conv2d_backward(x, w, dy, st, pad, dil)
    dw, _ = _grads(x, w, dy, case, 1)
    for f in (np.isnan, np.isposinf, np.isneginf):
        assert np.array_equal(f(dw), f(dwr))
    assert np.isinf(dwr).any() and np.isfinite(dwr).any()
    ok = np.isfinite(dwr)
    _close(np.where(ok, dw, 0), np.where(ok, dwr, 0))


def test_strided_layers_with_few_outputs_a_row_keep_the_gemm_path():
    # OW 8 of 16 lanes: half of every vector would be wasted
    assert _core.conv2d_algorithm((64, 3, 16, 16), (16, 3, 3, 3), (2, 2), (1, 1),
                                  grad_input=2) == "packed"
    # many outputs and many taps
    assert _core.conv2d_algorithm((8, 32, 32, 32), (32, 32, 3, 3), (2, 2), (1, 1),
                                  grad_input=2) == "packed"


def test_wider_layers_keep_the_gemm_path():
    assert _core.conv2d_algorithm((2, 16, 8, 8), (8, 16, 3, 3), grad_input=2) == "packed"
    assert _core.conv2d_algorithm((2, 3, 8, 8), (8, 3, 3, 3), (1, 2), grad_input=2) == "packed"
    assert _core.conv2d_algorithm((2, 64, 8, 8), (8, 64, 1, 1), grad_input=2) == "packed"
