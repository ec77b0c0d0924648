"""Sequential's fusion pass: Conv2d -> ReLU and BatchNorm -> ReLU run as one
op, bitwise the unfused modules, never on modules with hooks or a replaced
forward, and the plan follows changes to the Sequential."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import nn


def test_sequential_plan_follows_changes():
    x = fastnn.randn(2, 3, 6, 6)
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.BatchNorm2d(4), nn.ReLU())
    y = seq(x)
    assert "BatchNormReLU" in repr(y.grad_fn)
    # replacing a module, adding a hook attribute, or replacing a forward
    # after the plan was made: honoured on the next call
    seq[3] = nn.Identity()
    y = seq(x)
    assert "BatchNormReLU" not in repr(y.grad_fn) and (y.detach().numpy() < 0).any()
    seq[3] = nn.ReLU()
    assert "BatchNormReLU" in repr(seq(x).grad_fn)
    h = seq[2].register_forward_hook(lambda *a: None)
    assert "BatchNormReLU" not in repr(seq(x).grad_fn)
    h.remove()
    assert "BatchNormReLU" in repr(seq(x).grad_fn)
    h = seq[3].register_forward_pre_hook(lambda *a: None)     # a hook on the ReLU too
    assert "BatchNormReLU" not in repr(seq(x).grad_fn)
    h.remove()
    seq[3].forward = lambda t: F.relu(t) + 1.0
    assert (seq(x).detach().numpy() >= 1).all()
    seq.append(nn.Flatten())
    assert seq(x).ndim == 2


@pytest.mark.parametrize("layer", ["conv", "bn"])
def test_fused_pairs_are_bitwise_the_unfused_modules(layer):
    fastnn.manual_seed(0)
    first = nn.Conv2d(3, 8, 3, padding=1) if layer == "conv" else nn.BatchNorm2d(3)
    seq = nn.Sequential(first, nn.ReLU())
    x1 = fastnn.randn(4, 3, 9, 9, requires_grad=True)
    x2 = fastnn.tensor(x1.detach().numpy().copy(), requires_grad=True)
    fused = seq(x1)
    assert "ReLU" in type(fused.grad_fn._fn).__name__ or "ReLU" in repr(fused.grad_fn)
    plain = F.relu(first(x2))
    assert np.array_equal(fused.detach().numpy(), plain.detach().numpy())
    g = fastnn.randn(*fused.shape)
    grads = []
    for out, x in ((fused, x1), (plain, x2)):
        for p in first.parameters():
            p.grad = None
        out.backward(g)
        grads.append([x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in first.parameters()])
    for a, b in zip(*grads):
        assert np.array_equal(a, b)


def test_fusion_pass_plan_is_explicit():
    from fastnn.nn import fusion
    mods = (nn.Conv2d(1, 2, 3), nn.ReLU(), nn.BatchNorm2d(2), nn.ReLU(), nn.Linear(2, 2),
            nn.ReLU())
    steps = fusion.plan(mods)
    assert [(type(m).__name__, r is not None) for m, r, _ in steps] == [
        ("Conv2d", True), ("BatchNorm2d", True), ("Linear", False), ("ReLU", False)]
