"""Extreme and non-finite inputs through the vectorised exp/log kernels
(csrc/fnn_vexp.h) and the softmax family, checked against NumPy (no torch:
this file runs in the sanitizer job too, where the exponent shifts of
fnn_expf at NaN inputs were undefined behaviour).  Regression tests for the
findings of issue 17."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F

EXTREME = [-np.inf, -3e38, -1e30, -1e4, -104.0, -88.8, -87.5, -87.3, -20.0, -1.0, -0.0, 0.0,
           1e-30, 1.0, 20.0, 87.3, 88.3, 88.4, 88.8, 89.0, 100.0, 1e4, 1e30, 3e38, np.inf,
           np.nan, -np.nan]


def _x(dtype, reps=9):
    """The extreme values, repeated past the vector width (reps * 27 elements)
    so that the vector loops and their scalar tails both see each one."""
    return np.tile(np.array(EXTREME, dtype), reps)


def _same(got, want, rtol):
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got) & (got > 0), np.isinf(want) & (want > 0))
    np.testing.assert_array_equal(np.isinf(got) & (got < 0), np.isinf(want) & (want < 0))
    fin = np.isfinite(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_sigmoid_tanh_at_extremes(dtype):
    x = _x(dtype)
    x64 = x.astype(np.float64)
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    with np.errstate(over="ignore", invalid="ignore"):
        want_exp = np.exp(x64)
        want_sig = np.where(x64 >= 0, 1 / (1 + np.exp(-x64)), np.exp(x64) / (1 + np.exp(x64)))
        want_exp32 = want_exp.astype(dtype)          # overflows to inf past float32's range
    # results below the normal range: fnn_expf flushes exp(x < -87.33) to 0
    # (as documented in fnn_vexp.h), NumPy keeps denormals; compare as 0
    tiny = np.finfo(dtype).tiny

    def flush(v):
        return np.where(np.abs(v) < tiny, 0, v).astype(dtype)

    _same(flush(fastnn.exp(fastnn.tensor(x)).numpy()), flush(want_exp32), rtol * 4)
    _same(flush(F.sigmoid(fastnn.tensor(x)).numpy()), flush(want_sig), rtol * 4)
    _same(F.tanh(fastnn.tensor(x)).numpy(), np.tanh(x64).astype(dtype), rtol * 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_log_softmax_logsumexp_at_extremes(dtype):
    rng = np.random.default_rng(0)
    finite = np.array([v for v in EXTREME if np.isfinite(v)], dtype)
    rows = [finite, -finite, np.full(5, 3e38, dtype), np.array([3e38, 3e38, -3e38], dtype),
            np.array([1e30, 1e30, -1e30, 0], dtype), np.array([1e6, 1e6, -1e6], dtype),
            np.array([-np.inf, 0, 1], dtype), np.array([-np.inf, -1e30], dtype),
            np.array([np.inf, 0], dtype), np.array([np.nan, 0, 1], dtype),
            np.full(4, -np.inf, dtype), rng.standard_normal(70).astype(dtype) * 1e30]
    for r in rows:
        x64 = r.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            m = np.max(x64)
            e = np.exp(x64 - m)
            # logsumexp takes no offset for an infinite max (PyTorch's rule):
            # [inf, 0] -> inf, all -inf -> -inf
            m0 = m if np.isfinite(m) else 0.0
            lse = m0 + np.log(np.exp(x64 - m0).sum())
            want_ls = ((x64 - m) - np.log(e.sum())).astype(dtype)
            want_sm = (e / e.sum()).astype(dtype)
        for layout in ("row", "col"):
            t = fastnn.tensor(r[None, :] if layout == "row" else r[:, None].copy())
            dim = 1 if layout == "row" else 0
            ls = F.log_softmax(t, dim).numpy().ravel()
            sm = F.softmax(t, dim).numpy().ravel()
            lse_got = fastnn.logsumexp(t, dim).numpy().ravel()
            # log_softmax: (x - max) - log(sum), never x - (max + log(sum))
            # (which lost log(sum) to rounding at |max| >= ~1e7 in float32)
            _same(ls, want_ls, 2e-6 if dtype == np.float32 else 1e-14)
            _same(sm, want_sm, 2e-6 if dtype == np.float32 else 1e-14)
            with np.errstate(over="ignore"):
                _same(lse_got, np.array([lse]).astype(dtype), 2e-6)


def test_log_softmax_keeps_log_sum_at_large_offsets():
    """The float32 finding: log_softmax([1e6, 1e6, -1e6]) was -0.6875, not
    -log 2, because x - (1e6 + log 2) rounds log 2 away."""
    for v in (1e6, 1e10, 1e30, 3e38):
        for dt in (np.float32, np.float64):
            x = fastnn.tensor(np.array([[v, v, -v]], dt))
            got = F.log_softmax(x, 1).numpy()[0, :2]
            np.testing.assert_allclose(got, -np.log(2), rtol=1e-6)
            loss = F.cross_entropy(x, fastnn.tensor([0]))
            np.testing.assert_allclose(loss.item(), np.log(2), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_at_overflowing_logits(dtype):
    for scale in (1e30, 3e38):
        x = np.array([[1, -1, 0.5], [-1, 1, 0], [1, 1, -1]], dtype) * dtype(scale)
        y = np.array([0, 0, 1])
        t = fastnn.tensor(x, requires_grad=True)
        loss = F.cross_entropy(t, fastnn.tensor(y), reduction="none")
        x64 = x.astype(np.float64)
        m = x64.max(1, keepdims=True)
        want = (np.log(np.exp(x64 - m).sum(1)) - (x64 - m)[np.arange(3), y]).astype(dtype)
        _same(loss.detach().numpy(), want, 1e-6)
        loss.sum().backward()
        p = np.exp(x64 - m) / np.exp(x64 - m).sum(1, keepdims=True)
        p[np.arange(3), y] -= 1
        np.testing.assert_allclose(t.grad.numpy(), p, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_gradient_at_nan_passes_through(dtype):
    """As PyTorch's threshold backward: 0 where the output is <= 0, the
    upstream gradient elsewhere, also where the output is NaN."""
    x = np.tile(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0], dtype), 40)
    g = np.arange(x.size, dtype=dtype) + 1
    t = fastnn.tensor(x, requires_grad=True)
    F.relu(t).backward(fastnn.tensor(g))
    want = np.where(x <= 0, 0, g).astype(dtype)
    np.testing.assert_array_equal(t.grad.numpy(), want)


@pytest.mark.parametrize("relu", [False, True])
def test_eval_batch_norm_input_gradient_ignores_nonfinite_input(relu):
    """Evaluation-mode batch norm is affine in x: dx = g * weight / sqrt(var
    + eps) whatever x is (it was NaN at a NaN or inf x, from 0 * (x - mean))."""
    x = np.ones((2, 3, 4, 4), np.float32)
    x[0, 0, 0, 0], x[1, 1, 2, 2], x[0, 2, 3, 1] = np.nan, np.inf, -np.inf
    t = fastnn.tensor(x, requires_grad=True)
    rm, rv = fastnn.zeros(3), fastnn.tensor(np.array([1.0, 4.0, 0.25], np.float32))
    w = fastnn.tensor(np.array([1.0, 2.0, 3.0], np.float32))
    fn = F.batch_norm
    y = fn(t, rm, rv, w, fastnn.zeros(3), training=False)
    if relu:
        y = F.relu(y)
    g = np.random.default_rng(0).standard_normal(x.shape).astype(np.float32)
    y.backward(fastnn.tensor(g))
    k = (w.numpy() / np.sqrt(rv.numpy() + 1e-5))[None, :, None, None]
    want = g * k
    if relu:
        want = np.where(y.detach().numpy() <= 0, 0, want)
    np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-6)
    assert np.isfinite(t.grad.numpy()).all()
