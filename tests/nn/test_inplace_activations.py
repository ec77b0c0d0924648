"""``inplace=True`` activations overwrite their input and return it, as
PyTorch's, with the same values and gradients as the out-of-place form."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import nn

CASES = [
    (F.relu, {}), (F.leaky_relu, {"negative_slope": 0.2}), (F.elu, {"alpha": 0.7}),
    (F.selu, {}), (F.celu, {"alpha": 1.3}), (F.hardtanh, {"min_val": -0.5, "max_val": 0.5}),
    (F.relu6, {}), (F.silu, {}), (F.mish, {}), (F.hardswish, {}), (F.hardsigmoid, {}),
    (lambda x, inplace=False: F.threshold(x, 0.1, -2.0, inplace=inplace), {}),
]


def _x(seed=0):
    return np.random.default_rng(seed).standard_normal((3, 5)).astype(np.float32) * 3


@pytest.mark.parametrize("fn,kw", CASES)
def test_functional_inplace_overwrites_and_backpropagates(fn, kw):
    ref = fn(fastnn.tensor(_x()), **kw).numpy()
    x = fastnn.tensor(_x())
    y = fn(x, inplace=True, **kw)
    assert y is x
    np.testing.assert_array_equal(x.numpy(), ref)
    # on a non-leaf under autograd: the gradient equals the out-of-place one
    w = fastnn.tensor(_x(1), requires_grad=True)
    g = fastnn.tensor(_x(2))
    (fn(w * 1.5, **kw) * g).sum().backward()
    g_ref = w.grad.numpy().copy()
    w.grad = None
    h = w * 1.5
    out = fn(h, inplace=True, **kw)
    assert out is h
    (out * g).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), g_ref, rtol=1e-6, atol=1e-7)


def test_inplace_on_a_leaf_that_requires_grad_raises():
    w = fastnn.tensor(_x(), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu(w, inplace=True)


@pytest.mark.parametrize("mod", [nn.ReLU(inplace=True), nn.LeakyReLU(0.1, inplace=True),
                                 nn.ELU(inplace=True), nn.SiLU(inplace=True),
                                 nn.Hardtanh(inplace=True), nn.ReLU6(inplace=True)])
def test_modules_with_inplace_overwrite_their_input(mod):
    x = fastnn.tensor(_x())
    before = x.numpy().copy()
    y = mod(x)
    assert y is x and not np.array_equal(x.numpy(), before)
    mod.inplace = False
    x2 = fastnn.tensor(before.copy())
    np.testing.assert_array_equal(mod(x2).numpy(), y.numpy())
    np.testing.assert_array_equal(x2.numpy(), before)


def test_inplace_matches_torch():
    torch = pytest.importorskip("torch")
    a = _x(3)
    t = torch.tensor(a)
    torch.nn.functional.elu(t, 0.5, inplace=True)
    f = fastnn.tensor(a.copy())
    F.elu(f, 0.5, inplace=True)
    np.testing.assert_allclose(f.numpy(), t.numpy(), rtol=1e-6, atol=1e-7)
