"""F.max_pool2d / F.avg_pool2d and the MaxPool2d / AvgPool2d modules:
reference, gradcheck, PyTorch parity, threads, edge shapes, NaN, bad input."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.testing import reference as R
from fastnn.testing import requires_torch, run_python

TOL = {np.float32: dict(rtol=1e-6, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}

# (x shape, kernel, stride, padding)
CASES = [
    ((2, 3, 8, 8), 2, None, 0),
    ((1, 2, 7, 9), 3, 2, 1),                 # batch 1, odd sizes, overlapping, padded
    ((2, 1, 5, 6), (3, 2), (1, 3), (1, 1)),  # non-square kernel and stride, one channel
    ((3, 2, 7, 7), 2, 3, 0),                 # stride > kernel
    ((2, 2, 4, 5), (4, 5), 1, 0),            # kernel = input
    ((2, 2, 5, 5), 1, 1, 0),                 # 1x1
]
OPS = {"max": (F.max_pool2d, R.max_pool2d, R.max_pool2d_backward),
       "avg": (F.avg_pool2d, R.avg_pool2d, R.avg_pool2d_backward)}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["max", "avg"])
def test_forward_backward_match_reference(case, dtype, op, rng):
    f, ref, ref_bwd = OPS[op]
    xs, k, s, p = case
    x = rng.standard_normal(xs).astype(dtype)
    tx = fastnn.tensor(x, requires_grad=True)
    y = f(tx, k, s, p)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.detach().numpy(), ref(x, k, s, p), **TOL[dtype])
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(g)
    np.testing.assert_allclose(tx.grad, ref_bwd(x, g, k, s, p), **TOL[dtype])


@pytest.mark.parametrize("case", CASES[:5])
@pytest.mark.parametrize("op", ["max", "avg"])
def test_gradcheck_float64(case, op, rng):
    f = OPS[op][0]
    xs, k, s, p = case
    # distinct values far apart, so a central difference never changes a max winner
    x = fastnn.tensor(rng.permutation(np.prod(xs)).reshape(xs) * 0.1, requires_grad=True)
    Rg = fastnn.tensor(rng.standard_normal(f(x, k, s, p).shape))
    assert fastnn.gradcheck(lambda x: (f(x, k, s, p) * Rg).sum(), [x])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("op", ["max", "avg"])
def test_torch_parity(case, op, rng):
    torch = requires_torch()
    xs, k, s, p = case
    x = rng.standard_normal(xs).astype(np.float32)
    tx = fastnn.tensor(x, requires_grad=True)
    px = torch.tensor(x, requires_grad=True)
    y = OPS[op][0](tx, k, s, p)
    tf = torch.nn.functional.max_pool2d if op == "max" else torch.nn.functional.avg_pool2d
    py = tf(px, k, s, p) if s is not None else tf(px, k, padding=p)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    py.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), py.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(tx.grad, px.grad.numpy(), rtol=1e-6, atol=1e-6)
    if op == "max":
        _, idx = F.max_pool2d(x, k, s, p, return_indices=True)
        _, pidx = torch.nn.functional.max_pool2d(torch.tensor(x), k, s if s else k, p,
                                                 return_indices=True)
        assert idx.dtype == np.int64 and np.array_equal(idx.detach().numpy(), pidx.numpy())


@pytest.mark.parametrize("op", ["max", "avg"])
def test_thread_invariance(op, rng):
    f = OPS[op][0]
    x = rng.standard_normal((4, 16, 18, 18)).astype(np.float32)   # above the serial cutoff
    g = rng.standard_normal((4, 16, 9, 9)).astype(np.float32)
    out = []
    for nt in (1, 2):
        fastnn.set_num_threads(nt)
        tx = fastnn.tensor(x, requires_grad=True)
        y = f(tx, 3, 2, 1)
        y.backward(g)
        out.append((y.detach().numpy(), tx.grad))
    assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])


def test_non_contiguous_and_unbatched(rng):
    base = rng.standard_normal((2, 3, 7, 6))
    x = base.transpose(0, 1, 3, 2)
    for op, (f, ref, ref_bwd) in OPS.items():
        tx = fastnn.tensor(x, requires_grad=True)
        y = f(tx, 3, 2, 1)
        np.testing.assert_allclose(y.detach().numpy(), ref(np.ascontiguousarray(x), 3, 2, 1), rtol=1e-12)
        g = rng.standard_normal(y.shape)
        y.backward(g)
        np.testing.assert_allclose(tx.grad, ref_bwd(np.ascontiguousarray(x), g, 3, 2, 1),
                                   rtol=1e-12, atol=1e-12)
        t3 = fastnn.tensor(base[0], requires_grad=True)
        y3 = f(t3, 2)
        assert y3.shape == (3, 3, 3)
        np.testing.assert_allclose(y3.detach().numpy(), ref(base[:1], 2)[0], rtol=1e-12)
        y3.sum().backward()
        assert t3.grad.shape == (3, 7, 6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_and_inf_like_torch():
    torch = requires_torch()
    x = np.arange(2 * 16, dtype=np.float32).reshape(1, 2, 4, 4)
    x[0, 0, 0, 1] = np.nan
    x[0, 0, 1, 0] = np.nan
    x[0, 1, 2, 2] = np.inf
    x[0, 1, 0, :2] = -np.inf
    x[0, 1, 1, :2] = -np.inf
    for op, tf in (("max", torch.nn.functional.max_pool2d),
                   ("avg", torch.nn.functional.avg_pool2d)):
        tx = fastnn.tensor(x, requires_grad=True)
        px = torch.tensor(x, requires_grad=True)
        y, py = OPS[op][0](tx, 2), tf(px, 2)
        np.testing.assert_array_equal(y.detach().numpy(), py.detach().numpy())   # NaN == NaN here
        y.sum().backward()
        py.sum().backward()
        np.testing.assert_array_equal(tx.grad, px.grad.numpy())
    assert np.isnan(F.max_pool2d(x, 2).detach().numpy()[0, 0, 0, 0])


def test_modules(rng):
    m = nn.MaxPool2d(2)
    assert (m.kernel_size, m.stride, m.padding) == (2, 2, 0)
    assert repr(m) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    a = nn.AvgPool2d(3, 1, 1)
    assert repr(a) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert m.state_dict() == {} and a.state_dict() == {}
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(m(x).detach().numpy(), R.max_pool2d(x, 2), rtol=1e-6)
    np.testing.assert_allclose(a(x).detach().numpy(), R.avg_pool2d(x, 3, 1, 1), rtol=1e-6, atol=1e-7)
    y, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert y.shape == idx.shape == (2, 3, 3, 3)


def test_modules_repr_match_torch():
    torch = requires_torch()
    for args in [(2,), (3, 2, 1), ((2, 3), (1, 2), (1, 1))]:
        assert repr(nn.MaxPool2d(*args)) == repr(torch.nn.MaxPool2d(*args))
        assert repr(nn.AvgPool2d(*args)) == repr(torch.nn.AvgPool2d(*args))


def test_bad_input_raises_in_subprocess():
    code = r"""
