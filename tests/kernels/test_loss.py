"""Kernel tests: fused cross-entropy and BCE with logits (csrc/loss.c)."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

DT = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("N,C", [(1, 1), (1, 5), (7, 3), (64, 10), (33, 1000)])
def test_cross_entropy_fwd_bwd(dtype, N, C):
    rng = np.random.default_rng(N * C)
    x = (2 * rng.standard_normal((N, C))).astype(dtype)
    t = rng.integers(0, C, N).astype(np.int64)
    g = rng.standard_normal(N).astype(dtype)
    loss, lse = np.empty(N, dtype), np.empty((N, 2), dtype)
    _core.cross_entropy_fwd(x, t, loss, lse, 2)
    np.testing.assert_allclose(loss, R.cross_entropy(x, t, "none"), **TOL[dtype])
    gx = _core.cross_entropy_bwd(x, t, lse, g, 0.5, np.empty_like(x), 2)
    np.testing.assert_allclose(gx, R.cross_entropy_grad(x, t, 0.5 * g.astype(np.float64), "none"),
                               **TOL[dtype])
    gx1 = _core.cross_entropy_bwd(x, t, lse, None, 1.0 / N, np.empty_like(x), 2)
    np.testing.assert_allclose(gx1, R.cross_entropy_grad(x, t, 1.0, "mean"), **TOL[dtype])


def test_cross_entropy_target_out_of_range():
    x = np.zeros((3, 4), np.float32)
    loss, lse = np.empty(3, np.float32), np.empty((3, 2), np.float32)
    for bad in (4, -1):
        with pytest.raises(IndexError):
            _core.cross_entropy_fwd(x, np.array([0, bad, 1]), loss, lse, 1)
        with pytest.raises(IndexError):
            _core.cross_entropy_bwd(x, np.array([0, bad, 1]), lse, None, 1.0, np.empty_like(x), 1)
    with pytest.raises(TypeError):
        _core.cross_entropy_fwd(x, np.array([0, 1, 1], np.int32), loss, lse, 1)
    with pytest.raises(ValueError):
        _core.cross_entropy_fwd(x, np.array([0, 1]), loss, lse, 1)


@pytest.mark.parametrize("dtype", DT)
def test_cross_entropy_large_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype)
    t = np.array([1, 2])
    loss, lse = np.empty(2, dtype), np.empty((2, 2), dtype)
    _core.cross_entropy_fwd(x, t, loss, lse, 1)
    assert np.isfinite(loss).all()
    np.testing.assert_allclose(loss, [2e4, np.log(3)], rtol=1e-6)
    gx = _core.cross_entropy_bwd(x, t, lse, None, 1.0, np.empty_like(x), 1)
    assert np.isfinite(gx).all()


def test_cross_entropy_threads_identical():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((500, 100)).astype(np.float32)
    t = rng.integers(0, 100, 500)
    out = []
    for nt in (1, 2):
        loss, lse = np.empty(500, np.float32), np.empty((500, 2), np.float32)
        _core.cross_entropy_fwd(x, t, loss, lse, nt)
        out.append((loss, _core.cross_entropy_bwd(x, t, lse, None, 1.0, np.empty_like(x), nt)))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


@pytest.mark.parametrize("dtype", DT)
def test_bce_logits(dtype):
    rng = np.random.default_rng(5)
    x = np.concatenate([5 * rng.standard_normal(50), [1e4, -1e4, 0.0]]).astype(dtype)
    y = rng.random(53).astype(dtype)
    g = rng.standard_normal(53).astype(dtype)
    loss = _core.bce_logits_fwd(x, y, np.empty_like(x), 2)
    assert np.isfinite(loss).all()
    np.testing.assert_allclose(loss, R.binary_cross_entropy_with_logits(x, y, "none"),
                               **TOL[dtype])
    gx = _core.bce_logits_bwd(x, y, g, 2.0, np.empty_like(x), 2)
    ref = R.binary_cross_entropy_with_logits_grad(x, y, 2.0 * g.astype(np.float64), "none")[0]
    np.testing.assert_allclose(gx, ref, **TOL[dtype])


@pytest.mark.parametrize("nt", [1, 2])
def test_bce_logits_float32_accuracy_wide_range(nt):
    """The vectorised float32 exp / log1p (fnn_vexp.h): within 4 ulp of the
    float64 loss over the whole range where the loss is a normal float, the
    slice ends of both threads included; NaN propagates."""
    a = np.geomspace(1e-30, 80, 40000)
    x = np.concatenate([-a, a, np.linspace(-80, 80, 40001), [np.nan]]).astype(np.float32)
    for yv in (0.0, 1.0, 0.25):
        y = np.full_like(x, yv)
        loss = _core.bce_logits_fwd(x, y, np.empty_like(x), nt)
        xd = x[:-1].astype(np.float64)
        ref = np.maximum(xd, 0) - xd * yv + np.log1p(np.exp(-np.abs(xd)))
        ok = np.abs(ref) > 1.2e-38
        ulp = np.abs(loss[:-1][ok] - ref[ok]) / np.spacing(np.abs(ref[ok]).astype(np.float32))
        assert ulp.max() <= 4, (yv, ulp.max())
        assert np.isnan(loss[-1])
        gx = _core.bce_logits_bwd(x, y, None, 1.0, np.empty_like(x), nt)
        rg = 1 / (1 + np.exp(-xd)) - yv
        np.testing.assert_allclose(gx[:-1], rg, rtol=2e-6, atol=1e-7)
        assert np.isnan(gx[-1])
