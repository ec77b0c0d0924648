"""Op tests: the linear algebra composed of other ops — matrix_power,
multi_dot / chain_matmul, vecdot, cond, the spectral matrix norms (2, -2,
'nuc'), tensorinv, tensorsolve, vander / torch.vander, householder_product
/ orgqr, diagonal, matmul, nuclear_norm, frobenius_norm, and mH / H /
adjoint — against PyTorch with gradients, by gradcheck, and errors."""
import numpy as np
import pytest

import fastnn
import fastnn.linalg as LA
from fastnn.testing import requires_torch


def vs_torch(ffn, tfn, *arrays, rtol=1e-9, atol=1e-10, grad=True):
    """Values and gradients (one random upstream gradient) equal PyTorch's."""
    torch = requires_torch()
    fx = [fastnn.tensor(a, requires_grad=grad) for a in arrays]
    tx = [torch.tensor(a, requires_grad=grad) for a in arrays]
    r, s = ffn(*fx), tfn(*tx)
    assert tuple(r.shape) == tuple(s.shape)
    np.testing.assert_allclose(r.detach().numpy(), s.detach().numpy(), rtol=rtol, atol=atol)
    if grad:
        w = np.random.default_rng(5).standard_normal(tuple(s.shape))
        r.backward(fastnn.tensor(w))
        s.backward(torch.tensor(w))
        for a, b in zip(fx, tx):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol * 10, atol=atol)


def gradcheck(fn, *arrays, seed=0):
    xs = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    w = fastnn.tensor(np.random.default_rng(seed).standard_normal(tuple(fn(*xs).shape)))
    assert fastnn.gradcheck(lambda *a: (fn(*a) * w).sum(), xs)


def well(rng, *shape):
    return rng.standard_normal(shape) + shape[-1] * np.eye(shape[-1])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -3])
def test_matrix_power(n):
    torch = requires_torch()
    a = well(np.random.default_rng(0), 2, 3, 3) / 3
    vs_torch(lambda x: LA.matrix_power(x, n), lambda x: torch.linalg.matrix_power(x, n), a)
    vs_torch(lambda x: x.matrix_power(n), lambda x: x.matrix_power(n), a[0])
    vs_torch(lambda x: fastnn.matrix_power(x, n), lambda x: torch.matrix_power(x, n), a)
    gradcheck(lambda x: LA.matrix_power(x, n), a)


def test_matrix_power_errors_and_identity():
    x = fastnn.randn(3, 3)
    assert LA.matrix_power(x, 1) is not x
    with pytest.raises(TypeError, match="must be int"):
        LA.matrix_power(x, 1.5)
    with pytest.raises(fastnn.ShapeError, match="square"):
        LA.matrix_power(fastnn.randn(2, 3), 2)
    with pytest.raises(LA.LinAlgError, match="singular"):
        LA.matrix_power(fastnn.ones(2, 2), -1)


def test_multi_dot_and_chain_matmul():
    torch = requires_torch()
    rng = np.random.default_rng(1)
    shapes = [(3,), (3, 7), (7, 2), (2, 9), (9,)]
    ms = [rng.standard_normal(s) for s in shapes]
    for lo, hi in ((0, 5), (1, 4), (0, 3), (1, 5), (2, 4), (0, 2)):
        sub = ms[lo:hi]
        vs_torch(lambda *x: LA.multi_dot(list(x)), lambda *x: torch.linalg.multi_dot(list(x)),
                 *sub)
    vs_torch(lambda *x: fastnn.chain_matmul(*x), lambda *x: torch.linalg.multi_dot(list(x)),
             *ms[1:4])
    with pytest.raises(RuntimeError, match="expected at least 2 tensors but got 1"):
        LA.multi_dot([fastnn.ones(2, 2)])
    with pytest.raises(fastnn.ShapeError, match=r"tensors 0 and 1 with shapes \[2, 3\] and "
                       r"\[4, 2\] cannot be multiplied"):
        LA.multi_dot([fastnn.ones(2, 3), fastnn.ones(4, 2)])
    with pytest.raises(fastnn.ShapeError, match="the first tensor must be 1D or 2D but got 3D"):
        LA.multi_dot([fastnn.ones(2, 3, 3), fastnn.ones(3, 2)])
    with pytest.raises(fastnn.ShapeError, match="tensor 1 must be 2D but got 1D"):
        LA.multi_dot([fastnn.ones(2, 3), fastnn.ones(3), fastnn.ones(3, 2)])


