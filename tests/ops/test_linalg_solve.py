"""Op tests: linalg.inv / inv_ex, det, slogdet, logdet, solve / solve_ex,
solve_triangular, cholesky / cholesky_ex, cholesky_solve, cholesky_inverse:
values against NumPy and PyTorch (float64 and float32), gradients by
gradcheck (float64, a random upstream gradient) and against PyTorch, batched
and broadcast shapes, the errors (LinAlgError naming the batch element and
LAPACK's info, ShapeError, TypeError), the torch.* spellings and the Tensor
methods."""
import numpy as np
import pytest

import fastnn
import fastnn.linalg as LA
from fastnn.testing import requires_torch


def mT(a):
    return np.swapaxes(a, -1, -2)


def well(rng, *shape):
    """Well-conditioned square matrices (diagonally weighted)."""
    return rng.standard_normal(shape) + shape[-1] * np.eye(shape[-1])


def spd(rng, *shape):
    x = rng.standard_normal(shape)
    return x @ mT(x) + shape[-1] * np.eye(shape[-1])


def sym(x):
    return (x + x.mT) * 0.5


def _float_outs(out):
    outs = out if isinstance(out, tuple) else (out,)
    return [o for o in outs if o.dtype in (fastnn.float32, fastnn.float64)]


def gradcheck(fn, *arrays, seed=0):
    """gradcheck of sum(w_i * out_i) with fixed random weights w_i."""
    xs = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    rng = np.random.default_rng(seed)
    ws = [fastnn.tensor(rng.standard_normal(tuple(o.shape))) for o in _float_outs(fn(*xs))]

    def loss(*args):
        return sum((o * w).sum() for o, w in zip(_float_outs(fn(*args)), ws))
    assert fastnn.gradcheck(loss, xs)


def vs_torch(ffn, tfn, *arrays, rtol=1e-10, atol=1e-11, grad=True):
    """Values and (with ``grad``) gradients under one random upstream
    gradient equal PyTorch's."""
    torch = requires_torch()
    fx = [fastnn.tensor(a, requires_grad=grad) for a in arrays]
    tx = [torch.tensor(a, requires_grad=grad) for a in arrays]
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
    if grad:
        lf.backward()
        lt.backward()
        for a, b in zip(fx, tx):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol * 10, atol=atol)


SHAPES = [(3, 3), (2, 4, 4), (2, 1, 3, 3), (1, 1)]


# ----------------------------------------------------------- inv / det
@pytest.mark.parametrize("shape", SHAPES)
def test_inv_det_slogdet_values_and_grads(shape):
    rng = np.random.default_rng(0)
    a = well(rng, *shape)
    t = fastnn.tensor(a)
    np.testing.assert_allclose(LA.inv(t).numpy(), np.linalg.inv(a), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(LA.det(t).numpy(), np.linalg.det(a), rtol=1e-12)
    s = LA.slogdet(t)
    sign, logabs = np.linalg.slogdet(a)
    np.testing.assert_array_equal(s.sign.numpy(), sign)
    np.testing.assert_allclose(s.logabsdet.numpy(), logabs, rtol=1e-12)
    gradcheck(LA.inv, a)
    gradcheck(LA.det, a)
    gradcheck(LA.slogdet, a)
    gradcheck(fastnn.logdet, spd(rng, *shape))


def test_inv_det_match_torch_and_float32():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4, 4))
    torch = requires_torch()
    vs_torch(LA.inv, torch.linalg.inv, a)
    vs_torch(LA.det, torch.linalg.det, a)
    vs_torch(LA.slogdet, torch.linalg.slogdet, a)
    vs_torch(fastnn.logdet, torch.logdet, spd(rng, 2, 3, 3))
    a32 = well(rng, 2, 5, 5).astype(np.float32)
    for f, ref in ((LA.inv, np.linalg.inv), (LA.det, np.linalg.det)):
        r = f(fastnn.tensor(a32))
        assert r.dtype == fastnn.float32
        np.testing.assert_allclose(r.numpy(), ref(a32.astype(np.float64)), rtol=2e-5, atol=1e-6)


def _cofactors(a):
    """The cofactor matrix from its definition (signed minors)."""
    n = a.shape[-1]
    c = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            c[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return c


@pytest.mark.parametrize("a", [[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, 1.0, -1.0]],   # rank 2
                               np.diag([2.0, 0.0, 3.0]), np.zeros((3, 3)), [[0.0]],
                               [[0.0, 1.0], [0.0, 1.0]]])
