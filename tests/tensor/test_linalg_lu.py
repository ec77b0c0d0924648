"""torch.linalg.lu / lu_factor / lu_factor_ex / lu_solve, torch.lu_unpack
and the legacy Tensor.lu / torch.lu_solve, against PyTorch: the same
pivots, factors and solutions, gradients through L, U, the packed LU and
the solve, and PyTorch's errors."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

SHAPES = [(3, 3), (5, 5), (2, 4, 4), (3, 5), (5, 3), (2, 3, 2, 4), (1, 1)]


def _pair(shape, dtype, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return a, fastnn.from_numpy(a.copy()), torch.from_numpy(a.copy())


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_factors_match_torch(shape, dtype):
    a, af, at = _pair(shape, dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for got, want in zip(fastnn.linalg.lu(af), torch.linalg.lu(at)):
        assert got.shape == tuple(want.shape) and got.dtype == af.dtype
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)
    LU, piv, info = fastnn.linalg.lu_factor_ex(af)
    LUt, pivt, infot = torch.linalg.lu_factor_ex(at)
    np.testing.assert_allclose(LU.numpy(), LUt.numpy(), rtol=tol, atol=tol)
    assert piv.dtype == fastnn.int32 and piv.tolist() == pivt.tolist()
    assert info.tolist() == infot.tolist()
    P, L, U = fastnn.lu_unpack(LU, piv)
    for got, want in zip((P, L, U), torch.lu_unpack(LUt, pivt)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose((P @ L @ U).numpy(), a, rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (3, 0), (0, 3), (2, 3, 0)])
def test_empty_matrices_like_torch(shape):
    got = fastnn.linalg.lu_factor_ex(fastnn.zeros(*shape))
    want = torch.linalg.lu_factor_ex(torch.zeros(*shape))
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape)
    for g, w in zip(fastnn.linalg.lu(fastnn.zeros(*shape)), torch.linalg.lu(torch.zeros(*shape))):
        assert g.shape == tuple(w.shape)


def test_singular_and_zero_columns_like_lapack():
    for m in ([[1.0, 2.0], [2.0, 4.0]], [[0.0, 1.0], [0.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]],
              [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [2.0, 0.0, 1.0]]):
        got = fastnn.linalg.lu_factor_ex(fastnn.tensor(m))
        want = torch.linalg.lu_factor_ex(torch.tensor(m))
        np.testing.assert_allclose(got.LU.numpy(), want.LU.numpy(), atol=1e-6)
        assert got.pivots.tolist() == want.pivots.tolist()
        assert got.info.item() == want.info.item()
        with pytest.raises(RuntimeError, match="is zero and using it on lu_solve"):
            fastnn.linalg.lu_factor(fastnn.tensor(m))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_matches_torch_with_gradients(left, adjoint):
    a, _, _ = _pair((2, 4, 4), np.float64, 1)
    b = np.random.default_rng(2).standard_normal((2, 4, 3) if left else (2, 3, 4))
    af, bf = fastnn.tensor(a, requires_grad=True), fastnn.tensor(b, requires_grad=True)
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    LU, piv = fastnn.linalg.lu_factor(af)
    LUt, pivt = torch.linalg.lu_factor(at)
    x = fastnn.linalg.lu_solve(LU, piv, bf, left=left, adjoint=adjoint)
    xt = torch.linalg.lu_solve(LUt, pivt, bt, left=left, adjoint=adjoint)
    np.testing.assert_allclose(x.detach().numpy(), xt.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(3).standard_normal(x.shape)
    x.backward(fastnn.tensor(g))
    xt.backward(torch.tensor(g))
    np.testing.assert_allclose(af.grad.numpy(), at.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(bf.grad.numpy(), bt.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_lu_gradients_match_torch():
    a = np.random.default_rng(4).standard_normal((3, 5, 5))
    af, at = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    gl, gu = np.random.default_rng(5).standard_normal((2, 3, 5, 5))
    P, L, U = fastnn.linalg.lu(af)
    Pt, Lt, Ut = torch.linalg.lu(at)
    assert not P.requires_grad and L.requires_grad and U.requires_grad
    ((L * fastnn.tensor(gl)).sum() + (U * fastnn.tensor(gu)).sum()).backward()
    ((Lt * torch.tensor(gl)).sum() + (Ut * torch.tensor(gu)).sum()).backward()
    np.testing.assert_allclose(af.grad.numpy(), at.grad.numpy(), rtol=1e-8, atol=1e-10)
    bf, bt = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (fastnn.linalg.lu_factor(bf).LU ** 2).sum().backward()
    (torch.linalg.lu_factor(bt).LU ** 2).sum().backward()
    np.testing.assert_allclose(bf.grad.numpy(), bt.grad.numpy(), rtol=1e-8, atol=1e-10)
    assert fastnn.gradcheck(lambda x: fastnn.linalg.lu(x).U.sum() + fastnn.linalg.lu(x).L.pow(2).sum(),
                            (fastnn.tensor(a[0], requires_grad=True),))


def test_legacy_tensor_lu_and_lu_solve():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    LU, piv = fastnn.tensor(a).lu()
    LUt, pivt = torch.tensor(a).lu()
    np.testing.assert_allclose(LU.numpy(), LUt.numpy())
    assert piv.tolist() == pivt.tolist()
    assert len(fastnn.tensor(a).lu(get_infos=True)) == 3
    b = fastnn.tensor([[1.0], [2.0]], dtype=fastnn.float64)
    np.testing.assert_allclose(fastnn.lu_solve(b, LU, piv).numpy(),
                               np.linalg.solve(a, [[1.0], [2.0]]))


def test_bad_input_raises():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        fastnn.linalg.lu(fastnn.ones(3))
    with pytest.raises(TypeError):
        fastnn.linalg.lu_factor(fastnn.ones(3, 3, dtype=fastnn.int64))
    with pytest.raises(RuntimeError, match="without pivoting"):
        fastnn.linalg.lu(fastnn.ones(3, 3), pivot=False)
    LU, piv = fastnn.linalg.lu_factor(fastnn.eye(3) + 1)
    with pytest.raises(ValueError):
        fastnn.linalg.lu_solve(LU, piv, fastnn.ones(2, 1))
    with pytest.raises(ValueError):
        fastnn.lu_unpack(LU, fastnn.tensor([1, 2], dtype=fastnn.int32))
    with pytest.raises(ValueError):
        fastnn.lu_unpack(LU, fastnn.tensor([0, 2, 3], dtype=fastnn.int32))
    with pytest.raises(NotImplementedError, match="square"):
        fastnn.linalg.lu(fastnn.ones(2, 3, requires_grad=True)).U.sum().backward()
