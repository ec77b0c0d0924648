"""csrc/xent.c through _core: the general cross-entropy kernels against the
NumPy reference (sizes around the 16-lane blocks, weights, ignore_index,
label smoothing, probability targets), 1 vs 2 threads, binding checks."""
import numpy as np
import pytest

import fastnn
from fastnn import _core
from fastnn.testing import reference as R

TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def _data(N, C, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = (3 * rng.standard_normal((N, C))).astype(dtype)
    t = rng.integers(0, C, N)
    t[::4] = -100
    w = rng.uniform(0.2, 2.0, C).astype(dtype)
    y = rng.random((N, C))
    y = (y / y.sum(1, keepdims=True)).astype(dtype)
    g = rng.standard_normal(N).astype(dtype)
    return x, t.astype(np.int64), w, y, g


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [1, 3, 15, 16, 17, 40])
@pytest.mark.parametrize("weighted,ls", [(False, 0.0), (True, 0.0), (False, 0.2), (True, 0.1)])
def test_index_kernel_matches_reference(dtype, C, weighted, ls):
    N = 9
    x, t, w, _, g = _data(N, C, dtype)
    w = w if weighted else None
    loss, wt, st = np.empty(N, dtype), np.empty(N, dtype), np.empty((N, 2), dtype)
    _core.xent_index_fwd(x, t, w, loss, wt, st, -100, ls)
    rl, rw = R.xent_index_rows(x, t, w, -100, ls)
    np.testing.assert_allclose(loss, rl, **TOL[dtype])
    np.testing.assert_allclose(wt, rw, **TOL[dtype])
    gx = _core.xent_index_bwd(x, t, w, st, g, 0.5, np.empty_like(x), -100, ls)
    np.testing.assert_allclose(gx, R.xent_index_rows_grad(x, t, 0.5 * g.astype(np.float64), w,
                                                          -100, ls), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [1, 16, 33])
@pytest.mark.parametrize("weighted,ls", [(False, 0.0), (True, 0.3)])
def test_prob_kernel_matches_reference(dtype, C, weighted, ls):
    N = 7
    x, _, w, y, g = _data(N, C, dtype, 1)
    w = w if weighted else None
    loss, st = np.empty(N, dtype), np.empty((N, 2), dtype)
    _core.xent_prob_fwd(x, y, w, loss, st, ls)
    np.testing.assert_allclose(loss, R.xent_prob_rows(x, y, w, ls), **TOL[dtype])
    gx = _core.xent_prob_bwd(x, y, w, st, None, 2.0, np.empty_like(x), ls)
    np.testing.assert_allclose(gx, R.xent_prob_rows_grad(x, y, np.full(N, 2.0), w, ls),
                               **TOL[dtype])


def test_kernels_thread_invariant_above_cutoff():
    x, t, w, y, g = _data(700, 100, np.float32, 2)        # 70000 elements
    res = []
    for n in (1, 2):
        loss, wt, st = np.empty(700, np.float32), np.empty(700, np.float32), \
            np.empty((700, 2), np.float32)
        _core.xent_index_fwd(x, t, w, loss, wt, st, -100, 0.1, n)
        gx = _core.xent_index_bwd(x, t, w, st, g, 1.0, np.empty_like(x), -100, 0.1, n)
        pl = np.empty(700, np.float32)
        _core.xent_prob_fwd(x, y, w, pl, st, 0.1, n)
        gp = _core.xent_prob_bwd(x, y, w, st, g, 1.0, np.empty_like(x), 0.1, n)
        res.append((loss, gx, pl, gp))
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)


def test_binding_checks():
    x, t, w, y, _ = _data(4, 3, np.float32)
    loss, wt, st = np.empty(4, np.float32), np.empty(4, np.float32), np.empty((4, 2), np.float32)
    with pytest.raises(IndexError):
        _core.xent_index_fwd(x, np.array([0, 3, 1, 1]), None, loss, wt, st)
    with pytest.raises(ValueError, match="weight"):
        _core.xent_index_fwd(x, t, np.ones(4, np.float32), loss, wt, st)
    with pytest.raises(TypeError):
        _core.xent_index_fwd(x, t, w.astype(np.float64), loss, wt, st)
    with pytest.raises(ValueError, match="label_smoothing"):
        _core.xent_prob_fwd(x, y, None, loss, st, 1.5)
    with pytest.raises(ValueError, match="target"):
        _core.xent_prob_fwd(x, y[:3], None, loss, st)
    with pytest.raises(TypeError):
        _core.xent_index_fwd(x, t.astype(np.int32), None, loss, wt, st)
    # ignore_index may lie outside [0, C): those rows give 0 loss and 0 gradient
    _core.xent_index_fwd(x, np.array([7, 0, 7, 2]), None, loss, wt, st, 7)
    assert loss[0] == 0 and wt[0] == 0 and loss[1] > 0
    gx = _core.xent_index_bwd(x, np.array([7, 0, 7, 2]), None, st, None, 1.0,
                              np.full_like(x, np.nan), 7)
    assert (gx[0] == 0).all() and np.isfinite(gx).all()
    assert fastnn.get_num_threads() >= 1