def test_det_gradient_of_singular_matrix_is_the_cofactor_matrix(a):
    # PyTorch returns 0 here (pytorch/pytorch#80761, #104675); d det / dA is
    # the cofactor matrix for every A, which is what fastnn returns
    a = np.asarray(a, np.float64)
    x = fastnn.tensor(a, requires_grad=True)
    LA.det(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), _cofactors(a) if a.size > 1 else [[1.0]],
                               atol=1e-12)
    b = np.stack([a, np.eye(len(a))])
    gradcheck(LA.det, b)


def test_logdet_negative_and_zero_determinant():
    torch = requires_torch()
    for m in ([[0.0, 1.0], [1.0, 0.0]], [[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 3.0]]):
        r = fastnn.logdet(fastnn.tensor(m)).item()
        s = torch.logdet(torch.tensor(m)).item()
        assert (np.isnan(r) and np.isnan(s)) or r == pytest.approx(s)


def test_inv_ex_reports_info_and_nan():
    a = np.stack([np.eye(2), [[1.0, 2.0], [2.0, 4.0]], 2 * np.eye(2)])
    r = LA.inv_ex(fastnn.tensor(a))
    assert r.info.dtype == fastnn.int32
    np.testing.assert_array_equal(r.info.numpy(), [0, 2, 0])
    assert np.isnan(r.inverse.numpy()[1]).all()
    np.testing.assert_allclose(r.inverse.numpy()[2], 0.5 * np.eye(2))
    with pytest.raises(LA.LinAlgError, match=r"linalg.inv_ex: \(Batch element 1\): The diagonal "
                       r"element 2 is zero"):
        LA.inv_ex(fastnn.tensor(a), check_errors=True)
    x = fastnn.tensor(well(np.random.default_rng(2), 3, 3))
    inv, info = LA.inv_ex(x)
    assert info.item() == 0 and info.shape == ()


# ----------------------------------------------------------------- solve
@pytest.mark.parametrize("ashape,bshape", [((3, 3), (3, 2)), ((3, 3), (3,)), ((2, 4, 4), (2, 4)),
                                           ((2, 4, 4), (4, 3)), ((1, 3, 3), (2, 3, 1)),
                                           ((2, 1, 3, 3), (4, 3, 2)), ((2, 3, 3), (3,))])
def test_solve_broadcast_and_vector_rhs(ashape, bshape):
    rng = np.random.default_rng(3)
    a, b = well(rng, *ashape), rng.standard_normal(bshape)
    x = LA.solve(fastnn.tensor(a), fastnn.tensor(b)).numpy()
    vec = len(bshape) == 1 or (len(bshape) == len(ashape) - 1 and bshape == ashape[:-1])
    ref = np.linalg.solve(a, b[..., None])[..., 0] if vec else np.linalg.solve(a, b)
    np.testing.assert_allclose(x, ref, rtol=1e-12, atol=1e-12)
    gradcheck(LA.solve, a, b)
    torch = requires_torch()
    vs_torch(LA.solve, torch.linalg.solve, a, b)


def test_solve_left_false_and_solve_ex():
    torch = requires_torch()
    rng = np.random.default_rng(4)
    a, b = well(rng, 2, 3, 3), rng.standard_normal((2, 4, 3))
    vs_torch(lambda p, q: LA.solve(p, q, left=False), lambda p, q: torch.linalg.solve(p, q,
             left=False), a, b)
    gradcheck(lambda p, q: LA.solve(p, q, left=False), a, b)
    with pytest.raises(fastnn.ShapeError, match=r"XA = B \(3x3 and 3x1\)"):
        LA.solve(fastnn.tensor(a), fastnn.tensor(b[:, 0]), left=False)
    res, info = LA.solve_ex(fastnn.tensor(a), fastnn.tensor(b[:, :3]))
    np.testing.assert_array_equal(info.numpy(), [0, 0])
    sing = np.stack([np.eye(2), np.ones((2, 2))])
    r = LA.solve_ex(fastnn.tensor(sing), fastnn.ones(2, 2, dtype=fastnn.float64))
    np.testing.assert_array_equal(r.info.numpy(), [0, 2])
    np.testing.assert_allclose(r.result.numpy()[0], np.ones(2))      # B (2, 2): batched vectors
    with pytest.raises(LA.LinAlgError, match=r"torch.linalg.solve_ex: \(Batch element 1\): The "
                       "solver failed because the input matrix is singular"):
        LA.solve_ex(fastnn.tensor(sing), fastnn.ones(2, dtype=fastnn.float64), check_errors=True)


