"""The weight gradient by taps (csrc/conv_wtaps.inc, algorithm 'taps'): one
product a kernel tap, over the output pixels whose tap lies in the image,
for padded layers on small planes.  Taken on the AVX-512 path and its
emulation (64-byte panels); checked against the NumPy reference, across
thread counts (bitwise), across image chunks, and the assembly kernels
against the emulation bit for bit."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R
from fastnn.testing import requires_torch
from fastnn.testing.conv import check_weight_gradient, weight_gradient

WIDE_PATHS = ["avx512sim"] + (["avx512"] if _core.cpu_best_isa() == "avx512" else [])

# (N, C, H, W, K, kernel, stride, padding, dilation)
CASES = [
    (4, 64, 7, 7, 192, 5, 1, 2, 1),    # AlexNet's 5x5 on 7x7: a third of the taps padding
    (3, 16, 4, 4, 32, 3, 1, 1, 1),     # 4x4 planes
    (2, 32, 16, 16, 32, 7, 1, 3, 1),   # 7x7 on 16x16
    (2, 24, 15, 13, 64, 5, 1, 2, 2),   # dilated, two panels
    (3, 20, 9, 9, 32, 5, 2, 2, 1),     # stride 2; 20 channels in two blocks of 10
    (2, 29, 6, 6, 32, 3, 1, 1, 1),     # 29 channels: blocks of 9 and 10
    (2, 9, 3, 14, 32, 5, 1, 5, 1),     # padding past the kernel's reach
    (2, 9, 1, 14, 32, 3, 1, 4, 4),     # kernel rows over no pixel of the image
    (2, 16, 5, 1, 32, 3, 1, 4, 4),     # kernel columns over no pixel of the image
    (23, 24, 14, 14, 32, 5, 1, 2, 1),  # images in chunks (10, 10, 3): the sums continue
]


def _geom(case):
    N, C, H, W, K, k, st, p, d = case
    return (N, C, H, W), (K, C, k, k), (st, st), (p, p), (d, d)


def _algo(case):
    xs, ws, st, p, d = _geom(case)
    return _core.conv2d_algorithm(xs, ws, st, p, d, 1, grad_input=2)


def _data(case, dtype, rng):
    N, C, H, W, K, k, st, p, d = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C, k, k)).astype(dtype)
    dy = rng.standard_normal(R.conv2d(x, w, None, st, p, d, 1).shape).astype(dtype)
    return x, w, dy


def _dw(x, w, dy, case, nt):
    N, C, H, W, K, k, st, p, d = case
    return weight_gradient(x, w, dy, st, p, d, 1, nt)


@pytest.fixture
def path(request):
    before = _core.gemm_isa()
    _core.gemm_set_isa(request.param)
    taps = _core.conv2d_set_taps(True)
    yield request.param
    _core.conv2d_set_taps(taps)
    _core.gemm_set_isa(before)


@pytest.mark.parametrize("path", WIDE_PATHS, indirect=True)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_taps_weight_gradient_matches_reference_at_1_2_3_threads(path, case, dtype, rng):
    N, C, H, W, K, k, st, p, d = case
    assert _algo(case) == "taps"
    x, w, dy = _data(case, dtype, rng)
    check_weight_gradient(x, w, dy, st, p, d, 1)


@pytest.mark.skipif("avx512" not in WIDE_PATHS, reason="the CPU has no AVX-512")
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_taps_kernels_equal_emulation(case, dtype, rng):
    x, w, dy = _data(case, dtype, rng)
    before = _core.gemm_isa()
    outs = []
    try:
        for isa in ("avx512", "avx512sim"):
            _core.gemm_set_isa(isa)
            assert _algo(case) == "taps"
            outs.append(_dw(x, w, dy, case, 2)[0])
    finally:
        _core.gemm_set_isa(before)
    assert np.array_equal(outs[0], outs[1])


@pytest.mark.parametrize("path", WIDE_PATHS, indirect=True)
def test_taps_agrees_with_the_path_it_replaces(path, rng):
    """Switched off, the same shape runs packed; the two agree to rounding."""
    case = CASES[0]
    x, w, dy = _data(case, np.float64, rng)
    on = _dw(x, w, dy, case, 2)
    _core.conv2d_set_taps(False)
    try:
        assert _algo(case) == "packed"
        off = _dw(x, w, dy, case, 2)
    finally:
        _core.conv2d_set_taps(True)
    np.testing.assert_allclose(on[0], off[0], rtol=1e-12, atol=1e-12 * np.abs(off[0]).max())
    assert np.array_equal(on[1], off[1])   # (the bias gradient: the same kernel)


@pytest.mark.parametrize("path", WIDE_PATHS, indirect=True)
def test_taps_only_where_it_pays(path):
    """Not without padding, on large planes, with groups, with fewer than 8
    input channels, for 1x1 kernels, for outputs that are not whole 32-float
    panels, nor for a ResNet 3x3 / 2 on 32x32 (4% of its taps padding) or on
    16x16 (8%, and few multiply-adds an input value to pay for its
    channels-last copy)."""
    a = _core.conv2d_algorithm
    assert a((32, 64, 7, 7), (192, 64, 5, 5), (1, 1), (2, 2), grad_input=2) == "taps"
    assert a((8, 16, 12, 12), (32, 16, 5, 5), (1, 1), (0, 0), grad_input=2) != "taps"
    assert a((8, 32, 7, 7), (64, 16, 5, 5), (1, 1), (2, 2), (1, 1), 2, grad_input=2) != "taps"
    assert a((8, 4, 7, 7), (64, 4, 5, 5), (1, 1), (2, 2), grad_input=2) != "taps"
    assert a((8, 64, 7, 7), (64, 64, 1, 1), grad_input=2) != "taps"
    assert a((8, 64, 7, 7), (48, 64, 5, 5), (1, 1), (2, 2), grad_input=2) != "taps"
    assert a((8, 64, 32, 32), (128, 64, 3, 3), (2, 2), (1, 1), grad_input=2) != "taps"
    # few multiply-adds an input value (K R S / stride^2 = 144): only with a
    # quarter of the taps padding
    assert a((8, 32, 16, 16), (64, 32, 3, 3), (2, 2), (1, 1), grad_input=2) != "taps"
    assert a((8, 32, 4, 4), (64, 32, 3, 3), (2, 2), (1, 1), grad_input=2) == "taps"
    # 16 input channels (a register block of 8): only with a quarter padding
    assert a((8, 16, 14, 14), (32, 16, 5, 5), (1, 1), (2, 2), grad_input=2) != "taps"
    assert a((8, 16, 4, 4), (32, 16, 3, 3), (1, 1), (1, 1), grad_input=2) == "taps"
    # large planes: an image's channels-last copies past the 1 MiB chunk
    assert a((2, 256, 40, 40), (256, 256, 5, 5), (1, 1), (2, 2), grad_input=2) != "taps"
    assert a((2, 64, 20, 20), (64, 64, 5, 5), (1, 1), (2, 2), grad_input=2) == "taps"


def test_taps_not_on_the_avx2_path():
    """The AVX2 row kernels (16-float panels, 6 channels a pass) ran it
    slower than the packed path: the shapes stay where they were."""
    before = _core.gemm_isa()
    try:
        if _core.gemm_set_isa("avx2") != "avx2":
            pytest.skip("no AVX2 on this CPU")
        assert _core.conv2d_algorithm((32, 64, 7, 7), (192, 64, 5, 5), (1, 1), (2, 2),
                                      grad_input=2) == "packed"
    finally:
        _core.gemm_set_isa(before)


@pytest.mark.parametrize("path", WIDE_PATHS, indirect=True)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_taps_nonfinite_like_onednn(path, dtype):
    """Taps in the padding are left out, not multiplied by zero: a NaN in dy
    at a border pixel reaches the weights whose taps there are in the image
    and no others -- PyTorch's float32 (oneDNN) positions (its float64 im2col
    path, which multiplies the padding, spreads NaN further)."""
    torch = requires_torch()
    rng = np.random.default_rng(3)
    case = (2, 16, 8, 8, 32, 5, 1, 2, 1)
    assert _algo(case) == "taps"
    x, w, dy = _data(case, dtype, rng)
    for n, k, i, j in [(0, 2, 0, 3), (1, 5, 7, 7), (0, 9, 4, 0), (1, 31, 6, 2)]:
        dy[n, k, i, j] = np.nan
    dy[0, 20, 3, 3] = np.inf
    dw, _ = _dw(x, w, dy, case, 2)
    tx = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    tw = torch.tensor(w, dtype=torch.float32, requires_grad=True)
    torch.nn.functional.conv2d(tx, tw, padding=2).backward(torch.tensor(dy, dtype=torch.float32))
    want = tw.grad.numpy()
    assert np.array_equal(np.isnan(dw), np.isnan(want))
    assert np.array_equal(np.isinf(dw), np.isinf(want))
    fin = np.isfinite(want)
    np.testing.assert_allclose(dw[fin], want[fin], rtol=1e-4, atol=1e-4 * np.abs(want[fin]).max())