def test_vecdot_diagonal_matmul():
    torch = requires_torch()
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4))
    vs_torch(LA.vecdot, torch.linalg.vecdot, x, y)
    vs_torch(lambda p, q: LA.vecdot(p, q, dim=1), lambda p, q: torch.linalg.vecdot(p, q, dim=1),
             x, x)
    vs_torch(LA.diagonal, torch.linalg.diagonal, x)
    vs_torch(lambda p: LA.diagonal(p, offset=1, dim1=0, dim2=2),
             lambda p: torch.linalg.diagonal(p, offset=1, dim1=0, dim2=2), x)
    vs_torch(LA.matmul, torch.linalg.matmul, x, y.T)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf])
def test_cond(p):
    torch = requires_torch()
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 4, 4))
    vs_torch(lambda x: LA.cond(x, p), lambda x: torch.linalg.cond(x, p), a, grad=False)
    gradcheck(lambda x: LA.cond(x, p), a)
    if p in (None, 2, -2):
        t = rng.standard_normal((5, 3))
        vs_torch(lambda x: LA.cond(x, p), lambda x: torch.linalg.cond(x, p), t)
    else:
        with pytest.raises(fastnn.ShapeError, match=r"linalg.cond\(ord=.*\): A must be batches "
                           "of square matrices"):
            LA.cond(fastnn.ones(3, 2), p)
        sing = fastnn.tensor(np.stack([np.eye(2), np.ones((2, 2))]))
        np.testing.assert_array_equal(LA.cond(sing, p).numpy()[1], np.inf)


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
def test_spectral_matrix_norms(ord):
    torch = requires_torch()
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 5, 3))
    vs_torch(lambda x: LA.matrix_norm(x, ord), lambda x: torch.linalg.matrix_norm(x, ord), a)
    vs_torch(lambda x: LA.matrix_norm(x, ord, dim=(2, 0), keepdim=True),
             lambda x: torch.linalg.matrix_norm(x, ord, dim=(2, 0), keepdim=True), a)
    vs_torch(lambda x: LA.norm(x, ord), lambda x: torch.linalg.norm(x, ord), a[0])
    gradcheck(lambda x: LA.matrix_norm(x, ord), a)


@pytest.mark.filterwarnings("ignore:.*_norm is deprecated")
def test_nuclear_frobenius_norm_torch_spellings():
    torch = requires_torch()
    a = np.random.default_rng(5).standard_normal((3, 4, 2))
    vs_torch(lambda x: fastnn.nuclear_norm(x[0]), lambda x: torch.nuclear_norm(x[0]), a)
    vs_torch(lambda x: fastnn.nuclear_norm(x, (0, 1), True),
             lambda x: torch.nuclear_norm(x, (0, 1), True), a)
    vs_torch(lambda x: fastnn.frobenius_norm(x, (1, 2)),
             lambda x: torch.frobenius_norm(x, (1, 2)), a)


def test_tensorinv_tensorsolve():
    torch = requires_torch()
    rng = np.random.default_rng(6)
    a = rng.standard_normal((4, 6, 8, 3)) + 0.0
    a = (np.eye(24).reshape(4, 6, 8, 3) * 5 + a)
    vs_torch(lambda x: LA.tensorinv(x, 2), lambda x: torch.linalg.tensorinv(x, 2), a)
    b = rng.standard_normal((6, 2, 3)) + np.eye(6).reshape(6, 2, 3) * 4
    vs_torch(lambda x: LA.tensorinv(x, 1), lambda x: torch.linalg.tensorinv(x, 1), b)
    with pytest.raises(fastnn.ShapeError):
        LA.tensorinv(fastnn.ones(2, 3, 4), 1)
    rhs = rng.standard_normal(6)
    vs_torch(LA.tensorsolve, torch.linalg.tensorsolve, b, rhs)
    c = rng.standard_normal((2, 3, 6)) + np.eye(6).reshape(6, 2, 3).transpose(1, 2, 0) * 4
    vs_torch(lambda x, y: LA.tensorsolve(x, y, dims=(0, 1)),
             lambda x, y: torch.linalg.tensorsolve(x, y, dims=(0, 1)), c, rhs)


