"""The wide implicit-GEMM path (csrc/conv_igemm.inc, ig_item_wide): stride-1
convolutions whose output rows are not whole micro-kernel panels run their
GEMM columns over the padded width.  Each case first asserts that the path
is taken (``_core.conv2d_algorithm``), then checks forward, fused ReLU and
input gradient against the loop reference on every kernel path, float32 and
float64, and 1, 2 and 3 threads bitwise equal."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

TOL = {np.float32: (2e-4, 2e-6), np.float64: (1e-10, 1e-13)}


def _close(a, want):
    """Within rtol, and atol relative to the largest |want| (sums of up to
    630 terms cancel to near zero)."""
    rtol, atol = TOL[want.dtype.type]
    np.testing.assert_allclose(a, want, rtol=rtol, atol=atol * max(np.abs(want).max(), 1.0))

# (N, C, H, W, K, R, S, ph, pw, dil, groups)
WIDE = [
    (3, 16, 14, 14, 40, 5, 5, 2, 2, 1, 1),   # LeNet-style 5x5, OW = 14 (40 outputs: not
                                             # whole 32-channel panels, so not 'rows')
    (2, 4, 20, 20, 8, 5, 5, 0, 0, 1, 1),     # no padding, OW = 16 < W
    (2, 24, 9, 17, 10, 3, 2, 1, 0, 1, 2),    # groups, non-square kernel, odd sizes
    (2, 4, 11, 13, 7, 3, 3, 2, 2, 2, 1),     # dilation 2
    (1, 5, 6, 40, 12, 7, 7, 3, 3, 1, 1),     # 7x7, OW = 40: panels straddle rows
    (2, 70, 7, 21, 9, 3, 3, 1, 1, 1, 1),     # CRS = 630: several k blocks
    # above the serial cut-off, so 2 and 3 threads really split the items:
    (4, 16, 20, 20, 24, 5, 5, 2, 2, 1, 1),
]


def _geom(case):
    N, C, H, W, K, Rk, S, ph, pw, dil, g = case
    return (N, C, H, W), (K, C // g, Rk, S), (ph, pw), dil, g


def _forward(x, w, b, case, nt, relu=False):
    _, _, (ph, pw), dil, g = _geom(case)
    OH, OW = _core.conv2d_out_size(x.shape[2], x.shape[3], w.shape[2], w.shape[3], 1, 1,
                                   ph, pw, dil, dil)
    y = np.empty((x.shape[0], w.shape[0], OH, OW), x.dtype)
    _core.conv2d_fwd(x, w, b, y, 1, 1, ph, pw, nt, relu=relu, dil_h=dil, dil_w=dil, groups=g)
    return y


def _grad_input(x, w, dy, case, nt):
    _, _, (ph, pw), dil, g = _geom(case)
    dx = np.empty_like(x)
    _core.conv2d_bwd(x, w, dy, dx, None, None, 1, 1, ph, pw, nt, dil_h=dil, dil_w=dil,
                     groups=g)
    return dx


@pytest.mark.parametrize("case", WIDE)
def test_wide_path_is_taken(case):
    """On the AVX-512 path's 32-column panels (its emulation, so on any
    CPU: on AVX2's 16-column panels a 16-pixel row is whole, 'direct')."""
    xs, ws, pad, dil, g = _geom(case)
    before = _core.gemm_isa()
    try:
        _core.gemm_set_isa("avx512sim")
        assert _core.conv2d_algorithm(xs, ws, (1, 1), pad, (dil, dil), g) == "wide"
    finally:
        _core.gemm_set_isa(before)


@pytest.mark.parametrize("case", WIDE)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_wide_matches_reference(isa, case, dtype, rng):
    """(isa: each kernel path this CPU runs, the fixture of conftest.py)"""
    xs, ws, pad, dil, g = _geom(case)
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    yr = R.conv2d(x, w, b, 1, pad, dil, g)
    dy = rng.standard_normal(yr.shape).astype(dtype)
    dxr = R.conv2d_backward(x, w, dy, 1, pad, dil, g)[0]
    _close(_forward(x, w, b, case, 1), yr)
    _close(_forward(x, w, b, case, 2, relu=True), np.maximum(yr, 0))
    _close(_forward(x, w, None, case, 1), yr - b[:, None, None])
    _close(_grad_input(x, w, dy, case, 2), dxr)


