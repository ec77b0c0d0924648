"""Batch-norm training statistics (csrc/batchnorm.inc, chan_stats): one
shifted pass S1 = sum(x - s), S2 = sum(x - s)^2 about a per-channel shift s,
mean = s + S1/M, var = S2/M - (S1/M)^2.

Checked against a long-double two-pass NumPy reference on data whose mean
is large against its spread (where a plain sum of squares would lose every
digit), with tolerances from the error bound in batchnorm.inc:
|mean error| <= ~u|mean| (its rounding to the dtype) and
|var error| / var <= ~100u (1 + delta^2/var) with delta^2/var <= 1
(u the unit roundoff).  Also: bitwise the same at 1 and 2 threads, the
training forward against the oracle, and BN+ReLU fused bitwise unfused.
"""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.ops.normalization import batch_norm, batch_norm_relu
from fastnn import _core, nn
from fastnn.testing import reference as R

DT = [np.float32, np.float64]
# layouts that hit the lane/block edges of the pass (HW = 1 is BatchNorm1d,
# HW < 16 only tails, 512 one full block, 1100 blocks + tail) and the shift's
# sample (N < 8, N > 8 runs, HW < 64 and >= 64 values per run)
SHAPES = [(256, 3), (2, 3), (1, 3, 50), (5, 2, 7), (9, 3, 16), (4, 2, 512), (3, 2, 1100),
          (16, 4, 8, 8), (2, 3, 33, 35)]


def _u(dtype):
    return np.finfo(dtype).eps / 2


def _ref_stats(x):
    """mean and biased variance per channel, two passes in long double"""
    axes = (0,) + tuple(range(2, x.ndim))
    xl = x.astype(np.longdouble)
    m = xl.mean(axis=axes, keepdims=True)
    v = ((xl - m) ** 2).mean(axis=axes)
    return m.reshape(-1), v


def _stats(x, nt=1, relu=False, w=None, b=None):
    C = x.shape[1]
    y = np.empty_like(x)
    mean, var, inv = (np.empty(C, x.dtype) for _ in range(3))
    _core.batchnorm_fwd_train(x, w, b, y, mean, var, inv, 1e-5, nt, relu)
    return y, mean, var, inv


def _check_stats(x, var_tol_u=32):
    _, mean, var, _ = _stats(x)
    rm, rv = _ref_stats(x)
    u = _u(x.dtype)
    # the mean rounded to the dtype (u/2) plus the sums' error (<< u here)
    err_m = np.abs(mean.astype(np.longdouble) - rm) / np.abs(rm)
    assert np.all(err_m <= 2 * u), (err_m / u).max()
    # var: the worst-case bound is ~100u (1 + delta^2/var) <= 200u; the
    # errors on these (seeded) random data are a few u, as they were with
    # the old two-pass sums
    err_v = np.abs(var.astype(np.longdouble) - rv) / rv
    assert np.all(err_v <= var_tol_u * u), (err_v / u).max()


@pytest.mark.parametrize("shape", SHAPES)
def test_large_mean_f32(shape):
    r = np.random.default_rng(len(shape) + shape[0])
    x = (1000 + r.standard_normal(shape)).astype(np.float32)
    _check_stats(x)
    x = (1e4 + r.standard_normal(shape)).astype(np.float32)
    _check_stats(x)


@pytest.mark.parametrize("shape", SHAPES)
def test_large_mean_f64(shape):
    r = np.random.default_rng(7 + shape[0])
    _check_stats(1e4 + 1e-2 * r.standard_normal(shape))
    # mean / std = 1e11: the old sum of x (then the mean's error squared)
    # lost about 6 digits of the variance here
    _check_stats(1e8 + 1e-3 * r.standard_normal(shape))


