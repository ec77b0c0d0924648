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