def test_solve_float32():
    rng = np.random.default_rng(5)
    a, b = well(rng, 4, 4).astype(np.float32), rng.standard_normal((4, 2)).astype(np.float32)
    x = LA.solve(fastnn.tensor(a), fastnn.tensor(b))
    assert x.dtype == fastnn.float32
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a.astype(float), b.astype(float)),
                               rtol=1e-5, atol=1e-6)


# ------------------------------------------------------ solve_triangular
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular(upper, left, unit):
    rng = np.random.default_rng(6)
    a = well(rng, 2, 4, 4)                      # both triangles filled: only one may be read
    b = rng.standard_normal((2, 4, 3) if left else (2, 3, 4))
    f = lambda p, q: LA.solve_triangular(p, q, upper=upper, left=left, unitriangular=unit)  # noqa
    t = np.triu(a) if upper else np.tril(a)
    if unit:
        t[..., np.arange(4), np.arange(4)] = 1
    ref = np.linalg.solve(t, b) if left else mT(np.linalg.solve(mT(t), mT(b)))
    np.testing.assert_allclose(f(fastnn.tensor(a), fastnn.tensor(b)).numpy(), ref, rtol=1e-11,
                               atol=1e-12)
    gradcheck(f, a, b)
    torch = requires_torch()
    vs_torch(f, lambda p, q: torch.linalg.solve_triangular(p, q, upper=upper, left=left,
                                                           unitriangular=unit), a, b)


@pytest.mark.parametrize("ashape,bshape", [((3, 3), (2, 3, 2)), ((2, 3, 3), (4, 5, 2, 3, 2)),
                                           ((1, 3, 3), (2, 3, 1)), ((2, 3, 3), (4, 1, 3, 2))])
def test_solve_triangular_broadcast(ashape, bshape):
    # B's extra leading batch dims are folded into columns: one solve per A
    torch = requires_torch()
    rng = np.random.default_rng(7)
    a, b = well(rng, *ashape), rng.standard_normal(bshape)
    for up in (False, True):
        vs_torch(lambda p, q: LA.solve_triangular(p, q, upper=up),
                 lambda p, q: torch.linalg.solve_triangular(p, q, upper=up), a, b)
    gradcheck(lambda p, q: LA.solve_triangular(p, q, upper=False, unitriangular=True), a, b)


def test_solve_triangular_zero_diagonal_and_errors():
    torch = requires_torch()
    for m, up in (([[0.0, 1.0], [0.0, 0.0]], True), ([[1.0, 0.0], [1.0, 0.0]], False)):
        r = LA.solve_triangular(fastnn.tensor(m), fastnn.ones(2, 1), upper=up).numpy()
        s = torch.linalg.solve_triangular(torch.tensor(m), torch.ones(2, 1), upper=up).numpy()
        np.testing.assert_array_equal(r, s)                 # inf / NaN, no error, as PyTorch
    with pytest.raises(fastnn.ShapeError, match="at least 2 dimensions"):
        LA.solve_triangular(fastnn.eye(3), fastnn.ones(3), upper=True)
    with pytest.raises(fastnn.ShapeError, match=r"AX = B \(3x3 and 2x1\)"):
        LA.solve_triangular(fastnn.eye(3), fastnn.ones(2, 1), upper=True)


@pytest.mark.filterwarnings("ignore:torch.triangular_solve is deprecated")
def test_triangular_solve_torch_spelling():
    torch = requires_torch()
    rng = np.random.default_rng(8)
    a, b = well(rng, 3, 3), rng.standard_normal((3, 2))
    for up in (True, False):
        for tr in (True, False):
            for un in (True, False):
                vs_torch(lambda q, p: fastnn.triangular_solve(q, p, up, tr, un),
                         lambda q, p: torch.triangular_solve(q, p, up, tr, un), b, a)
    r = fastnn.tensor(b).triangular_solve(fastnn.tensor(a))
    assert set(r._fields) == {"solution", "cloned_coefficient"}
    np.testing.assert_array_equal(r.cloned_coefficient.numpy(), a)


