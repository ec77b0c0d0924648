"""fastnn._core conv2d kernels with groups and dilation against the loop
reference: the grouped implicit GEMM (forward, dx as a convolution or by
col2im, dw), the depthwise direct kernels (channel multiplier, strides,
dilation, every tap count), the transposed convolution's entry
(conv2d_bwd_data with a bias) and the bias gradient; float32/float64, 1 and
2 threads, every GEMM kernel path, bitwise thread invariance above the
serial cut-off."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}

# (N, C, H, W, K, R, S, sh, sw, ph, pw, dh, dw, groups)
GROUPED = [
    (2, 4, 7, 9, 6, 3, 2, 1, 1, 1, 0, 1, 1, 2),     # grouped, dx as a convolution
    (3, 8, 9, 8, 8, 3, 3, 2, 1, 1, 1, 1, 1, 4),     # strided rows: dx by col2im
    (2, 6, 8, 11, 9, 3, 3, 1, 2, 2, 1, 1, 1, 3),    # strided columns
    (2, 3, 9, 9, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1),     # dilation 2, padding = reach
    (2, 4, 10, 12, 6, 3, 2, 1, 1, 3, 1, 3, 2, 2),   # dilation (3, 2) and groups
    (1, 2, 8, 8, 3, 2, 3, 2, 2, 3, 3, 2, 1, 1),     # padding past the dilated kernel
    (2, 6, 6, 32, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2),    # OW = 32: the direct B path, grouped
    (2, 4, 6, 32, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2),    # direct B path with dilation
    (2, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 2),   # grouped 3x3: Winograd per group
    (2, 32, 7, 5, 48, 3, 3, 1, 1, 1, 1, 1, 1, 2),   # Winograd per group, odd sizes
    (2, 4, 7, 9, 6, 3, 1, 1, 1, 1, 0, 2, 1, 2),     # one kernel column: B rows read flat
    (3, 6, 5, 7, 9, 1, 1, 1, 1, 0, 0, 1, 1, 3),     # 1x1, 35 pixels: a partial flat panel
    (2, 16, 6, 6, 16, 1, 1, 1, 1, 0, 0, 1, 1, 4),   # grouped 1x1
    (4, 16, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 4), # above the serial cut-off
]

DEPTHWISE = [
    (2, 3, 7, 9, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3),     # 3 x 3, odd sizes
    (2, 4, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 4),     # channel multiplier 2
    (2, 3, 9, 10, 9, 3, 3, 2, 2, 1, 1, 1, 1, 3),    # stride 2, multiplier 3: dx by scatter
    (1, 2, 11, 13, 2, 5, 5, 1, 1, 2, 2, 1, 1, 2),   # 5 x 5: the generic taps
    (2, 2, 9, 9, 2, 3, 3, 1, 1, 2, 2, 2, 2, 2),     # dilation 2
    (2, 2, 9, 9, 4, 3, 2, 1, 2, 3, 0, 2, 3, 2),     # dilation and strided columns
    (2, 3, 6, 6, 3, 3, 3, 1, 1, 3, 3, 1, 1, 3),     # padding past the kernel: scatter
    (1, 2, 5, 5, 2, 5, 5, 1, 1, 0, 0, 1, 1, 2),     # kernel = input
    (2, 2, 4, 20, 2, 3, 3, 1, 1, 1, 1, 1, 1, 2),    # OW = 20: masked tail lanes
    (3, 2, 6, 6, 2, 1, 1, 1, 1, 0, 0, 1, 1, 2),     # 1 x 1
    # the channels-last kernels (one output a channel, >= half a vector of
    # channels, a strided or small output plane): blocks of channels as tiles
    (2, 16, 4, 4, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16),  # 4 x 4 planes, whole blocks
    (3, 20, 8, 8, 20, 3, 3, 2, 2, 1, 1, 1, 1, 20),  # stride 2, a partial block
    (2, 24, 9, 7, 24, 3, 3, 2, 1, 1, 1, 1, 1, 24),  # strided rows, 63 pixels
    (2, 10, 6, 6, 10, 5, 5, 1, 1, 2, 2, 1, 1, 10),  # 5 x 5 taps, 10 channels
    (2, 16, 3, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16),  # 9 pixels: overlapping blocks
    (2, 16, 2, 2, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16),  # 4 pixels: value by value
    (2, 16, 11, 11, 16, 3, 3, 2, 2, 2, 2, 2, 2, 16),  # dilation and stride
    (2, 16, 5, 5, 16, 3, 3, 1, 1, 3, 3, 1, 1, 16),  # padding past the kernel
    (2, 16, 9, 9, 16, 3, 3, 2, 2, 0, 0, 1, 1, 16),  # stride 2 without padding
    (8, 16, 24, 24, 32, 3, 3, 1, 1, 1, 1, 1, 1, 16),  # above the serial cut-off
]


def _arrays(rng, case, dtype):
    N, C, H, W, K, Rk, S, sh, sw, ph, pw, dh, dw, G = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C // G, Rk, S)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    return x, w, b, dict(stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=G)


def _run(x, w, b, dy, geo, nt, grads=(True, True, True)):
    (sh, sw), (ph, pw), (dh, dw), G = geo["stride"], geo["padding"], geo["dilation"], \
        geo["groups"]
    kw = dict(dil_h=dh, dil_w=dw, groups=G)
    y = np.empty(dy.shape, x.dtype)
    _core.conv2d_fwd(x, w, b, y, sh, sw, ph, pw, nt, **kw)
    dx = np.empty_like(x) if grads[0] else None
    dwt = np.empty_like(w) if grads[1] else None
    db = np.empty(w.shape[0], x.dtype) if grads[2] else None
    _core.conv2d_bwd(x, w, dy, dx, dwt, db, sh, sw, ph, pw, nt, **kw)
    return y, dx, dwt, db


def _check(case, dtype, nt, rng):
    x, w, b, geo = _arrays(rng, case, dtype)
    yr = R.conv2d(x, w, b, **geo)
    dy = rng.standard_normal(yr.shape).astype(dtype)
    got = _run(x, w, b, dy, geo, nt)
    want = (yr,) + R.conv2d_backward(x, w, dy, **geo)
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, **TOL[dtype])
    return got


@pytest.mark.parametrize("case", GROUPED + DEPTHWISE)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nt", [1, 2])
def test_grouped_dilated_matches_reference(case, dtype, nt, rng):
    _check(case, dtype, nt, rng)


@pytest.mark.parametrize("isa", ["portable", "avx2", "avx512sim"])
@pytest.mark.parametrize("case", GROUPED[:8])
def test_grouped_every_kernel_path(isa, case, rng):
    before = _core.gemm_isa()
    if _core.gemm_set_isa(isa) != isa:
        _core.gemm_set_isa(before)
        pytest.skip(f"{isa} path not available on this CPU")
    try:
        _check(case, np.float32, 2, rng)
        _check(case, np.float64, 1, rng)
    finally:
        _core.gemm_set_isa(before)


@pytest.mark.parametrize("case", [GROUPED[-1], DEPTHWISE[-1],
                                  (4, 64, 16, 16, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2),
                                  (16, 32, 24, 24, 32, 3, 3, 2, 2, 1, 1, 1, 1, 32),
                                  (8, 16, 17, 17, 32, 3, 3, 2, 2, 1, 1, 1, 1, 4),
                                  (64, 128, 8, 8, 128, 3, 3, 1, 1, 1, 1, 1, 1, 128),
                                  (16, 32, 24, 24, 64, 3, 3, 2, 2, 1, 1, 1, 1, 32)])
def test_thread_invariance_above_cutoff(case, rng):
    x, w, b, geo = _arrays(rng, case, np.float32)
    N, K = x.shape[0], w.shape[0]
    OH, OW = _core.conv2d_out_size(*x.shape[2:], *w.shape[2:], *geo["stride"], *geo["padding"],
                                   *geo["dilation"])
    assert N * K * OH * OW * w[0].size >= 1 << 19      # parallel path taken
    dy = rng.standard_normal((N, K, OH, OW)).astype(np.float32)
    r1 = _run(x, w, b, dy, geo, 1)
    r2 = _run(x, w, b, dy, geo, 2)
    for a, c in zip(r1, r2):
        assert np.array_equal(a, c)


def test_partial_gradients_and_fused_relu(rng):
    for case in (DEPTHWISE[1], DEPTHWISE[11], GROUPED[0], GROUPED[8],
                 GROUPED[11]):   # direct, channels-last, ig, Winograd, flat
        x, w, b, geo = _arrays(rng, case, np.float64)
        yr = R.conv2d(x, w, b, **geo)
        dy = rng.standard_normal(yr.shape)
        want = R.conv2d_backward(x, w, dy, **geo)
        for grads in [(True, False, False), (False, True, False), (False, False, True)]:
            got = _run(x, w, b, dy, geo, 2, grads)[1:]
            for g, r, on in zip(got, want, grads):
                assert (g is not None) == on
                if on:
                    np.testing.assert_allclose(g, r, **TOL[np.float64])
        y = np.empty_like(yr)
        (sh, sw), (ph, pw), (dh, dw) = geo["stride"], geo["padding"], geo["dilation"]
        _core.conv2d_fwd(x, w, b, y, sh, sw, ph, pw, 2, True, dh, dw, geo["groups"])
        np.testing.assert_array_equal(y, np.maximum(_run(x, w, b, dy, geo, 2)[0], 0))


def test_depthwise_nan_and_inf_stay_local(rng):
    """A NaN or inf reaches exactly the outputs (and weight-gradient taps)
    whose window holds it -- the masked tail lanes of the weight gradient
    (OW = 20: 16 + 4 lanes in float32) add nothing."""
    for bad in (np.inf, np.nan):
        x = rng.standard_normal((1, 2, 5, 20)).astype(np.float32)
        x[0, 0, 2, 19] = bad                # last column
        w = rng.standard_normal((2, 1, 3, 3)).astype(np.float32)
        geo = dict(stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=2)
        dy = np.ones((1, 2, 5, 20), np.float32)
        y, dx, dw, db = _run(x, w, None, dy, geo, 1)
        assert not np.isfinite(y[0, 0, 1:4, 18:20]).any() and np.isfinite(y[0, 1]).all()
        assert np.isfinite(y[0, 0]).sum() == 100 - 6
        # taps s = 1, 2 read column 19 from outputs 19, 18; tap s = 0 only
        # from the lane past OW, which must add nothing
        assert not np.isfinite(dw[0, 0, :, 1:]).any()
        wr = R.conv2d_backward(np.nan_to_num(x, nan=0.0, posinf=0.0), w, dy, **geo)[1]
        np.testing.assert_allclose(dw[0, 0, :, 0], wr[0, 0, :, 0], **TOL[np.float32])
        np.testing.assert_allclose(dw[1], wr[1], **TOL[np.float32])


def test_depthwise_channels_last_nan_stays_in_its_channel(rng):
    """On the channels-last path (channels are vector lanes, 20 channels: a
    whole block and a partial one) a NaN or inf in one channel reaches only
    that channel's outputs, input gradient and weight-gradient taps; the
    zero lanes past the last channel add nothing."""
    geo = dict(stride=(2, 2), padding=(1, 1), dilation=(1, 1), groups=20)
    assert _core.conv2d_algorithm((2, 20, 8, 8), (20, 1, 3, 3), (2, 2), (1, 1), (1, 1),
                                  20) == "depthwise-cl"
    for bad in (np.inf, np.nan):
        for ch in (3, 17):                  # in the whole block, in the partial one
            x = rng.standard_normal((2, 20, 8, 8)).astype(np.float32)
            x[1, ch, 4, 4] = bad
            w = rng.standard_normal((20, 1, 3, 3)).astype(np.float32)
            dy = rng.standard_normal((2, 20, 4, 4)).astype(np.float32)
            dy[0, ch, 1, 1] = bad
            y, dx, dw, db = _run(x, w, None, dy, geo, 2)
            others = [c for c in range(20) if c != ch]
            assert np.isfinite(y[:, others]).all() and not np.isfinite(y[1, ch]).all()
            assert np.isfinite(y[0, ch]).all()
            assert np.isfinite(dx[:, others]).all() and not np.isfinite(dx[0, ch]).all()
            assert np.isfinite(dw[others]).all() and not np.isfinite(dw[ch]).all()
            assert np.isfinite(db[others]).all() and not np.isfinite(db[ch])
            xr = np.nan_to_num(x, nan=0.0, posinf=0.0)
            dyr = np.nan_to_num(dy, nan=0.0, posinf=0.0)
            want = (R.conv2d(xr, w, None, **geo),) + R.conv2d_backward(xr, w, dyr, **geo)
            # y and dx are (N, C, ...), dw and db (C, ...): the other channels
            for g, r, axis in zip((y, dx, dw, db), want, (1, 1, 0, 0)):
                np.testing.assert_allclose(np.take(g, others, axis), np.take(r, others, axis),
                                           **TOL[np.float32])


# (N, C_in, H, W, C_out, R, S, stride, padding, output_padding, dilation)
TRANSPOSED = [
    (2, 4, 5, 6, 3, 4, 4, 2, 1, 0, 1),
    (2, 3, 4, 5, 2, 3, 3, 2, 1, 1, 1),      # output_padding
    (1, 2, 5, 5, 4, 3, 3, 1, 0, 0, 1),      # stride 1: the flipped-kernel pass
    (2, 3, 4, 4, 2, 3, 2, 3, 2, 2, 2),      # dilation, stride > kernel
    (2, 8, 6, 6, 16, 3, 3, 1, 1, 0, 1),     # Winograd-sized stride-1 pass
]


@pytest.mark.parametrize("case", TRANSPOSED)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nt", [1, 2])
def test_bwd_data_is_the_transposed_convolution(case, dtype, nt, rng):
    N, Ci, H, W, Co, Rk, S, st, p, op, d = case
    x = rng.standard_normal((N, Ci, H, W)).astype(dtype)
    w = rng.standard_normal((Ci, Co, Rk, S)).astype(dtype)
    b = rng.standard_normal(Co).astype(dtype)
    yr = R.conv_transpose2d(x, w, b, st, p, op, 1, d)
    y = np.empty(yr.shape, dtype)
    _core.conv2d_bwd_data(w, x, b, y, st, st, p, p, nt, d, d, 1)
    np.testing.assert_allclose(y, yr, **TOL[dtype])
    db = np.empty(Co, dtype)
    _core.conv2d_bwd_bias(y - b[:, None, None], db, nt)
    np.testing.assert_allclose(db, (yr - b[:, None, None]).sum(axis=(0, 2, 3)), **TOL[dtype])


def test_bias_gradient_thread_invariant(rng):
    t = rng.standard_normal((16, 8, 33, 35)).astype(np.float32)
    a, c = np.empty(8, np.float32), np.empty(8, np.float32)
    _core.conv2d_bwd_bias(t, a, 1)
    _core.conv2d_bwd_bias(t, c, 2)
    assert np.array_equal(a, c)
    np.testing.assert_allclose(a, t.astype(np.float64).sum(axis=(0, 2, 3)), rtol=1e-6)
    _core.conv2d_bwd_bias(np.zeros((0, 8, 3, 3), np.float32), a, 2)
    assert not a.any()


def test_bad_groups_and_dilation_raise():
    x = np.zeros((2, 4, 6, 6), np.float32)
    y = np.zeros((2, 4, 4, 4), np.float32)
    with pytest.raises(ValueError, match="groups"):
        _core.conv2d_fwd(x, np.zeros((4, 2, 3, 3), np.float32), None, y, groups=3)
    with pytest.raises(ValueError, match="geometry"):     # K not a multiple of groups
        _core.conv2d_fwd(x, np.zeros((3, 2, 3, 3), np.float32), None, y, groups=2)
    with pytest.raises(ValueError, match="geometry"):     # dilated kernel too large
        _core.conv2d_fwd(x, np.zeros((4, 4, 3, 3), np.float32), None, y, dil_h=4)
    with pytest.raises(ValueError, match="geometry"):
        _core.conv2d_fwd(x, np.zeros((4, 4, 3, 3), np.float32), None, y, dil_w=0)
    assert _core.conv2d_out_size(9, 9, 3, 3, 1, 1, 0, 0, 2, 3) == (5, 3)
    assert _core.conv2d_out_size(4, 9, 3, 3, 1, 1, 0, 0, 2, 1) is None


@pytest.mark.parametrize("shape, stride", [((3, 20, 8, 8), 2), ((2, 64, 16, 16), 1),
                                           ((2, 40, 7, 9), 1)])
def test_depthwise_cl_same_bits_on_every_path(shape, stride, rng):
    """The channels-last forward's and weight gradient's tiles on the
    AVX-512 path (64-byte
    vectors) and on the others (32-byte halves, one half at a time): the
    same bits, with bias, partial channel blocks and rows not a multiple of
    4 pixels; on a CPU without AVX-512, AVX2 against the emulated path."""
    n, c, h, w_ = shape
    geo = dict(stride=(stride, stride), padding=(1, 1), dilation=(1, 1), groups=c)
    assert _core.conv2d_algorithm(shape, (c, 1, 3, 3), geo["stride"], (1, 1), (1, 1),
                                  c) == "depthwise-cl"
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((c, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    want = R.conv2d(x, w, b, **geo)
    dy = rng.standard_normal(want.shape).astype(np.float32)
    paths = ["avx2", "avx512sim"] + (["avx512"] if _core.cpu_best_isa() == "avx512" else [])
    outs = []
    try:
        for isa in paths:
            _core.gemm_set_isa(isa)
            y, _, dw, db = _run(x, w, b, dy, geo, 2, grads=(False, True, True))
            outs.append((y, dw, db))
    finally:
        _core.gemm_set_isa("auto")
    _, dwr, dbr = R.conv2d_backward(x, w, dy, **geo)
    for got, ref in zip(outs[0], (want, dwr, dbr)):
        np.testing.assert_allclose(got, ref, **TOL[np.float32])
    for other in outs[1:]:
        for a, c in zip(other, outs[0]):
            assert np.array_equal(a, c)
