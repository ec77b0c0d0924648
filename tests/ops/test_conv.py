"""F.conv2d and nn.Conv2d: reference, gradcheck, PyTorch parity, threads,
edge shapes, NaN, bad input (in a subprocess) and the module contract."""
import math

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.testing import reference as R
from fastnn.testing import requires_torch, run_python

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}

# (x shape, w shape, stride, padding)
CASES = [
    ((2, 3, 8, 8), (4, 3, 3, 3), 1, 1),
    ((1, 2, 7, 5), (3, 2, 3, 2), (2, 1), (1, 0)),     # batch 1, odd sizes, non-square kernel
    ((3, 4, 6, 6), (5, 4, 1, 1), 1, 0),               # 1x1 direct
    ((2, 1, 5, 5), (2, 1, 5, 5), 1, 0),               # kernel = input, one channel
    ((2, 2, 9, 7), (3, 2, 2, 2), 3, 1),               # stride > kernel
    ((2, 3, 6, 7), (2, 3, 1, 3), (1, 2), (0, 1)),
]


def _arrays(rng, xs, ws, dtype, bias=True):
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype) if bias else None
    return x, w, b


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(case, dtype, rng):
    xs, ws, stride, padding = case
    x, w, b = _arrays(rng, xs, ws, dtype)
    y = F.conv2d(x, w, b, stride, padding)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.detach().numpy(), R.conv2d(x, w, b, stride, padding), **TOL[dtype])
    y0 = F.conv2d(fastnn.tensor(x), fastnn.tensor(w), stride=stride, padding=padding)
    np.testing.assert_allclose(y0.detach().numpy(), R.conv2d(x, w, None, stride, padding), **TOL[dtype])


@pytest.mark.parametrize("case", CASES)
def test_backward_matches_reference(case, rng):
    xs, ws, stride, padding = case
    x, w, b = _arrays(rng, xs, ws, np.float32)
    tx, tw, tb = (fastnn.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(tx, tw, tb, stride, padding)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    dx, dw, db = R.conv2d_backward(x, w, g, stride, padding)
    for got, want in ((tx.grad, dx), (tw.grad, dw), (tb.grad, db)):
        np.testing.assert_allclose(got, want, **TOL[np.float32])


@pytest.mark.parametrize("case", CASES[:5])
def test_gradcheck_float64(case, rng):
    xs, ws, stride, padding = case
    x, w, b = (fastnn.tensor(a, requires_grad=True) for a in _arrays(rng, xs, ws, np.float64))
    out_shape = F.conv2d(x, w, b, stride, padding).shape
    Rg = fastnn.tensor(rng.standard_normal(out_shape))
    assert fastnn.gradcheck(lambda x, w, b: (F.conv2d(x, w, b, stride, padding) * Rg).sum(),
                            [x, w, b])


@pytest.mark.parametrize("case", CASES)
def test_torch_parity(case, rng):
    torch = requires_torch()
    xs, ws, stride, padding = case
    x, w, b = _arrays(rng, xs, ws, np.float32)
    tx, tw, tb = (fastnn.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(tx, tw, tb, stride, padding)
    px, pw, pb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    py = torch.nn.functional.conv2d(px, pw, pb, stride, padding)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    py.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), py.detach().numpy(), rtol=1e-4, atol=1e-4)
    for a, t in ((tx, px), (tw, pw), (tb, pb)):
        np.testing.assert_allclose(a.grad, t.grad.numpy(), rtol=1e-4, atol=1e-4)


def _grads(x, w, b, g):
    tx, tw, tb = (fastnn.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(tx, tw, tb, 1, 1)
    y.backward(g)
    return y.detach().numpy().copy(), tx.grad, tw.grad, tb.grad


def test_thread_invariance(rng):
    for N, C, K in ((1, 16, 32), (5, 8, 16)):   # serial-image and image-parallel paths
        x, w, b = _arrays(rng, (N, C, 16, 16), (K, C, 3, 3), np.float32)
        g = rng.standard_normal((N, K, 16, 16)).astype(np.float32)
        fastnn.set_num_threads(1)
        r1 = _grads(x, w, b, g)
        fastnn.set_num_threads(2)
        r2 = _grads(x, w, b, g)
        r2b = _grads(x, w, b, g)
        assert all(np.array_equal(a, c) for a, c in zip(r2, r2b))
        assert np.array_equal(r1[0], r2[0]) and np.array_equal(r1[1], r2[1])
        for a, c in zip(r1[2:], r2[2:]):
            np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-3)


def test_non_contiguous_input_and_unbatched(rng):
    base = rng.standard_normal((2, 3, 7, 6))
    x = base.transpose(0, 1, 3, 2)                     # (2, 3, 6, 7), a view
    assert not x.flags.c_contiguous
    w = rng.standard_normal((4, 3, 3, 3))
    tx = fastnn.tensor(x, requires_grad=True)
    y = F.conv2d(tx, w, None, 1, 1)
    np.testing.assert_allclose(y.detach().numpy(), R.conv2d(np.ascontiguousarray(x), w, None, 1, 1),
                               **TOL[np.float64])
    g = rng.standard_normal(y.shape)
    y.backward(g)
    np.testing.assert_allclose(tx.grad, R.conv2d_backward(x, w, g, 1, 1)[0], **TOL[np.float64])
    y3 = F.conv2d(base[0], w, padding=1)              # unbatched (C, H, W)
    assert y3.shape == (4, 7, 6)
    np.testing.assert_allclose(y3.detach().numpy(), R.conv2d(base[:1], w, None, 1, 1)[0], **TOL[np.float64])
    assert F.conv2d(base, w, padding="same").shape == (2, 4, 7, 6)
    assert F.conv2d(base, w, padding="valid").shape == (2, 4, 5, 4)


