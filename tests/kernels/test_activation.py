"""Kernel tests: csrc/activation.c (leaky ReLU, the element-wise activation
table, PReLU) against the NumPy reference; threads, NaN, bad arrays."""
import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

DT = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("n", [1, 7, 100, 40000])
def test_leaky_relu_fwd_bwd(dtype, n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    y = _core.leaky_relu_fwd(x, np.empty_like(x), 0.2, 2)
    np.testing.assert_allclose(y, R.leaky_relu(x, 0.2), rtol=1e-6)
    gx = _core.leaky_relu_bwd(x, g, np.empty_like(x), 0.2, 2)
    np.testing.assert_allclose(gx, R.leaky_relu_grad(x, g, 0.2), rtol=1e-6)


def test_leaky_relu_nan_and_inplace():
    x = np.array([np.nan, -np.inf, np.inf, -2.0, 0.0], np.float32)
    y = _core.leaky_relu_fwd(x.copy(), np.empty_like(x), 0.5, 1)
    assert np.isnan(y[0]) and y[1] == -np.inf and y[2] == np.inf and y[3] == -1.0
    x2 = x.copy()
    _core.leaky_relu_fwd(x2, x2, 0.5, 1)   # out may alias x
    np.testing.assert_array_equal(x2, y)


def test_leaky_relu_threads_identical():
    x = np.random.default_rng(0).standard_normal(100000).astype(np.float32)
    a = _core.leaky_relu_fwd(x, np.empty_like(x), 0.01, 1)
    b = _core.leaky_relu_fwd(x, np.empty_like(x), 0.01, 2)
    np.testing.assert_array_equal(a, b)


def test_leaky_relu_binding_rejects_bad_arrays():
    x = np.zeros(4, np.float32)
    with pytest.raises(TypeError):
        _core.leaky_relu_fwd(x.astype(np.int64), np.empty(4), 0.1, 1)
    with pytest.raises(ValueError):
        _core.leaky_relu_fwd(x, np.empty(3, np.float32), 0.1, 1)


# ---------------------------------------------------------------- the element-wise table
# kernel name -> parameters (a, b, c) passed to the kernel, and to the reference
PARAMS = {"gelu": (), "gelu_tanh": (), "silu": (), "mish": (), "elu": (1.3, 1.05, 0.7),
          "softplus": (2.0, 15.0), "logsigmoid": (), "hardtanh": (-1.5, 2.0),
          "hardswish": (), "hardsigmoid": (), "softsign": (), "threshold": (0.3, -2.0)}
# float32: a few ulp of the vectorised exp / erfc, relative to the value or
# to the scale of the neighbouring values (absolute part)
TOL32 = dict(rtol=2e-6, atol=2e-7)


def _act_input(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.standard_normal(n // 2) * 4,
                        np.linspace(-12, 12, n - n // 2)]).astype(dtype)
    # the kinks and thresholds exactly
    x[:10] = [-3, 3, 0, -1.5, 2.0, 0.3, 7.5, -7.5, 1e-8, -1e-8][:min(10, n)]
    return x


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("name", sorted(PARAMS))
def test_act_fwd_bwd_match_reference(name, dtype):
    x = _act_input(5003, dtype)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    f, d, _ = R.ACTIVATIONS[name]
    p = PARAMS[name]
    y = _core.act_fwd(name, x, np.empty_like(x), *p, n_threads=2)
    gx = _core.act_bwd(name, x, g, np.empty_like(x), *p, n_threads=2)
    v = x.astype(np.float64)
    pr = tuple(float(dtype(q)) for q in p)     # the kernel works with T parameters
    tol = TOL32 if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y, f(v, *pr), **tol)
    np.testing.assert_allclose(gx, g * d(v, *pr), **tol)


def test_gelu_float32_relative_accuracy_in_the_tail():
    # x * Phi(x) for very negative x: tiny values, computed from erfc (not 1 + erf)
    from math import erfc, sqrt
    x = np.linspace(-13, 0, 20001).astype(np.float32)
    y = _core.act_fwd("gelu", x, np.empty_like(x))
    ref = np.array([v * 0.5 * erfc(-v / sqrt(2)) for v in x.astype(np.float64)])
    ok = np.abs(ref) > 1e-36
    np.testing.assert_allclose(y[ok], ref[ok], rtol=1e-6)


def test_gelu_float32_value_independent_of_its_block():
    # Blocks of 64 whose |x| all stay below 4 take a cheaper tail formula; any
    # other element picks its formula by its own |x|.  So an element's value
    # (forward and gradient) must not change when a neighbour in its block
    # crosses 4, or with the block boundaries (offset slices), and both forms
    # must match the float64 reference.
    from math import erfc, pi, sqrt
    rng = np.random.default_rng(7)
    x = np.clip(rng.standard_normal(64 * 40), -3.99, 3.99).astype(np.float32)
    g = rng.standard_normal(x.size).astype(np.float32)
    y0 = _core.act_fwd("gelu", x, np.empty_like(x), n_threads=1)
    d0 = _core.act_bwd("gelu", x, g, np.empty_like(x), n_threads=1)
    xm = x.copy()
    xm[::64] = 7.5                              # one big value in every block
    ym = _core.act_fwd("gelu", xm, np.empty_like(xm), n_threads=1)
    dm = _core.act_bwd("gelu", xm, g, np.empty_like(xm), n_threads=1)
    keep = np.ones(x.size, bool)
    keep[::64] = False
    np.testing.assert_array_equal(ym[keep], y0[keep])
    np.testing.assert_array_equal(dm[keep], d0[keep])
    for off in (1, 13, 63):
        ys = _core.act_fwd("gelu", x[off:], np.empty_like(x[off:]), n_threads=1)
        np.testing.assert_array_equal(ys, y0[off:])
    v = x.astype(np.float64)
    cdf = np.array([0.5 * erfc(-t / sqrt(2)) for t in v])
    pdf = np.exp(-0.5 * v * v) / sqrt(2 * pi)
    np.testing.assert_allclose(y0, v * cdf, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(d0, g * (cdf + v * pdf), rtol=2e-6, atol=2e-7)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_act_nan_propagates_and_out_may_alias(name):
    x = _act_input(64, np.float32)
    x[20] = np.nan
    p = PARAMS[name]
    y = _core.act_fwd(name, x, np.empty_like(x), *p)
    assert np.isnan(y[20])
    x2 = x.copy()
    _core.act_fwd(name, x2, x2, *p)
    np.testing.assert_array_equal(x2, y)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_act_threads_bitwise(name):
    x = _act_input(200003, np.float32, seed=3)      # above the serial cut-off
    g = np.random.default_rng(4).standard_normal(x.shape).astype(np.float32)
    p = PARAMS[name]
    out = [(_core.act_fwd(name, x, np.empty_like(x), *p, n_threads=nt),
            _core.act_bwd(name, x, g, np.empty_like(x), *p, n_threads=nt)) for nt in (1, 2)]
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_act_binding_rejects_bad_arrays_and_names():
    x = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match="unknown activation"):
        _core.act_fwd("nope", x, np.empty_like(x))
    with pytest.raises(TypeError):
        _core.act_fwd("gelu", x, np.empty(4))
    with pytest.raises(ValueError):
        _core.act_bwd("gelu", x, np.zeros(3, np.float32), np.empty_like(x))
    with pytest.raises(ValueError):
        _core.act_fwd("gelu", np.zeros((4, 4), np.float32)[:, ::2], np.empty(8, np.float32))


# ---------------------------------------------------------------- PReLU
@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape,C", [((3, 4, 5, 6), 4), ((7, 5), 5), ((2, 3, 9000), 3),
                                     ((4, 6, 5), 1), ((11,), 1)])
def test_prelu_fwd_bwd(shape, C, dtype):
    rng = np.random.default_rng(C)
    x = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    w = rng.uniform(0.05, 0.5, C).astype(dtype)
    view = (1, 1, x.size) if C == 1 else (shape[0], C, x.size // (shape[0] * C))
    y = _core.prelu_fwd(x, w, np.empty_like(x), *view, 2)
    gx, gw = _core.prelu_bwd(x, w, g, np.empty_like(x), np.empty(C, dtype), *view, 2)
    rdx, rdw = R.prelu_grad(x, w, g)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, R.prelu(x, w), **tol)
    np.testing.assert_allclose(gx, rdx, **tol)
    np.testing.assert_allclose(gw, rdw, **tol)


def test_prelu_threads_bitwise_and_bad_view():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16, 40, 40)).astype(np.float32)   # above the cut-off
    g = rng.standard_normal(x.shape).astype(np.float32)
    w = rng.uniform(0, 1, 16).astype(np.float32)
    out = []
    for nt in (1, 2):
        y = _core.prelu_fwd(x, w, np.empty_like(x), 8, 16, 1600, nt)
        gx, gw = _core.prelu_bwd(x, w, g, np.empty_like(x), np.empty(16, np.float32), 8, 16,
                                 1600, nt)
        out.append((y, gx, gw))
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        _core.prelu_fwd(x, w, np.empty_like(x), 8, 16, 1599, 1)
    with pytest.raises(ValueError):
        _core.prelu_fwd(x, w[:3], np.empty_like(x), 8, 16, 1600, 1)