# -------------------------------------------------------------- cholesky
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (1, 1)])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(shape, upper):
    rng = np.random.default_rng(9)
    a = spd(rng, *shape)
    low = np.linalg.cholesky(a)
    r = LA.cholesky(fastnn.tensor(a), upper=upper).numpy()
    np.testing.assert_allclose(r, mT(low) if upper else low, rtol=1e-12, atol=1e-13)
    gradcheck(lambda x: LA.cholesky(sym(x), upper=upper), a)
    torch = requires_torch()
    vs_torch(lambda x: LA.cholesky(x, upper=upper),
             lambda x: torch.linalg.cholesky(x, upper=upper), a)


def test_cholesky_reads_lower_triangle_and_float32():
    rng = np.random.default_rng(10)
    a = spd(rng, 4, 4)
    junk = a + np.triu(rng.standard_normal((4, 4)), 1)
    np.testing.assert_allclose(LA.cholesky(fastnn.tensor(junk)).numpy(), np.linalg.cholesky(a),
                               rtol=1e-12)
    r = LA.cholesky(fastnn.tensor(a.astype(np.float32)))
    assert r.dtype == fastnn.float32
    np.testing.assert_allclose(r.numpy(), np.linalg.cholesky(a), rtol=1e-5, atol=1e-6)


def test_cholesky_ex_and_errors():
    not_pd = np.array([[4.0, 0, 0], [0, 1, 0], [0, 0, -1]])
    r = LA.cholesky_ex(fastnn.tensor(np.stack([np.eye(3), not_pd, -np.eye(3)])))
    np.testing.assert_array_equal(r.info.numpy(), [0, 3, 1])
    np.testing.assert_allclose(r.L.numpy()[0], np.eye(3))
    msg = (r"linalg.cholesky: \(Batch element 1\): The factorization could not be completed "
           r"because the input is not positive-definite \(the leading minor of order 3 is not "
           r"positive-definite\)")
    with pytest.raises(LA.LinAlgError, match=msg):
        LA.cholesky(fastnn.tensor(np.stack([np.eye(3), not_pd])))
    with pytest.raises(RuntimeError, match=r"^cholesky: The factorization .* order 2 "):
        fastnn.cholesky(fastnn.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(LA.LinAlgError, match=r"linalg.cholesky_ex: The factorization"):
        LA.cholesky_ex(fastnn.tensor(not_pd), check_errors=True)


def test_cholesky_solve_and_inverse():
    torch = requires_torch()
    rng = np.random.default_rng(11)
    a = spd(rng, 2, 3, 3)
    low = np.linalg.cholesky(a)
    b = rng.standard_normal((2, 3, 2))
    for up, f in ((False, low), (True, mT(low).copy())):
        x = fastnn.cholesky_solve(fastnn.tensor(b), fastnn.tensor(f), up).numpy()
        np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-11)
        vs_torch(lambda p, q: fastnn.cholesky_solve(p, q, up),
                 lambda p, q: torch.cholesky_solve(p, q, up), b, f)
        # (the triangle read: PyTorch's gradient of the other one is not the derivative)
        tri = fastnn.triu if up else fastnn.tril
        gradcheck(lambda p, q: fastnn.cholesky_solve(p, tri(q), up), b, f)
        y = fastnn.cholesky_inverse(fastnn.tensor(f[0]), up).numpy()
        np.testing.assert_allclose(y, np.linalg.inv(a[0]), rtol=1e-11)
        vs_torch(lambda q: fastnn.cholesky_inverse(q, up), lambda q: torch.cholesky_inverse(q, up),
                 f)
        gradcheck(lambda q: fastnn.cholesky_inverse(tri(q), up), f)
    with pytest.raises(LA.LinAlgError, match="cholesky_inverse: The diagonal element 1 is zero"):
        fastnn.cholesky_inverse(fastnn.zeros(2, 2))


# ---------------------------------------------------------------- errors
def test_singular_errors_name_the_batch_element_and_pivot():
    sing = [[1.0, 2.0], [2.0, 4.0]]
    with pytest.raises(LA.LinAlgError, match=r"^linalg.inv: The diagonal element 2 is zero, the "
                       "inversion could not be completed because the input matrix is singular."):
        LA.inv(fastnn.tensor(sing))
    with pytest.raises(RuntimeError, match=r"linalg.inv: \(Batch element 2\): The diagonal "
                       "element 3 is zero"):
        LA.inv(fastnn.tensor(np.stack([np.eye(3), np.eye(3),
                                       [[1.0, 0, 0], [0, 1, 0], [1, 1, 0]]])))
    with pytest.raises(LA.LinAlgError, match="^torch.linalg.solve: The solver failed because the "
                       "input matrix is singular."):
        LA.solve(fastnn.tensor(sing), fastnn.tensor([1.0, 1.0]))
    with pytest.raises(LA.LinAlgError, match="linalg.inv"):
        fastnn.inverse(fastnn.tensor(sing))
    assert issubclass(LA.LinAlgError, RuntimeError)
    assert LA.det(fastnn.tensor(sing)).item() == 0.0
    assert LA.slogdet(fastnn.tensor(sing)).logabsdet.item() == -np.inf