@pytest.mark.parametrize("case", WIDE[-2:])
def test_wide_thread_invariant(case, rng):
    xs, ws, _, _, _ = _geom(case)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32)
    y1 = _forward(x, w, b, case, 1)
    dy = rng.standard_normal(y1.shape).astype(np.float32)
    d1 = _grad_input(x, w, dy, case, 1)
    for nt in (2, 3):
        assert np.array_equal(_forward(x, w, b, case, nt), y1)
        assert np.array_equal(_grad_input(x, w, dy, case, nt), d1)


def test_wide_nan_stays_in_its_outputs(rng):
    """A NaN in the input reaches only the outputs whose window covers it
    (the dropped columns past each row must not leak into kept ones)."""
    case = WIDE[0]
    xs, ws, _, _, _ = _geom(case)
    x = rng.standard_normal(xs).astype(np.float32)
    x[0, 0, 0, 0] = np.nan
    w = rng.standard_normal(ws).astype(np.float32)
    y = _forward(x, w, None, case, 1)
    bad = np.isnan(y)
    assert bad[0, :, :3, :3].all() and bad.sum() == ws[0] * 9


def test_algorithm_names_every_method():
    a = _core.conv2d_algorithm
    assert a((2, 8, 32, 32), (8, 1, 3, 3), (1, 1), (1, 1), (1, 1), 8) == "depthwise"
    assert a((2, 4, 8, 8), (8, 1, 3, 3), (1, 1), (1, 1), (1, 1), 4) == "depthwise"   # m = 2
    for xs, st in (((2, 8, 8, 8), (1, 1)), ((2, 64, 32, 32), (2, 2))):   # small plane, stride
        assert a(xs, (xs[1], 1, 3, 3), st, (1, 1), (1, 1), xs[1], 1) == "depthwise-cl"
    assert a((2, 32, 8, 8), (32, 32, 3, 3), (1, 1), (1, 1)) == "winograd"
    assert a((2, 4, 8, 64), (8, 4, 3, 3), (1, 1), (1, 1)) == "direct"
    assert a((2, 128, 32, 32), (128, 128, 3, 3), (2, 2), (1, 1)) == "packed"   # 1152 taps
    assert a((2, 64, 16, 16), (64, 64, 3, 3), (2, 2), (1, 1), grad_input=1) == "col2im"
    before = _core.gemm_isa()
    try:   # (on the AVX-512 path and its emulation; 'wide' elsewhere)
        _core.gemm_set_isa("avx512sim")
        assert a((2, 16, 14, 14), (32, 16, 5, 5), (1, 1), (2, 2)) == "rows"
    finally:
        _core.gemm_set_isa(before)
    with pytest.raises(ValueError):
        a((2, 3, 8, 8), (8, 4, 3, 3))


# Stride 2 with an even kernel: the stride-1 pass on the space-to-depth
# rearranged input (N, C, H, W, K, kernel, padding)
S2D = [
    (3, 4, 40, 40, 6, 4, 1),     # DCGAN's Conv2d(., ., 4, 2, 1)
    (2, 5, 31, 33, 7, 2, 0),     # 2x2 stride 2, odd sizes
    (2, 4, 25, 27, 5, 6, 2),     # 6x6
    (1, 1, 1, 1, 3, 2, 1),       # 1x1 image: one phase has no column inside
    (1, 3, 5, 6, 4, 4, 3),       # padding past the kernel's half
    (4, 16, 36, 36, 24, 4, 1),   # above the serial cut-off
]


@pytest.mark.parametrize("case", S2D)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_s2d_matches_reference(case, dtype, rng):
    N, C, H, W, K, k, p = case
    assert _core.conv2d_algorithm((N, C, H, W), (K, C, k, k), (2, 2), (p, p)) == "s2d"
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C, k, k)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    yr = R.conv2d(x, w, b, 2, p)
    for nt, relu in ((1, False), (2, True), (3, False)):
        y = np.empty(yr.shape, dtype)
        _core.conv2d_fwd(x, w, b, y, 2, 2, p, p, nt, relu=relu)
        _close(y, np.maximum(yr, 0) if relu else yr)
    y1, y3 = np.empty(yr.shape, dtype), np.empty(yr.shape, dtype)
    _core.conv2d_fwd(x, w, b, y1, 2, 2, p, p, 1)
    _core.conv2d_fwd(x, w, b, y3, 2, 2, p, p, 3)
    assert np.array_equal(y1, y3)


