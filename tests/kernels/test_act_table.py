"""GELU, SiLU (and the float sigmoid) by piecewise polynomials (csrc/act_table.inc), the
AVX-512 path and its emulation: against the float64 reference (a few ulp
forward, 3e-7 of the gradient's scale backward), the vector kernel bit for bit
against the emulation, values outside the tables' range, NaN and infinities,
the ends of the range, outputs written over their inputs, and every path
(portable, AVX2, the tables) in agreement with the reference."""
import math

import numpy as np
import pytest

from fastnn import _core

TABLE_PATHS = ["avx512sim"] + (["avx512"] if _core.cpu_best_isa() == "avx512" else [])
ALL_PATHS = ["portable", "avx2"] + TABLE_PATHS
R = {"gelu": 4.0, "silu": 8.0}    # the tables' range [-R, R) (tools/gen_act_tables.py)


@pytest.fixture
def path():
    def use(name):
        _core.gemm_set_isa(name)
    yield use
    _core.gemm_set_isa("auto")


def _ref(name, x, g):
    """float64 forward and gradient of float32 inputs."""
    v = x.astype(np.float64)
    if name == "gelu":
        cdf = np.array([0.5 * math.erfc(-t / math.sqrt(2)) for t in v])
        pdf = np.exp(-0.5 * v * v) / math.sqrt(2 * math.pi)
        return v * cdf, g * (cdf + v * pdf)
    s = np.array([1 / (1 + math.exp(-t)) if t >= 0 else math.exp(t) / (1 + math.exp(t))
                  for t in v])
    return v * s, g * (s * (1 + v * (1 - s)))


