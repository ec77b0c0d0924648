"""Op tests: linalg.qr, eigh / eigvalsh, svd / svdvals, eig / eigvals (real
spectra), pinv, matrix_rank, lstsq and matrix_exp: values against NumPy and
PyTorch (float64 and float32), gradients by gradcheck (float64, a random
upstream gradient; symmetric inputs for eigh, distinct singular values and
eigenvalues, losses that do not depend on the eigen/singular vectors'
signs) and against PyTorch, batched shapes and errors."""
import numpy as np
import pytest

import fastnn
import fastnn.linalg as LA
from fastnn.testing import requires_torch


def mT(a):
    return np.swapaxes(a, -1, -2)


def spd(rng, *shape):
    x = rng.standard_normal(shape)
    return x @ mT(x) + shape[-1] * np.eye(shape[-1])


def sym(x):
    return (x + x.mT) * 0.5


def _float_outs(out):
    outs = out if isinstance(out, tuple) else (out,)
    return [o for o in outs if o.dtype in (fastnn.float32, fastnn.float64) and o.numel()]


def gradcheck(fn, *arrays, seed=0):
    """gradcheck of sum(w_i * out_i) with fixed random weights w_i."""
    xs = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    rng = np.random.default_rng(seed)
    ws = [fastnn.tensor(rng.standard_normal(tuple(o.shape))) for o in _float_outs(fn(*xs))]

    def loss(*args):
        return sum((o * w).sum() for o, w in zip(_float_outs(fn(*args)), ws))
    assert fastnn.gradcheck(loss, xs)


def vs_torch(ffn, tfn, *arrays, rtol=1e-9, atol=1e-10):
    """Values and gradients (one random upstream gradient) equal PyTorch's."""
    torch = requires_torch()
    fx = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    fo, to = ffn(*fx), tfn(*tx)
    fo, to = (fo if isinstance(fo, tuple) else (fo,)), (to if isinstance(to, tuple) else (to,))
    rng = np.random.default_rng(5)
    lf = lt = 0
    for a, b in zip(fo, to):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)
        if b.dtype.is_floating_point:
            w = rng.standard_normal(tuple(b.shape))
            lf, lt = lf + (a * fastnn.tensor(w)).sum(), lt + (b * torch.tensor(w)).sum()
    lf.backward()
    lt.backward()
    for a, b in zip(fx, tx):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol * 10, atol=atol)


def sign_free(*outs):
    """Products that do not depend on the signs LAPACK picks for vectors."""
    return tuple(o * o for o in outs)


# -------------------------------------------------------------------- qr
@pytest.mark.parametrize("shape", [(5, 3), (4, 4), (2, 3, 5), (2, 1, 4, 2)])
def test_qr_reduced(shape):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape)
    q, r = LA.qr(fastnn.tensor(a))
    nq, nr = np.linalg.qr(a)
    np.testing.assert_allclose(q.numpy(), nq, atol=1e-12)
    np.testing.assert_allclose(r.numpy(), nr, atol=1e-12)
    gradcheck(LA.qr, a)
    torch = requires_torch()
    vs_torch(LA.qr, torch.linalg.qr, a)


