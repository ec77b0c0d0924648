"""Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (csrc/winograd.inc):
forward, the fused ReLU, the backward data and the weight and bias
gradients against the float64 NumPy reference and against the implicit GEMM, at shapes that hit every tiling
edge (odd output sizes, tile rows shorter and longer than a panel, several
tile blocks per image, several k blocks, output channels off the register
block), on every GEMM kernel path, bitwise the same at any thread count."""
import numpy as np
import pytest

import fastnn
from fastnn import _core
from fastnn.testing import reference as ref

# (N, C, H, W, K, padding)
SHAPES = [
    (2, 16, 8, 8, 16, 1),      # the smallest qualifying channel counts
    (3, 17, 9, 9, 19, 1),      # odd output height and width
    (1, 32, 10, 10, 16, 0),    # no padding: 8 x 8 output
    (2, 16, 6, 6, 33, 2),      # padding 2, output channels past a register block
    (1, 24, 40, 40, 20, 1),    # 400 tiles: several tile blocks per image
    (2, 16, 3, 70, 16, 1),     # 35 tiles per tile row (longer than any panel)
    (1, 300, 8, 8, 16, 1),     # 300 input channels: several k blocks
    (2, 16, 2, 41, 16, 1),     # one tile row, odd width
    (2, 16, 1, 1, 16, 1),      # one output pixel (not taken: the direct method)
    (2, 16, 4, 4, 16, 1),      # 16 outputs: below FNN_WINO_MIN_OHW (not taken)
    (9, 80, 8, 8, 40, 1),      # 16 tiles an image: several images an item, the last short
    (7, 16, 9, 8, 16, 1),      # 20 tiles an image: images cut across panels
]
IDS = [f"N{s[0]}C{s[1]}H{s[2]}W{s[3]}K{s[4]}p{s[5]}" for s in SHAPES]
TOL = {np.float32: 2e-5, np.float64: 1e-12}


@pytest.fixture(autouse=True)
def _restore():
    before_w, before_isa = _core.conv2d_set_winograd(None), _core.gemm_isa()
    yield
    _core.conv2d_set_winograd(before_w)
    _core.gemm_set_isa(before_isa)


def _data(shape, dtype, seed=0):
    N, C, H, W, K, p = shape
    r = np.random.default_rng(seed)
    x = r.standard_normal((N, C, H, W)).astype(dtype)
    w = (r.standard_normal((K, C, 3, 3)) / np.sqrt(9 * C)).astype(dtype)
    b = r.standard_normal(K).astype(dtype)
    OH, OW = H + 2 * p - 2, W + 2 * p - 2
    dy = r.standard_normal((N, K, OH, OW)).astype(dtype)
    return x, w, b, dy, p


def _run(x, w, b, dy, p, nt, relu=False):
    y = np.empty(dy.shape, x.dtype)
    _core.conv2d_fwd(x, w, b, y, 1, 1, p, p, n_threads=nt, relu=relu)
    dx = np.empty_like(x)
    _core.conv2d_bwd(x, w, dy, dx, None, None, 1, 1, p, p, n_threads=nt)
    return y, dx


def _grads(x, w, dy, p, nt):
    dw, db = np.empty_like(w), np.empty(w.shape[0], w.dtype)
    _core.conv2d_bwd(x, w, dy, None, dw, db, 1, 1, p, p, n_threads=nt)
    return dw, db


def _close(got, want, tol):
    scale = max(np.abs(want).max(), 1e-30)
    assert np.abs(got - want).max() <= tol * scale


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_matches_reference(shape, dtype):
    x, w, b, dy, p = _data(shape, dtype)
    assert _core.conv2d_set_winograd(True) in (True, False)
    y, dx = _run(x, w, b, dy, p, 2)
    x64, w64, b64, dy64 = (a.astype(np.float64) for a in (x, w, b, dy))
    _close(y, ref.conv2d(x64, w64, b64, 1, p), TOL[dtype])
    dx_ref, dw_ref, db_ref = ref.conv2d_backward(x64, w64, dy64, 1, p)
    _close(dx, dx_ref, TOL[dtype])
    dw, db = _grads(x, w, dy, p, 2)
    _close(dw, dw_ref, TOL[dtype])
    _close(db, db_ref, TOL[dtype])