def _inputs(name, n=20000, seed=0):
    rng = np.random.default_rng(seed)
    r = R[name]
    x = np.concatenate([rng.uniform(-r, r, n // 2), rng.standard_normal(n // 4) * 3,
                        np.linspace(-2 * r, 2 * r, n - n // 2 - n // 4)]).astype(np.float32)
    ends = np.array([r, -r], np.float32)
    x[:8] = np.concatenate([ends, np.nextafter(ends, np.float32(0)),
                            np.nextafter(ends, np.float32(np.inf) * np.sign(ends)),
                            [0.0, -0.0]])
    return x, rng.standard_normal(x.size).astype(np.float32)


def _ulp(a):
    return np.spacing(np.abs(a).astype(np.float32)).astype(np.float64)


@pytest.mark.parametrize("isa", ALL_PATHS)
@pytest.mark.parametrize("name", ["gelu", "silu"])
def test_matches_float64_reference(path, isa, name):
    path(isa)
    x, g = _inputs(name)
    y = _core.act_fwd(name, x, np.empty_like(x), n_threads=2)
    gx = _core.act_bwd(name, x, g, np.empty_like(x), n_threads=2)
    yr, gr = _ref(name, x, g)
    np.testing.assert_allclose(y, yr, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(gx, gr, rtol=1e-6, atol=4e-7 * max(1.0, np.abs(g).max()))
    if isa in TABLE_PATHS:      # the tables' own error: within 3 ulp of the output
        inside = (np.abs(x) < R[name]) & (np.abs(yr) > 1e-30)
        assert (np.abs(y - yr)[inside] / _ulp(yr[inside])).max() <= 3.0


@pytest.mark.parametrize("name", ["gelu", "silu"])
def test_vector_kernel_bitwise_equal_to_its_emulation(path, name):
    if "avx512" not in TABLE_PATHS:
        pytest.skip("the CPU has no AVX-512: the emulation is checked against the reference")
    x, g = _inputs(name, 30011, seed=1)
    x[100:140] = [np.nan, np.inf, -np.inf, 1e-38, -1e-45, 3.9999998, -4.0000005, 7.9999995,
                  -8.000001, 1e30] * 4
    out = {}
    for isa in ("avx512", "avx512sim"):
        path(isa)
        out[isa] = [(_core.act_fwd(name, x[o:], np.empty_like(x[o:]), n_threads=nt),
                     _core.act_bwd(name, x[o:], g[o:], np.empty_like(x[o:]), n_threads=nt))
                    for o in (0, 5) for nt in (1, 2)]
    for a, b in zip(out["avx512"], out["avx512sim"]):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("isa", ALL_PATHS)
def test_special_values(path, isa):
    path(isa)
    x = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-40], np.float32)
    y = _core.act_fwd("gelu", x, np.empty_like(x))
    # PyTorch: gelu(inf) = inf, gelu(-inf) = -inf * 0 = nan
    assert np.isnan(y[0]) and y[1] == np.inf and np.isnan(y[2])
    assert y[3] == 0 and y[4] == 0 and y[5] == np.float32(1e-40) * np.float32(0.5)
    s = _core.act_fwd("silu", x, np.empty_like(x))
    assert np.isnan(s[0]) and s[1] == np.inf and np.isnan(s[2]) and s[3] == 0 and s[4] == 0
    for name in ("gelu", "silu"):
        d = _core.act_bwd(name, x, np.ones_like(x), np.empty_like(x))
        assert np.isnan(d[0]) and d[3] == 0.5 and d[4] == 0.5


@pytest.mark.parametrize("isa", TABLE_PATHS)
@pytest.mark.parametrize("name", ["gelu", "silu"])
@pytest.mark.parametrize("n", [1, 15, 16, 17, 1023, 1024, 1025, 3000])
def test_out_may_alias_its_input(path, isa, name, n):
    # every 7th value out of the tables' range: vectors mixing both forms,
    # written over x (forward) and over the gradient (backward)
    path(isa)
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(np.float32)
    x[::7] *= 10 * R[name]
    g = rng.standard_normal(n).astype(np.float32)
    y = _core.act_fwd(name, x, np.empty_like(x))
    gx = _core.act_bwd(name, x, g, np.empty_like(x))
    x2, g2 = x.copy(), g.copy()
    _core.act_fwd(name, x2, x2)
    _core.act_bwd(name, x, g2, g2)
    np.testing.assert_array_equal(x2, y)
    np.testing.assert_array_equal(g2, gx)
    yr, gr = _ref(name, x, g)
    np.testing.assert_allclose(y, yr, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(gx, gr, rtol=1e-6, atol=4e-7 * max(1.0, np.abs(g).max()))


@pytest.mark.parametrize("isa", TABLE_PATHS)
def test_a_value_does_not_depend_on_its_neighbours(path, isa):
    path(isa)
    rng = np.random.default_rng(3)
    x = np.clip(rng.standard_normal(4096), -3.9, 3.9).astype(np.float32)
    g = rng.standard_normal(x.size).astype(np.float32)
    for name in ("gelu", "silu"):
        y0 = _core.act_fwd(name, x, np.empty_like(x))
        d0 = _core.act_bwd(name, x, g, np.empty_like(x))
        xm = x.copy()
        xm[::16] = 50.0                 # one value out of range in every vector
        ym = _core.act_fwd(name, xm, np.empty_like(xm))
        dm = _core.act_bwd(name, xm, g, np.empty_like(xm))
        keep = np.ones(x.size, bool)
        keep[::16] = False
        np.testing.assert_array_equal(ym[keep], y0[keep])
        np.testing.assert_array_equal(dm[keep], d0[keep])


def _sigmoid_inputs(n, seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.uniform(-8, 8, n // 2), rng.standard_normal(n // 4) * 3,
                        np.linspace(-30, 30, n - n // 2 - n // 4)]).astype(np.float32)
    x[:16] = [8.0, -8.0, 7.9999995, -8.000001, -7.9999995, 0.0, -0.0, np.nan, np.inf,
              -np.inf, 1e-38, -1e-45, 88.0, -88.0, -87.4, 1e30]
    return x


@pytest.mark.parametrize("isa", ALL_PATHS)
def test_sigmoid_on_every_path(path, isa):
    # the float sigmoid forward takes SiLU's sigmoid table on the table paths
    # (|x| < 8; the generic form outside, lane by lane): within 3 ulp of the
    # float64 value everywhere, exact at 0 and at the ends, in place too
    path(isa)
    x = _sigmoid_inputs(20000, 4)
    y = _core.sigmoid_fwd(x, np.empty_like(x), 2)
    v = x.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):   # (np.where runs both forms)
        ref = np.where(v >= 0, 1 / (1 + np.exp(-v)), np.exp(v) / (1 + np.exp(v)))
    ok = np.isfinite(v) & (ref > 1e-37)
    assert (np.abs(y[ok] - ref[ok]) / _ulp(ref[ok])).max() <= 3.0
    assert y[5] == 0.5 and y[6] == 0.5 and np.isnan(y[7]) and y[8] == 1 and y[9] == 0
    assert y[12] == 1 and y[14] == 0
    x2 = x.copy()
    _core.sigmoid_fwd(x2, x2, 2)
    np.testing.assert_array_equal(x2, y)


def test_sigmoid_vector_kernel_bitwise_equal_to_its_emulation(path):
    if "avx512" not in TABLE_PATHS:
        pytest.skip("the CPU has no AVX-512: the emulation is checked against the reference")
    x = _sigmoid_inputs(30011, 5)
    out = {}
    for isa in ("avx512", "avx512sim"):
        path(isa)
        out[isa] = [_core.sigmoid_fwd(x[o:], np.empty_like(x[o:]), nt)
                    for o in (0, 5) for nt in (1, 2)]
    for a, b in zip(out["avx512"], out["avx512sim"]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("isa", TABLE_PATHS)
def test_sigmoid_value_does_not_depend_on_its_neighbours(path, isa):
    path(isa)
    x = np.clip(np.random.default_rng(6).standard_normal(4096), -7.9, 7.9).astype(np.float32)
    y0 = _core.sigmoid_fwd(x, np.empty_like(x), 1)
    xm = x.copy()
    xm[::16] = 50.0                     # one value of the tails in every vector
    ym = _core.sigmoid_fwd(xm, np.empty_like(xm), 2)
    keep = np.ones(x.size, bool)
    keep[::16] = False
    np.testing.assert_array_equal(ym[keep], y0[keep])
    assert np.all(ym[::16] == 1.0)


@pytest.mark.parametrize("isa", TABLE_PATHS)
def test_tables_thread_count_invariant(path, isa):
    """The tables' parallel regions (GELU and SiLU forward and backward, the
    float sigmoid) give the same bits at 1, 2 and 3 threads, on the AVX-512
    path and on its emulation, which every CPU runs: an array well above the
    serial cut-off, with an odd length so that the slices end inside a vector."""
    x, g = _inputs("silu", 200003, seed=7)
    outs = []
    for nt in (1, 2, 3):
        path(isa)
        outs.append([_core.act_fwd(n, x, np.empty_like(x), n_threads=nt) for n in ("gelu", "silu")]
                    + [_core.act_bwd(n, x, g, np.empty_like(x), n_threads=nt)
                       for n in ("gelu", "silu")]
                    + [_core.sigmoid_fwd(x, np.empty_like(x), nt)])
    for other in outs[1:]:
        for a, b in zip(outs[0], other):
            np.testing.assert_array_equal(a, b)
    yr, _ = _ref("silu", x[:2000], g[:2000])
    np.testing.assert_allclose(outs[1][1][:2000], yr, rtol=1e-6, atol=1e-30)