def test_qr_modes_and_errors():
    torch = requires_torch()
    rng = np.random.default_rng(1)
    wide, tall = rng.standard_normal((3, 5)), rng.standard_normal((5, 3))
    vs_torch(lambda x: LA.qr(x, mode="complete"), lambda x: torch.linalg.qr(x, mode="complete"),
             wide)
    q, r = LA.qr(fastnn.tensor(tall), mode="complete")
    assert q.shape == (5, 5) and r.shape == (5, 3)
    np.testing.assert_allclose((q @ r).numpy(), tall, atol=1e-12)
    res = LA.qr(fastnn.tensor(tall), mode="r")
    assert res.Q.shape == (0,) and res._fields == ("Q", "R")
    np.testing.assert_allclose(res.R.numpy(), np.linalg.qr(tall, mode="r"), atol=1e-12)
    x = fastnn.tensor(tall, requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        LA.qr(x, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        LA.qr(x, mode="complete").Q.sum().backward()
    with pytest.raises(ValueError, match="unrecognized mode 'x'"):
        LA.qr(x, mode="x")
    with pytest.raises(fastnn.ShapeError, match="at least 2 dimensions"):
        LA.qr(fastnn.ones(3))
    q32 = LA.qr(fastnn.tensor(tall.astype(np.float32))).Q
    assert q32.dtype == fastnn.float32
    np.testing.assert_allclose(q32.numpy(), np.linalg.qr(tall)[0], atol=1e-5)


@pytest.mark.filterwarnings("ignore:torch.qr is deprecated")
def test_torch_qr_some():
    torch = requires_torch()
    a = np.random.default_rng(2).standard_normal((4, 2))
    for some in (True, False):
        r = fastnn.qr(fastnn.tensor(a), some)
        s = torch.qr(torch.tensor(a), some)
        assert type(r).__name__ == "qr"
        np.testing.assert_allclose(r.Q.numpy(), s.Q.numpy(), atol=1e-12)
        np.testing.assert_allclose(fastnn.tensor(a).qr(some=some).R.numpy(), s.R.numpy(),
                                   atol=1e-12)


# ------------------------------------------------------------------ eigh
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (1, 1)])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_eigvalsh(shape, uplo):
    rng = np.random.default_rng(3)
    a = spd(rng, *shape)
    junk = a + (np.triu if uplo == "L" else np.tril)(rng.standard_normal(shape), 1 if uplo ==
                                                         "L" else -1)   # the unread triangle
    w, v = LA.eigh(fastnn.tensor(junk), UPLO=uplo)
    nw, nv = np.linalg.eigh(a)
    np.testing.assert_allclose(w.numpy(), nw, rtol=1e-12)
    np.testing.assert_allclose(np.abs(v.numpy()), np.abs(nv), atol=1e-10)
    np.testing.assert_allclose(LA.eigvalsh(fastnn.tensor(junk), uplo).numpy(), nw, rtol=1e-12)
    gradcheck(lambda x: sign_free(*LA.eigh(sym(x), UPLO=uplo)), a)
    gradcheck(lambda x: LA.eigvalsh(sym(x), UPLO=uplo), a)
    torch = requires_torch()
    vs_torch(lambda x: sign_free(*LA.eigh(x, uplo)),
             lambda x: sign_free(*torch.linalg.eigh(x, uplo)), a)
    vs_torch(lambda x: LA.eigvalsh(x, uplo), lambda x: torch.linalg.eigvalsh(x, uplo), a)


def test_eigh_names_and_errors():
    r = LA.eigh(fastnn.eye(3))
    assert type(r).__name__ == "linalg_eigh" and r._fields == ("eigenvalues", "eigenvectors")
    with pytest.raises(fastnn.ShapeError, match="2 by 3 matrices"):
        LA.eigh(fastnn.ones(2, 3))
    with pytest.raises(ValueError, match="UPLO"):
        LA.eigvalsh(fastnn.eye(2), "X")
    w = LA.eigvalsh(fastnn.tensor(spd(np.random.default_rng(4), 3, 3).astype(np.float32)))
    assert w.dtype == fastnn.float32


# ------------------------------------------------------------------- svd
SVD_SHAPES = [(5, 3), (3, 5), (4, 4), (2, 4, 3), (2, 1, 3, 4)]


def _svd_loss(out):
    """A loss of (U, S, Vh) invariant under the joint sign flips of singular
    vector pairs: squares, S, and U diag(c) Vh."""
    u, s, vh = out
    k = s.shape[-1]
    c = fastnn.tensor(np.linspace(0.5, 2.0, k))
    return u * u, vh * vh, s, (u[..., :k] * c) @ vh[..., :k, :]


@pytest.mark.parametrize("shape", SVD_SHAPES)
@pytest.mark.parametrize("full", [False, True])
def test_svd(shape, full):
    rng = np.random.default_rng(5)
    a = rng.standard_normal(shape)
    u, s, vh = LA.svd(fastnn.tensor(a), full_matrices=full)
    nu, ns, nvh = np.linalg.svd(a, full_matrices=full)
    np.testing.assert_allclose(s.numpy(), ns, rtol=1e-12)
    assert u.shape == nu.shape and vh.shape == nvh.shape
    k = ns.shape[-1]
    np.testing.assert_allclose(((u[..., :k] * s.unsqueeze(-2)) @ vh[..., :k, :]).numpy(), a,
                               atol=1e-12)
    if not full:
        gradcheck(lambda x: _svd_loss(LA.svd(x, full_matrices=False)), a)
    torch = requires_torch()
    fx = fastnn.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    w = [rng.standard_normal(tuple(o.shape)) for o in _svd_loss(LA.svd(fx, full))[2:]]
    lf = sum((o * fastnn.tensor(v)).sum() for o, v in zip(_svd_loss(LA.svd(fx, full))[2:], w))
    tout = torch.linalg.svd(tx, full_matrices=full)
    ts = tout.S
    tp = (tout.U[..., :k] * torch.tensor(np.linspace(0.5, 2.0, k))) @ tout.Vh[..., :k, :]
    lt = (ts * torch.tensor(w[0])).sum() + (tp * torch.tensor(w[1])).sum()
    lf.backward()
    lt.backward()
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("shape", SVD_SHAPES)
def test_svdvals_and_torch_svd(shape):
    rng = np.random.default_rng(6)
    a = rng.standard_normal(shape)
    np.testing.assert_allclose(LA.svdvals(fastnn.tensor(a)).numpy(),
                               np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    gradcheck(LA.svdvals, a)
    torch = requires_torch()
    vs_torch(LA.svdvals, torch.linalg.svdvals, a)
    for some in (True, False):
        r = fastnn.svd(fastnn.tensor(a), some=some)
        assert r._fields == ("U", "S", "V")
        k = r.S.shape[-1]
        np.testing.assert_allclose(((r.U[..., :k] * r.S.unsqueeze(-2)) @ r.V[..., :k].mT).numpy(),
                                   a, atol=1e-12)
        s = torch.svd(torch.tensor(a), some=some)
        assert tuple(r.V.shape) == tuple(s.V.shape) and tuple(r.U.shape) == tuple(s.U.shape)
    r = fastnn.tensor(a).svd(compute_uv=False)
    s = torch.svd(torch.tensor(a), compute_uv=False)
    for x, y in zip(r, s):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-12, atol=0)