def test_s2d_not_for_odd_kernels_or_groups():
    a = _core.conv2d_algorithm
    assert a((2, 8, 32, 32), (8, 8, 3, 3), (2, 2), (1, 1)) == "packed"
    assert a((2, 8, 32, 32), (8, 4, 4, 4), (2, 2), (1, 1), (1, 1), 2) == "packed"


# Small outputs: packed blocks running across the images ('packed-batch')
# (N, C, H, W, K, kernel, stride, padding, groups)
XI = [
    (5, 16, 4, 4, 40, 3, 1, 1, 1),     # 4x4 images, 16 per block (40 outputs: not "rows")
    (3, 3, 7, 7, 90, 3, 1, 1, 1),      # 49 columns: images straddle panels (90
                                       # outputs: too many for the wide path)
    (4, 6, 8, 8, 10, 3, 2, 1, 2),      # stride 2, groups
    (3, 70, 5, 5, 20, 3, 1, 1, 1),     # CRS = 630: several k blocks
    (2, 4, 11, 11, 44, 5, 1, 0, 1),    # 7x7 output of a 5x5 kernel
    (40, 16, 4, 4, 24, 3, 1, 1, 1),    # 640 columns: several blocks; above the cut-off
    (3, 5, 4, 4, 20, 7, 1, 3, 1),      # 7x7 kernel: more taps than the offset table holds
]
# (the same, dilated: N, C, H, W, K, kernel, padding, dilation)
XI_DIL = [(4, 6, 4, 4, 12, 3, 2, 2), (4, 6, 6, 6, 12, 3, 1, 2), (3, 4, 9, 7, 12, 3, 1, (2, 3))]


