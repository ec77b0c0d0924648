"""The compiled step kernels called directly: single- and multi-tensor entry
points against the NumPy reference, float32 and float64."""
import numpy as np
import pytest

from fastnn import _core as C
from fastnn.testing import reference as R

TOL = {np.float32: dict(rtol=2e-6, atol=1e-7), np.float64: dict(rtol=1e-13, atol=1e-15)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 7, 100, 40000])
def test_adam_kernel_matches_reference(dtype, n):
    rng = np.random.default_rng(n)
    p = rng.standard_normal(n).astype(dtype)
    m, v = np.zeros(n, dtype), np.zeros(n, dtype)
    ref_p, st = p.astype(np.float64), {}
    for t in range(1, 4):
        g = rng.standard_normal(n).astype(dtype)
        C.adam_step(p, g, m, v, float(t), lr=0.01, beta1=0.9, beta2=0.99, eps=1e-8,
                    weight_decay=0.1, n_threads=2)
        ref_p = R.adam_step(ref_p, g.astype(np.float64), st, lr=0.01, betas=(0.9, 0.99),
                            weight_decay=0.1)
    np.testing.assert_allclose(p, ref_p, **TOL[dtype])
    np.testing.assert_allclose(m, st["exp_avg"], **TOL[dtype])
    np.testing.assert_allclose(v, st["exp_avg_sq"], **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_multi_tensor_equals_one_at_a_time(dtype):
    rng = np.random.default_rng(1)
    sizes = [0, 1, 5, 33000, 17, 40000]
    ps = [rng.standard_normal(s).astype(dtype) for s in sizes]
    gs = [rng.standard_normal(s).astype(dtype) for s in sizes]
    a = [x.copy() for x in ps]
    ab = [np.empty_like(x) for x in ps]
    b = [x.copy() for x in ps]
    bb = [np.empty_like(x) for x in ps]
    kw = dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False)
    for init in (True, False):
        C.sgd_step(a, gs, ab, init_buf=init, n_threads=2, **kw)
        for x, g, buf in zip(b, gs, bb):
            C.sgd_step(x, g, buf, init_buf=init, n_threads=1, **kw)
    for x, y in zip(a + ab, b + bb):
        np.testing.assert_array_equal(x, y)
    # and the numbers are the reference's
    for p0, g, x in zip(ps, gs, a):
        st = {}
        r = R.sgd_step(p0.astype(np.float64), g.astype(np.float64), st, **kw)
        r = R.sgd_step(r, g.astype(np.float64), st, **kw)
        np.testing.assert_allclose(x, r, **TOL[dtype])


def test_empty_lists_are_a_no_op():
    C.sgd_step([], [], None, 0.1)
    C.adam_step([], [], [], [], 1.0)