def test_vander():
    torch = requires_torch()
    x = np.array([[0.0, 1.5, -2.0], [3.0, 0.5, 1.0]])
    vs_torch(LA.vander, torch.linalg.vander, x)
    vs_torch(lambda t: LA.vander(t, N=5), lambda t: torch.linalg.vander(t, N=5), x)
    gradcheck(lambda t: LA.vander(t, N=4), x)
    for n, inc in ((None, False), (4, True), (2, False), (1, False), (0, True)):
        vs_torch(lambda t: fastnn.vander(t, n, inc), lambda t: torch.vander(t, n, inc), x[0],
                 grad=False)                  # (torch.vander's backward fails in 2.13)
        if n not in (0, 1):
            gradcheck(lambda t: fastnn.vander(t, n, inc), x[0])
    with pytest.raises(ValueError, match="N must be greater than 1"):
        LA.vander(fastnn.ones(3), N=1)
    with pytest.raises(fastnn.ShapeError, match="one-dimensional"):
        fastnn.vander(fastnn.ones(2, 3))
    assert LA.vander(fastnn.tensor([2, 3]), N=3).tolist() == [[1, 2, 4], [1, 3, 9]]


def test_householder_product():
    torch = requires_torch()
    rng = np.random.default_rng(7)
    a, tau = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 2))
    vs_torch(LA.householder_product, torch.linalg.householder_product, a, tau)
    vs_torch(fastnn.orgqr, torch.orgqr, a[0], tau[0])
    vs_torch(lambda x, t: x.orgqr(t), lambda x, t: x.orgqr(t), a[0], tau[0])
    gradcheck(LA.householder_product, a, tau)
    with pytest.raises(fastnn.ShapeError):
        LA.householder_product(fastnn.ones(2, 3), fastnn.ones(1))


def test_conjugate_transposes():
    x = fastnn.randn(2, 3, 4)
    np.testing.assert_array_equal(x.mH.numpy(), np.swapaxes(x.numpy(), -1, -2))
    np.testing.assert_array_equal(x.adjoint().numpy(), np.swapaxes(x.numpy(), -1, -2))
    np.testing.assert_array_equal(x[0].H.numpy(), x[0].numpy().T)
    with pytest.raises(RuntimeError, match="only supported on matrices"):
        x.H


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_geqrf_ormqr(shape):
    torch = requires_torch()
    rng = np.random.default_rng(8)
    a = rng.standard_normal(shape)
    r, s = fastnn.geqrf(fastnn.tensor(a)), torch.geqrf(torch.tensor(a))
    assert r._fields == ("a", "tau")
    for x, y in zip(r, s):
        np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-12)
    m = shape[-2]
    h, tau = r.a.numpy(), r.tau.numpy()
    for left in (True, False):
        for tr in (False, True):
            c = rng.standard_normal(shape[:-2] + ((m, 2) if left else (2, m)))
            vs_torch(lambda p, q, o: fastnn.ormqr(p, q, o, left, tr),
                     lambda p, q, o: torch.ormqr(p, q, o, left, tr), h, tau, c)
    q = fastnn.tensor(h).ormqr(fastnn.tensor(tau), fastnn.eye(m, dtype=fastnn.float64))
    np.testing.assert_allclose(np.abs(q.numpy()[..., :, :min(shape[-2:])]),
                               np.abs(np.linalg.qr(a)[0]), atol=1e-12)


def test_torch_norm_nuclear():
    torch = requires_torch()
    a = np.random.default_rng(9).standard_normal((2, 4, 3))
    vs_torch(lambda x: fastnn.norm(x[0], p="nuc"), lambda x: torch.norm(x[0], p="nuc"), a)
    vs_torch(lambda x: x.norm(p="nuc", dim=(0, 2), keepdim=True),
             lambda x: x.norm(p="nuc", dim=(0, 2), keepdim=True), a)
    with pytest.raises(fastnn.ShapeError, match="nuclear norm needs a 2-D input"):
        fastnn.norm(fastnn.ones(2, 3, 4), p="nuc")


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (3, 0), (0, 3), (2, 3, 0)])
def test_empty_matrices(shape):
    torch = requires_torch()
    a = np.zeros(shape)
    vs_torch(LA.cond, torch.linalg.cond, a, grad=False)
    vs_torch(lambda x: LA.cond(x, -2), lambda x: torch.linalg.cond(x, -2), a, grad=False)
    vs_torch(lambda x: LA.matrix_norm(x, 2), lambda x: torch.linalg.matrix_norm(x, 2), a,
             grad=False)
    vs_torch(lambda x: LA.matrix_norm(x, "nuc"), lambda x: torch.linalg.matrix_norm(x, "nuc"), a,
             grad=False)
    b = np.zeros(shape[:-1] + (2,))
    r = LA.lstsq(fastnn.tensor(a), fastnn.tensor(b), driver="gelsd")
    s = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver="gelsd")
    for x, y in zip(r, s):
        assert tuple(x.shape) == tuple(y.shape)
        np.testing.assert_array_equal(x.numpy(), y.numpy())
