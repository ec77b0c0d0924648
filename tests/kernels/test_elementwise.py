"""csrc/elementwise.c through _core against the NumPy reference."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

DT = [np.float32, np.float64]
SIZES = [1, 7, 1000, 32767, 32768, 100003]
TOL = {np.float32: 2e-6, np.float64: 1e-14}


def _x(n, dt, seed=0):
    return (np.random.default_rng(seed).standard_normal(n) * 3).astype(dt)


@pytest.mark.parametrize("dt", DT)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_unary_forward_backward(name, n, dt):
    x = _x(n, dt)
    g = _x(n, dt, 1)
    y = getattr(_core, name + "_fwd")(x, np.empty_like(x), 2)
    np.testing.assert_allclose(y, getattr(R, name)(x), rtol=TOL[dt], atol=TOL[dt])
    saved = x if name == "relu" else y
    gx = getattr(_core, name + "_bwd")(saved, g, np.empty_like(x), 2)
    np.testing.assert_allclose(gx, getattr(R, name + "_grad")(x, g), rtol=1e-5 if dt == np.float32
                               else 1e-12, atol=TOL[dt] * 10)


@pytest.mark.parametrize("dt", DT)
def test_sigmoid_stable_at_extremes(dt):
    x = np.array([-1e4, -800, -100, 0, 100, 800, 1e4], dt)
    y = _core.sigmoid_fwd(x, np.empty_like(x), 1)
    assert np.all(np.isfinite(y))
    assert y[0] == 0 and y[-1] == 1 and y[3] == 0.5
    if dt == np.float32:   # exp's underflow end, as expf: 0 below -87.34, normal above
        x = np.array([-87.4, -87.3, -80.0], dt)
        y = _core.sigmoid_fwd(x, np.empty_like(x), 1)
        assert y[0] == 0
        np.testing.assert_allclose(y[1:], np.exp(x[1:].astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_float32_sigmoid_tanh_within_3_ulp_everywhere(name):
    # The float32 kernels are vectorised polynomials (csrc/fnn_vexp.h), not
    # libm: check them in ulps of the float64 answer over the whole range,
    # both sides of tanh's branch point at |x| = 0.625, and the specials.
    x = np.concatenate([np.linspace(-100, 100, 200001), np.logspace(-30, 2, 50000),
                        -np.logspace(-30, 2, 50000), [0.62499, 0.625, 0.62501, -0.625]])
    x = x.astype(np.float32)
    xd = x.astype(np.float64)
    ref = np.tanh(xd) if name == "tanh" else 1 / (1 + np.exp(-xd))
    y = getattr(_core, name + "_fwd")(x, np.empty_like(x), 1)
    ok = np.abs(ref) > 1e-37
    ulp = np.abs(y[ok] - ref[ok]) / np.spacing(np.abs(ref[ok]).astype(np.float32))
    assert ulp.max() <= 3, (name, ulp.max(), x[ok][ulp.argmax()])
    sp = np.array([np.inf, -np.inf, np.nan, 0.0], np.float32)
    ys = getattr(_core, name + "_fwd")(sp, np.empty_like(sp), 1)
    expect = [1, -1, np.nan, 0] if name == "tanh" else [1, 0, np.nan, 0.5]
    np.testing.assert_array_equal(ys, np.array(expect, np.float32))


@pytest.mark.parametrize("dt", DT)
@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_unary_one_thread_equals_two_threads(name, dt):
    x = _x(100003, dt)
    f = getattr(_core, name + "_fwd")
    np.testing.assert_array_equal(f(x, np.empty_like(x), 1), f(x, np.empty_like(x), 2))


def test_relu_propagates_nan_and_inplace():
    x = np.array([np.nan, -1, 2, -np.inf, np.inf], np.float32)
    _core.relu_fwd(x, x, 1)
    assert np.isnan(x[0]) and list(x[1:]) == [0, 2, 0, np.inf]


@pytest.mark.parametrize("dt", DT)
@pytest.mark.parametrize("n", [5, 50000])
def test_add_mul_axpy(dt, n):
    a, b = _x(n, dt), _x(n, dt, 2)
    np.testing.assert_array_equal(_core.add(a, b, np.empty_like(a), 2), a + b)
    np.testing.assert_array_equal(_core.mul(a, b, np.empty_like(a), 2), a * b)
    y = b.copy()
    _core.axpy(0.5, a, y, 2)
    np.testing.assert_allclose(y, b + dt(0.5) * a, rtol=TOL[dt])


@pytest.mark.parametrize("dt", DT)
def test_sum_threads(dt):
    x = _x(1_000_003, dt)
    s1 = _core.sum_all(x, 1)
    s2 = _core.sum_all(x, 2)
    assert s2 == _core.sum_all(x, 2)          # bitwise repeatable at a fixed count
    ref = float(np.sum(x.astype(np.float64)))
    assert abs(s1 - ref) <= 1e-9 * np.abs(x).sum()
    assert abs(s2 - ref) <= 1e-9 * np.abs(x).sum()


def test_bad_arguments_raise():
    x = np.ones(10, np.float32)
    with pytest.raises(TypeError, match="float32 or float64"):
        _core.relu_fwd(np.ones(10, np.int64), np.ones(10, np.int64), 1)
    with pytest.raises(TypeError, match="dtype"):
        _core.relu_fwd(x, np.ones(10, np.float64), 1)
    with pytest.raises(ValueError, match="elements"):
        _core.relu_fwd(x, np.ones(9, np.float32), 1)
    with pytest.raises(ValueError, match="contiguous"):
        _core.relu_fwd(np.ones((4, 4), np.float32).T[:, :2], np.ones(8, np.float32), 1)
    with pytest.raises(TypeError, match="ndarray"):
        _core.add([1.0], x, x, 1)


def test_double_exp_tanh_sigmoid_are_accurate_everywhere():
    # The double exp / tanh / logistic of the compiled core (fnn_vexp.h:
    # vectorisable polynomials instead of libm calls) against NumPy's, within
    # a few ulp over the whole range: tiny, moderate, the switch points of
    # the tanh (|x| = 0.35) and exp's subnormal and overflow ends; -0, inf
    # and NaN as NumPy gives them.
    import fastnn
    rng = np.random.default_rng(5)
    x = np.concatenate([np.linspace(-40, 40, 20001), rng.standard_normal(20000) * 3,
                        np.logspace(-300, 1, 2000), -np.logspace(-300, 1, 2000),
                        [0.35, -0.35, 0.3499999999, 19.99, 20.01, 0.0, -0.0, np.inf, -np.inf,
                         np.nan]])
    t = fastnn.tensor(x)
    for got, want in ((t.tanh(), np.tanh(x)),
                      (t.sigmoid(), np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                                             np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))))):
        g = got.numpy()
        np.testing.assert_allclose(g, want, rtol=1e-15, atol=0)
        ok = ~np.isnan(want)
        assert np.array_equal(np.signbit(g[ok]), np.signbit(want[ok]))    # -0 stays -0
    # exp through the softmax of a row holding 0 and v: e^v / (1 + e^v)
    v = np.concatenate([np.linspace(-744, 709, 4001), [-745.1, -746.0, 709.9]])
    rows = np.stack([np.zeros_like(v), v], 1)
    sm = fastnn.nn.functional.softmax(fastnn.tensor(rows), 1).numpy()
    ref = np.exp(rows - rows.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    np.testing.assert_allclose(sm, ref, rtol=4e-15, atol=1e-320)
