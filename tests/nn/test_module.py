"""Module, Parameter and containers: registration, traversal, modes,
state dicts (PyTorch's keys), strict loading."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn.testing import requires_torch


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.head = nn.Sequential(nn.Linear(8, 3), nn.Tanh())
        self.register_buffer("steps", fastnn.zeros(1))

    def forward(self, x):
        return self.head(self.act(self.fc1(x)))


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "head.0.weight", "head.0.bias"]
    assert [n for n, _ in net.named_buffers()] == ["steps"]
    assert len(list(net.children())) == 3
    assert len(list(net.modules())) == 6
    assert all(p.requires_grad for p in net.parameters())


def test_shared_parameter_listed_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2


def test_train_eval_return_self_and_propagate():
    net = Net()
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())


def test_zero_grad_and_backward():
    net = Net()
    net(fastnn.randn(5, 4)).sum().backward()
    assert net.fc1.weight.grad.shape == (8, 4)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_roundtrip_and_strict():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == ["steps", "fc1.weight", "fc1.bias", "head.0.weight", "head.0.bias"]
    res = b.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    x = fastnn.randn(2, 4)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    w = b.fc1.weight.detach().numpy()
    b.load_state_dict(Net().state_dict())
    assert b.fc1.weight.detach().numpy() is w            # loaded in place
    bad = dict(sd)
    del bad["fc1.bias"]
    with pytest.raises(KeyError, match="Missing key"):
        b.load_state_dict(bad)
    assert b.load_state_dict(bad, strict=False).missing_keys == ["fc1.bias"]
    bad = dict(sd)
    bad["extra"] = np.zeros(1)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        b.load_state_dict(bad)
    bad = dict(sd)
    bad["fc1.weight"] = np.zeros((3, 3))
    with pytest.raises(fastnn.ShapeError, match="size mismatch for fc1.weight"):
        b.load_state_dict(bad)


def test_sequential_indexing():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[-1], nn.Linear) and isinstance(s[1:], nn.Sequential)
    assert len(s[1:]) == 2
    with pytest.raises(IndexError):
        s[3]
    assert [type(m).__name__ for m in s] == ["Linear", "ReLU", "Linear"]
    with pytest.raises(TypeError):
        nn.Sequential(nn.ReLU(), 3)


def test_linear_validation_and_init_range():
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 3)
    fastnn.manual_seed(0)
    lin = nn.Linear(100, 50)
    bound = 1 / np.sqrt(100)
    assert np.abs(lin.weight.detach().numpy()).max() <= bound and np.abs(lin.bias.detach().numpy()).max() <= bound
    assert np.abs(lin.weight.detach().numpy()).max() > 0.8 * bound
    assert lin.weight.dtype == np.float32


def test_double_and_identity():
    net = Net().double()
    assert net.fc1.weight.dtype == np.float64
    x = fastnn.randn(2, 4, dtype="float64")
    assert net(x).dtype == np.float64
    assert nn.Identity()(x) is x


def test_linear_gradcheck():
    lin = nn.Linear(3, 2).double()
    x = fastnn.randn(4, 3, dtype="float64", requires_grad=True)
    up = fastnn.randn(4, 2, dtype="float64")
    assert fastnn.gradcheck(lambda a, w, b: (fastnn.nn.functional.linear(a, w, b) * up).sum(),
                            [x, lin.weight, lin.bias])


def test_torch_weights_load_and_match():
    torch = requires_torch()
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    fnet = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    assert list(tnet.state_dict()) == list(fnet.state_dict())
    fnet.load_state_dict(tnet.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    fx = fastnn.tensor(x, requires_grad=True)
    tout, fout = tnet(tx), fnet(fx)
    np.testing.assert_allclose(fout.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    tout.sum().backward()
    fout.sum().backward()
    np.testing.assert_allclose(fx.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fnet[0].weight.grad, tnet[0].weight.grad.numpy(), rtol=1e-5,
                               atol=1e-6)