@pytest.mark.parametrize("dtype", DT)
def test_shift_sample_unlike_the_channel(dtype):
    """The shift's sample far from the rest of the channel: the pass is run
    again about the mean found (without that: var off by 19u in float32,
    270u in float64 here; with it ~1u)."""
    r = np.random.default_rng(3)
    x = r.standard_normal((4, 2, 4096)) + 5
    x[:, :, 2016:2080] += 1000.0    # exactly the sampled middle chunks
    _check_stats(x.astype(dtype), var_tol_u=8)
    # 8 evenly spaced images of 64 are sampled
    x = r.standard_normal((64, 2, 8, 8))
    x[::8] += 1000.0
    _check_stats((x + 5.0).astype(dtype))
    # a constant channel: variance exactly 0 (clamped, never negative)
    x = np.full((12, 2, 5), 3.7, dtype)
    _, mean, var, _ = _stats(x)
    assert np.all(var == 0) and np.all(mean == dtype(3.7))


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("relu", [False, True])
def test_threads_bitwise(dtype, relu):
    # large enough for 2 threads to be used (over channels)
    r = np.random.default_rng(11)
    x = (50 + 3 * r.standard_normal((8, 6, 29, 31))).astype(dtype)
    g = r.standard_normal(x.shape).astype(dtype)
    w, b = r.standard_normal(6).astype(dtype), r.standard_normal(6).astype(dtype)
    res = []
    for nt in (1, 2):
        y, m, v, i = _stats(x, nt, relu, w, b)
        gx, dw, db = np.empty_like(x), np.empty(6, dtype), np.empty(6, dtype)
        _core.batchnorm_bwd(x, g, m, i, w, True, gx, dw, db, nt, y if relu else None)
        res.append((y, m, v, i, gx, dw, db))
    for a, c in zip(*res):
        assert np.array_equal(a, c)


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape", SHAPES)
def test_train_forward_matches_reference(dtype, shape):
    r = np.random.default_rng(shape[-1])
    C = shape[1]
    x = (r.standard_normal(shape) * 3 - 2).astype(dtype)
    w, b = r.standard_normal(C).astype(dtype), r.standard_normal(C).astype(dtype)
    y, mean, var, inv = _stats(x, 2, False, w, b)
    ref, _, _ = R.batch_norm(x, np.zeros(C), np.ones(C), w, b, training=True)
    tol = dict(rtol=1e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(y, ref, **tol)
    rm, rv = _ref_stats(x)
    np.testing.assert_allclose(mean, rm.astype(np.float64), **tol)
    np.testing.assert_allclose(var, rv.astype(np.float64), **tol)
    np.testing.assert_allclose(inv, 1 / np.sqrt(rv.astype(np.float64) + 1e-5), **tol)


@pytest.mark.parametrize("dtype", DT)
def test_running_stats_unbiased(dtype):
    r = np.random.default_rng(5)
    x = (100 + r.standard_normal((6, 3, 4, 5))).astype(dtype)
    rm, rv = np.zeros(3, dtype), np.ones(3, dtype)
    F.batch_norm(fastnn.tensor(x), rm, rv, training=True, momentum=0.25)
    _, erm, erv = R.batch_norm(x, np.zeros(3, dtype), np.ones(3, dtype), training=True,
                               momentum=0.25)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(rm, erm, rtol=tol)
    np.testing.assert_allclose(rv, erv, rtol=tol)


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape", [(256, 3), (4, 2, 512), (16, 4, 8, 8), (2, 3, 33, 35)])
def test_fused_relu_bitwise_unfused(dtype, shape):
    r = np.random.default_rng(shape[0])
    C = shape[1]
    x = (r.standard_normal(shape) + 0.2).astype(dtype)
    g = r.standard_normal(shape).astype(dtype)
    w, b = r.standard_normal(C).astype(dtype), r.standard_normal(C).astype(dtype)
    outs = []
    for fused in (False, True):
        xt = fastnn.tensor(x, requires_grad=True)
        wt = fastnn.tensor(w, requires_grad=True)
        bt = fastnn.tensor(b, requires_grad=True)
        rm, rv = np.zeros(C, dtype), np.ones(C, dtype)
        if fused:
            y = batch_norm_relu(xt, rm, rv, wt, bt, training=True)
        else:
            y = F.relu(F.batch_norm(xt, rm, rv, wt, bt, training=True))
        y.backward(fastnn.tensor(g))
        outs.append((y.detach().numpy(), np.asarray(xt.grad), np.asarray(wt.grad),
                     np.asarray(bt.grad), rm, rv))
    for a, c, name in zip(outs[0], outs[1], ("y", "dx", "dw", "db", "rm", "rv")):
        assert np.array_equal(a, c), name


# ---- running statistics updated in C (bitwise the NumPy expressions)
def _numpy_running(rm, rv, mean, var, momentum, M):
    """The NumPy expressions the compiled update replaces."""
    rm = rm.copy()
    rv = rv.copy()
    rm *= (1 - momentum)
    rm += momentum * mean.astype(rm.dtype, copy=False)
    unbiased = var.astype(np.float64) * (M / (M - 1))
    rv *= (1 - momentum)
    rv += (momentum * unbiased).astype(rv.dtype, copy=False)
    return rm, rv


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum", [0.1, 0.3, 1 / 3, 0.0, 1.0])
@pytest.mark.parametrize("relu", [False, True])
def test_running_stats_in_c_bitwise_numpy(dtype, momentum, relu):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((5, 7, 3, 4)) * 3 + 1.5).astype(dtype)
    C, M = 7, 5 * 12
    rm0 = rng.standard_normal(C).astype(dtype)
    rv0 = rng.random(C).astype(dtype) + 0.5
    # batch statistics from the kernel alone
    y = np.empty_like(x)
    mean, var, inv = (np.empty(C, dtype) for _ in range(3))
    _core.batchnorm_fwd_train(x, None, None, y, mean, var, inv, 1e-5, 1, relu)
    ref_m, ref_v = _numpy_running(rm0, rv0, mean, var, momentum, M)
    rm, rv = rm0.copy(), rv0.copy()
    fn = batch_norm_relu if relu else batch_norm
    out = fn(x, rm, rv, training=True, momentum=momentum)
    assert np.array_equal(rm, ref_m) and np.array_equal(rv, ref_v)
    assert np.array_equal(out.detach().numpy(), y)
    # the binding: one running statistic only, the other None
    rm2 = rm0.copy()
    _core.batchnorm_fwd_train(x, None, None, y, mean, var, inv, 1e-5, 2, relu, rm2, None,
                              momentum)
    assert np.array_equal(rm2, ref_m)


