"""A broadcast/batched matmul runs its whole batch in one binding call
(_core.bmm3d: the loop over the matrices in C), not one Python call per
matrix; the numbers are each matrix's fnn_gemm product, as before, and
PyTorch's to rounding, forward and backward."""
import numpy as np
import pytest

import fastnn
from fastnn import _core
from fastnn.ops import linalg

SHAPES = [((1, 32, 10, 8, 4), (64, 32, 1, 4, 1)),    # a capsule layer's u_hat
          ((4, 8, 16, 32), (4, 8, 32, 16)),           # attention heads
          ((3, 5, 7), (7, 2)), ((2, 1, 3, 4), (5, 4, 6)), ((6, 70, 80), (6, 80, 90)),
          ((0, 3, 4), (0, 4, 5)), ((2, 3, 0), (2, 0, 4))]


@pytest.mark.parametrize("sa, sb", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_matmul_matches_torch_with_gradients(sa, sb, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal(sa).astype(dtype)
    b = rng.standard_normal(sb).astype(dtype)
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    af, bf = fastnn.tensor(a, requires_grad=True), fastnn.tensor(b, requires_grad=True)
    want, got = torch.matmul(at, bt), fastnn.matmul(af, bf)
    assert got.shape == tuple(want.shape)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(got.shape).astype(dtype)
    want.backward(torch.tensor(g))
    got.backward(fastnn.tensor(g))
    np.testing.assert_allclose(af.grad.numpy(), at.grad.numpy(), rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(bf.grad.numpy(), bt.grad.numpy(), rtol=tol, atol=tol * 10)


def test_no_python_call_per_matrix(monkeypatch):
    calls = []
    real = linalg.mm
    monkeypatch.setattr(linalg, "mm", lambda *a, **k: calls.append(1) or real(*a, **k))
    w = fastnn.randn(1, 32, 10, 8, 4, requires_grad=True)
    u = fastnn.randn(64, 32, 1, 4, 1)
    out = fastnn.matmul(w, u)
    out.sum().backward()
    assert out.shape == (64, 32, 10, 8, 1)
    assert calls == []                 # was 20480 per product, forward and backward


def test_each_product_is_the_gemm_of_its_matrices():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((5, 7, 3)).astype(np.float32)
    b = rng.standard_normal((5, 3, 6)).astype(np.float32)
    out = np.empty((5, 7, 6), np.float32)
    _core.bmm3d(a, b, out)
    for i in range(5):
        np.testing.assert_array_equal(out[i], _core.mm2d(a[i], b[i]))
    bt = np.ascontiguousarray(np.swapaxes(b, 1, 2))
    out2 = np.empty_like(out)
    _core.bmm3d(a, bt, out2, False, True)
    for i in range(5):
        np.testing.assert_array_equal(out2[i], _core.mm2d(a[i], bt[i], trans_b=True))


def test_bad_arguments_raise():
    a = np.ones((2, 3, 4), np.float32)
    b = np.ones((2, 4, 5), np.float32)
    with pytest.raises(ValueError):                      # ShapeError
        _core.bmm3d(a, np.ones((3, 4, 5), np.float32), np.empty((2, 3, 5), np.float32))
    with pytest.raises(ValueError):
        _core.bmm3d(a, b, np.empty((2, 3, 6), np.float32))
    with pytest.raises(TypeError):
        _core.bmm3d(a, b.astype(np.float64), np.empty((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.bmm3d(a[:, :, ::2], b[:, ::2], np.empty((2, 3, 5), np.float32))
    with pytest.raises(TypeError):
        _core.bmm3d([[1.0]], b, np.empty((2, 3, 5), np.float32))
    ro = np.empty((2, 3, 5), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _core.bmm3d(a, b, ro)
