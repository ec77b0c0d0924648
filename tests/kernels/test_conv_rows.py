"""The convolution's row path (csrc/conv_rows.inc, algorithm 'rows'): output
channels in the vectors, a row of output pixels broadcast from the padded
image.  Taken on the AVX-512 path, its emulation and the AVX2 path where the
implicit GEMM would run over the padded width ('wide') or over padded 5x5 and
wider kernels ('direct'), and the output channels of a group are whole
panels (32 floats or 16 doubles on AVX-512, 16 / 8 on AVX2).  Checked against
the NumPy reference, across thread counts (bitwise), with the fused ReLU, and
the assembly kernels and the AVX2 ones against the emulation bit for bit."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import _core
from fastnn.testing import reference as R
from fastnn.testing.conv import check_weight_gradient, weight_gradient

ROW_PATHS = (["avx512sim"] + (["avx2"] if _core.cpu_best_isa() in ("avx2", "avx512") else []) +
             (["avx512"] if _core.cpu_best_isa() == "avx512" else []))

# (N, C, H, W, K, kernel, stride, padding, dilation, groups)
CASES = [
    (3, 16, 14, 14, 32, 5, 1, 2, 1, 1),    # LeNet-style 5x5 on 14x14: one 14-pixel tile a row
    (2, 32, 16, 16, 32, 7, 1, 3, 1, 1),    # 7x7 on 16x16: two 8-pixel tiles a row
    (2, 16, 12, 12, 32, 5, 1, 0, 1, 1),    # no padding, 8x8 output
    (2, 8, 15, 13, 64, 3, 1, 2, 2, 1),     # dilated, odd sizes, two channel panels
    (2, 24, 9, 31, 64, 5, 1, 2, 1, 2),     # groups of 32 channels; 31 = 11 + 10 + 10 pixels
    (1, 4, 5, 3, 32, 3, 1, 1, 1, 1),       # 3-pixel rows, batch 1 (row blocks)
    (3, 16, 4, 4, 32, 3, 1, 1, 1, 1),      # 4x4 planes (instead of packing across images)
    (2, 3, 21, 20, 64, 7, 2, 3, 1, 1),     # stride 2 (ResNet stem style)
    (3, 8, 14, 14, 16, 5, 1, 2, 1, 1),     # 16 outputs: one half panel (one vector)
    (2, 16, 11, 16, 48, 5, 1, 2, 1, 1),    # 48 = a whole panel and a half one
    # kernel rows in the padding left out (rd_krange): output rows that read
    # only zeros (padding 5 > 4), dilated rows past both edges
    (2, 16, 3, 14, 32, 5, 1, 5, 1, 1),
    (2, 16, 3, 14, 32, 5, 1, 4, 1, 1),
    (1, 8, 2, 9, 32, 3, 1, 3, 2, 1),
    # rows wider than the 64-pixel row buffer (RD_ROWBUF): written out in parts
    (1, 3, 9, 150, 32, 7, 2, 3, 1, 1),     # 75 outputs a row, stride 2
    (1, 8, 5, 140, 48, 5, 1, 2, 1, 1),     # 140 a row, and a half panel
    # the taps in the padded columns left out, one kernel call per column
    # (rd_tile_cols): dilated, padding wider than a tile's reach, a 2-pixel row
    (2, 16, 15, 13, 32, 3, 1, 2, 2, 1),
    (1, 16, 6, 7, 32, 5, 1, 4, 1, 1),
    (1, 16, 5, 2, 16, 3, 1, 1, 1, 1),
    # whole 32-pixel rows of a padded 5 x 5 layer: rows rather than the
    # direct path, which would compute the padding's taps
    (1, 8, 32, 32, 32, 5, 1, 2, 1, 1),
    # strided 3 x 3 and 5 x 5 layers with more taps than the L1 panel rule
    # (RD_KERNEL_MAX_CRS): a ResNet downsampling layer, 288 and 400 taps
    (3, 32, 15, 15, 64, 3, 2, 1, 1, 1),
    (2, 16, 13, 13, 32, 5, 2, 2, 1, 1),
    # a 5 x 5 layer of 1200 taps a pixel (RD_WIDE_KERNEL_MAX_CRS), 48 outputs
    (2, 48, 9, 9, 64, 5, 1, 2, 1, 1),
]


def _algo(case, pass_=0):
    N, C, H, W, K, k, st, p, d, g = case
    return _core.conv2d_algorithm((N, C, H, W), (K, C // g, k, k), (st, st), (p, p), (d, d), g,
                                  grad_input=pass_)


@pytest.fixture
def path(request):
    before = _core.gemm_isa()
    _core.gemm_set_isa(request.param)
    wino = _core.conv2d_set_winograd(False)
    taps = _core.conv2d_set_taps(False)   # (padded weight gradients: rows, not taps)
    yield request.param
    _core.conv2d_set_taps(taps)
    _core.conv2d_set_winograd(wino)
    _core.gemm_set_isa(before)


@pytest.mark.parametrize("path", ROW_PATHS, indirect=True)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_forward_matches_reference_at_1_2_3_threads(path, case, dtype, rng):
    N, C, H, W, K, k, st, p, d, g = case
    assert _algo(case) == "rows"
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C // g, k, k)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    yr = R.conv2d(x, w, b, st, p, d, g)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    outs = []
    for nt, bias, relu in ((1, b, False), (2, b, False), (3, b, False), (2, None, True)):
        y = np.full(yr.shape, np.nan, dtype)
        _core.conv2d_fwd(x, w, bias, y, st, st, p, p, nt, relu=relu, dil_h=d, dil_w=d, groups=g)
        want = yr if bias is not None else yr - b[:, None, None]
        want = np.maximum(want, 0) if relu else want
        np.testing.assert_allclose(y, want, rtol=tol, atol=tol * np.abs(yr).max())
        if relu:   # the fused ReLU is the op's: -0 made +0, everything else kept
            assert not np.signbit(y[y == 0]).any()
        else:
            outs.append(y)
    assert all(np.array_equal(outs[0], o) for o in outs[1:]), "thread count changed the result"


@pytest.mark.parametrize("path", ROW_PATHS, indirect=True)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_input_gradient_matches_reference_at_1_2_threads(path, dtype, rng):
    """The input gradient of a 5x5 layer with 32 input channels runs as a
    stride-1 convolution of dy with the flipped kernel on the row path."""
    N, C, H, W, K, k, p = 2, 32, 14, 14, 48, 5, 2
    assert _core.conv2d_algorithm((N, C, H, W), (K, C, k, k), (1, 1), (p, p),
                                  grad_input=1) == "rows"
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C, k, k)).astype(dtype)
    dy = rng.standard_normal((N, K, H, W)).astype(dtype)
    want = R.conv2d_backward(x, w, dy, 1, p)[0]
    tol = 1e-4 if dtype == np.float32 else 1e-10
    outs = []
    for nt in (1, 2):
        dx = np.empty_like(x)
        _core.conv2d_bwd_data(w, dy, None, dx, 1, 1, p, p, nt)
        np.testing.assert_allclose(dx, want, rtol=tol, atol=tol * np.abs(want).max())
        outs.append(dx)
    assert np.array_equal(outs[0], outs[1])


@pytest.mark.parametrize("other", [
    pytest.param("avx512", marks=pytest.mark.skipif("avx512" not in ROW_PATHS,
                                                     reason="the CPU has no AVX-512")),
    pytest.param("avx2", marks=pytest.mark.skipif("avx2" not in ROW_PATHS,
                                                   reason="the CPU has no AVX2"))])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_kernels_equal_emulation(other, case, dtype, rng):
    """The assembly kernels, and the AVX2 ones with their 6-pixel register
    blocks and half-width panels, give the emulation's bits: each output
    is the same chain of fused multiply-adds over the same taps."""
    N, C, H, W, K, k, st, p, d, g = case
    if other == "avx2" and dtype == np.float64 and case == CASES[2]:
        pytest.skip("not on rows: its 8 x 8 doubles are whole AVX2 panels (the direct path)")
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C // g, k, k)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    before, wino = _core.gemm_isa(), _core.conv2d_set_winograd(False)
    outs = []
    try:
        for isa in (other, "avx512sim"):
            _core.gemm_set_isa(isa)
            assert _algo(case) == "rows"
            y = np.empty(R.conv2d(x[:1], w, b, st, p, d, g).shape[1:], dtype)
            y = np.empty((N,) + y.shape, dtype)
            _core.conv2d_fwd(x, w, b, y, st, st, p, p, 2, relu=True, dil_h=d, dil_w=d, groups=g)
            outs.append(y)
    finally:
        _core.gemm_set_isa(before)
        _core.conv2d_set_winograd(wino)
    assert np.array_equal(outs[0], outs[1])


def test_rows_not_taken_elsewhere():
    """Not where a group's outputs are not whole panels, nor where the
    packed path is faster, nor on the portable path (no row kernel)."""
    a = _core.conv2d_algorithm
    before = _core.gemm_isa()
    try:
        _core.gemm_set_isa("avx512sim")
        assert a((2, 3, 32, 32), (10, 3, 5, 5), (1, 1), (0, 0)) != "rows"   # 10 outputs
        assert a((2, 16, 14, 14), (24, 16, 5, 5), (1, 1), (2, 2)) != "rows"  # 24: not halves
        assert a((2, 16, 14, 14), (32, 16, 5, 5), (1, 1), (2, 2)) == "rows"
        # MNIST's 3 x 3 1 -> 32 (9 taps a pixel) and a 1 x 1 256 -> 256 on 4 x 4
        assert a((64, 1, 28, 28), (32, 1, 3, 3), (1, 1), (1, 1)) == "rows"
        assert a((32, 256, 4, 4), (256, 256, 1, 1), (1, 1), (0, 0)) != "rows"
        # AVX2 (6-pixel register blocks, 16-float panels): instead of packing
        # B not below 32 taps a pixel, nor for 24 outputs (no half-panel
        # kernel there); but instead of the wide path (MNIST's 3 x 3 1 -> 32)
        _core.gemm_set_isa("avx2")
        assert a((2, 16, 14, 14), (32, 16, 5, 5), (1, 1), (2, 2)) == "rows"
        assert a((2, 16, 14, 14), (24, 16, 5, 5), (1, 1), (2, 2)) != "rows"
        assert a((64, 1, 28, 28), (32, 1, 3, 3), (2, 2), (1, 1)) == "packed"
        assert a((64, 1, 28, 28), (32, 1, 3, 3), (1, 1), (1, 1)) == "rows"
        assert a((32, 256, 4, 4), (256, 256, 1, 1), (1, 1), (0, 0)) != "rows"
        assert a((8, 256, 28, 28), (512, 256, 1, 1), (2, 2), (0, 0)) != "rows"
        _core.gemm_set_isa("portable")
        assert a((2, 16, 14, 14), (32, 16, 5, 5), (1, 1), (2, 2)) != "rows"
    finally:
        _core.gemm_set_isa(before)


# weight gradients on rows: 5x5 and 7x7 kernels (N, C, H, W, K, kernel, stride,
# padding, dilation, groups); batches below, at and above the 8 fixed chunks
DW_CASES = [
    (4, 16, 14, 14, 32, 5, 1, 2, 1, 1),
    (11, 8, 10, 9, 32, 5, 1, 2, 1, 1),      # 11 images: chunks of 1 and 2
    (2, 32, 16, 16, 32, 7, 1, 3, 1, 1),
    (2, 8, 15, 13, 64, 5, 1, 2, 2, 1),      # dilated, two channel panels
    (2, 16, 20, 19, 64, 5, 2, 2, 1, 2),     # stride 2, groups
    (1, 3, 24, 24, 64, 7, 2, 3, 1, 1),      # ResNet stem style, one image, 12 x 12 out
    # kernel rows that no output row reads inside the image (padding past
    # the kernel): their sums are over no pixel (rd_dw_oh_lo / _hi)
    (2, 8, 3, 14, 32, 5, 1, 5, 1, 1),
    (2, 8, 4, 9, 32, 5, 2, 6, 1, 1),       # and stride 2
]


def _dw(x, w, dy, case, nt):
    N, C, H, W, K, k, st, p, d, g = case
    return weight_gradient(x, w, dy, st, p, d, g, nt)


@pytest.mark.parametrize("path", ROW_PATHS, indirect=True)
@pytest.mark.parametrize("case", DW_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_weight_gradient_matches_reference_at_1_2_3_threads(path, case, dtype, rng):
    N, C, H, W, K, k, st, p, d, g = case
    assert _algo(case, 2) == "rows"
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C // g, k, k)).astype(dtype)
    dy = rng.standard_normal(R.conv2d(x, w, None, st, p, d, g).shape).astype(dtype)
    check_weight_gradient(x, w, dy, st, p, d, g)


@pytest.mark.parametrize("other", [
    pytest.param("avx512", marks=pytest.mark.skipif("avx512" not in ROW_PATHS,
                                                     reason="the CPU has no AVX-512")),
    pytest.param("avx2", marks=pytest.mark.skipif("avx2" not in ROW_PATHS,
                                                   reason="the CPU has no AVX2"))])
@pytest.mark.parametrize("case", DW_CASES)
def test_rows_weight_gradient_kernels_equal_emulation(other, case, rng):
    N, C, H, W, K, k, st, p, d, g = case
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = rng.standard_normal((K, C // g, k, k)).astype(np.float32)
    dy = rng.standard_normal(R.conv2d(x, w, None, st, p, d, g).shape).astype(np.float32)
    before = _core.gemm_isa()
    taps = _core.conv2d_set_taps(False)
    outs = []
    try:
        for isa in (other, "avx512sim"):
            _core.gemm_set_isa(isa)
            assert _algo(case, 2) == "rows"
            outs.append(_dw(x, w, dy, case, 2)[0])
    finally:
        _core.conv2d_set_taps(taps)
        _core.gemm_set_isa(before)
    assert np.array_equal(outs[0], outs[1])


def test_rows_weight_gradient_not_on_large_outputs():
    """dy transposed must stay in L1: not for 32 x 32 outputs (the stem)."""
    before = _core.gemm_isa()
    try:
        _core.gemm_set_isa("avx512sim")
        a = _core.conv2d_algorithm
        assert a((16, 3, 64, 64), (64, 3, 7, 7), (2, 2), (3, 3), grad_input=2) != "rows"
        assert a((2, 3, 24, 24), (64, 3, 7, 7), (2, 2), (3, 3), grad_input=2) == "rows"
    finally:
        _core.gemm_set_isa(before)


@pytest.mark.parametrize("isa", ROW_PATHS)
def test_rows_instead_of_winograd_and_col2im_on_small_planes(isa, rng):
    """3x3 on 8x8 from 4 images with 16 channels on one side: the forward on
    rows rather than Winograd, the input gradient as a convolution on rows
    rather than col2im ('same' padding); one image, or more channels on
    both sides, keeps Winograd.  Values against the reference."""
    before = _core.gemm_isa()
    try:
        _core.gemm_set_isa(isa)
        a = _core.conv2d_algorithm
        assert a((6, 16, 8, 8), (32, 16, 3, 3), (1, 1), (1, 1)) == "rows"
        assert a((6, 16, 8, 8), (32, 16, 3, 3), (1, 1), (1, 1), grad_input=1) == "rows"
        assert a((6, 32, 8, 8), (16, 32, 3, 3), (1, 1), (1, 1)) == "rows"
        assert a((1, 16, 8, 8), (32, 16, 3, 3), (1, 1), (1, 1)) == "winograd"
        assert a((6, 32, 8, 8), (64, 32, 3, 3), (1, 1), (1, 1)) == "winograd"
        assert a((6, 32, 8, 8), (64, 32, 3, 3), (1, 1), (1, 1), grad_input=1) == "winograd"
        assert a((6, 16, 16, 16), (32, 16, 3, 3), (1, 1), (1, 1)) == "winograd"
        for dtype in (np.float32, np.float64):
            x = rng.standard_normal((6, 16, 8, 8)).astype(dtype)
            w = rng.standard_normal((32, 16, 3, 3)).astype(dtype)
            b = rng.standard_normal(32).astype(dtype)
            yr = R.conv2d(x, w, b, 1, 1)
            dy = rng.standard_normal(yr.shape).astype(dtype)
            dxr = R.conv2d_backward(x, w, dy, 1, 1)[0]
            tol = 1e-4 if dtype == np.float32 else 1e-10
            outs = []
            for nt in (1, 2):
                y = np.empty_like(yr)
                _core.conv2d_fwd(x, w, b, y, 1, 1, 1, 1, nt)
                dx = np.empty_like(x)
                _core.conv2d_bwd(x, w, dy, dx, None, None, 1, 1, 1, 1, nt)
                np.testing.assert_allclose(y, yr, rtol=tol, atol=tol * np.abs(yr).max())
                np.testing.assert_allclose(dx, dxr, rtol=tol, atol=tol * np.abs(dxr).max())
                outs.append((y, dx))
            assert np.array_equal(outs[0][0], outs[1][0]) and np.array_equal(outs[0][1], outs[1][1])
    finally:
        _core.gemm_set_isa(before)


@pytest.mark.parametrize("path", ROW_PATHS, indirect=True)
@pytest.mark.parametrize("shape", [
    (2, 32, 16, 16, 32, 7, 3),     # 7 x 7 on 16 x 16: 8 + 8 pixel tiles
    (3, 16, 14, 14, 32, 5, 2),     # 5 x 5 on 14 x 14: one tile touching both ends
    (2, 32, 12, 12, 16, 5, 2)])    # 16 outputs: the half-panel kernel
def test_padding_columns_left_out(path, shape):
    """The row path leaves out the taps that read a row's zero padding at
    its left and right ends, as it leaves out whole kernel rows in the
    padding (and as PyTorch's oneDNN kernels do): an infinite weight in a
    kernel column makes no NaN at the output columns where that column
    lies in the padding, in the forward and in the input gradient."""
    n, c, h, w_, k, r, p = shape
    geom = ((n, c, h, w_), (k, c, r, r), (1, 1), (p, p), (1, 1), 1)
    assert [_core.conv2d_algorithm(*geom, grad_input=q) for q in (0, 1)] == ["rows", "rows"]
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, c, h, w_)).astype(np.float32)
    w = (0.1 * rng.standard_normal((k, c, r, r))).astype(np.float32)
    w[:, :, r // 2, 0] = np.inf            # kernel column 0: padding for the first p columns
    y = F.conv2d(fastnn.tensor(x), fastnn.tensor(w), padding=p).numpy()
    assert np.isfinite(y[..., :p]).all()
    assert not np.isfinite(y[..., p:]).any()
    w2 = (0.1 * rng.standard_normal((k, c, r, r))).astype(np.float32)
    ok = np.isfinite(y)
    w2[:, :, r // 2, r - 1] = np.inf        # the last column: padding for the last p columns
    y2 = F.conv2d(fastnn.tensor(x), fastnn.tensor(w2), padding=p).numpy()
    assert np.isfinite(y2[..., -p:]).all() and not np.isfinite(y2[..., :-p]).any()
    torch = pytest.importorskip("torch")
    want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=p).numpy()
    assert np.array_equal(ok, np.isfinite(want))
    np.testing.assert_allclose(y[ok], want[ok], rtol=1e-4, atol=1e-4)
    # the input gradient (a convolution with the flipped kernel): the same
    # finite pattern as PyTorch's
    dy = rng.standard_normal(y.shape).astype(np.float32)
    xt = fastnn.tensor(x, requires_grad=True)
    dx, = fastnn.autograd.grad(F.conv2d(xt, fastnn.tensor(w), padding=p), xt, fastnn.tensor(dy))
    tx = torch.from_numpy(x).requires_grad_()
    tdx, = torch.autograd.grad(torch.nn.functional.conv2d(tx, torch.from_numpy(w), padding=p),
                               tx, torch.from_numpy(dy))
    okx = np.isfinite(tdx.numpy())
    assert okx.any() and not okx.all()
    assert np.array_equal(np.isfinite(dx.numpy()), okx)
    np.testing.assert_allclose(dx.numpy()[okx], tdx.numpy()[okx], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("path", ROW_PATHS, indirect=True)
@pytest.mark.parametrize("case", [(5, 16, 12, 12, 32, 5), (3, 32, 8, 8, 16, 5),
                                  (2, 16, 10, 9, 32, 7)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_valid_conv_dx_on_rows(path, case, dtype, rng):
    """The input gradient of an unpadded 5 x 5 (or wider) layer on a small
    plane (LeNet's second layer) runs as the flipped-kernel convolution on
    the row path, whose padding (the kernel's width less one) costs nothing
    there: every padding tap is left out (conv2d.c, conv_dx_as_conv).
    Against the reference, the same bits at 1, 2 and 3 threads."""
    N, C, H, W, K, k = case
    assert _core.conv2d_algorithm((N, C, H, W), (K, C, k, k), (1, 1), (0, 0), (1, 1), 1,
                                  grad_input=1) == "rows"
    w = rng.standard_normal((K, C, k, k)).astype(dtype)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    dy = rng.standard_normal((N, K, H - k + 1, W - k + 1)).astype(dtype)
    want = R.conv2d_backward(x, w, dy, 1, 0)[0]
    tol = 1e-4 if dtype == np.float32 else 1e-10
    outs = []
    for nt in (1, 2, 3):
        dx = np.empty(x.shape, dtype)
        _core.conv2d_bwd_data(w, dy, None, dx, 1, 1, 0, 0, nt)
        np.testing.assert_allclose(dx, want, rtol=tol, atol=tol * np.abs(want).max())
        outs.append(dx)
    assert all(np.array_equal(outs[0], o) for o in outs[1:])