@pytest.mark.parametrize("case", XI)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_image_matches_reference(case, dtype, rng):
    N, C, H, W, K, k, st, p, g = case
    before = _core.conv2d_set_winograd(False)
    try:
        assert _core.conv2d_algorithm((N, C, H, W), (K, C // g, k, k), (st, st), (p, p),
                                      (1, 1), g) == "packed-batch"
        x = rng.standard_normal((N, C, H, W)).astype(dtype)
        w = rng.standard_normal((K, C // g, k, k)).astype(dtype)
        b = rng.standard_normal(K).astype(dtype)
        yr = R.conv2d(x, w, b, st, p, 1, g)
        ys = []
        for nt, relu in ((1, False), (2, True), (3, False)):
            y = np.empty(yr.shape, dtype)
            _core.conv2d_fwd(x, w, b, y, st, st, p, p, nt, relu=relu, groups=g)
            _close(y, np.maximum(yr, 0) if relu else yr)
            if not relu:
                ys.append(y)
        assert np.array_equal(ys[0], ys[1])
    finally:
        _core.conv2d_set_winograd(before)


@pytest.mark.parametrize("case", XI_DIL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_image_dilated_matches_reference(case, dtype, rng):
    N, C, H, W, K, k, p, d = case
    dh, dw = d if isinstance(d, tuple) else (d, d)
    before = _core.conv2d_set_winograd(False)
    try:
        assert _core.conv2d_algorithm((N, C, H, W), (K, C, k, k), (1, 1), (p, p),
                                      (dh, dw)) == "packed-batch"
        x = rng.standard_normal((N, C, H, W)).astype(dtype)
        w = rng.standard_normal((K, C, k, k)).astype(dtype)
        b = rng.standard_normal(K).astype(dtype)
        yr = R.conv2d(x, w, b, 1, p, (dh, dw))
        outs = []
        for nt in (1, 2):
            y = np.empty(yr.shape, dtype)
            _core.conv2d_fwd(x, w, b, y, 1, 1, p, p, nt, dil_h=dh, dil_w=dw)
            _close(y, yr)
            outs.append(y)
        assert np.array_equal(outs[0], outs[1])
    finally:
        _core.conv2d_set_winograd(before)


# "same" convolutions on small planes (dy of at most 64 pixels) with more
# than 4 input channels: the input gradient runs as the flipped-kernel
# convolution (conv2d.c, conv_dx_as_conv), whatever method that pass takes
SMALL_SAME = [(6, 16, 4, 4, 32, 3, 1), (3, 32, 4, 4, 16, 5, 2), (4, 8, 6, 6, 16, 3, 1),
              (2, 96, 8, 8, 48, 5, 2), (3, 12, 5, 7, 20, 3, 1)]


@pytest.mark.parametrize("case", SMALL_SAME)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_plane_dx_as_convolution(case, dtype, rng):
    N, C, H, W, K, k, p = case
    assert _core.conv2d_algorithm((N, C, H, W), (K, C, k, k), (1, 1), (p, p), (1, 1), 1,
                                  1) != "col2im"
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C, k, k)).astype(dtype)
    dy = rng.standard_normal((N, K, H, W)).astype(dtype)
    want = R.conv2d_backward(x, w, dy, 1, p)[0]
    outs = []
    for nt in (1, 2):
        dx = np.empty(x.shape, dtype)
        _core.conv2d_bwd_data(w, dy, None, dx, 1, 1, p, p, nt)
        _close(dx, want)
        outs.append(dx)
    assert np.array_equal(outs[0], outs[1])


# the col2im input gradient at stride 1 (padding past the flipped kernel's,
# or few channels): on the AVX-512 path a destination row of up to 64 values
# is summed in registers (im2col.inc, col2im_plane_avx512) in the scatter's
# order -- the same bits as the other paths
COL2IM = [(4, 12, 12, 12, 32, 5, 0, 1), (3, 3, 20, 64, 8, 3, 0, 1), (2, 4, 9, 17, 4, 3, 1, 2),
          (2, 2, 7, 70, 5, 5, 0, 1), (3, 4, 11, 33, 6, 7, 1, 1)]


@pytest.mark.parametrize("case", COL2IM)
def test_col2im_dx_every_path_same_bits(case, rng):
    N, C, H, W, K, k, p, dil = case
    assert _core.conv2d_algorithm((N, C, H, W), (K, C, k, k), (1, 1), (p, p), (dil, dil), 1,
                                  1) == "col2im"
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = rng.standard_normal((K, C, k, k)).astype(np.float32)
    b = rng.standard_normal(C).astype(np.float32)
    OH, OW = H + 2 * p - dil * (k - 1), W + 2 * p - dil * (k - 1)
    dy = rng.standard_normal((N, K, OH, OW)).astype(np.float32)
    want = (R.conv2d_backward(x, w, dy, 1, p, dil)[0] + b[None, :, None, None]).astype(np.float32)
    isas = ["portable", "avx2"] + (["avx512"] if _core.cpu_best_isa() == "avx512" else [])
    outs = []
    try:
        for isa in isas:
            _core.gemm_set_isa(isa)
            for nt in (1, 2):
                dx = np.empty(x.shape, np.float32)
                _core.conv2d_bwd_data(w, dy, b, dx, 1, 1, p, p, nt, dil_h=dil, dil_w=dil)
                _close(dx, want)
                outs.append(dx)
    finally:
        _core.gemm_set_isa("auto")
    # the paths' GEMMs may round differently: same bits across thread counts
    # on each path (the col2im alone: test_col2im_rows_same_bits_every_path)
    for i in range(0, len(outs), 2):
        assert np.array_equal(outs[i], outs[i + 1])


@pytest.mark.parametrize("case", COL2IM + [(2, 3, 5, 5, 1, 3, 2, 2), (1, 2, 4, 80, 1, 3, 1, 1),
                                   # blocks of 8 / 4 register rows: a short last block,
                                   # fewer rows than a block, padding past the kernel
                                   (2, 3, 13, 16, 4, 5, 2, 1), (1, 2, 3, 30, 2, 3, 1, 1),
                                   (2, 2, 19, 9, 3, 3, 3, 2)])
def test_col2im_rows_same_bits_every_path(case, rng):
    # the scatter-add alone (F.fold's kernel), stride 1: the AVX-512 form's
    # register rows give the other paths' bits, with a reference check
    N, C, H, W, _, k, p, dil = case
    _fold_every_path(rng, N, C, H, W, k, p, dil, 1, 1, (2,))


def _fold_every_path(rng, N, C, H, W, k, p, dil, sh, sw, threads):
    """fold_fwd of random columns on every kernel path and thread count:
    the float64 scatter's values, the same bits everywhere."""
    OH = (H + 2 * p - dil * (k - 1) - 1) // sh + 1
    OW = (W + 2 * p - dil * (k - 1) - 1) // sw + 1
    col = rng.standard_normal((N, C * k * k, OH * OW)).astype(np.float32)
    ref = np.zeros((N, C, H + 2 * p + sh * k, W + 2 * p + sw * k))
    c6 = col.reshape(N, C, k, k, OH, OW).astype(np.float64)
    for r in range(k):
        for s in range(k):
            ref[:, :, r * dil:r * dil + sh * OH:sh, s * dil:s * dil + sw * OW:sw] += c6[:, :, r, s]
    ref = ref[:, :, p:p + H, p:p + W].astype(np.float32)
    isas = ["portable", "avx2"] + (["avx512"] if _core.cpu_best_isa() == "avx512" else [])
    outs = []
    try:
        for isa in isas:
            _core.gemm_set_isa(isa)
            for nt in threads:
                out = np.empty((N, C, H, W), np.float32)
                _core.fold_fwd(col, out, (k, k), (dil, dil), (p, p), (sh, sw), nt)
                _close(out, ref)
                outs.append(out)
    finally:
        _core.gemm_set_isa("auto")
    for o in outs[1:]:
        assert np.array_equal(o, outs[0])


# the col2im input gradient on small outputs runs blocks of several images
# side by side (conv2d.inc, dxf_make: at least 256 columns a GEMM): each
# image gets the bits it gets alone, at every thread count, with a short
# last block and with groups
# (LeNet's second layer, 16 -> 32, runs its input gradient on the row path
# where the CPU has it: 12 input channels keep this one on col2im)
BLOCKS = [(10, 12, 12, 12, 32, 5, 1),    # LeNet-like: 64 columns, blocks 4 4 2
          (7, 4, 6, 6, 8, 3, 2),         # 16 columns: one block of 7, groups
          (9, 6, 9, 7, 6, 3, 3)]         # 35 columns: blocks of 8 and 1, groups


@pytest.mark.parametrize("case", BLOCKS)
def test_col2im_dx_image_blocks(case, rng):
    N, C, H, W, K, k, G = case
    assert _core.conv2d_algorithm((N, C, H, W), (K, C // G, k, k), (1, 1), (0, 0), (1, 1), G,
                                  1) == "col2im"
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = rng.standard_normal((K, C // G, k, k)).astype(np.float32)
    dy = rng.standard_normal((N, K, H - k + 1, W - k + 1)).astype(np.float32)
    want = R.conv2d_backward(x, w, dy, 1, 0, 1, groups=G)[0]
    outs = []
    for nt in (1, 2, 3):
        dx = np.empty_like(x)
        _core.conv2d_bwd(x, w, dy, dx, None, None, 1, 1, 0, 0, nt, 1, 1, G)
        _close(dx, want)
        outs.append(dx)
    for o in outs[1:]:
        assert np.array_equal(o, outs[0])
    if K // G > 16 and (H - k + 1) * (W - k + 1) > 16:   # (the same GEMM path alone)
        for n in range(N):
            one = np.empty_like(x[n:n + 1])
            _core.conv2d_bwd(x[n:n + 1], w, dy[n:n + 1], one, None, None, 1, 1, 0, 0, 2, 1, 1, G)
            assert np.array_equal(one[0], outs[0][n])


# the scatter at a column stride of 2 or more on the AVX-512 path: each
# destination register filled by masked expanding loads, in the scatter's
# (r, s) order -- the other paths' bits (F.fold's kernel; a transposed
# convolution's forward)
STRIDED = [(2, 3, 32, 32, 4, 1, 1, 2, 2),    # ConvTranspose2d(., ., 4, 2, 1)'s output
           (1, 2, 15, 17, 3, 0, 1, 2, 2),    # odd sizes
           (2, 2, 20, 64, 5, 2, 1, 1, 3),    # four registers, row stride 1
           (1, 3, 11, 40, 3, 1, 2, 3, 2),    # dilation, row stride 3
           (1, 1, 9, 9, 7, 3, 1, 2, 4),      # padding past the kernel's reach
           (1, 2, 8, 70, 3, 1, 1, 2, 2)]     # wider than 64: the scatter


@pytest.mark.parametrize("case", STRIDED)
def test_col2im_strided_same_bits_every_path(case, rng):
    N, C, H, W, k, p, dil, sh, sw = case
    _fold_every_path(rng, N, C, H, W, k, p, dil, sh, sw, (1, 2))