import numpy as np, fastnn, fastnn.nn.functional as F
x = np.zeros((2, 3, 5, 5), np.float32)
cases = [
    ("rank", lambda: F.max_pool2d(np.zeros((5, 5), np.float32), 2)),
    ("rank5", lambda: F.avg_pool2d(np.zeros((1, 1, 2, 5, 5), np.float32), 2)),
    ("kernel", lambda: F.max_pool2d(x, 7)),
    ("kernel_avg", lambda: F.avg_pool2d(x, (2, 9), padding=(0, 1))),
    ("stride", lambda: F.max_pool2d(x, 2, 0)),
    ("stride_avg", lambda: F.avg_pool2d(x, 2, (1, -1))),
    ("padding", lambda: F.max_pool2d(x, 2, 2, -1)),
    ("half", lambda: F.max_pool2d(x, 2, 2, 2)),
    ("half_avg", lambda: F.avg_pool2d(x, 3, 1, 2)),
    ("ksize", lambda: F.max_pool2d(x, 0)),
    ("dtype", lambda: F.max_pool2d(np.zeros((1, 1, 4, 4), np.int64), 2)),
    ("module", lambda: fastnn.nn.MaxPool2d(2, 2, 3)),
    ("module_avg", lambda: fastnn.nn.AvgPool2d(2, 0)),
]
for name, fn in cases:
    try:
        fn()
        print(name, "NO-ERROR")
    except Exception as e:
        print(name, type(e).__name__, "|", str(e).replace("\n", " "))
