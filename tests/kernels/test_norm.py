"""Kernel tests: csrc/norm.c (layer and group normalisation) against the
NumPy reference, thread-count invariance above the serial cut-off, bad
views."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

DT = [np.float32, np.float64]


def _tol(dtype):
    return dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10,
                                                                        atol=1e-11)


def _ln(x, g, w, b, M, D, nt=2, eps=1e-5):
    dt = x.dtype
    y, mean, rstd = np.empty_like(x), np.empty(M, dt), np.empty(M, dt)
    _core.layer_norm_fwd(x, w, b, eps, y, mean, rstd, M, D, nt)
    gx = np.empty_like(x)
    dw = None if w is None else np.empty(D, dt)
    db = np.empty(D, dt)
    _core.layer_norm_bwd(x, g, mean, rstd, w, gx, dw, db, M, D, nt)
    return y, gx, dw, db


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("M,D", [(1, 1), (3, 7), (17, 64), (130, 33), (5, 1000), (600, 512),
                                 (3, 8200)])   # float rows in float lanes up to 8192
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_reference(M, D, affine, dtype):
    rng = np.random.default_rng(M * D)
    x = (rng.standard_normal((M, D)) * 3 + 2).astype(dtype)
    g = rng.standard_normal((M, D)).astype(dtype)
    w = rng.standard_normal(D).astype(dtype) if affine else None
    b = rng.standard_normal(D).astype(dtype) if affine else None
    y, gx, dw, db = _ln(x, g, w, b, M, D)
    np.testing.assert_allclose(y, R.layer_norm(x, (D,), w, b), **_tol(dtype))
    rdx, rdw, rdb = R.layer_norm_grad(x, g, (D,), w)
    np.testing.assert_allclose(gx, rdx, **_tol(dtype))
    np.testing.assert_allclose(db, rdb, **_tol(dtype))
    if affine:
        np.testing.assert_allclose(dw, rdw, **_tol(dtype))


def test_layer_norm_large_mean_is_accurate():
    # two-pass statistics in double: a mean 1e4 times the spread loses nothing
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 256)) + 1e4).astype(np.float32)
    y, *_ = _ln(x, np.ones_like(x), None, None, 4, 256)
    np.testing.assert_allclose(y, R.layer_norm(x, (256,)), rtol=2e-3, atol=2e-3)
    assert abs(float(y.std()) - 1.0) < 1e-2


@pytest.mark.parametrize("D", [256, 9000])      # float lanes, and the double path
def test_layer_norm_backward_large_mean_is_accurate(D):
    # the backward's row sums are centred (sum(dg * (x - mean))): no
    # cancellation against sum(dg) * mean when the mean dwarfs the spread
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((6, D)) + 1e4).astype(np.float32)
    g = rng.standard_normal((6, D)).astype(np.float32)
    w = rng.standard_normal(D).astype(np.float32)
    _, gx, dw, _ = _ln(x, g, w, np.zeros(D, np.float32), 6, D)
    rdx, rdw, _ = R.layer_norm_grad(x.astype(np.float64), g.astype(np.float64), (D,),
                                    w.astype(np.float64))
    scale = float(np.abs(rdx).max())
    assert float(np.abs(gx - rdx).max()) <= 2e-3 * scale
    # (dw carries the float32 rounding of the saved mean, 1e4 * 2^-24 of a
    # unit spread, in every xhat: about 1e-3 over six rows)
    np.testing.assert_allclose(dw, rdw, rtol=2e-3, atol=1e-2)


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape,G", [((2, 6, 5, 3), 3), ((1, 4, 1), 4), ((3, 8, 17), 1),
                                     ((2, 32, 9, 9), 8), ((4, 3), 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_reference(shape, G, affine, dtype):
    rng = np.random.default_rng(G)
    x = (rng.standard_normal(shape) * 2 - 1).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    N, C = shape[:2]
    HW = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    w = rng.standard_normal(C).astype(dtype) if affine else None
    b = rng.standard_normal(C).astype(dtype) if affine else None
    y, mean, rstd = np.empty_like(x), np.empty(N * G, dtype), np.empty(N * G, dtype)
    _core.group_norm_fwd(x, w, b, 1e-5, y, mean, rstd, N, C, HW, G, 2)
    # groups of one element: xhat is 0 up to rounding times rstd = 1/sqrt(eps) ~ 316
    # (y = x * rstd - mean * rstd, PyTorch's form)
    tol = dict(rtol=0, atol=1e-3) if C // G * HW == 1 and dtype == np.float32 else _tol(dtype)
    np.testing.assert_allclose(y, R.group_norm(x, G, w, b), **tol)
    gx, dw, db = np.empty_like(x), np.empty(C, dtype), np.empty(C, dtype)
    _core.group_norm_bwd(x, g, mean, rstd, w, gx, dw if affine else None, db, N, C, HW, G, 2)
    rdx, rdw, rdb = R.group_norm_grad(x, g, G, w)
    np.testing.assert_allclose(gx, rdx, **tol)
    np.testing.assert_allclose(db, rdb, **_tol(dtype))
    if affine:
        np.testing.assert_allclose(dw, rdw, **_tol(dtype))


def test_layer_norm_threads_bitwise():
    rng = np.random.default_rng(1)
    M, D = 300, 512                          # 153600 elements, above the cut-off
    x = rng.standard_normal((M, D)).astype(np.float32)
    g = rng.standard_normal((M, D)).astype(np.float32)
    w, b = rng.standard_normal(D).astype(np.float32), rng.standard_normal(D).astype(np.float32)
    a, c = _ln(x, g, w, b, M, D, nt=1), _ln(x, g, w, b, M, D, nt=2)
    for u, v in zip(a, c):
        np.testing.assert_array_equal(u, v)


def test_group_norm_threads_bitwise():
    rng = np.random.default_rng(2)
    N, C, HW, G = 8, 16, 1024, 4              # 131072 elements
    x = rng.standard_normal((N, C, HW)).astype(np.float32)
    g = rng.standard_normal((N, C, HW)).astype(np.float32)
    w, b = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
    out = []
    for nt in (1, 2):
        y, mean, rstd = np.empty_like(x), np.empty(N * G, np.float32), np.empty(N * G,
                                                                                np.float32)
        _core.group_norm_fwd(x, w, b, 1e-5, y, mean, rstd, N, C, HW, G, nt)
        gx, dw, db = np.empty_like(x), np.empty(C, np.float32), np.empty(C, np.float32)
        _core.group_norm_bwd(x, g, mean, rstd, w, gx, dw, db, N, C, HW, G, nt)
        out.append((y, mean, rstd, gx, dw, db))
    for u, v in zip(*out):
        np.testing.assert_array_equal(u, v)



def _gn(x, g, w, b, N, C, HW, G, nt=2):
    dt = x.dtype
    y, mean, rstd = np.empty_like(x), np.empty(N * G, dt), np.empty(N * G, dt)
    _core.group_norm_fwd(x, w, b, 1e-5, y, mean, rstd, N, C, HW, G, nt)
    gx, dw, db = np.empty_like(x), np.empty(C, dt), np.empty(C, dt)
    _core.group_norm_bwd(x, g, mean, rstd, w, gx, dw, db, N, C, HW, G, nt)
    return y, mean, rstd, gx, dw, db


@pytest.mark.parametrize("case", ["ln_float_rows", "ln_double_rows", "gn"])
def test_norm_rows_same_bits_on_every_path(case):
    """norm_rows.inc's two forms -- 64-byte vectors on the AVX-512 path,
    32-byte ones on the others -- give the same bits: layer norm's float
    lanes (rows up to LN_F32_MAX), its double lanes (longer rows), and
    GroupNorm's statistics and backward sums, with row lengths that leave
    partial blocks of 8, 16, 32 and 64; on a CPU without AVX-512, AVX2
    against the emulated path."""
    rng = np.random.default_rng(7)
    if case == "gn":
        N, C, HW, G = 3, 12, 77, 3
        shape, args = (N, C, HW), (N, C, HW, G)
        w, b = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
        run = _gn
    else:
        M, D = (37, 1000) if case == "ln_float_rows" else (5, 8203)
        shape, args = (M, D), (M, D)
        w, b = rng.standard_normal(D).astype(np.float32), rng.standard_normal(D).astype(np.float32)
        run = _ln
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    paths = ["avx2", "avx512sim"] + (["avx512"] if _core.cpu_best_isa() == "avx512" else [])
    outs = []
    try:
        for isa in paths:
            _core.gemm_set_isa(isa)
            outs.append(run(x, g, w, b, *args))
    finally:
        _core.gemm_set_isa("auto")
    if case == "gn":
        np.testing.assert_allclose(outs[0][0], R.group_norm(x.reshape(N, C, HW), G, w, b),
                                   **_tol(np.float32))
    else:
        np.testing.assert_allclose(outs[0][0], R.layer_norm(x, (D,), w, b), **_tol(np.float32))
    for other in outs[1:]:
        for u, v in zip(other, outs[0]):
            np.testing.assert_array_equal(u, v)

def test_norm_bindings_reject_bad_views():
    x = np.zeros((4, 6), np.float32)
    m, r = np.empty(4, np.float32), np.empty(4, np.float32)
    with pytest.raises(ValueError):
        _core.layer_norm_fwd(x, None, None, 1e-5, np.empty_like(x), m, r, 4, 5)
    with pytest.raises(ValueError):
        _core.layer_norm_fwd(x, np.ones(5, np.float32), None, 1e-5, np.empty_like(x), m, r, 4, 6)
    with pytest.raises(TypeError):
        _core.layer_norm_fwd(x, np.ones(6), None, 1e-5, np.empty_like(x), m, r, 4, 6)
    with pytest.raises(ValueError):                                 # 6 channels, 4 groups
        _core.group_norm_fwd(x, None, None, 1e-5, np.empty_like(x), np.empty(16, np.float32),
                             np.empty(16, np.float32), 4, 6, 1, 4)
    with pytest.raises(ValueError):                                 # negative eps
        _core.layer_norm_fwd(x, None, None, -1.0, np.empty_like(x), m, r, 4, 6)