def test_svd_float32_and_errors():
    a = np.random.default_rng(7).standard_normal((4, 3)).astype(np.float32)
    u, s, vh = LA.svd(fastnn.tensor(a))
    assert s.dtype == u.dtype == fastnn.float32
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(a.astype(float), compute_uv=False),
                               rtol=1e-5)
    with pytest.raises(LA.LinAlgError, match="linalg.svd: The algorithm failed to converge "
                       "because the input matrix contained non-finite values"):
        LA.svd(fastnn.tensor([[float("nan"), 0.0], [0.0, 1.0]]))
    with pytest.raises(TypeError, match="Got Long"):
        LA.svdvals(fastnn.ones(2, 2, dtype=fastnn.int64))


# ------------------------------------------------------------------- eig
def _real_spectrum(rng, *shape):
    n = shape[-1]
    p = rng.standard_normal(shape) + n * np.eye(n)
    d = np.arange(1.0, n + 1) * np.where(np.arange(n) % 2, -1, 1)
    return p @ (d[:, None] * np.linalg.inv(p))


def test_eig_real_spectrum():
    torch = requires_torch()
    rng = np.random.default_rng(8)
    a = _real_spectrum(rng, 2, 4, 4)
    w, v = LA.eig(fastnn.tensor(a))
    tw, tv = torch.linalg.eig(torch.tensor(a))
    np.testing.assert_allclose(w.numpy(), tw.real.numpy(), rtol=1e-10)
    np.testing.assert_allclose(np.abs(v.numpy()), np.abs(tv.real.numpy()), atol=1e-10)
    np.testing.assert_allclose(LA.eigvals(fastnn.tensor(a)).numpy(), tw.real.numpy(), rtol=1e-10)
    gradcheck(lambda x: sign_free(*LA.eig(x)), a)
    gradcheck(LA.eigvals, a)
    vs_torch(LA.eigvals, lambda x: torch.linalg.eigvals(x).real, a)
    vs_torch(lambda x: sign_free(*LA.eig(x)),
             lambda x: sign_free(*(t.real for t in torch.linalg.eig(x))), a)


def test_eig_complex_spectrum_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="complex"):
        LA.eigvals(fastnn.tensor([[0.0, -1.0], [1.0, 0.0]]))
    with pytest.raises(NotImplementedError, match="no complex dtype"):
        LA.eig(fastnn.tensor([[0.0, -1.0], [1.0, 0.0]]))


# ------------------------------------------------------ pinv and rank
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_pinv(shape):
    rng = np.random.default_rng(9)
    a = rng.standard_normal(shape)
    np.testing.assert_allclose(LA.pinv(fastnn.tensor(a)).numpy(), np.linalg.pinv(a), atol=1e-12)
    gradcheck(LA.pinv, a)
    torch = requires_torch()
    vs_torch(LA.pinv, torch.linalg.pinv, a)
    vs_torch(fastnn.pinverse, torch.pinverse, a)
    vs_torch(lambda x: x.pinverse(), lambda x: x.pinverse(), a)


