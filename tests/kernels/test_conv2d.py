"""fastnn._core conv2d kernels against the loop reference (float32/float64,
1 and 2 threads, every geometry branch: direct 1x1, strides, padding,
non-square kernels, serial-image and image-parallel paths)."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}

# (N, C, H, W, K, R, S, sh, sw, ph, pw)
CASES = [
    (2, 3, 7, 9, 4, 3, 2, 1, 2, 1, 0),     # non-square everything
    (3, 4, 5, 5, 2, 1, 1, 1, 1, 0, 0),     # direct 1x1 path
    (1, 2, 6, 6, 3, 3, 3, 2, 2, 1, 1),     # batch 1: serial images, threaded gemm
    (5, 3, 8, 7, 2, 2, 3, 3, 1, 2, 1),     # stride > kernel rows, padding
    (2, 1, 4, 4, 1, 4, 4, 1, 1, 0, 0),     # kernel = input, one channel
    (4, 2, 5, 6, 3, 1, 1, 2, 2, 1, 0),     # 1x1 but strided/padded: im2col path
    (3, 16, 9, 9, 24, 3, 3, 1, 1, 1, 1),   # sizes past the gemm register block
    # above the serial cutoff (2^19 multiply-adds), so 2 threads really split:
    (4, 8, 16, 16, 16, 3, 3, 1, 1, 1, 1),  # image-parallel
    (4, 8, 17, 15, 16, 3, 2, 2, 2, 1, 0),  # image-parallel, strided
    (4, 32, 16, 16, 64, 1, 1, 1, 1, 0, 0), # image-parallel, direct 1x1
    (1, 16, 16, 16, 32, 3, 3, 1, 1, 1, 1), # one image: threaded unfold and gemm
]


def _run(x, w, b, dy, geom, nt, grads=(True, True, True)):
    N, K = x.shape[0], w.shape[0]
    sh, sw, ph, pw = geom
    OH, OW = _core.conv2d_out_size(x.shape[2], x.shape[3], w.shape[2], w.shape[3], *geom)
    y = np.empty((N, K, OH, OW), x.dtype)
    _core.conv2d_fwd(x, w, b, y, sh, sw, ph, pw, nt)
    dx = np.empty_like(x) if grads[0] else None
    dw = np.empty_like(w) if grads[1] else None
    db = np.empty(K, x.dtype) if grads[2] else None
    _core.conv2d_bwd(x, w, dy, dx, dw, db, sh, sw, ph, pw, nt)
    return y, dx, dw, db


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nt", [1, 2])
def test_conv2d_matches_reference(case, dtype, nt, rng):
    N, C, H, W, K, Rk, S, *geom = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C, Rk, S)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    yr = R.conv2d(x, w, b, geom[:2], geom[2:])
    dy = rng.standard_normal(yr.shape).astype(dtype)
    y, dx, dw, db = _run(x, w, b, dy, geom, nt)
    dxr, dwr, dbr = R.conv2d_backward(x, w, dy, geom[:2], geom[2:])
    t = TOL[dtype]
    np.testing.assert_allclose(y, yr, **t)
    np.testing.assert_allclose(dx, dxr, **t)
    np.testing.assert_allclose(dw, dwr, **t)
    np.testing.assert_allclose(db, dbr, **t)


def test_no_bias_and_partial_grads(rng):
    x = rng.standard_normal((3, 2, 6, 5))
    w = rng.standard_normal((4, 2, 3, 3))
    yr = R.conv2d(x, w, None, 1, 1)
    dy = rng.standard_normal(yr.shape)
    dxr, dwr, dbr = R.conv2d_backward(x, w, dy, 1, 1)
    for nt in (1, 2):
        for grads in [(True, False, False), (False, True, False), (False, False, True)]:
            y, dx, dw, db = _run(x, w, None, dy, (1, 1, 1, 1), nt, grads)
            np.testing.assert_allclose(y, yr, rtol=1e-10, atol=1e-12)
            for got, want in ((dx, dxr), (dw, dwr), (db, dbr)):
                if got is not None:
                    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
            assert [g is not None for g in (dx, dw, db)] == list(grads)


def test_thread_invariance_and_repeatability(rng):
    for N, C, K, geom in ((5, 8, 16, (1, 1, 1, 1)), (1, 16, 32, (1, 1, 1, 1)),
                          (5, 16, 16, (2, 2, 1, 1))):  # (dx by col2im)
        x = rng.standard_normal((N, C, 16, 16)).astype(np.float32)
        w = rng.standard_normal((K, C, 3, 3)).astype(np.float32)
        b = rng.standard_normal(K).astype(np.float32)
        OH, OW = _core.conv2d_out_size(16, 16, 3, 3, *geom)
        dy = rng.standard_normal((N, K, OH, OW)).astype(np.float32)
        r1 = _run(x, w, b, dy, geom, 1)
        r2 = _run(x, w, b, dy, geom, 2)
        r2b = _run(x, w, b, dy, geom, 2)
        for a, c in zip(r2, r2b):                  # bitwise repeatable at fixed count
            assert np.array_equal(a, c)
        for a, c in zip(r1, r2):                   # y, dx, dw, db: thread-count free
            assert np.array_equal(a, c)


def test_empty_batch_zero_grads(rng):
    x = np.zeros((0, 2, 5, 5), np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    dy = np.zeros((0, 3, 3, 3), np.float32)
    for nt in (1, 2):
        _, dx, dw, db = _run(x, w, None, dy, (1, 1, 0, 0), nt)
        assert dx.shape == x.shape and not dw.any() and not db.any()


def test_nan_propagates(rng):
    x = rng.standard_normal((2, 2, 5, 5))
    x[0, 1, 2, 2] = np.nan
    w = rng.standard_normal((3, 2, 3, 3))
    y, *_ = _run(x, w, None, np.ones((2, 3, 5, 5)), (1, 1, 1, 1), 2)
    assert np.isnan(y[0, :, 1:4, 1:4]).all()
    assert not np.isnan(y[1]).any()
    assert np.isnan(y[0]).sum() == 3 * 9


def test_bad_arguments_raise_not_crash():
    x = np.zeros((2, 3, 5, 5), np.float32)
    w = np.zeros((4, 3, 3, 3), np.float32)
    y = np.zeros((2, 4, 3, 3), np.float32)
    with pytest.raises(ValueError, match="channels"):
        _core.conv2d_fwd(x, np.zeros((4, 2, 3, 3), np.float32), None, y)
    with pytest.raises(ValueError, match="elements"):
        _core.conv2d_fwd(x, w, None, np.zeros((2, 4, 3, 2), np.float32))
    with pytest.raises(TypeError):
        _core.conv2d_fwd(x, w.astype(np.float64), None, y)
    with pytest.raises(ValueError, match="geometry"):
        _core.conv2d_fwd(x, w, None, y, 0, 1, 0, 0)
    with pytest.raises(ValueError, match="geometry"):
        _core.conv2d_fwd(x, np.zeros((4, 3, 8, 3), np.float32), None, y)
    with pytest.raises(ValueError, match="elements"):
        _core.conv2d_fwd(x, w, np.zeros(3, np.float32), y)
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.conv2d_fwd(x.transpose(0, 1, 3, 2), w, None, y)
    assert _core.conv2d_out_size(5, 5, 7, 3, 1, 1, 0, 0) is None
    assert _core.conv2d_out_size(5, 6, 3, 2, 2, 1, 1, 0) == (3, 5)


# geometries of the implicit-GEMM paths: B rows read from the padded image
# (OW a multiple of the panel width 16/32), B packed from the image (other
# widths, strides), dx as a convolution (stride 1, padding < kernel) or by
# col2im (strided, or padding >= kernel)
ISA_CASES = [
    (2, 3, 6, 32, 7, 3, 3, 1, 1, 1, 1),    # OW = 32: direct rows on every path
    (2, 1, 5, 32, 4, 3, 3, 1, 1, 1, 1),    # one / two input channels: dx by
    (3, 2, 4, 64, 5, 3, 3, 1, 1, 1, 1),    # col2im (FNN_CONV_DX_COL2IM_MAX_C)
    (2, 3, 6, 32, 2, 3, 3, 1, 1, 1, 1),    # two output channels: the forward on the
    (2, 5, 7, 64, 1, 3, 3, 1, 1, 1, 1),    # narrow kernel (where the path has one)
    (2, 5, 5, 16, 13, 3, 3, 1, 1, 1, 1),   # OW = 16: direct for NR 16, packed for NR 32
    (3, 4, 6, 20, 14, 3, 3, 1, 1, 1, 1),   # OW = 20: panels span output rows
    (2, 3, 9, 33, 5, 3, 3, 2, 1, 1, 1),    # row stride 2, OW = 32
    (2, 3, 7, 11, 5, 3, 2, 1, 2, 0, 1),    # column stride 2: packed, dx by col2im
    (2, 2, 5, 6, 3, 2, 2, 1, 1, 2, 2),     # padding >= kernel: dx by col2im
    (1, 40, 4, 16, 30, 1, 1, 1, 1, 0, 0),  # 1x1, several k blocks... and M panels
    (1, 70, 4, 32, 3, 3, 3, 1, 1, 1, 1),   # CRS = 630: several k blocks
]


@pytest.mark.parametrize("isa", ["portable", "avx2", "avx512sim"])
@pytest.mark.parametrize("case", ISA_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_every_kernel_path(isa, case, dtype, rng):
    before = _core.gemm_isa()
    if _core.gemm_set_isa(isa) != isa:
        _core.gemm_set_isa(before)
        pytest.skip(f"{isa} path not available on this CPU")
    try:
        N, C, H, W, K, Rk, S, *geom = case
        x = rng.standard_normal((N, C, H, W)).astype(dtype)
        w = rng.standard_normal((K, C, Rk, S)).astype(dtype)
        b = rng.standard_normal(K).astype(dtype)
        yr = R.conv2d(x, w, b, geom[:2], geom[2:])
        dy = rng.standard_normal(yr.shape).astype(dtype)
        dxr, dwr, dbr = R.conv2d_backward(x, w, dy, geom[:2], geom[2:])
        for nt in (1, 2):
            y, dx, dw, db = _run(x, w, b, dy, geom, nt)
            t = TOL[dtype]
            np.testing.assert_allclose(y, yr, **t)
            np.testing.assert_allclose(dx, dxr, **t)
            np.testing.assert_allclose(dw, dwr, **t)
            np.testing.assert_allclose(db, dbr, **t)
    finally:
        _core.gemm_set_isa(before)


def test_cross_image_path_shares_out_channels_in_threads(rng):
    """Deep layers on small planes (the cross-image path: every image's
    pixels are GEMM columns) with fewer column blocks than threads (one
    block: 96 -> 100 on 4 x 4 at batch 2; 5 x 5 planes at batch 9, two
    blocks at three threads) cut the output channels into parts for the
    threads: the reference's values, bitwise the same at 1, 2 and 3
    threads."""
    for N, C, K, H in ((2, 64, 100, 4), (9, 48, 40, 5)):
        x = rng.standard_normal((N, C, H, H)).astype(np.float32)
        w = rng.standard_normal((K, C, 3, 3)).astype(np.float32)
        b = rng.standard_normal(K).astype(np.float32)
        dy = rng.standard_normal((N, K, H, H)).astype(np.float32)
        runs = [_run(x, w, b, dy, (1, 1, 1, 1), nt) for nt in (1, 2, 3)]
        np.testing.assert_allclose(runs[0][0], R.conv2d(x, w, b, 1, 1), rtol=1e-4, atol=1e-3)
        for r in runs[1:]:
            for a, c in zip(runs[0], r):
                assert np.array_equal(a, c)


# (N, C, H, W, K, R, stride, padding, dilation, groups): weight gradients of
# small planes, whose k blocks of the product hold several whole images
# (conv_wgrad.inc, dw_images_per_block): 4 x 4 1x1 (16 pixels: 16 images a
# block, the last block short), strided 3x3 with padding, dilated, grouped,
# 7 x 7 (49 pixels: 5 images a block)
SMALL_DW = [
    (37, 64, 4, 4, 48, 1, 1, 0, 1, 1),
    (9, 12, 8, 7, 20, 3, 2, 1, 1, 1),
    (7, 16, 9, 9, 24, 3, 1, 2, 2, 1),   # (24 outputs: 32 would run by taps on AVX-512)
    (11, 16, 6, 6, 24, 3, 1, 1, 1, 2),
    (6, 24, 7, 7, 40, 1, 1, 0, 1, 1),
    # one pixel an image, images a block capped by DW_PLANES_MAX (stride 2 over a 31 x 31
    # input: a window that is the whole input runs on the GEMM instead)
    (20, 64, 31, 31, 8, 30, 2, 0, 1, 1),
]


@pytest.mark.parametrize("case", SMALL_DW)
@pytest.mark.parametrize("isa", ["auto", "avx2", "avx512sim", "portable"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weight_gradient_images_share_k_blocks(case, isa, dtype, rng):
    """The reference's dw and db, bitwise the same at 1, 2 and 3 threads,
    on every kernel path, when a k block of the weight gradient's product
    holds the pixels of several images."""
    N, C, H, W, K, Rk, s, p, d, G = case
    before = _core.gemm_isa()
    if isa != "auto" and _core.gemm_set_isa(isa) != isa:
        _core.gemm_set_isa(before)
        pytest.skip(f"{isa} path not available on this CPU")
    try:
        x = rng.standard_normal((N, C, H, W)).astype(dtype)
        w = rng.standard_normal((K, C // G, Rk, Rk)).astype(dtype)
        geom = dict(stride=(s, s), padding=(p, p), dilation=(d, d), groups=G)
        assert _core.conv2d_algorithm(x.shape, w.shape, (s, s), (p, p), (d, d), G,
                                      grad_input=2) == "packed"
        yr = R.conv2d(x, w, None, **geom)
        dy = rng.standard_normal(yr.shape).astype(dtype)
        _, dwr, dbr = R.conv2d_backward(x, w, dy, **geom)
        outs = []
        for nt in (1, 2, 3):
            dw, db = np.empty_like(w), np.empty(K, dtype)
            _core.conv2d_bwd(x, w, dy, None, dw, db, s, s, p, p, nt, dil_h=d, dil_w=d,
                             groups=G)
            outs.append((dw, db))
        np.testing.assert_allclose(outs[0][0], dwr, **TOL[dtype])
        np.testing.assert_allclose(outs[0][1], dbr, **TOL[dtype])
        for dw, db in outs[1:]:
            assert np.array_equal(dw, outs[0][0]) and np.array_equal(db, outs[0][1])
    finally:
        _core.gemm_set_isa(before)
