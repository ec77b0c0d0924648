"""Lazy modules (LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*,
LazyInstanceNorm*), UninitializedParameter / UninitializedBuffer and
nn.Buffer, against torch.nn: reprs and state dicts before and after the
first forward, the class each becomes, the inferred shapes, outputs with the
same weights, load_state_dict into an uninitialised module, errors."""
import copy
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy


def _torch():
    return fastnn.testing.requires_torch()


# (class name, constructor args, constructor kwargs, input shape)
CASES = [
    ("LazyLinear", (4,), {}, (3, 5)),
    ("LazyLinear", (2,), {"bias": False}, (2, 3, 6)),
    ("LazyConv1d", (6, 3), {"padding": 1}, (2, 4, 9)),
    ("LazyConv1d", (4, 3), {"groups": 2, "bias": False}, (6, 7)),        # unbatched
    ("LazyConv2d", (5, 3), {"stride": 2, "padding": 1}, (2, 3, 8, 8)),
    ("LazyConv2d", (4, (2, 3)), {"groups": 2, "padding_mode": "reflect", "padding": 1},
     (1, 6, 5, 6)),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2, "groups": 2}, (2, 6, 5)),
    ("LazyConvTranspose2d", (3, 4), {"stride": 2, "padding": 1}, (1, 5, 4, 4)),
    ("LazyBatchNorm1d", (), {}, (6, 3)),
    ("LazyBatchNorm1d", (), {"affine": False, "momentum": None}, (4, 3, 5)),
    ("LazyBatchNorm2d", (), {"track_running_stats": False}, (2, 4, 3, 3)),
    ("LazyBatchNorm2d", (), {"bias": False}, (2, 4, 3, 3)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 7)),
    ("LazyInstanceNorm2d", (), {"affine": False}, (2, 3, 4, 5)),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def _pair(torch, name, args, kwargs):
    return getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


def _sd_repr(sd):
    return [(k, repr(v) if is_lazy(v) or type(v).__name__.startswith("Uninit") else
             tuple(v.shape)) for k, v in sd.items()]


