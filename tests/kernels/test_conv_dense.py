"""Layers whose window is their whole input (no padding or dilation, an
R x S input: LeNet-5's C5, an autoencoder's 7x7 bottleneck, the first
ConvTranspose2d of a DCGAN generator on a 1x1 input) run as products of the
GEMM, images as rows (algorithm 'gemm', csrc/conv2d.inc: dense_*).  Checked
against the NumPy reference (forward with bias, fused ReLU, input gradient
with the transposed convolution's bias, weight and bias gradients), bitwise
across thread counts, and through autograd against PyTorch."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import _core
from fastnn.testing import reference as R

# (N, C, H=R, W=S, K): the one-pixel layers, and a 1 x 1 input (a dense layer)
CASES = [(5, 16, 5, 5, 120), (3, 32, 7, 7, 64), (1, 3, 4, 6, 10), (7, 9, 1, 1, 33),
         (2, 4, 3, 3, 1)]


def _alg(x, w, st=1, p=0, dil=1, g=1, pass_=0):
    return _core.conv2d_algorithm(x, w, (st, st), (p, p), (dil, dil), g, grad_input=pass_)


def test_gemm_only_where_the_window_is_the_input():
    assert all(_alg((4, 16, 5, 5), (120, 16, 5, 5), pass_=q) == "gemm" for q in (0, 1, 2))
    assert _alg((4, 16, 5, 5), (120, 16, 5, 5), st=3) == "gemm"       # one window whatever the stride
    assert _alg((4, 16, 6, 5), (120, 16, 5, 5)) != "gemm"             # two output rows
    assert _alg((4, 16, 5, 5), (120, 16, 3, 3), p=1) != "gemm"        # padding
    assert _alg((4, 16, 5, 5), (120, 16, 3, 3), dil=2) != "gemm"      # dilated
    assert _alg((4, 16, 5, 5), (32, 8, 5, 5), g=2) != "gemm"          # groups


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_passes_match_reference_at_1_2_3_threads(case, dtype, rng):
    N, C, H, W, K = case
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C, H, W)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    bc = rng.standard_normal(C).astype(dtype)
    dy = rng.standard_normal((N, K, 1, 1)).astype(dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    yr = R.conv2d(x, w, b)
    dxr, dwr, dbr = R.conv2d_backward(x, w, dy)
    outs = []
    for nt in (1, 2, 3):
        y, yrelu = np.full(yr.shape, np.nan, dtype), np.full(yr.shape, np.nan, dtype)
        _core.conv2d_fwd(x, w, b, y, 1, 1, 0, 0, nt)
        _core.conv2d_fwd(x, w, b, yrelu, 1, 1, 0, 0, nt, relu=True)
        np.testing.assert_allclose(y, yr, **tol)
        assert np.array_equal(yrelu, np.maximum(y, 0))   # bitwise the two ops
        dx, dw, db = np.full(x.shape, np.nan, dtype), np.full(w.shape, np.nan, dtype), \
            np.full(K, np.nan, dtype)
        _core.conv2d_bwd(x, w, dy, dx, dw, db, 1, 1, 0, 0, nt)
        np.testing.assert_allclose(dx, dxr, **tol)
        np.testing.assert_allclose(dw, dwr, **tol)
        np.testing.assert_allclose(db, dbr, **tol)
        # the transposed convolution's forward: dx plus a bias per input channel
        dxb = np.full(x.shape, np.nan, dtype)
        _core.conv2d_bwd_data(w, dy, bc, dxb, 1, 1, 0, 0, nt)
        np.testing.assert_allclose(dxb, dxr + bc[None, :, None, None], **tol)
        outs.append((y, dx, dw, db, dxb))
    for o in outs[1:]:
        assert all(np.array_equal(a, c) for a, c in zip(outs[0], o))


def test_gemm_nonfinite_stays_in_its_image(rng):
    """A NaN in one image reaches only that image's outputs (rows of the
    product), and an empty batch gives zero weight gradients."""
    x = rng.standard_normal((3, 4, 3, 3)).astype(np.float32)
    x[1, 2, 0, 1] = np.nan
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    y = np.empty((3, 5, 1, 1), np.float32)
    _core.conv2d_fwd(x, w, None, y, 1, 1, 0, 0, 2)
    assert np.isnan(y[1]).all() and np.isfinite(y[[0, 2]]).all()
    dw = np.full(w.shape, np.nan, np.float32)
    _core.conv2d_bwd(x[:0], w, np.empty((0, 5, 1, 1), np.float32), None, dw, None)
    assert (dw == 0).all()


def test_gemm_layers_match_torch(rng):
    torch = pytest.importorskip("torch")
    X = rng.standard_normal((6, 16, 5, 5)).astype(np.float32)
    Z = rng.standard_normal((6, 20, 1, 1)).astype(np.float32)
    res = []
    for lib in (fastnn, torch):
        c5 = lib.nn.Conv2d(16, 120, 5)                       # LeNet-5's C5
        up = lib.nn.ConvTranspose2d(20, 8, 4, 1, 0)          # DCGAN's first layer
        with lib.no_grad():
            c5.weight.copy_(lib.tensor(np.linspace(-0.1, 0.1, 120 * 16 * 25,
                                                   dtype=np.float32).reshape(120, 16, 5, 5)))
            up.weight.copy_(lib.tensor(np.linspace(-0.2, 0.2, 20 * 8 * 16,
                                                   dtype=np.float32).reshape(20, 8, 4, 4)))
            c5.bias.copy_(lib.tensor(np.linspace(-0.3, 0.3, 120, dtype=np.float32)))
            up.bias.copy_(lib.tensor(np.linspace(-0.5, 0.5, 8, dtype=np.float32)))
        x, z = lib.tensor(X, requires_grad=True), lib.tensor(Z, requires_grad=True)
        y, u = F.relu(c5(x)) if lib is fastnn else torch.relu(c5(x)), up(z)
        assert tuple(y.shape) == (6, 120, 1, 1) and tuple(u.shape) == (6, 8, 4, 4)
        ((y * y).sum() + (u * u).sum()).backward()
        res.append([t.detach().numpy().copy() for t in
                    (y, u, x.grad, z.grad, c5.weight.grad, c5.bias.grad, up.weight.grad,
                     up.bias.grad)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)