@pytest.mark.parametrize("fn", [LA.inv, LA.det, LA.slogdet, LA.cholesky, fastnn.logdet,
                                LA.inv_ex, LA.cholesky_ex])
def test_shape_and_dtype_errors(fn):
    name = fn.__name__.replace("torch_", "")
    with pytest.raises(fastnn.ShapeError, match="must be batches of square matrices, but they are "
                       "2 by 3 matrices"):
        fn(fastnn.ones(2, 3))
    with pytest.raises(fastnn.ShapeError, match="must have at least 2 dimensions"):
        fn(fastnn.ones(3))
    with pytest.raises(TypeError, match=f"{name}: Expected a floating point tensor as input. "
                       "Got Long"):
        fn(fastnn.ones(2, 2, dtype=fastnn.int64))


def test_solve_shape_and_dtype_errors():
    with pytest.raises(fastnn.ShapeError, match=r"linalg.solve: Incompatible shapes of A and B "
                       r"for the equation AX = B \(3x3 and 2x1\)"):
        LA.solve(fastnn.eye(3), fastnn.ones(2))
    with pytest.raises(fastnn.ShapeError, match=r"XA = B \(3x3 and 2x2\)"):
        LA.solve(fastnn.eye(3), fastnn.ones(2, 2), left=False)
    with pytest.raises(TypeError, match="A of type Float and B of type Double"):
        LA.solve(fastnn.eye(3), fastnn.ones(3, dtype=fastnn.float64))
    with pytest.raises(fastnn.ShapeError, match="cannot be broadcast"):
        LA.solve(fastnn.randn(2, 3, 3), fastnn.randn(4, 3, 1))


def test_empty_inputs():
    assert LA.det(fastnn.zeros(0, 0)).item() == 1.0
    assert LA.inv(fastnn.zeros(3, 0, 0)).shape == (3, 0, 0)
    assert LA.inv(fastnn.zeros(0, 2, 2)).shape == (0, 2, 2)
    assert LA.det(fastnn.zeros(0, 2, 2)).shape == (0,)
    assert LA.cholesky(fastnn.zeros(0, 2, 2)).shape == (0, 2, 2)


# ---------------------------------------------------- aliases and methods
def test_torch_spellings_and_tensor_methods():
    torch = requires_torch()
    rng = np.random.default_rng(12)
    a, s = well(rng, 2, 3, 3), spd(rng, 3, 3)
    vs_torch(fastnn.det, torch.det, a)
    vs_torch(fastnn.inverse, torch.inverse, a)
    vs_torch(fastnn.slogdet, torch.slogdet, a)
    vs_torch(lambda x: x.det(), lambda x: x.det(), a)
    vs_torch(lambda x: x.inverse(), lambda x: x.inverse(), a)
    vs_torch(lambda x: x.logdet(), lambda x: x.logdet(), s)
    vs_torch(lambda x: x.slogdet(), lambda x: x.slogdet(), a)
    vs_torch(lambda x: x.cholesky(), lambda x: torch.linalg.cholesky(x), s)
    vs_torch(lambda x: fastnn.cholesky(x, upper=True), lambda x: torch.linalg.cholesky(x).mT, s)
    low = np.linalg.cholesky(s)
    vs_torch(lambda b, f: b.cholesky_solve(f), lambda b, f: b.cholesky_solve(f),
             rng.standard_normal((3, 2)), low)
    vs_torch(lambda f: f.cholesky_inverse(), lambda f: f.cholesky_inverse(), low)
    r = fastnn.slogdet(fastnn.tensor(a))
    assert type(r).__name__ == "slogdet" and r._fields == ("sign", "logabsdet")
    assert type(LA.slogdet(fastnn.tensor(a))).__name__ == "linalg_slogdet"
    assert LA.inv_ex(fastnn.tensor(a))._fields == ("inverse", "info")
    assert LA.cholesky_ex(fastnn.tensor(s))._fields == ("L", "info")
    assert LA.solve_ex(fastnn.tensor(a), fastnn.tensor(a))._fields == ("result", "info")
