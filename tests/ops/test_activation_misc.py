"""Softshrink / Hardshrink / Tanhshrink / GLU / channel_shuffle / rms_norm /
Softmax2d, the in-place F.*_ activations and max_pool*_with_indices:
forward vs NumPy, gradcheck in float64, PyTorch parity, errors."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.testing import requires_torch


def _np_rms(x, k, w=None, eps=None):
    eps = np.finfo(x.dtype).eps if eps is None else eps
    axes = tuple(range(x.ndim - k, x.ndim))
    y = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return y if w is None else y * w


def _np_glu(x, dim):
    a, b = np.split(x, 2, axis=dim)
    return a / (1 + np.exp(-b))


# name: (fastnn call, NumPy reference, input shape)
FWD = {
    "softshrink": (lambda x: F.softshrink(x, 0.3),
                   lambda x: np.where(x > 0.3, x - 0.3, np.where(x < -0.3, x + 0.3, 0)), (4, 5)),
    "hardshrink": (lambda x: F.hardshrink(x), lambda x: np.where(np.abs(x) > 0.5, x, 0), (4, 5)),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x), (4, 5)),
    "glu": (F.glu, lambda x: _np_glu(x, -1), (3, 6)),
    "glu_dim1": (lambda x: F.glu(x, 1), lambda x: _np_glu(x, 1), (2, 4, 3)),
    "channel_shuffle": (lambda x: F.channel_shuffle(x, 3),
                        lambda x: x.reshape(2, 3, 2, 5).transpose(0, 2, 1, 3).reshape(2, 6, 5),
                        (2, 6, 5)),
    "rms_norm": (lambda x: F.rms_norm(x, (5,)), lambda x: _np_rms(x, 1), (3, 5)),
    "rms_norm_2d": (lambda x: F.rms_norm(x, (4, 5), eps=1e-3),
                    lambda x: _np_rms(x, 2, eps=1e-3), (2, 4, 5)),
    "softmax2d": (lambda x: nn.Softmax2d()(x),
                  lambda x: np.exp(x) / np.exp(x).sum(axis=-3, keepdims=True), (2, 3, 4, 4)),
}


@pytest.mark.parametrize("name", sorted(FWD))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy(name, dtype, rng):
    f, ref, shape = FWD[name]
    x = rng.standard_normal(shape).astype(dtype)
    y = f(fastnn.tensor(x))
    assert y.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.detach().numpy(), ref(x), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(FWD))
def test_gradcheck(name, rng):
    f, _, shape = FWD[name]
    x = rng.standard_normal(shape)
    if "shrink" in name:            # keep away from the kinks at +-lambd
        x = np.where(np.abs(np.abs(x) - 0.4) < 0.15, x + 0.5, x)
    t = fastnn.tensor(x, requires_grad=True)
    w = fastnn.tensor(rng.standard_normal(f(fastnn.tensor(x)).shape))
    assert fastnn.gradcheck(lambda a: f(a) * w, [t])


def test_rms_norm_weight_gradcheck(rng):
    x = fastnn.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal(4), requires_grad=True)
    up = fastnn.tensor(rng.standard_normal((3, 4)))
    assert fastnn.gradcheck(lambda a, b: F.rms_norm(a, 4, b, 1e-6) * up, [x, w])
    np.testing.assert_allclose(F.rms_norm(x, 4, w).detach().numpy(),
                               _np_rms(x.detach().numpy(), 1, w.detach().numpy()))


TORCH = [
    ("softshrink", lambda F_, x: F_.softshrink(x, 0.3)),
    ("hardshrink", lambda F_, x: F_.hardshrink(x, 0.7)),
    ("tanhshrink", lambda F_, x: F_.tanhshrink(x)),
    ("glu", lambda F_, x: F_.glu(x, 1)),
    ("channel_shuffle", lambda F_, x: F_.channel_shuffle(x, 2)),
    ("rms_norm", lambda F_, x: F_.rms_norm(x, (3, 5))),
]


@pytest.mark.parametrize("name, call", TORCH)
def test_matches_torch(name, call, rng):
    torch = requires_torch()
    x = rng.standard_normal((2, 4, 3, 5))
    tx = fastnn.tensor(x, requires_grad=True)
    px = torch.tensor(x, requires_grad=True)
    y, py = call(F, tx), call(torch.nn.functional, px)
    np.testing.assert_allclose(y.detach().numpy(), py.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(py.shape))
    y.backward(fastnn.tensor(g))
    py.backward(torch.tensor(g))
    np.testing.assert_allclose(tx.grad.numpy(), px.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_module_reprs_and_state_match_torch():
    torch = requires_torch()
    pairs = [("Softshrink", ()), ("Hardshrink", (0.25,)), ("Tanhshrink", ()), ("GLU", ()),
             ("GLU", (1,)), ("Softmax2d", ()), ("ChannelShuffle", (3,)), ("RMSNorm", (4,)),
             ("RMSNorm", ([2, 3], 1e-5, False))]
    for name, args in pairs:
        m, tm = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(m) == repr(tm)
        assert list(m.state_dict()) == list(tm.state_dict())
    np.testing.assert_array_equal(nn.RMSNorm(4).weight.detach().numpy(), np.ones(4))


@pytest.mark.parametrize("call, exc", [
    (lambda: F.glu(fastnn.zeros(2, 3)), ValueError),
    (lambda: F.glu(fastnn.zeros(2, 4), 2), IndexError),
    (lambda: F.softshrink(fastnn.zeros(2), -1.0), ValueError),
    (lambda: F.channel_shuffle(fastnn.zeros(2, 5, 3), 2), ValueError),
    (lambda: F.channel_shuffle(fastnn.zeros(2, 4, 3), 0), ValueError),
    (lambda: F.channel_shuffle(fastnn.zeros(2, 4), 2), ValueError),
    (lambda: F.rms_norm(fastnn.zeros(2, 4), (3,)), ValueError),
    (lambda: F.rms_norm(fastnn.zeros(2, 4), 4, fastnn.ones(3)), ValueError),
    (lambda: nn.Softmax2d()(fastnn.zeros(2, 4)), ValueError),
])
def test_bad_input(call, exc):
    with pytest.raises(exc):
        call()


INPLACE = [
    ("relu_", (), lambda x: F.relu(x)),
    ("elu_", (0.7,), lambda x: F.elu(x, 0.7)),
    ("selu_", (), F.selu),
    ("celu_", (1.3,), lambda x: F.celu(x, 1.3)),
    ("leaky_relu_", (0.2,), lambda x: F.leaky_relu(x, 0.2)),
    ("hardtanh_", (-0.5, 0.4), lambda x: F.hardtanh(x, -0.5, 0.4)),
    ("threshold_", (0.1, -2.0), lambda x: F.threshold(x, 0.1, -2.0)),
]


@pytest.mark.parametrize("name, args, ref", INPLACE)
def test_inplace_variants(name, args, ref, rng):
    x = rng.standard_normal((3, 4))
    x = np.where(np.abs(x) < 0.05, 0.3, x)
    t = fastnn.tensor(x.copy())
    out = getattr(F, name)(t, *args)
    assert out is t
    np.testing.assert_allclose(t.numpy(), ref(fastnn.tensor(x)).numpy())
    # under autograd: recorded as the out-of-place op on a non-leaf
    leaf = fastnn.tensor(x, requires_grad=True)
    up = fastnn.tensor(rng.standard_normal((3, 4)))

    def f(a):
        b = a * 1.0
        getattr(F, name)(b, *args)
        return b * up
    assert fastnn.gradcheck(f, [leaf])
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(F, name)(fastnn.tensor(x, requires_grad=True), *args)


def test_inplace_matches_torch(rng):
    torch = requires_torch()
    x = rng.standard_normal((3, 4))
    for name, args, _ in INPLACE:
        t, p = fastnn.tensor(x.copy()), torch.tensor(x.copy())
        getattr(F, name)(t, *args)
        getattr(torch.nn.functional, name)(p, *args)
        np.testing.assert_allclose(t.numpy(), p.numpy(), rtol=1e-12)


def test_max_pool_with_indices(rng):
    torch = requires_torch()
    x = rng.standard_normal((2, 3, 6, 7))
    y, i = F.max_pool2d_with_indices(fastnn.tensor(x), 3, 2, 1)
    ty, ti = torch.nn.functional.max_pool2d_with_indices(torch.tensor(x), 3, 2, 1)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    x1 = rng.standard_normal((2, 3, 9))
    y, i = F.max_pool1d_with_indices(fastnn.tensor(x1), 2)
    ty, ti = torch.nn.functional.max_pool1d_with_indices(torch.tensor(x1), 2)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