@pytest.mark.parametrize("name,args,kwargs,shape", CASES, ids=IDS)
def test_lazy_module_matches_torch(name, args, kwargs, shape):
    torch = _torch()
    ours, theirs = _pair(torch, name, args, kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.has_uninitialized_params() == theirs.has_uninitialized_params()
    assert _sd_repr(ours.state_dict()) == _sd_repr(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs(torch.from_numpy(x))
        ours(fastnn.from_numpy(x.copy()))
    assert type(ours).__name__ == type(theirs).__name__ == name[4:]
    assert type(ours) is getattr(nn, name).cls_to_become
    assert repr(ours) == repr(theirs)
    assert _sd_repr(ours.state_dict()) == _sd_repr(theirs.state_dict())
    assert not any(is_lazy(v) for v in [*ours.parameters(), *ours.buffers()])
    assert not ours._call_hooks and "_initialize_hook" not in ours.__dict__
    # the same weights give the same outputs (and, in training, running stats)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x2 = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        want = theirs(torch.from_numpy(x2)).detach().numpy()
        got = ours(fastnn.from_numpy(x2)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].detach().numpy(), v.detach().numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=k)


def test_lazy_linear_initialisation_follows_linear():
    # weight and bias drawn by Linear.reset_parameters: U(+-1/sqrt(in_features))
    fastnn.manual_seed(3)
    m = nn.LazyLinear(400)
    m(fastnn.ones(2, 25))
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= 0.2 and np.abs(w).max() > 0.19
    assert np.abs(b).max() <= 0.2 and np.abs(b).max() > 0.19
    assert w.std() > 0.1
    fastnn.manual_seed(3)
    ref = nn.Linear(25, 400)
    fastnn.manual_seed(3)
    again = nn.LazyLinear(400)
    again(fastnn.ones(1, 25))
    np.testing.assert_array_equal(again.weight.detach().numpy(), ref.weight.detach().numpy())
    c = nn.LazyConv2d(8, 3)
    c(fastnn.ones(1, 4, 5, 5))
    bound = 1 / np.sqrt(4 * 9)
    assert np.abs(c.weight.detach().numpy()).max() <= bound and np.abs(c.bias.detach().numpy()).max() <= bound
    bn = nn.LazyBatchNorm2d()
    bn.eval()
    bn(fastnn.ones(2, 3, 2, 2))
    np.testing.assert_array_equal(bn.weight.detach().numpy(), np.ones(3))
    np.testing.assert_array_equal(bn.bias.detach().numpy(), np.zeros(3))
    np.testing.assert_array_equal(bn.running_mean.detach().numpy(), np.zeros(3))
    np.testing.assert_array_equal(bn.running_var.detach().numpy(), np.ones(3))


def test_optimiser_after_dry_run_trains_the_parameters():
    model = nn.Sequential(nn.LazyConv2d(4, 3, padding=1), nn.ReLU(), nn.LazyBatchNorm2d(),
                          nn.Flatten(), nn.LazyLinear(3))
    before = list(model.parameters())
    x = fastnn.randn(2, 2, 4, 4)
    model(x)                                   # dry run
    assert [type(m).__name__ for m in model] == ["Conv2d", "ReLU", "BatchNorm2d", "Flatten",
                                                 "Linear"]
    params = list(model.parameters())
    assert [p is q for p, q in zip(params, before)] == [True] * len(before)
    assert all(type(p) is nn.Parameter for p in params)
    assert sum(p.numel() for p in params) == (4 * 2 * 9 + 4) + 8 + (3 * 64 + 3)
    opt = fastnn.optim.SGD(model.parameters(), lr=0.1)
    old = [p.detach().numpy().copy() for p in params]
    loss = model(x).pow(2).mean()
    loss.backward()
    opt.step()
    assert all(not np.array_equal(p.detach().numpy(), o) for p, o in zip(params, old))
    # an optimiser made before the dry run holds the same objects and works too
    m = nn.LazyLinear(2)
    opt = fastnn.optim.Adam(m.parameters(), lr=0.1)
    m(fastnn.ones(3, 4)).sum().backward()
    opt.step()
    assert tuple(m.weight.shape) == (2, 4) and np.isfinite(m.weight.detach().numpy()).all()


def test_load_state_dict_into_uninitialised_module_matches_torch():
    torch = _torch()
    src = torch.nn.Linear(4, 3)
    ours, theirs = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    sd = src.state_dict()
    assert repr(ours.load_state_dict(sd)) == repr(theirs.load_state_dict(sd))
    # materialised from the loaded shapes; still lazy (in_features 0) until a forward
    assert type(ours).__name__ == type(theirs).__name__ == "LazyLinear"
    assert type(ours.weight) is nn.Parameter and tuple(ours.weight.shape) == (3, 4)
    assert repr(ours) == repr(theirs)
    np.testing.assert_array_equal(ours.weight.detach().numpy(), src.weight.detach().numpy())
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(ours(fastnn.from_numpy(x)).detach().numpy(),
                               theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)
    assert repr(ours) == repr(theirs)
    np.testing.assert_array_equal(ours.weight.detach().numpy(), src.weight.detach().numpy())
    # the input must fit the loaded weight
    bad, tbad = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    bad.load_state_dict(sd)
    tbad.load_state_dict(sd)
    with pytest.raises(AssertionError) as e_t:
        tbad(torch.ones(2, 5))
    with pytest.raises(AssertionError) as e_o:
        bad(fastnn.ones(2, 5))
    assert str(e_o.value) == str(e_t.value)
    # a batch norm: buffers materialised from the checkpoint too
    tbn = torch.nn.BatchNorm2d(3)
    tbn(torch.randn(4, 3, 2, 2))
    bn = nn.LazyBatchNorm2d()
    bn.load_state_dict(tbn.state_dict())
    np.testing.assert_array_equal(bn.running_var.detach().numpy(), tbn.running_var.detach().numpy())
    assert type(bn.running_var) is fastnn.Tensor and int(bn.num_batches_tracked) == 1


def test_uninitialised_state_dicts_load_as_torch():
    torch = _torch()
    # uninitialised into uninitialised: accepted, nothing happens
    ours, theirs = nn.LazyConv2d(4, 3), torch.nn.LazyConv2d(4, 3)
    ours.load_state_dict(nn.LazyConv2d(4, 3).state_dict())
    theirs.load_state_dict(torch.nn.LazyConv2d(4, 3).state_dict())
    assert ours.has_uninitialized_params() and theirs.has_uninitialized_params()
    # uninitialised into initialised: PyTorch's error
    with pytest.raises(RuntimeError) as e_t:
        torch.nn.Linear(4, 3).load_state_dict(torch.nn.LazyLinear(3).state_dict())
    before = nn.Linear(4, 3)
    w = before.weight.detach().numpy().copy()
    with pytest.raises(RuntimeError) as e_o:
        before.load_state_dict(nn.LazyLinear(3).state_dict())
    assert str(e_o.value) == str(e_t.value)
    np.testing.assert_array_equal(before.weight.detach().numpy(), w)
    # state_dict holds the placeholders themselves (keep_vars or not)
    m = nn.LazyLinear(2)
    assert m.state_dict()["weight"] is m.weight
    assert list(m.state_dict()) == list(torch.nn.LazyLinear(2).state_dict())


def test_conv_errors_match_torch():
    torch = _torch()
    for args, x in (((8, 3), (4, 5, 6, 7)), ((8, 3), (5,))):
        with pytest.raises(RuntimeError) as e_t:
            torch.nn.LazyConv1d(*args)(torch.ones(*x))
        with pytest.raises(RuntimeError) as e_o:
            nn.LazyConv1d(*args)(fastnn.ones(*x))
        assert str(e_o.value) == str(e_t.value)
    with pytest.raises(ValueError) as e_t:
        torch.nn.LazyConv2d(8, 3, groups=4)(torch.ones(1, 6, 5, 5))
    with pytest.raises(ValueError) as e_o:
        nn.LazyConv2d(8, 3, groups=4)(fastnn.ones(1, 6, 5, 5))
    assert str(e_o.value) == str(e_t.value)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.LazyConv2d(7, 3, groups=2)
    with pytest.raises(ValueError, match="out_features"):
        nn.LazyLinear(-1)


def test_instance_norm_warns_on_channel_mismatch_as_torch():
    torch = _torch()
    for lib, mod in ((torch, torch.nn), (fastnn, nn)):
        m = mod.LazyInstanceNorm1d(affine=False, track_running_stats=False)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m(lib.ones(2, 3, 4))
            m(lib.ones(2, 3, 4))
        assert type(m).__name__ == "InstanceNorm1d" and m.num_features == 0
        assert len(w) == 2 and "does not match num_features" in str(w[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.InstanceNorm1d(3)(fastnn.ones(2, 3, 4))       # matching: no warning


def test_dtype_moves_and_copies_before_the_dry_run():
    m = nn.Sequential(nn.LazyLinear(3), nn.LazyBatchNorm1d()).double()
    m(fastnn.randn(4, 5).double())
    assert all(p.dtype == np.float64 for p in m.parameters())
    assert m[1].running_mean.dtype == np.float64
    assert nn.LazyConv1d(2, 1, dtype=fastnn.float64).weight.dtype == np.float64
    lazy = nn.LazyLinear(2)
    twin = copy.deepcopy(lazy)
    lazy(fastnn.ones(1, 3))
    assert twin.has_uninitialized_params() and type(twin) is nn.LazyLinear
    twin(fastnn.ones(1, 6))
    assert tuple(twin.weight.shape) == (2, 6) and tuple(lazy.weight.shape) == (2, 3)
    assert twin._call_hooks is False
    twin(fastnn.ones(1, 6))


def test_user_hooks_and_fusion_with_lazy_modules():
    calls = []
    m = nn.LazyLinear(2)
    m.register_forward_hook(lambda mod, a, out: calls.append(type(mod).__name__))
    m(fastnn.ones(1, 3))
    m(fastnn.ones(1, 3))
    assert calls == ["Linear", "Linear"]
    seq = nn.Sequential(nn.LazyConv2d(3, 3, padding=1), nn.ReLU())
    x = fastnn.randn(1, 2, 5, 5)
    y1 = seq(x)
    y2 = seq(x)                                # the fused conv + ReLU now
    np.testing.assert_allclose(y1.detach().numpy(), y2.detach().numpy(), rtol=1e-6, atol=1e-6)
    assert (y1.detach().numpy() >= 0).all()


def test_uninitialised_parameter_and_buffer_match_torch():
    torch = _torch()
    p, tp = UninitializedParameter(), torch.nn.UninitializedParameter()
    assert repr(p) == repr(tp) and p.requires_grad and is_lazy(p)
    assert isinstance(p, nn.Parameter)
    with pytest.raises(RuntimeError) as e_t:
        tp.shape
    with pytest.raises(RuntimeError) as e_o:
        p.shape
    assert str(e_o.value) == str(e_t.value)
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3) and p.requires_grad
    assert not is_lazy(p)
    b, tb = UninitializedBuffer(), torch.nn.UninitializedBuffer()
    assert repr(b) == repr(tb) and not b.requires_grad
    assert isinstance(b, nn.Buffer) and b.persistent
    b.materialize(4, dtype=fastnn.float64)
    assert type(b) is fastnn.Tensor and b.dtype == np.float64 and tuple(b.shape) == (4,)
    assert nn.UninitializedParameter is UninitializedParameter
    assert nn.modules.lazy.LazyModuleMixin is nn.LazyLinear.__mro__[1]
    assert nn.modules.linear.LazyLinear is nn.LazyLinear
    assert nn.modules.conv.LazyConvTranspose2d is nn.LazyConvTranspose2d
    assert nn.parameter.is_lazy is is_lazy
    with pytest.raises(NotImplementedError, match="initialize_parameters"):
        type("M", (nn.modules.lazy.LazyModuleMixin, nn.Module), {})()(1)


def _buffer_module(mod, lib):
    class M(mod.Module):
        def __init__(self):
            super().__init__()
            self.steps = mod.Buffer(lib.zeros(2))
            self.cache = mod.Buffer(lib.ones(1), persistent=False)
            self.plain = lib.ones(3)
            self.register_buffer("old", lib.zeros(1), persistent=False)
    return M()


def test_buffer_assignment_registers_as_torch():
    torch = _torch()
    ours, theirs = _buffer_module(nn, fastnn), _buffer_module(torch.nn, torch)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["steps"]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert isinstance(ours.steps, nn.Buffer) and not isinstance(ours.plain, nn.Buffer)
    assert type(ours.steps) is fastnn.Tensor
    for m in (ours, theirs):                   # persistence follows the Buffer assigned...
        m.steps = type(m.steps)(m.steps) if m is theirs else m.steps
        m.steps = (torch.nn if m is theirs else nn).Buffer(m.steps, persistent=False)
        m.old = (torch.nn if m is theirs else nn).Buffer(m.old)
        m.cache = (torch if m is theirs else fastnn).zeros(1)   # ... a plain tensor keeps it
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["old"]
    with pytest.raises(KeyError) as e_t:
        theirs.plain = torch.nn.Buffer(torch.zeros(1))
    with pytest.raises(KeyError) as e_o:
        ours.plain = nn.Buffer(fastnn.zeros(1))
    assert str(e_o.value) == str(e_t.value)
    t = fastnn.ones(2, requires_grad=True)
    b = nn.Buffer(t)
    assert b is not t and b.requires_grad and b._array is t._array
    assert nn.Buffer().shape == (0,)