"""
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    out = dict(line.split(" ", 1) for line in r.stdout.strip().splitlines())
    expect = {
        "rank": ("ShapeError", ["max_pool2d", "2-D", "(5, 5)"]),
        "rank5": ("ShapeError", ["avg_pool2d", "5-D"]),
        "kernel": ("ShapeError", ["max_pool2d", "too small", "(7, 7)"]),
        "kernel_avg": ("ShapeError", ["avg_pool2d", "too small", "(2, 9)"]),
        "stride": ("ValueError", ["max_pool2d", "stride", "(0, 0)"]),
        "stride_avg": ("ValueError", ["avg_pool2d", "stride", "(1, -1)"]),
        "padding": ("ValueError", ["max_pool2d", "padding", "(-1, -1)"]),
        "half": ("ValueError", ["max_pool2d", "half", "(2, 2)"]),
        "half_avg": ("ValueError", ["avg_pool2d", "half", "(3, 3)"]),
        "ksize": ("ValueError", ["max_pool2d", "kernel", "(0, 0)"]),
        "dtype": ("TypeError", ["max_pool2d", "int64"]),
        "module": ("ValueError", ["MaxPool2d", "half", "(3, 3)"]),
        "module_avg": ("ValueError", ["AvgPool2d", "stride", "(0, 0)"]),
    }
    for name, (etype, words) in expect.items():
        got = out[name]
        assert got.startswith(etype + " |"), (name, got)
        for word in words:
            assert word in got, (name, word, got)


# ---------------------------------------------------------------- the PyTorch options
import fastnn.ops.pooling as P  # noqa: E402


def _np(t):
    return np.asarray(t._array if hasattr(t, "_array") else t)


# (op, fastnn call, torch call, input shape)
OPTION_CASES = [
    ("max_dil_ceil", lambda f, x: f.max_pool2d(x, 3, 2, 1, 2, True), (2, 3, 9, 10)),
    ("max_ceil_edge", lambda f, x: f.max_pool2d(x, 2, 2, 0, 1, True), (1, 2, 5, 7)),
    ("max_kernel_eq_input", lambda f, x: f.max_pool2d(x, (5, 7), 1, 0, 1, True), (1, 2, 5, 7)),
    ("avg_ceil_nopad", lambda f, x: f.avg_pool2d(x, 3, 2, 1, True, False), (2, 3, 8, 7)),
    ("avg_divisor", lambda f, x: f.avg_pool2d(x, (2, 3), (1, 2), (1, 1), False, True, 5),
     (1, 2, 6, 6)),
    ("avg_ceil_include", lambda f, x: f.avg_pool2d(x, 2, 2, 1, True), (1, 2, 5, 5)),
    ("max1d", lambda f, x: f.max_pool1d(x, 3, 2, 1, 2, True), (2, 3, 11)),
    ("max1d_unbatched", lambda f, x: f.max_pool1d(x, 2), (3, 9)),
    ("avg1d", lambda f, x: f.avg_pool1d(x, 3, 2, 1, True, False), (2, 3, 10)),
    ("adaptive_avg", lambda f, x: f.adaptive_avg_pool2d(x, (3, 5)), (2, 3, 7, 9)),
    ("adaptive_avg_global", lambda f, x: f.adaptive_avg_pool2d(x, 1), (2, 3, 7, 9)),
    ("adaptive_avg_none", lambda f, x: f.adaptive_avg_pool2d(x, (None, 2)), (2, 3, 4, 5)),
    ("adaptive_avg_bigger", lambda f, x: f.adaptive_avg_pool2d(x, (6, 4)), (1, 2, 4, 3)),
    ("adaptive_max", lambda f, x: f.adaptive_max_pool2d(x, (3, 4)), (2, 3, 7, 9)),
    ("adaptive_max_unbatched", lambda f, x: f.adaptive_max_pool2d(x, 2), (3, 5, 5)),
    ("adaptive_avg1d", lambda f, x: f.adaptive_avg_pool1d(x, 4), (2, 3, 10)),
    ("adaptive_max1d", lambda f, x: f.adaptive_max_pool1d(x, 3), (2, 3, 10)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", OPTION_CASES, ids=[c[0] for c in OPTION_CASES])
def test_options_match_torch(case, dtype):
    torch = requires_torch()
    _, call, shape = case
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(dtype)
    a, t = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = call(F, a), call(torch.nn.functional, t)
    assert y.shape == tuple(ty.shape) and y.dtype == dtype
    g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(g)
    ty.backward(torch.tensor(g))
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(y), ty.detach().numpy(), **tol)
    np.testing.assert_allclose(_np(a.grad), t.grad.numpy(), **tol)


@pytest.mark.parametrize("case", OPTION_CASES, ids=[c[0] for c in OPTION_CASES])
def test_options_gradcheck(case):
    _, call, shape = case
    n = int(np.prod(shape))
    # distinct values far apart: a central difference never changes a max winner
    x = fastnn.tensor(np.random.default_rng(2).permutation(n).reshape(shape) * 0.1,
                      requires_grad=True)
    Rg = fastnn.tensor(np.random.default_rng(3).standard_normal(call(F, x).shape))
    assert fastnn.gradcheck(lambda x: (call(F, x) * Rg).sum(), [x])


def test_indices_match_torch_and_unpool_roundtrip():
    torch = requires_torch()
    x = np.random.default_rng(4).standard_normal((2, 3, 9, 8)).astype(np.float32)
    for f, tf, args in [(F.max_pool2d, torch.nn.functional.max_pool2d, (3, 2, 1, 2, True)),
                        (F.adaptive_max_pool2d, torch.nn.functional.adaptive_max_pool2d,
                         ((4, 3),))]:
        y, i = f(x, *args, return_indices=True)
        ty, ti = tf(torch.tensor(x), *args, return_indices=True)
        assert i.dtype == np.int64
        np.testing.assert_array_equal(_np(i), ti.numpy())
    y, i = F.max_pool2d(x, 2, return_indices=True)
    ty, ti = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    yv = fastnn.tensor(_np(y), requires_grad=True)
    tyv = ty.detach().requires_grad_(True)
    for out in (None, (9, 8), (2, 3, 9, 8)):
        u = F.max_unpool2d(yv, i, 2, output_size=out)
        tu = torch.nn.functional.max_unpool2d(tyv, ti, 2, output_size=out)
        np.testing.assert_array_equal(_np(u), tu.detach().numpy())
    g = np.random.default_rng(5).standard_normal(u.shape).astype(np.float32)
    u.backward(g)
    tu.backward(torch.tensor(g))
    np.testing.assert_array_equal(_np(yv.grad), tyv.grad.numpy())
    y1, i1 = F.max_pool1d(x[0], 2, return_indices=True)
    u1 = nn.MaxUnpool1d(2)(y1, i1)
    tu1 = torch.nn.MaxUnpool1d(2)(*torch.nn.functional.max_pool1d(torch.tensor(x[0]), 2,
                                                                  return_indices=True))
    np.testing.assert_array_equal(_np(u1), tu1.numpy())


def test_global_pool_threads_bitwise():
    x = np.random.default_rng(6).standard_normal((8, 64, 17, 15)).astype(np.float32)
    g = np.random.default_rng(7).standard_normal((8, 64, 1, 1)).astype(np.float32)
    out = []
    for nt in (1, 2):
        fastnn.set_num_threads(nt)
        a = fastnn.tensor(x, requires_grad=True)
        y = nn.AdaptiveAvgPool2d(1)(a)
        y.backward(g)
        out.append((_np(y), _np(a.grad)))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
    np.testing.assert_allclose(out[0][0][..., 0, 0], x.astype(np.float64).mean(axis=(2, 3)),
                               rtol=1e-6)


def test_new_modules_repr_match_torch():
    torch = requires_torch()
    pairs = [("MaxPool1d", (2,)), ("MaxPool1d", (3, 2, 1, 2, False, True)),
             ("MaxPool2d", (3, 2, 1, 2, False, True)), ("AvgPool1d", (2,)),
             ("AvgPool1d", (3, 2, 1, True, False)), ("AvgPool2d", (2, 2, 1, True, False, 3)),
             ("AdaptiveAvgPool2d", (1,)), ("AdaptiveAvgPool2d", ((None, 3),)),
             ("AdaptiveMaxPool2d", ((2, 3),)), ("AdaptiveAvgPool1d", (3,)),
             ("AdaptiveMaxPool1d", (3,)), ("MaxUnpool2d", (2,)), ("MaxUnpool2d", ((2, 3), 1, 1)),
             ("MaxUnpool1d", (2,))]
    for name, args in pairs:
        m, tm = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(m) == repr(tm), name
        assert m.state_dict() == {}
    x = np.random.default_rng(8).standard_normal((2, 3, 9, 8)).astype(np.float32)
    m = nn.MaxPool2d(3, 2, 1, 2, return_indices=True, ceil_mode=True)
    tm = torch.nn.MaxPool2d(3, 2, 1, 2, return_indices=True, ceil_mode=True)
    (y, i), (ty, ti) = m(x), tm(torch.tensor(x))
    np.testing.assert_array_equal(_np(y), ty.numpy())
    np.testing.assert_array_equal(_np(i), ti.numpy())


def test_option_errors():
    x = fastnn.tensor(np.zeros((2, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match="divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="dilation"):
        F.max_pool2d(x, 2, dilation=0)
    with pytest.raises(fastnn.ShapeError, match="too small"):
        F.max_pool2d(x, 3, dilation=3)
    with pytest.raises(fastnn.ShapeError, match="max_pool1d"):
        F.max_pool1d(x, 2)
    with pytest.raises(ValueError, match="output_size"):
        F.adaptive_avg_pool2d(x, (0, 2))
    with pytest.raises(TypeError, match="output_size"):
        F.adaptive_avg_pool2d(x, (1, 2, 3))
    with pytest.raises(fastnn.ShapeError, match="adaptive_max_pool2d"):
        F.adaptive_max_pool2d(fastnn.zeros(5, 5), 2)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    with pytest.raises(ValueError, match="output_size"):
        F.max_unpool2d(y, i, 2, output_size=(9, 9))
    with pytest.raises(TypeError, match="int64"):
        F.max_unpool2d(y, _np(i).astype(np.int32), 2)
    with pytest.raises(fastnn.ShapeError, match="indices"):
        F.max_unpool2d(y, i[:1], 2)
    bad = _np(i).copy()
    bad[0, 0, 0, 0] = 99
    with pytest.raises(IndexError):
        F.max_unpool2d(y, fastnn.tensor(bad), 2)
    with pytest.raises(ValueError, match="half"):
        nn.MaxPool1d(2, padding=2)


def test_geometry_is_checked_once_and_cached():
    P._GEOMS.clear()
    x = fastnn.ones(1, 2, 6, 6)
    F.max_pool2d(x, 2)
    F.max_pool2d(x, 2)
    assert len(P._GEOMS) == 1
    F.max_pool2d(x, [2, 2])                   # a list: checked, not kept
    assert len(P._GEOMS) == 1
