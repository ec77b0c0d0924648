"""A whole small CNN (conv-bn-relu-pool x2, linear) built in fastnn with
PyTorch's weights loaded through load_state_dict gives PyTorch's outputs and
gradients; and a residual block routes the gradient down both paths."""
import numpy as np

import fastnn
import fastnn.nn as fnn
import fastnn.nn.functional as F
from fastnn.testing import requires_torch


def _cnn(nn):
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 10))


def test_small_cnn_matches_torch_with_loaded_weights():
    torch = requires_torch()
    torch.manual_seed(0)
    tnet, fnet = _cnn(torch.nn), _cnn(fnn)
    assert [(k, tuple(v.shape)) for k, v in tnet.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in fnet.state_dict().items()]
    fnet.load_state_dict(tnet.state_dict())
    r = np.random.default_rng(0)
    x = r.standard_normal((4, 3, 16, 16)).astype(np.float32)
    y = r.integers(0, 10, 4)
    for mode in ("train", "eval"):
        getattr(tnet, mode)()
        getattr(fnet, mode)()
        tx = torch.tensor(x, requires_grad=True)
        fx = fastnn.tensor(x, requires_grad=True)
        tl = torch.nn.functional.cross_entropy(tnet(tx), torch.tensor(y))
        fl = F.cross_entropy(fnet(fx), fastnn.tensor(y))
        np.testing.assert_allclose(fl.item(), tl.item(), rtol=1e-5)
        tnet.zero_grad()
        fnet.zero_grad()
        tl.backward()
        fl.backward()
        np.testing.assert_allclose(fx.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-6)
        tp = dict(tnet.named_parameters())
        for name, p in fnet.named_parameters():
            np.testing.assert_allclose(p.grad, tp[name].grad.numpy(), rtol=1e-4, atol=1e-5,
                                       err_msg=name)
    tsd = tnet.state_dict()
    for k, v in fnet.state_dict().items():
        np.testing.assert_allclose(np.asarray(v.detach().numpy()), tsd[k].numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=k)


def test_residual_add_gate_sends_gradient_both_ways():
    fastnn.manual_seed(0)
    conv = fnn.Conv2d(2, 2, 3, padding=1).double()
    x = fastnn.randn(1, 2, 5, 5, dtype="float64", requires_grad=True)
    up = fastnn.randn(1, 2, 5, 5, dtype="float64")
    assert fastnn.gradcheck(lambda t, w, b: ((t + F.conv2d(t, w, b, padding=1)) * up).sum(),
                            [x, conv.weight, conv.bias])
    # with a zero block the residual is the identity: dL/dx = upstream exactly
    x.grad = None
    zero_w = fastnn.zeros(2, 2, 3, 3, dtype="float64", requires_grad=True)
    ((x + F.conv2d(x, zero_w, padding=1)) * up).sum().backward()
    np.testing.assert_allclose(x.grad, up.detach().numpy())