@pytest.mark.parametrize("isa", ["portable", "avx2", "avx512sim"])
@pytest.mark.parametrize("shape", [SHAPES[1], SHAPES[4], SHAPES[6]], ids=[IDS[1], IDS[4], IDS[6]])
def test_every_kernel_path_and_against_implicit_gemm(shape, isa):
    if _core.gemm_set_isa(isa) != isa:
        pytest.skip(f"{isa} path not available on this CPU")
    x, w, b, dy, p = _data(shape, np.float32, seed=1)
    _core.conv2d_set_winograd(False)
    y0, dx0 = _run(x, w, b, dy, p, 1)
    _core.conv2d_set_winograd(True)
    y1, dx1 = _run(x, w, b, dy, p, 1)
    # Winograd and the implicit GEMM round differently, but not by much
    _close(y1, y0, 2e-5)
    _close(dx1, dx0, 2e-5)
    assert not np.array_equal(y1, y0), "the Winograd path was not taken"
    dw1, db1 = _grads(x, w, dy, p, 1)
    _core.conv2d_set_winograd(False)
    dw0, db0 = _grads(x, w, dy, p, 1)
    _close(dw1, dw0, 2e-5)
    _close(db1, db0, 1e-6)
    assert not np.array_equal(dw1, dw0), "the Winograd weight gradient was not taken"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bitwise_across_threads_and_fused_relu(dtype):
    x, w, b, dy, p = _data(SHAPES[4], dtype, seed=2)
    y1, dx1 = _run(x, w, b, dy, p, 1)
    dw1, db1 = _grads(x, w, dy, p, 1)
    for nt in (2, 3, 5):
        y, dx = _run(x, w, b, dy, p, nt)
        assert np.array_equal(y, y1) and np.array_equal(dx, dx1)
        dw, db = _grads(x, w, dy, p, nt)
        assert np.array_equal(dw, dw1) and np.array_equal(db, db1)
    yr, _ = _run(x, w, b, dy, p, 2, relu=True)
    assert np.array_equal(yr, np.maximum(y1, 0))


