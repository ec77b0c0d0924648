"""F.pad (constant / reflect / replicate / circular, negative constant pads)
and the padding modules: forward vs NumPy, gradcheck, PyTorch parity, errors."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.testing import requires_torch

NP_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
           "circular": "wrap"}
# (x shape, pad, mode)
CASES = [
    ((2, 3, 5), (1, 2), "constant"),
    ((2, 3, 4, 5), (2, 1, 0, 3), "constant"),
    ((2, 3, 4, 5), (1, 1, 1, 1, 1, 1, 1, 1), "constant"),
    ((3, 5), (2, 3), "reflect"),
    ((2, 3, 5), (4, 1), "reflect"),
    ((2, 3, 4, 5), (1, 2, 3, 1), "reflect"),
    ((1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 0), "reflect"),
    ((2, 3, 5), (3, 2), "replicate"),
    ((2, 4, 5), (1, 2, 3, 1), "replicate"),
    ((2, 2, 3, 4), (1, 2, 2, 1, 1, 0), "replicate"),
    ((2, 3, 5), (5, 2), "circular"),
    ((2, 3, 4, 5), (1, 2, 3, 4), "circular"),
    ((2, 2, 3, 4), (1, 2, 2, 1, 1, 0), "circular"),
]


def _np_pad(x, pad, mode, value=0.0):
    k = len(pad) // 2
    widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * a], pad[2 * a + 1]) for a in reversed(range(k))]
    kw = {"constant_values": value} if mode == "constant" else {}
    return np.pad(x, widths, NP_MODE[mode], **kw)


@pytest.mark.parametrize("case", CASES)
def test_forward_matches_numpy(case, rng):
    xs, pad, mode = case
    x = rng.standard_normal(xs)
    y = F.pad(fastnn.tensor(x), pad, mode)
    np.testing.assert_array_equal(y.numpy(), _np_pad(x, pad, mode))


@pytest.mark.parametrize("case", CASES)
def test_gradcheck(case, rng):
    xs, pad, mode = case
    x = fastnn.tensor(rng.standard_normal(xs), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal(_np_pad(x.detach().numpy(), pad, mode).shape))
    assert fastnn.gradcheck(lambda t: F.pad(t, pad, mode) * w, [x])


def test_constant_value_and_negative_crop(rng):
    x = rng.standard_normal((2, 3, 6, 7))
    y = F.pad(fastnn.tensor(x), (-1, 2, 1, -3), value=2.5).numpy()
    ref = np.pad(x[:, :, :3, 1:], [(0, 0), (0, 0), (1, 0), (0, 2)], constant_values=2.5)
    np.testing.assert_array_equal(y, ref)
    t = fastnn.tensor(x, requires_grad=True)
    w = fastnn.tensor(rng.standard_normal(y.shape))
    assert fastnn.gradcheck(lambda a: F.pad(a, (-1, 2, 1, -3), value=2.5) * w, [t])
    assert fastnn.gradcheck(lambda a: F.pad(a, (-2, -3)), [t])


@pytest.mark.parametrize("case", CASES + [((2, 3, 6, 7), (-1, 2, 1, -3), "constant")])
def test_matches_torch(case, rng):
    torch = requires_torch()
    xs, pad, mode = case
    x = rng.standard_normal(xs)
    tx = fastnn.tensor(x, requires_grad=True)
    y = F.pad(tx, pad, mode)
    px = torch.tensor(x, requires_grad=True)
    py = torch.nn.functional.pad(px, pad, mode)
    np.testing.assert_allclose(y.detach().numpy(), py.detach().numpy())
    g = rng.standard_normal(tuple(py.shape))
    y.backward(fastnn.tensor(g))
    py.backward(torch.tensor(g))
    np.testing.assert_allclose(tx.grad.numpy(), px.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x_shape, pad, mode, exc", [
    ((2, 3, 4, 5), (1, 1), "reflect", NotImplementedError),
    ((5,), (1, 1), "replicate", NotImplementedError),
    ((2, 3), (1,), "constant", ValueError),
    ((2, 3), (1, 1, 1, 1, 1, 1), "constant", ValueError),
    ((2, 3), (1, 1), "zeros", NotImplementedError),
    ((2, 3), (3, 0), "reflect", ValueError),
    ((2, 3), (4, 0), "circular", ValueError),
    ((2, 3), (-2, -2), "constant", ValueError),
    ((2, 3), (-1, 0), "reflect", ValueError),
])
def test_bad_arguments(x_shape, pad, mode, exc):
    with pytest.raises(exc):
        F.pad(fastnn.zeros(*x_shape), pad, mode)


def test_value_with_non_constant_mode():
    with pytest.raises(ValueError, match="doesn't take in value"):
        F.pad(fastnn.zeros(2, 3), (1, 1), "reflect", value=1.0)


MODULES = [
    ("ZeroPad1d", (1, 2), "constant", 1), ("ZeroPad2d", 2, "constant", 2),
    ("ZeroPad3d", (1, 0, 2, 1, 0, 1), "constant", 3),
    ("ReflectionPad1d", (2, 1), "reflect", 1), ("ReflectionPad2d", (1, 2, 2, 1), "reflect", 2),
    ("ReflectionPad3d", 1, "reflect", 3),
    ("ReplicationPad1d", 3, "replicate", 1), ("ReplicationPad2d", (1, 0, 2, 3), "replicate", 2),
    ("ReplicationPad3d", (1, 0, 2, 1, 0, 1), "replicate", 3),
    ("CircularPad1d", (1, 3), "circular", 1), ("CircularPad2d", 1, "circular", 2),
    ("CircularPad3d", (1, 0, 2, 1, 0, 1), "circular", 3),
]


@pytest.mark.parametrize("name, padding, mode, n", MODULES)
def test_modules(name, padding, mode, n, rng):
    m = getattr(nn, name)(padding)
    pads = (padding,) * (2 * n) if isinstance(padding, int) else padding
    assert m.padding == pads
    x = rng.standard_normal((2, 3, 4, 5, 6)[:n + 2])
    np.testing.assert_array_equal(m(fastnn.tensor(x)).numpy(), _np_pad(x, pads, mode))
    assert repr(m) == f"{name}({pads})"
    assert list(m.state_dict()) == []


def test_constant_pad_modules(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    m = nn.ConstantPad2d((1, 2, 0, 1), 3.5)
    np.testing.assert_array_equal(m(fastnn.tensor(x)).numpy(),
                                  _np_pad(x, (1, 2, 0, 1), "constant", 3.5))
    assert repr(m) == "ConstantPad2d(padding=(1, 2, 0, 1), value=3.5)"
    assert repr(nn.ConstantPad1d(2, 1.0)) == "ConstantPad1d(padding=(2, 2), value=1.0)"
    assert nn.ConstantPad3d(1, 0.0).padding == (1,) * 6
    with pytest.raises(ValueError):
        nn.ReflectionPad2d((1, 2))


def test_module_reprs_match_torch():
    torch = requires_torch()
    for name, padding, _, _ in MODULES:
        assert repr(getattr(nn, name)(padding)) == repr(getattr(torch.nn, name)(padding))
    assert repr(nn.ConstantPad1d((1, 2), 3.5)) == repr(torch.nn.ConstantPad1d((1, 2), 3.5))
