"""F.bilinear / nn.Bilinear and F.gumbel_softmax: values and gradients vs
PyTorch, gradcheck, init bounds, state-dict keys and loading a torch state
dict, the straight-through estimator, seeding, errors."""
import math

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.testing import requires_torch

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-5)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("lead,bias", [((2,), True), ((2, 6), False), ((), True), ((0,), True)])
def test_bilinear_matches_torch(lead, bias, dtype):
    torch = requires_torch()
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(lead + (3,)), rng.standard_normal(lead + (4,)),
            rng.standard_normal((5, 3, 4))] + ([rng.standard_normal(5)] if bias else [])
    arrs = [a.astype(dtype) for a in arrs]
    fs = [fastnn.tensor(a, requires_grad=True) for a in arrs]
    ts = [torch.tensor(a, requires_grad=True) for a in arrs]
    yf, yt = F.bilinear(*fs), torch.nn.functional.bilinear(*ts)
    assert yf.shape == tuple(yt.shape)
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(yt.shape).astype(dtype)
    yf.backward(g)
    yt.backward(torch.tensor(g))
    for a, b in zip(fs, ts):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TOL[dtype])


def test_bilinear_gradcheck():
    rng = np.random.default_rng(1)
    args = [fastnn.tensor(rng.standard_normal(s), requires_grad=True)
            for s in [(3, 2), (3, 4), (2, 2, 4), (2,)]]
    assert fastnn.gradcheck(lambda *a: F.bilinear(*a) ** 2, args)


def test_bilinear_module_init_repr_and_torch_state_dict():
    torch = requires_torch()
    fastnn.manual_seed(0)
    m = nn.Bilinear(20, 4, 30)
    assert list(m.state_dict()) == ["weight", "bias"]
    assert m.weight.shape == (30, 20, 4) and m.bias.shape == (30,)
    bound = 1 / math.sqrt(20)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound
    assert w.std() > 0.5 * bound / math.sqrt(3)
    t = torch.nn.Bilinear(20, 4, 30)
    assert repr(m) == repr(t)
    assert repr(nn.Bilinear(2, 3, 4, bias=False)) == repr(torch.nn.Bilinear(2, 3, 4, bias=False))
    assert list(nn.Bilinear(2, 3, 4, bias=False).state_dict()) == ["weight"]
    m.load_state_dict(t.state_dict())
    x1, x2 = np.ones((2, 20), np.float32), np.ones((2, 4), np.float32)
    np.testing.assert_allclose(m(fastnn.tensor(x1), fastnn.tensor(x2)).detach().numpy(),
                               t(torch.tensor(x1), torch.tensor(x2)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("a,b,w,bias,match", [
    ((2, 3), (3, 4), (5, 3, 4), None, "batch dimensions"),
    ((2, 4), (2, 4), (5, 3, 4), None, "input1 size"),
    ((2, 3), (2, 5), (5, 3, 4), None, "input2 size"),
    ((2, 3), (2, 1, 4), (5, 3, 4), None, "input dimensions"),
    ((2, 3), (2, 4), (5, 3, 4), (4,), "bias size"),
])
def test_bilinear_errors(a, b, w, bias, match):
    args = [fastnn.zeros(*a), fastnn.zeros(*b), fastnn.zeros(*w)]
    if bias:
        args.append(fastnn.zeros(*bias))
    with pytest.raises(fastnn.ShapeError, match=match):
        F.bilinear(*args)
    with pytest.raises(ValueError):
        nn.Bilinear(-1, 2, 3)


def test_gumbel_softmax_soft_and_hard():
    fastnn.manual_seed(3)
    logits = fastnn.tensor(np.random.default_rng(2).standard_normal((64, 5)),
                           requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.7)
    np.testing.assert_allclose(y.detach().numpy().sum(-1), 1, rtol=1e-12)
    assert (y.detach().numpy() > 0).all()
    h = F.gumbel_softmax(logits, tau=0.7, hard=True, dim=1)
    hn = h.detach().numpy()
    assert set(np.unique(hn)) <= {0.0, 1.0} and (hn.sum(1) == 1).all()
    # straight-through: the gradient is the soft sample's
    w = np.random.default_rng(4).standard_normal((64, 5))
    fastnn.manual_seed(9)
    (F.gumbel_softmax(logits, hard=True) * fastnn.tensor(w)).sum().backward()
    g_hard = logits.grad.numpy().copy()
    logits.grad = None
    fastnn.manual_seed(9)
    (F.gumbel_softmax(logits, hard=False) * fastnn.tensor(w)).sum().backward()
    np.testing.assert_allclose(g_hard, logits.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gumbel_softmax_seeded_and_distribution():
    fastnn.manual_seed(5)
    a = F.gumbel_softmax(fastnn.zeros(4, 3)).numpy()
    fastnn.manual_seed(5)
    b = F.gumbel_softmax(fastnn.zeros(4, 3)).numpy()
    assert np.array_equal(a, b)
    c = F.gumbel_softmax(fastnn.zeros(4, 3)).numpy()
    assert not np.array_equal(a, c)
    # hard samples follow softmax(logits)
    p = np.array([0.6, 0.3, 0.1])
    fastnn.manual_seed(6)
    h = F.gumbel_softmax(fastnn.tensor(np.tile(np.log(p), (20000, 1))), hard=True, dim=0 - 1)
    freq = h.numpy().mean(0)
    np.testing.assert_allclose(freq, p, atol=0.015)
    assert F.gumbel_softmax(fastnn.zeros(3, 4, dtype=fastnn.float32)).dtype == np.float32
    assert F.gumbel_softmax(fastnn.zeros(4, 3), dim=0, hard=True).numpy().sum(0).tolist() == \
        [1, 1, 1]


def test_adaptive_max_pool_with_indices_aliases():
    torch = requires_torch()
    x = np.random.default_rng(9).standard_normal((2, 3, 7, 5)).astype(np.float32)
    o, i = F.adaptive_max_pool2d_with_indices(fastnn.tensor(x), (3, 2))
    ot, it = torch.nn.functional.adaptive_max_pool2d_with_indices(torch.tensor(x), (3, 2))
    np.testing.assert_array_equal(o.numpy(), ot.numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    o, i = F.adaptive_max_pool1d_with_indices(fastnn.tensor(x[:, :, 0]), 3)
    ot, it = torch.nn.functional.adaptive_max_pool1d_with_indices(torch.tensor(x[:, :, 0]), 3)
    np.testing.assert_array_equal(o.numpy(), ot.numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())
