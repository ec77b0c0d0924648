"""fastnn.nn.utils as a package: the clip_grad names, rnn, weight_norm /
remove_weight_norm, parametrizations.weight_norm, skip_init and fusion."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn.nn import _rnn_utils
from fastnn.testing import requires_torch


def test_names_importable():
    from fastnn.nn.utils import (clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,  # noqa
                                 get_total_norm, max_norm_, parameters_to_vector,
                                 vector_to_parameters)
    from fastnn.nn.utils import rnn
    from fastnn.nn.utils.rnn import pad_sequence, PackedSequence
    assert pad_sequence is _rnn_utils.pad_sequence and PackedSequence is _rnn_utils.PackedSequence
    for n in _rnn_utils.__all__:
        assert getattr(rnn, n) is getattr(_rnn_utils, n)
    assert nn.utils.clip_grad_norm_ is clip_grad_norm_
    # parametrizations.weight_norm is the parametrize form (PyTorch's keys),
    # not the legacy hook form
    assert nn.utils.parametrizations.weight_norm is not nn.utils.weight_norm
    assert nn.utils.convert_parameters.parameters_to_vector is parameters_to_vector
    p = nn.Parameter(fastnn.ones(4))
    (p * 3).sum().backward()
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):   # deprecated, as PyTorch
        assert float(nn.utils.clip_grad_norm([p], 1.0)) == pytest.approx(6.0)
    np.testing.assert_allclose(p.grad.numpy(), np.full(4, 0.5), rtol=1e-5)


@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_weight_norm_linear(dim, rng):
    m = nn.Linear(4, 3).double()
    w0 = m.weight.detach().numpy().copy()
    nn.utils.weight_norm(m, dim=dim)
    assert list(m.state_dict()) == ["bias", "weight_g", "weight_v"]
    axes = None if dim in (None, -1) else tuple(a for a in range(2) if a != dim)
    g = np.sqrt((w0 ** 2).sum(axis=axes, keepdims=axes is not None))
    np.testing.assert_allclose(m.weight_g.detach().numpy(), g)
    np.testing.assert_allclose(m.weight.detach().numpy(), w0)
    with fastnn.no_grad():
        m.weight_g.mul_(2.0)
    x = fastnn.tensor(rng.standard_normal((5, 4)))
    np.testing.assert_allclose(m(x).detach().numpy(),
                               x.numpy() @ (2 * w0).T + m.bias.detach().numpy())
    nrm = lambda v: np.sqrt((v ** 2).sum(axis=axes, keepdims=axes is not None))  # noqa: E731
    gv = fastnn.tensor(rng.standard_normal(m.weight_v.shape), requires_grad=True)
    gg = fastnn.tensor(np.asarray(np.abs(rng.standard_normal(m.weight_g.shape)) + 0.5),
                       requires_grad=True)
    fn = nn.utils.weight_norm.__globals__["_WeightNorm"]("weight", dim)
    holder = type("H", (), {})()
    holder.weight_g, holder.weight_v = gg, gv
    np.testing.assert_allclose(fn.compute_weight(holder).detach().numpy(),
                               gv.detach().numpy() * gg.detach().numpy() / nrm(gv.detach().numpy()))

    def f(g_, v_):
        holder.weight_g, holder.weight_v = g_, v_
        return fn.compute_weight(holder) * fastnn.tensor(np.arange(12.0).reshape(3, 4))
    assert fastnn.gradcheck(f, [gg, gv])


def test_remove_weight_norm_and_errors():
    m = nn.utils.weight_norm(nn.Linear(4, 3))
    with pytest.raises(RuntimeError, match="two weight_norm"):
        nn.utils.weight_norm(m)
    with fastnn.no_grad():
        m.weight_g.mul_(3.0)
    w = m.weight_v.detach().numpy() * 3
    nn.utils.remove_weight_norm(m)
    assert list(m.state_dict()) == ["weight", "bias"] or list(m.state_dict()) == ["bias", "weight"]
    assert isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(m.weight.detach().numpy(), w, rtol=1e-6)
    y = m(fastnn.ones(1, 4))
    assert y.shape == (1, 3)
    with pytest.raises(ValueError, match="not found"):
        nn.utils.remove_weight_norm(m)


def test_weight_norm_trains_g_and_v_like_torch(rng):
    torch = requires_torch()
    w = rng.standard_normal((3, 2, 3, 3))
    x = rng.standard_normal((2, 2, 5, 5))
    m = nn.Conv2d(2, 3, 3).double()
    tm = torch.nn.Conv2d(2, 3, 3).double()
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(w))
        tm.bias.zero_()
    with fastnn.no_grad():
        m.weight.copy_(fastnn.tensor(w))
        m.bias.zero_()
    nn.utils.weight_norm(m)
    torch.nn.utils.weight_norm(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    y = m(fastnn.tensor(x))
    ty = tm(torch.tensor(x))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10)
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(fastnn.tensor(g))
    ty.backward(torch.tensor(g))
    for n in ("weight_g", "weight_v"):
        np.testing.assert_allclose(getattr(m, n).grad.numpy(), getattr(tm, n).grad.numpy(),
                                   rtol=1e-9, atol=1e-12)


def test_skip_init():
    m = nn.utils.skip_init(nn.Linear, 4, 3, bias=False)
    assert isinstance(m, nn.Linear) and m.weight.shape == (3, 4) and m.bias is None

    m = nn.utils.skip_init(nn.Conv2d, 2, 3, 3, device="cpu")
    assert m.weight.shape == (3, 2, 3, 3)
    with pytest.raises(RuntimeError, match="Module"):
        nn.utils.skip_init(int, 3)


def _eval_bn(bn, rng):
    with fastnn.no_grad():
        bn.running_mean.copy_(fastnn.tensor(rng.standard_normal(bn.num_features)))
        bn.running_var.copy_(fastnn.tensor(rng.random(bn.num_features) + 0.5))
        bn.weight.copy_(fastnn.tensor(rng.standard_normal(bn.num_features)))
        bn.bias.copy_(fastnn.tensor(rng.standard_normal(bn.num_features)))
    return bn.eval()


@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn_eval(bias, rng):
    conv = nn.Conv2d(3, 4, 3, padding=1, bias=bias).double().eval()
    bn = _eval_bn(nn.BatchNorm2d(4).double(), rng)
    x = fastnn.tensor(rng.standard_normal((2, 3, 6, 6)))
    fused = nn.utils.fuse_conv_bn_eval(conv, bn)
    assert fused is not conv and isinstance(fused.bias, nn.Parameter)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    with pytest.raises(AssertionError):
        nn.utils.fuse_conv_bn_eval(conv.train(), bn)


def test_fuse_conv_transpose_and_linear(rng):
    ct = nn.ConvTranspose2d(3, 4, 2, stride=2).double().eval()
    bn = _eval_bn(nn.BatchNorm2d(4).double(), rng)
    x = fastnn.tensor(rng.standard_normal((2, 3, 4, 4)))
    fused = nn.utils.fuse_conv_bn_eval(ct, bn, transpose=True)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(ct(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    lin = nn.Linear(5, 4).double().eval()
    bn1 = _eval_bn(nn.BatchNorm1d(4).double(), rng)
    x = fastnn.tensor(rng.standard_normal((3, 5)))
    np.testing.assert_allclose(nn.utils.fuse_linear_bn_eval(lin, bn1)(x).detach().numpy(),
                               bn1(lin(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_fuse_conv_bn_weights_match_torch(rng):
    torch = requires_torch()
    arrs = [rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4), rng.standard_normal(4),
            rng.random(4) + 0.5, rng.standard_normal(4), rng.standard_normal(4)]
    fw, fb = nn.utils.fuse_conv_bn_weights(*[fastnn.tensor(a) for a in arrs[:4]], 1e-5,
                                           *[fastnn.tensor(a) for a in arrs[4:]])
    tw, tb = torch.nn.utils.fusion.fuse_conv_bn_weights(*[torch.tensor(a) for a in arrs[:4]],
                                                        1e-5, *[torch.tensor(a) for a in arrs[4:]])
    np.testing.assert_allclose(fw.detach().numpy(), tw.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(fb.detach().numpy(), tb.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_parametrizations_weight_norm_matches_torch(dim):
    """parametrizations.weight_norm keeps PyTorch's state-dict keys
    (parametrizations.weight.original0 / original1), so a checkpoint saved
    by PyTorch loads, and gives PyTorch's outputs and gradients."""
    torch = pytest.importorskip("torch")
    rs = np.random.RandomState(0)
    w = rs.randn(5, 3).astype(np.float32)
    b = rs.randn(5).astype(np.float32)
    x = rs.randn(4, 3).astype(np.float32)
    tm = torch.nn.Linear(3, 5)
    with torch.no_grad():
        tm.weight.copy_(torch.from_numpy(w))
        tm.bias.copy_(torch.from_numpy(b))
    tm = torch.nn.utils.parametrizations.weight_norm(tm, dim=dim)
    fm = nn.utils.parametrizations.weight_norm(nn.Linear(3, 5), dim=dim)
    assert list(fm.state_dict()) == list(tm.state_dict()) == [
        "bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    fm.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    ty = tm(torch.from_numpy(x))
    fy = fm(fastnn.tensor(x))
    np.testing.assert_allclose(fy.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    ty.pow(2).sum().backward()
    fy.pow(2).sum().backward()
    for i in (0, 1):
        tg = getattr(tm.parametrizations.weight, f"original{i}").grad.numpy()
        fg = getattr(fm.parametrizations.weight, f"original{i}").grad.numpy()
        np.testing.assert_allclose(fg, tg, rtol=1e-4, atol=1e-6)


def test_parametrizations_weight_norm_loads_legacy_keys():
    """A state dict of the hook-style weight_norm (weight_g / weight_v)
    loads into the parametrized form (renamed, as PyTorch does)."""
    legacy = nn.utils.weight_norm(nn.Linear(3, 5))
    m = nn.utils.parametrizations.weight_norm(nn.Linear(3, 5))
    r = m.load_state_dict(legacy.state_dict())
    assert r.missing_keys == [] and r.unexpected_keys == []
    np.testing.assert_allclose(m.weight.detach().numpy(), legacy.weight.detach().numpy(),
                               rtol=1e-6)
    nn.utils.parametrize.remove_parametrizations(m, "weight")
    assert list(m.state_dict()) == ["bias", "weight"]  # as PyTorch: re-registered last


def test_legacy_weight_norm_warns_deprecated_like_torch():
    from fastnn.testing import requires_torch
    torch = requires_torch()
    for M, pkg in ((torch, "torch"), (fastnn, "fastnn")):
        with pytest.warns(FutureWarning, match=f"`{pkg}.nn.utils.weight_norm` is deprecated in "
                                               f"favor of `{pkg}.nn.utils.parametrizations"):
            M.nn.utils.weight_norm(M.nn.Linear(2, 2))