def test_pinv_hermitian_tolerances_and_rank():
    torch = requires_torch()
    rng = np.random.default_rng(10)
    s = spd(rng, 2, 3, 3)
    vs_torch(lambda x: LA.pinv(x, hermitian=True), lambda x: torch.linalg.pinv(x, hermitian=True),
             s)
    low_rank = rng.standard_normal((2, 5, 2)) @ rng.standard_normal((2, 2, 4))
    vs_torch(LA.pinv, torch.linalg.pinv, low_rank)
    for kw in ({}, {"atol": 1.0}, {"rtol": 0.3}, {"atol": 0.5, "rtol": 0.1}):
        np.testing.assert_allclose(LA.pinv(fastnn.tensor(low_rank), **kw).numpy(),
                                   torch.linalg.pinv(torch.tensor(low_rank), **kw).numpy(),
                                   atol=1e-12)
        for h, m in ((False, low_rank), (True, s)):
            r = LA.matrix_rank(fastnn.tensor(m), hermitian=h, **kw)
            t = torch.linalg.matrix_rank(torch.tensor(m), hermitian=h, **kw)
            assert r.dtype == fastnn.int64
            np.testing.assert_array_equal(r.numpy(), t.numpy())
    assert LA.matrix_rank(fastnn.tensor(low_rank)).tolist() == [2, 2]
    assert LA.matrix_rank(fastnn.zeros(3, 3)).item() == 0


# ----------------------------------------------------------------- lstsq
@pytest.mark.parametrize("driver", [None, "gels", "gelsd", "gelss"])
def test_lstsq_outputs_as_pytorch(driver):
    torch = requires_torch()
    rng = np.random.default_rng(11)
    for a, b in ((rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))),
                 (rng.standard_normal((5, 3)), rng.standard_normal(5)),
                 (rng.standard_normal((3, 5)), rng.standard_normal((3, 2)))):
        if driver == "gels" and a.shape[-2] < a.shape[-1]:
            continue                  # gels: full-rank tall problems only (as LAPACK's)
        r = LA.lstsq(fastnn.tensor(a), fastnn.tensor(b), driver=driver)
        s = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        assert r._fields == ("solution", "residuals", "rank", "singular_values")
        for x, y in zip(r, s):
            assert tuple(x.shape) == tuple(y.shape), (driver, a.shape, x.shape, y.shape)
            np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-9, atol=1e-10)


def test_lstsq_gradient():
    torch = requires_torch()
    rng = np.random.default_rng(12)
    for a, b in ((rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))),
                 (rng.standard_normal((3, 5)), rng.standard_normal((3, 2))),
                 (rng.standard_normal((4, 3)), rng.standard_normal((2, 4, 1)))):
        gradcheck(lambda x, y: LA.lstsq(x, y).solution, a, b)
        if b.ndim > a.ndim:
            continue                  # (fastnn broadcasts A over B's batch; PyTorch does not)
        vs_torch(lambda x, y: LA.lstsq(x, y).solution,
                 lambda x, y: torch.linalg.lstsq(x, y).solution, a, b)


# ------------------------------------------------------------ matrix_exp
@pytest.mark.parametrize("scale", [1e-3, 0.05, 0.5, 1.5, 3.0, 20.0])
def test_matrix_exp_values_and_grads(scale):
    torch = requires_torch()
    rng = np.random.default_rng(13)
    a = rng.standard_normal((2, 4, 4)) * scale / 2
    vs_torch(LA.matrix_exp, torch.linalg.matrix_exp, a, rtol=1e-11, atol=1e-12)
    if scale < 10:                    # (larger: central differences lose the digits)
        gradcheck(LA.matrix_exp, a)
    f32 = LA.matrix_exp(fastnn.tensor(a.astype(np.float32)))
    assert f32.dtype == fastnn.float32
    ref = torch.linalg.matrix_exp(torch.tensor(a.astype(np.float32).astype(np.float64)))
    np.testing.assert_allclose(f32.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


def test_matrix_exp_known_values_and_method():
    rot = LA.matrix_exp(fastnn.tensor([[0.0, -np.pi / 2], [np.pi / 2, 0.0]],
                                      dtype=fastnn.float64)).numpy()
    np.testing.assert_allclose(rot, [[0.0, -1.0], [1.0, 0.0]], atol=1e-15)
    d = np.diag([0.5, -2.0, 30.0])
    np.testing.assert_allclose(fastnn.matrix_exp(fastnn.tensor(d)).numpy(), np.diag(np.exp(
        np.diag(d))), rtol=1e-13)
    np.testing.assert_allclose(fastnn.tensor(d).matrix_exp().numpy(), np.diag(np.exp(np.diag(d))),
                               rtol=1e-13)
    assert np.isnan(LA.matrix_exp(fastnn.tensor([[np.inf, 0.0], [0.0, 1.0]])).numpy()).all()
    assert LA.matrix_exp(fastnn.zeros(0, 3, 3)).shape == (0, 3, 3)