def test_running_stats_fallback_layouts_and_dtypes():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 3, 5)).astype(np.float32)
    # float64 running statistics with float32 input, and a strided view
    rm64, rv64 = np.zeros(3), np.ones(3)
    base = np.zeros(6, np.float32)
    rm_view = base[::2]
    rv = np.ones(3, np.float32)
    y = np.empty_like(x)
    mean, var, inv = (np.empty(3, np.float32) for _ in range(3))
    _core.batchnorm_fwd_train(x, None, None, y, mean, var, inv, 1e-5, 1)
    ref_m64, ref_v64 = _numpy_running(rm64, rv64, mean, var, 0.1, 20)
    batch_norm(x, rm64, rv64, training=True)
    assert np.array_equal(rm64, ref_m64) and np.array_equal(rv64, ref_v64)
    ref_m, ref_v = _numpy_running(np.zeros(3, np.float32), rv, mean, var, 0.1, 20)
    batch_norm(x, rm_view, rv, training=True)
    assert np.array_equal(rm_view, ref_m) and np.array_equal(rv, ref_v)
    assert np.array_equal(base[1::2], np.zeros(3, np.float32))
    # a read-only running statistic is refused, as before
    ro = np.zeros(3, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        batch_norm(x, ro, np.ones(3, np.float32), training=True)
    with pytest.raises(ValueError):
        _core.batchnorm_fwd_train(x, None, None, y, mean, var, inv, 1e-5, 1, False, ro, None,
                                  0.1)


def test_module_running_stats_torch_parity_several_steps():
    torch = fastnn.testing.requires_torch()
    rng = np.random.default_rng(5)
    fm = nn.BatchNorm2d(4, momentum=None)
    tm = torch.nn.BatchNorm2d(4, momentum=None)
    fm2 = nn.BatchNorm2d(4, momentum=0.2)
    tm2 = torch.nn.BatchNorm2d(4, momentum=0.2)
    for step in range(4):
        x = (rng.standard_normal((3, 4, 5, 5)) * 2 + step).astype(np.float32)
        fm(x), fm2(x)
        tm(torch.tensor(x)), tm2(torch.tensor(x))
    for f, t in ((fm, tm), (fm2, tm2)):
        np.testing.assert_allclose(f.running_mean.detach().numpy(), t.running_mean.numpy(), rtol=1e-6,
                                   atol=1e-6)
        np.testing.assert_allclose(f.running_var.detach().numpy(), t.running_var.numpy(), rtol=1e-6,
                                   atol=1e-6)
        assert int(f.num_batches_tracked.detach().numpy()) == int(t.num_batches_tracked) == 4