def test_nan_and_inf_propagate_like_torch(rng):
    torch = requires_torch()
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    x[0, 0, 2, 3] = np.nan
    x[1, 1, 0, 0] = np.inf
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    y = F.conv2d(x, w, None, 1, 1).detach().numpy()
    t = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), None, 1, 1).numpy()
    assert np.array_equal(np.isnan(y), np.isnan(t))
    assert np.array_equal(np.isinf(y), np.isinf(t))
    assert np.isnan(y).any() and np.isinf(y).any()


def test_bad_input_raises_in_subprocess():
    code = r"""
import numpy as np, fastnn, fastnn.nn.functional as F
x = np.zeros((2, 3, 5, 5), np.float32); w = np.zeros((4, 3, 3, 3), np.float32)
cases = [
    ("channels", lambda: F.conv2d(x, np.zeros((4, 2, 3, 3), np.float32))),
    ("rank", lambda: F.conv2d(np.zeros((3, 5), np.float32), w)),
    ("rank5", lambda: F.conv2d(np.zeros((1, 2, 3, 5, 5), np.float32), w)),
    ("wrank", lambda: F.conv2d(x, np.zeros((4, 3, 3), np.float32))),
    ("kernel", lambda: F.conv2d(x, np.zeros((4, 3, 9, 3), np.float32), padding=1)),
    ("stride", lambda: F.conv2d(x, w, stride=0)),
    ("stride2", lambda: F.conv2d(x, w, stride=(1, -2))),
    ("padding", lambda: F.conv2d(x, w, padding=-1)),
    ("bias", lambda: F.conv2d(x, w, np.zeros(3, np.float32))),
    ("dtype", lambda: F.conv2d(x, w.astype(np.float64))),
    ("module", lambda: fastnn.nn.Conv2d(3, 4, 3, stride=0)),
    ("module_ch", lambda: fastnn.nn.Conv2d(0, 4, 3)),
    ("module_fwd", lambda: fastnn.nn.Conv2d(2, 4, 3)(x)),
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
        "channels": ("ShapeError", ["conv2d", "3 channels", "2 channels"]),
        "rank": ("ShapeError", ["conv2d", "2-D", "(3, 5)"]),
        "rank5": ("ShapeError", ["conv2d", "5-D"]),
        "wrank": ("ShapeError", ["conv2d", "(4, 3, 3)"]),
        "kernel": ("ShapeError", ["conv2d", "9 x 3", "7 x 7"]),
        "stride": ("ValueError", ["conv2d", "stride", "(0, 0)"]),
        "stride2": ("ValueError", ["conv2d", "stride", "(1, -2)"]),
        "padding": ("ValueError", ["conv2d", "padding", "(-1, -1)"]),
        "bias": ("ShapeError", ["conv2d", "bias", "(4,)", "(3,)"]),
        "dtype": ("TypeError", ["conv2d", "float64", "float32"]),
        "module": ("ValueError", ["Conv2d", "stride"]),
        "module_ch": ("ValueError", ["Conv2d", "in_channels", "0"]),
        "module_fwd": ("ShapeError", ["conv2d", "2 channels", "3 channels"]),
    }
    for name, (etype, words) in expect.items():
        got = out[name]
        assert got.startswith(etype + " |"), (name, got)
        for word in words:
            assert word in got, (name, word, got)
    assert issubclass(fastnn.ShapeError, ValueError)


def test_module_init_repr_and_forward(rng):
    fastnn.manual_seed(0)
    m = nn.Conv2d(3, 10, 5, padding=2)
    assert m.weight.shape == (10, 3, 5, 5) and m.bias.shape == (10,)
    bound = 1 / math.sqrt(3 * 25)        # kaiming_uniform_(a=sqrt(5)) == U(+-1/sqrt(fan_in))
    assert np.abs(m.weight.detach().numpy()).max() <= bound and np.abs(m.weight.detach().numpy()).max() > 0.9 * bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound
    assert repr(m) == "Conv2d(3, 10, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))"
    m2 = nn.Conv2d(2, 4, (1, 3), stride=2, bias=False)
    assert m2.bias is None and list(m2.state_dict()) == ["weight"]
    assert repr(m2) == "Conv2d(2, 4, kernel_size=(1, 3), stride=(2, 2), bias=False)"
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    y = m(fastnn.tensor(x))
    assert y.shape == (2, 10, 8, 8)
    np.testing.assert_allclose(y.detach().numpy(), R.conv2d(x, m.weight.detach().numpy(), m.bias.detach().numpy(), 1, 2),
                               **TOL[np.float32])
    y.sum().backward()
    assert m.weight.grad.shape == (10, 3, 5, 5) and m.bias.grad.shape == (10,)


def test_module_state_dict_matches_torch(rng):
    torch = requires_torch()
    for args, kw in [((3, 8, 3), dict(padding=1)), ((4, 2, (2, 3)), dict(stride=2, bias=False))]:
        m, t = nn.Conv2d(*args, **kw), torch.nn.Conv2d(*args, **kw)
        ms, ts = m.state_dict(), t.state_dict()
        assert list(ms) == list(ts)
        assert all(tuple(ms[k].shape) == tuple(ts[k].shape) for k in ms)
        assert repr(m) == repr(t)
        m.load_state_dict(ts)
        x = rng.standard_normal((2, args[0], 7, 7)).astype(np.float32)
        np.testing.assert_allclose(m(x).detach().numpy(), t(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-4, atol=1e-5)