# (N, C, H, W, K, padding, groups): small planes, whose items hold the
# tiles of several images side by side (winograd.inc, ipi)
SIDE_BY_SIDE = [(9, 80, 8, 8, 40, 1, 1), (7, 16, 9, 8, 16, 1, 1), (6, 160, 10, 10, 64, 0, 2),
                (16, 256, 8, 8, 256, 1, 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SIDE_BY_SIDE, ids=[f"N{s[0]}C{s[1]}H{s[2]}W{s[3]}K{s[4]}G{s[6]}"
                                                     for s in SIDE_BY_SIDE])
def test_images_side_by_side_are_each_image_alone(shape, dtype):
    """An item holding several images' tiles gives every image's forward
    bitwise what that image alone gives (one image an item), at every
    thread count; the input gradient (the same pass on flipped weights) is
    the same at every thread count; both match the float64 reference."""
    N, C, H, W, K, p, G = shape
    r = np.random.default_rng(7)
    x = r.standard_normal((N, C, H, W)).astype(dtype)
    w = (r.standard_normal((K, C // G, 3, 3)) / np.sqrt(9 * C // G)).astype(dtype)
    b = r.standard_normal(K).astype(dtype)
    OH, OW = H + 2 * p - 2, W + 2 * p - 2
    dy = r.standard_normal((N, K, OH, OW)).astype(dtype)
    for n in (N, 1):
        geom = ((n, C, H, W), w.shape, (1, 1), (p, p), (1, 1), G)
        assert _core.conv2d_algorithm(*geom, grad_input=0) == "winograd"

    def run(xs, dys, nt):
        y = np.empty((xs.shape[0], K, OH, OW), dtype)
        _core.conv2d_fwd(xs, w, b, y, 1, 1, p, p, n_threads=nt, groups=G)
        if dys is None:
            return y, None
        dx = np.empty_like(xs)
        _core.conv2d_bwd(xs, w, dys, dx, None, None, 1, 1, p, p, n_threads=nt, groups=G)
        return y, dx

    y1 = np.concatenate([run(x[i:i + 1], None, 1)[0] for i in range(N)])
    dx1 = run(x, dy, 1)[1]
    for nt in (1, 2, 3):
        y, dx = run(x, dy, nt)
        np.testing.assert_array_equal(y, y1, err_msg=f"nt={nt}")
        np.testing.assert_array_equal(dx, dx1, err_msg=f"nt={nt}")
    x64, w64, b64, dy64 = (a.astype(np.float64) for a in (x, w, b, dy))
    cg, kg = C // G, K // G
    for gi in range(G):
        xs, ws = x64[:, gi * cg:(gi + 1) * cg], w64[gi * kg:(gi + 1) * kg]
        _close(y[:, gi * kg:(gi + 1) * kg], ref.conv2d(xs, ws, b64[gi * kg:(gi + 1) * kg], 1, p),
               TOL[dtype])
        dx_ref = ref.conv2d_backward(xs, ws, dy64[:, gi * kg:(gi + 1) * kg], 1, p)[0]
        _close(dx[:, gi * cg:(gi + 1) * cg], dx_ref, TOL[dtype])


def test_small_planes_with_many_channels_take_winograd_by_the_batch():
    """7 x 7 and 4 x 4 outputs take Winograd only with 128 channels or more
    on both sides and 64 tiles in the batch (FNN_WINO_SMALL_*: several
    images an item); the values then match the float64 reference, the
    same at every thread count."""
    def algo(n, c, h, k):
        return _core.conv2d_algorithm((n, c, h, h), (k, c, 3, 3), (1, 1), (1, 1), (1, 1), 1,
                                      grad_input=0)
    assert algo(8, 128, 7, 128) == "winograd"      # 8 x 16 tiles
    assert algo(16, 512, 4, 512) == "winograd"     # 16 x 4 tiles
    assert algo(1, 128, 7, 128) != "winograd"      # one image: 16 tiles
    assert algo(15, 512, 4, 512) != "winograd"     # 60 tiles
    assert algo(16, 64, 4, 512) != "winograd"      # few input channels
    assert algo(64, 512, 3, 512) != "winograd"     # 9 outputs an image
    r = np.random.default_rng(9)
    for N, C, H, K in ((8, 128, 7, 136), (17, 128, 4, 128)):
        x = r.standard_normal((N, C, H, H)).astype(np.float32)
        w = (r.standard_normal((K, C, 3, 3)) / np.sqrt(9 * C)).astype(np.float32)
        b = r.standard_normal(K).astype(np.float32)
        outs = []
        for nt in (1, 2, 3):
            y = np.empty((N, K, H, H), np.float32)
            _core.conv2d_fwd(x, w, b, y, 1, 1, 1, 1, n_threads=nt)
            outs.append(y)
        assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])
        want = ref.conv2d(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), 1, 1)
        _close(outs[0], want, TOL[np.float32])


def test_weight_gradient_of_small_planes_by_the_tiles():
    """On small planes the weight gradient stays on Winograd only from 512
    tiles in the batch (FNN_WINO_DW_SMALL_TILES); below, the implicit GEMM
    runs it while the forward and input gradient keep Winograd; planes of
    64 outputs keep it throughout.  Either way dW and db match the float64
    reference, the same at every thread count."""
    def algo(n, c, h, k, q):
        return _core.conv2d_algorithm((n, c, h, h), (k, c, 3, 3), (1, 1), (1, 1), (1, 1), 1,
                                      grad_input=q)
    assert algo(16, 512, 4, 512, 0) == algo(16, 512, 4, 512, 1) == "winograd"
    assert algo(16, 512, 4, 512, 2) != "winograd"     # 64 tiles
    assert algo(8, 512, 7, 512, 2) != "winograd"      # 128 tiles
    assert algo(32, 128, 7, 128, 2) == "winograd"     # 512 tiles
    assert algo(31, 128, 7, 128, 2) != "winograd"     # 496 tiles
    assert algo(4, 256, 8, 256, 2) == "winograd"      # 64 outputs an image
    r = np.random.default_rng(11)
    for N, C, H, K in ((17, 128, 4, 128), (32, 128, 7, 136)):
        x = r.standard_normal((N, C, H, H)).astype(np.float32)
        w = (r.standard_normal((K, C, 3, 3)) / np.sqrt(9 * C)).astype(np.float32)
        dy = r.standard_normal((N, K, H, H)).astype(np.float32)
        outs = []
        for nt in (1, 2, 3):
            dw, db = np.empty_like(w), np.empty(K, np.float32)
            _core.conv2d_bwd(x, w, dy, None, dw, db, 1, 1, 1, 1, n_threads=nt)
            outs.append((dw, db))
        for dw, db in outs[1:]:
            assert np.array_equal(dw, outs[0][0]) and np.array_equal(db, outs[0][1])
        want = ref.conv2d_backward(x.astype(np.float64), w.astype(np.float64),
                                   dy.astype(np.float64), 1, 1)
        _close(outs[0][0], want[1], TOL[np.float32])
        _close(outs[0][1], dy.astype(np.float64).sum(axis=(0, 2, 3)), TOL[np.float32])


def test_nan_and_inf_propagate():
    x, w, b, dy, p = _data(SHAPES[0], np.float32, seed=3)
    x[0, 3, 2, 5] = np.nan
    x[1, 0, 4, 4] = np.inf
    y, _ = _run(x, w, b, dy, p, 2)
    _core.conv2d_set_winograd(False)
    y0, _ = _run(x, w, b, dy, p, 2)
    # the same outputs are non-finite as with the direct method
    assert np.array_equal(np.isfinite(y), np.isfinite(y0))
    assert not np.isfinite(y).all()


def test_switch_reports_and_sets():
    _core.conv2d_set_winograd(True)
    assert _core.conv2d_set_winograd(None) is True
    assert _core.conv2d_set_winograd(False) is True
    assert _core.conv2d_set_winograd(None) is False


def test_module_gradients_match_torch():
    torch = pytest.importorskip("torch")
    fastnn.manual_seed(0)
    conv = fastnn.nn.Conv2d(20, 24, 3, padding=1)
    tconv = torch.nn.Conv2d(20, 24, 3, padding=1)
    with torch.no_grad():
        tconv.weight.copy_(torch.tensor(conv.weight.detach().numpy()))
        tconv.bias.copy_(torch.tensor(conv.bias.detach().numpy()))
    xn = np.random.default_rng(4).standard_normal((3, 20, 11, 10)).astype(np.float32)
    x = fastnn.tensor(xn, requires_grad=True)
    tx = torch.tensor(xn, requires_grad=True)
    y, ty = conv(x), tconv(tx)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    g = np.cos(np.arange(y.detach().numpy().size)).reshape(y.shape).astype(np.float32)
    y.backward(fastnn.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(x.grad), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(conv.weight.grad), tconv.weight.grad.numpy(),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(conv.bias.grad), tconv.bias.grad.numpy(),
                               rtol=1e-4, atol=1e-4)
