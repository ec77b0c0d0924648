"""Op tests: cross_entropy, nll_loss, mse_loss, binary_cross_entropy(_with_logits)
and their modules."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.testing import reference as R
from fastnn.testing import requires_torch, run_python

TOL = {np.float32: dict(rtol=3e-5, atol=2e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}
RED = ["mean", "sum", "none"]


def _cls(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = (2 * rng.standard_normal(shape)).astype(dtype)
    C = shape[1] if len(shape) > 1 else shape[0]
    tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    t = rng.integers(0, C, tshape).astype(np.int64)
    return x, t


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("shape", [(5, 4), (1, 1), (3, 4, 2, 3), (6,)])
def test_cross_entropy_and_nll_forward(dtype, reduction, shape):
    x, t = _cls(shape, dtype)
    y = F.cross_entropy(x, t, reduction=reduction)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), R.cross_entropy(x, t, reduction), **TOL[dtype])
    lp = R.log_softmax(x, 1 if x.ndim > 1 else 0)
    np.testing.assert_allclose(F.nll_loss(lp, t, reduction=reduction).numpy(),
                               R.nll_loss(lp, t, reduction), **TOL[dtype])


@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 2, 2)])
def test_cross_entropy_and_nll_gradcheck(reduction, shape):
    x, t = _cls(shape, np.float64, 1)
    xt = fastnn.tensor(x, requires_grad=True)
    Rg = np.random.default_rng(2).standard_normal(t.shape)
    w = Rg if reduction == "none" else 1.7
    assert fastnn.gradcheck(lambda a: (F.cross_entropy(a, t, reduction=reduction) * w).sum(), [xt])
    assert fastnn.gradcheck(lambda a: (F.nll_loss(a, t, reduction=reduction) * w).sum(), [xt])


@pytest.mark.parametrize("reduction", RED)
def test_elementwise_losses_gradcheck(reduction):
    rng = np.random.default_rng(3)
    x = fastnn.tensor(rng.standard_normal((3, 4)), dtype=np.float64, requires_grad=True)
    y = fastnn.tensor(rng.random((3, 4)), dtype=np.float64, requires_grad=True)
    p = fastnn.tensor(rng.uniform(0.05, 0.95, (3, 4)), dtype=np.float64, requires_grad=True)
    w = rng.standard_normal((3, 4)) if reduction == "none" else 0.7
    for fn, a in ((F.mse_loss, x), (F.binary_cross_entropy_with_logits, x),
                  (F.binary_cross_entropy, p)):
        assert fastnn.gradcheck(lambda u, v: (fn(u, v, reduction=reduction) * w).sum(), [a, y])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", RED)
def test_elementwise_losses_forward(dtype, reduction):
    rng = np.random.default_rng(4)
    x = (3 * rng.standard_normal((4, 5))).astype(dtype)
    y = rng.random((4, 5)).astype(dtype)
    p = rng.uniform(0, 1, (4, 5)).astype(dtype)
    p[0, 0], p[0, 1] = 0.0, 1.0      # exercises the -100 clamp of the logs
    for fn, ref, a in ((F.mse_loss, R.mse_loss, x),
                       (F.binary_cross_entropy_with_logits, R.binary_cross_entropy_with_logits, x),
                       (F.binary_cross_entropy, R.binary_cross_entropy, p)):
        out = fn(a, y, reduction=reduction)
        assert out.dtype == dtype
        np.testing.assert_allclose(out.numpy(), ref(a, y, reduction), rtol=1e-5 if dtype ==
                                   np.float32 else 1e-10, atol=1e-6 if dtype == np.float32
                                   else 1e-12)


def test_torch_parity_all_losses():
    torch = requires_torch()
    tF = torch.nn.functional
    rng = np.random.default_rng(5)
    x = (3 * rng.standard_normal((6, 5))).astype(np.float32)
    x4 = rng.standard_normal((2, 5, 3, 2)).astype(np.float32)
    t = rng.integers(0, 5, 6)
    t4 = rng.integers(0, 5, (2, 3, 2))
    y = rng.random((6, 5)).astype(np.float32)
    p = rng.uniform(0.01, 0.99, (6, 5)).astype(np.float32)
    cases = [("cross_entropy", x, t), ("cross_entropy", x4, t4), ("nll_loss", x, t),
             ("mse_loss", x, y), ("binary_cross_entropy_with_logits", x, y),
             ("binary_cross_entropy", p, y)]
    for name, a, b in cases:
        for reduction in RED:
            fa = fastnn.tensor(a, requires_grad=True)
            ta = torch.tensor(a, requires_grad=True)
            fb = fastnn.tensor(b) if b.dtype == np.int64 else fastnn.tensor(b, requires_grad=True)
            tb = torch.tensor(b) if b.dtype == np.int64 else torch.tensor(b, requires_grad=True)
            lf = getattr(F, name)(fa, fb, reduction=reduction)
            lt = getattr(tF, name)(ta, tb, reduction=reduction)
            g = rng.standard_normal(lt.shape).astype(np.float32)
            lf.backward(g)
            lt.backward(torch.tensor(g))
            np.testing.assert_allclose(lf.detach().numpy(), lt.detach().numpy(), rtol=2e-5,
                                       atol=2e-6, err_msg=f"{name} {reduction}")
            np.testing.assert_allclose(fa.grad, ta.grad.numpy(), rtol=2e-4, atol=1e-6,
                                       err_msg=f"{name} {reduction} d input")
            if b.dtype != np.int64:
                np.testing.assert_allclose(fb.grad, tb.grad.numpy(), rtol=2e-4, atol=1e-6,
                                           err_msg=f"{name} {reduction} d target")


def test_modules():
    x, t = _cls((5, 3), np.float32, 6)
    np.testing.assert_allclose(fastnn.nn.CrossEntropyLoss()(x, t).item(),
                               R.cross_entropy(x, t), rtol=1e-5)
    np.testing.assert_allclose(fastnn.nn.CrossEntropyLoss(reduction="sum")(x, t).item(),
                               R.cross_entropy(x, t, "sum"), rtol=1e-5)
    assert fastnn.nn.NLLLoss(reduction="none")(x, t).shape == (5,)
    y = np.random.default_rng(0).random((5, 3)).astype(np.float32)
    np.testing.assert_allclose(fastnn.nn.MSELoss()(x, y).item(), R.mse_loss(x, y), rtol=1e-5)
    np.testing.assert_allclose(fastnn.nn.BCEWithLogitsLoss()(x, y).item(),
                               R.binary_cross_entropy_with_logits(x, y), rtol=1e-5)
    np.testing.assert_allclose(fastnn.nn.BCELoss()(y, y).item(),
                               R.binary_cross_entropy(y, y), rtol=1e-5)
    with pytest.raises(ValueError):
        fastnn.nn.CrossEntropyLoss(reduction="avg")


def test_large_logits_and_nan():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], np.float32)
    t = np.array([1, 2])
    xt = fastnn.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, t)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(xt.grad).all()
    np.testing.assert_allclose(loss.item(), (2e4 + np.log(3)) / 2, rtol=1e-6)
    bl = F.binary_cross_entropy_with_logits(np.array([1e4, -1e4], np.float32),
                                            np.array([0.0, 1.0], np.float32), reduction="none")
    np.testing.assert_allclose(bl.numpy(), [1e4, 1e4])
    xn = x.copy()
    xn[0, 0] = np.nan
    ln = F.cross_entropy(xn, t, reduction="none").numpy()
    assert np.isnan(ln[0]) and np.isfinite(ln[1])
    assert np.isnan(F.mse_loss(np.array([np.nan], np.float32), np.zeros(1, np.float32)).item())


def test_thread_invariance():
    x, t = _cls((400, 100), np.float32, 7)
    res = []
    for n in (1, 2):
        fastnn.set_num_threads(n)
        xt = fastnn.tensor(x, requires_grad=True)
        loss = F.cross_entropy(xt, t)
        loss.backward()
        res.append((loss.item(), xt.grad.numpy().copy()))
    assert res[0][0] == res[1][0]
    np.testing.assert_array_equal(res[0][1], res[1][1])


BAD = r'''
import numpy as np, fastnn, fastnn.nn.functional as F
x = np.zeros((3, 4), np.float32)
def check(exc, fn):
    try:
        fn()
    except exc as e:
        print("OK", exc.__name__, e)
    else:
        print("MISSING", exc.__name__)
check(IndexError, lambda: F.cross_entropy(x, np.array([0, 4, 1])))
check(IndexError, lambda: F.cross_entropy(x, np.array([0, -1, 1])))
check(IndexError, lambda: F.nll_loss(x, np.array([0, 9, 1])))
check(fastnn.ShapeError, lambda: F.cross_entropy(x, np.array([0, 1])))
check(fastnn.ShapeError, lambda: F.nll_loss(x, np.array([[0, 1, 1]])))
check(TypeError, lambda: F.cross_entropy(x, np.array([0.0, 1.0, 1.0])))
check(ValueError, lambda: F.cross_entropy(x, np.array([0, 1, 1]), reduction="avg"))
check(fastnn.ShapeError, lambda: F.mse_loss(x, np.zeros((2, 4), np.float32)))
check(fastnn.ShapeError, lambda: F.binary_cross_entropy_with_logits(x, np.zeros(4, np.float32)))
check(ValueError, lambda: F.binary_cross_entropy(x + 2, x))
'''


def test_bad_input_in_subprocess():
    r = run_python(BAD)
    assert r.returncode == 0, r.stderr
    assert "MISSING" not in r.stdout, r.stdout
    assert r.stdout.count("OK") == 10
    assert "target 4 is out of bounds for 4 classes" in r.stdout
    assert "batch_size (3)" in r.stdout and "batch_size (2)" in r.stdout


def test_noncontiguous_and_batch_one():
    x = np.random.default_rng(8).standard_normal((6, 5)).astype(np.float32).T   # (5, 6) view
    t = np.array([0, 5, 2, 3, 1])
    np.testing.assert_allclose(F.cross_entropy(x, t).item(), R.cross_entropy(x, t), rtol=1e-5)
    x1 = fastnn.tensor(np.random.default_rng(9).standard_normal((1, 4)), requires_grad=True)
    F.cross_entropy(x1, np.array([3])).backward()
    np.testing.assert_allclose(x1.grad, R.cross_entropy_grad(x1.detach().numpy(), np.array([3]), 1.0),
                               rtol=1e-5)
