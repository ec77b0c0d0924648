"""Kernel tests: batch norm (csrc/batchnorm.c) over (N, C, HW)."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

DT = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    C = shape[1]
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(C).astype(dtype)
    b = rng.standard_normal(C).astype(dtype)
    return x, g, w, b


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 7), (3, 4, 5, 6), (2, 1, 33, 17), (64, 16),
                                   # planes of 16, 64, 256 values: summed in groups of
                                   # runs (BN_GROUPED), the last group short
                                   (70, 3, 4, 4), (20, 2, 8, 8), (5, 2, 16, 16)])
@pytest.mark.parametrize("affine", [True, False])
def test_train_forward_backward(dtype, shape, affine):
    x, g, w, b = _data(shape, dtype)
    C = shape[1]
    if not affine:
        w = b = None
    y, mean, var, inv = (np.empty_like(x), np.empty(C, dtype), np.empty(C, dtype),
                         np.empty(C, dtype))
    _core.batchnorm_fwd_train(x, w, b, y, mean, var, inv, 1e-5, 2)
    ref, _, _ = R.batch_norm(x, np.zeros(C), np.ones(C), w, b, training=True)
    np.testing.assert_allclose(y, ref, **TOL[dtype])
    axes = (0,) + tuple(range(2, x.ndim))
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(axes), **TOL[dtype])
    np.testing.assert_allclose(var, x.astype(np.float64).var(axes), **TOL[dtype])
    gx, dw, db = np.empty_like(x), np.empty(C, dtype), np.empty(C, dtype)
    _core.batchnorm_bwd(x, g, mean, inv, w, True, gx, dw, db, 2)
    rdx, rdw, rdb = R.batch_norm_grad(x, g, None, None, w, training=True)
    np.testing.assert_allclose(gx, rdx, rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10)
    np.testing.assert_allclose(dw, rdw, rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10)
    np.testing.assert_allclose(db, rdb, rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10)


@pytest.mark.parametrize("shape", [(2, 3, 0), (0, 3, 16)])
def test_empty_planes_backward(shape):
    # no values per plane (or no images): the sums are zero, nothing divides by
    # the plane size (the grouped small-plane path must not take an empty one)
    x = np.zeros(shape, np.float32)
    C = shape[1]
    mean, inv, w = np.zeros(C, np.float32), np.ones(C, np.float32), np.ones(C, np.float32)
    gx, dw, db = np.empty_like(x), np.full(C, 7, np.float32), np.full(C, 7, np.float32)
    _core.batchnorm_bwd(x, x, mean, inv, w, False, gx, dw, db, 2)
    assert np.array_equal(dw, np.zeros(C)) and np.array_equal(db, np.zeros(C))


@pytest.mark.parametrize("dtype", DT)
def test_eval_forward_backward(dtype):
    x, g, w, b = _data((3, 4, 5, 2), dtype, 1)
    rm = np.linspace(-1, 1, 4).astype(dtype)
    rv = np.linspace(0.5, 2, 4).astype(dtype)
    y, inv = np.empty_like(x), np.empty(4, dtype)
    _core.batchnorm_fwd_eval(x, rm, rv, w, b, y, inv, 1e-5, 2)
    ref, _, _ = R.batch_norm(x, rm, rv, w, b, training=False)
    np.testing.assert_allclose(y, ref, **TOL[dtype])
    gx, dw, db = np.empty_like(x), np.empty(4, dtype), np.empty(4, dtype)
    _core.batchnorm_bwd(x, g, rm, inv, w, False, gx, dw, db, 2)
    rdx, rdw, rdb = R.batch_norm_grad(x, g, rm, rv, w, training=False)
    for a, r in ((gx, rdx), (dw, rdw), (db, rdb)):
        np.testing.assert_allclose(a, r, **TOL[dtype])


def test_threads_bitwise_identical():
    x, g, w, b = _data((8, 6, 16, 16), np.float32, 2)
    res = []
    for nt in (1, 2):
        y, m, v, i = np.empty_like(x), *(np.empty(6, np.float32) for _ in range(3))
        _core.batchnorm_fwd_train(x, w, b, y, m, v, i, 1e-5, nt)
        gx, dw, db = np.empty_like(x), np.empty(6, np.float32), np.empty(6, np.float32)
        _core.batchnorm_bwd(x, g, m, i, w, True, gx, dw, db, nt)
        res.append((y, m, v, gx, dw, db))
    for a, b2 in zip(*res):
        np.testing.assert_array_equal(a, b2)


def test_nan_stays_in_its_channel():
    x, _, w, b = _data((4, 3, 2, 2), np.float32, 3)
    x[1, 1, 0, 0] = np.nan
    y, m, v, i = np.empty_like(x), *(np.empty(3, np.float32) for _ in range(3))
    _core.batchnorm_fwd_train(x, w, b, y, m, v, i, 1e-5, 1)
    assert np.isnan(y[:, 1]).all()
    assert np.isfinite(y[:, [0, 2]]).all()


def test_binding_checks():
    x = np.zeros((2, 3, 4), np.float32)
    y, m = np.empty_like(x), np.empty(3, np.float32)
    with pytest.raises(ValueError):
        _core.batchnorm_fwd_train(x, np.ones(2, np.float32), None, y, m, m.copy(), m.copy(),
                                  1e-5, 1)
    with pytest.raises(TypeError):
        _core.batchnorm_fwd_train(x, None, None, y, np.empty(3), m.copy(), m.copy(), 1e-5, 1)
    with pytest.raises(ValueError):
        _core.batchnorm_fwd_train(x, None, None, y, m, m.copy(), m.copy(), -1.0, 1)


# ---------------------------------------------------------------- fused ReLU
def _relu_np(a):
    return np.where(a > 0, a, np.where(np.isnan(a), a, 0)).astype(a.dtype)


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape", [(3, 2, 1), (2, 3, 15), (2, 2, 16), (3, 2, 17), (2, 2, 512),
                                   (2, 3, 530), (2, 2, 1100), (40, 3, 1), (70, 3, 16),
                                   (20, 2, 64), (5, 2, 256)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("nt", [1, 2])
def test_relu_fused_bitwise_as_unfused(dtype, shape, training, nt):
    """relu fused into batch norm: output, dx, dgamma, dbeta bitwise those of
    batch norm then fnn_relu_fwd / fnn_relu_bwd, at run sizes around the 16
    lanes and 512-element blocks (this also catches the GCC 12 AVX2
    mis-vectorisation of a masked lane sum, which gave wrong sums)."""
    x, g, w, b = _data(shape, dtype, seed=sum(shape))
    C = shape[1]
    x.reshape(-1)[:3] = [0.0, -0.0, 1e-30]
    g.reshape(shape[0], C, -1)[-1, -1, 0] = np.inf     # masked or not, as relu_bwd does
    rm, rv = (np.linspace(-0.5, 0.5, C).astype(dtype), np.linspace(0.5, 2, C).astype(dtype))
    outs = []
    for fused in (False, True):
        y, mean, var, inv = (np.empty_like(x), np.empty(C, dtype), np.empty(C, dtype),
                             np.empty(C, dtype))
        if training:
            _core.batchnorm_fwd_train(x, w, b, y, mean, var, inv, 1e-5, nt, fused)
        else:
            mean = rm.copy()
            _core.batchnorm_fwd_eval(x, mean, rv, w, b, y, inv, 1e-5, nt, fused)
        gx, dw, db = np.empty_like(x), np.empty(C, dtype), np.empty(C, dtype)
        if fused:
            _core.batchnorm_bwd(x, g, mean, inv, w, training, gx, dw, db, nt, y)
        else:
            pre = y
            y = _core.relu_fwd(pre, np.empty_like(pre), nt)
            gm = _core.relu_bwd(pre, g, np.empty_like(g), nt)
            _core.batchnorm_bwd(x, gm, mean, inv, w, training, gx, dw, db, nt)
        outs.append((y, gx, dw, db))
    for a, c, name in zip(outs[0], outs[1], ("y", "dx", "dgamma", "dbeta")):
        assert np.array_equal(a, c, equal_nan=True), name
    # and against the NumPy oracle (finite upstream gradient)
    g[np.isinf(g)] = 0.5
    y = outs[1][0]
    if training:
        ref, _, _ = R.batch_norm(x, np.zeros(C), np.ones(C), w, b, training=True)
        np.testing.assert_allclose(y, _relu_np(ref), **TOL[dtype])
        mean, var, inv = np.empty(C, dtype), np.empty(C, dtype), np.empty(C, dtype)
        _core.batchnorm_fwd_train(x, w, b, y, mean, var, inv, 1e-5, nt, True)
        gx, dw, db = np.empty_like(x), np.empty(C, dtype), np.empty(C, dtype)
        _core.batchnorm_bwd(x, g, mean, inv, w, True, gx, dw, db, nt, y)
        rdx, rdw, rdb = R.batch_norm_grad(x, np.where(ref > 0, g, 0), None, None, w,
                                          training=True)
        np.testing.assert_allclose(gx, rdx, **TOL[dtype])
        np.testing.assert_allclose(dw, rdw, **TOL[dtype])
        np.testing.assert_allclose(db, rdb, **TOL[dtype])


def test_relu_fused_threads_bitwise_and_checks():
    x, g, w, b = _data((4, 6, 700), np.float32, seed=5)
    res = []
    for nt in (1, 2):
        y, m, v, i = np.empty_like(x), *(np.empty(6, np.float32) for _ in range(3))
        _core.batchnorm_fwd_train(x, w, b, y, m, v, i, 1e-5, nt, True)
        gx, dw, db = np.empty_like(x), np.empty(6, np.float32), np.empty(6, np.float32)
        _core.batchnorm_bwd(x, g, m, i, w, True, gx, dw, db, nt, y)
        res.append((y, gx, dw, db))
    for a, c in zip(*res):
        assert np.array_equal(a, c)
    # gx None: only dgamma / dbeta
    dw2, db2 = np.empty(6, np.float32), np.empty(6, np.float32)
    _core.batchnorm_bwd(x, g, m, i, w, True, None, dw2, db2, 1, y)
    assert np.array_equal(dw2, res[0][2]) and np.array_equal(db2, res[0][3])
    with pytest.raises((ValueError, TypeError)):
        _core.batchnorm_bwd(x, g, m, i, w, True, gx, dw, db, 1, y[:2])
    with pytest.raises(TypeError):
        _core.batchnorm_bwd(x, g, m, i, w, True, gx, dw, db, 1, y.astype(np.float64))
