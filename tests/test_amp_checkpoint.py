"""fastnn.autocast / fastnn.amp.GradScaler (against torch's) and
fastnn.utils.checkpoint."""
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn.testing import requires_torch
from fastnn.utils.checkpoint import checkpoint, checkpoint_sequential


# -------------------------------------------------------------------- autocast
def test_autocast_values_unchanged_and_nesting():
    fastnn.manual_seed(0)
    lin = nn.Linear(4, 3)
    x = fastnn.randn(5, 4)
    ref = lin(x).detach().numpy().copy()
    assert not fastnn.is_autocast_enabled("cpu")
    with fastnn.autocast("cpu"):
        assert fastnn.is_autocast_enabled("cpu") and not fastnn.is_autocast_enabled()
        assert fastnn.get_autocast_dtype("cpu") is fastnn.bfloat16
        y = lin(x)
        assert y.dtype == fastnn.float32 and np.array_equal(y.detach().numpy(), ref)
        with fastnn.autocast("cpu", enabled=False):
            assert not fastnn.is_autocast_enabled("cpu")
            with fastnn.amp.autocast("cpu", dtype=fastnn.float16):
                assert fastnn.is_autocast_enabled("cpu")
                assert fastnn.get_autocast_dtype("cpu") == fastnn.float16
            assert not fastnn.is_autocast_enabled("cpu")
        assert fastnn.is_autocast_enabled("cpu")
    assert not fastnn.is_autocast_enabled("cpu")
    with fastnn.cpu.amp.autocast():
        assert fastnn.is_autocast_enabled("cpu")
    with pytest.raises(ZeroDivisionError):
        with fastnn.autocast("cpu"):
            1 / 0
    assert not fastnn.is_autocast_enabled("cpu")


def test_autocast_decorator():
    @fastnn.autocast("cpu", dtype=fastnn.bfloat16)
    def f(x):
        assert fastnn.is_autocast_enabled("cpu")
        return x * 2

    assert f(fastnn.ones(2)).tolist() == [2.0, 2.0]
    assert not fastnn.is_autocast_enabled("cpu")


def test_autocast_bad_device_and_disabled_cases_match_torch():
    torch = requires_torch()
    for mod in (torch, fastnn):
        with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
            mod.autocast("tpu")
        with pytest.warns(UserWarning):             # no GPU: disabled
            with mod.autocast("cuda"):
                assert not mod.is_autocast_enabled("cuda")
        with pytest.warns(UserWarning, match="target dtype is not supported"):
            with mod.autocast("cpu", dtype=mod.float32):
                assert not mod.is_autocast_enabled("cpu")
    with pytest.raises(ValueError, match="device_type"):
        fastnn.autocast(0)
    with pytest.raises(TypeError, match="unsupported dtype"):
        fastnn.zeros(2, dtype=fastnn.float16)
    with pytest.raises(TypeError, match="unsupported dtype"):
        fastnn.zeros(2, dtype=fastnn.bfloat16)


# ------------------------------------------------------------------ GradScaler
def _run_scaler(mod, inf_steps, n_steps=7):
    torch = requires_torch()
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4)).astype(np.float32)
    b0 = rng.standard_normal(3).astype(np.float32)
    lin = mod.nn.Linear(4, 3)
    with mod.no_grad():
        lin.weight.copy_(mod.tensor(w0))
        lin.bias.copy_(mod.tensor(b0))
    opt = mod.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
    scaler = (mod.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2)
              if mod is torch else fastnn.amp.GradScaler(init_scale=1024.0, growth_interval=2))
    scales, stepped = [], []
    for i in range(n_steps):
        x = mod.tensor(rng.standard_normal((8, 4)).astype(np.float32))
        opt.zero_grad()
        with mod.autocast("cpu", enabled=False):
            loss = (lin(x) ** 2).mean()
        scaler.scale(loss).backward()
        if i in inf_steps:
            with mod.no_grad():
                lin.weight.grad[0, 0] = float("inf")
        if i == 3:                     # explicit unscale_ (e.g. for clipping) then step
            scaler.unscale_(opt)
        before = lin.weight.detach().clone()
        scaler.step(opt)
        stepped.append(not bool((lin.weight.detach() == before).all()))
        scaler.update()
        scales.append(scaler.get_scale())
    return (scales, stepped, lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy(),
            scaler.state_dict())


@pytest.mark.parametrize("inf_steps", [(), (2,), (1, 4)])
def test_grad_scaler_matches_torch(inf_steps):
    torch = requires_torch()
    s1, st1, w1, b1, sd1 = _run_scaler(fastnn, inf_steps)
    s2, st2, w2, b2, sd2 = _run_scaler(torch, inf_steps)
    assert s1 == s2
    assert st1 == st2 and st1.count(False) == len(inf_steps)
    np.testing.assert_allclose(w1, w2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b1, b2, rtol=1e-5, atol=1e-6)
    assert sd1 == sd2


def test_grad_scaler_api_and_errors():
    p = nn.Parameter(fastnn.ones(2))
    opt = fastnn.optim.SGD([p], lr=1.0)
    sc = fastnn.amp.GradScaler()
    assert sc.is_enabled() and sc.get_scale() == 65536.0
    assert sc.state_dict() == {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                               "growth_interval": 2000, "_growth_tracker": 0}
    with pytest.raises(AssertionError, match="_scale is None"):
        sc.step(opt)
    (sc.scale(p * 1.0)).sum().backward()
    assert p.grad.tolist() == [65536.0, 65536.0]
    sc.unscale_(opt)
    assert p.grad.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="already been called"):
        sc.unscale_(opt)
    sc.step(opt)
    assert p.detach().tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        sc.step(opt)
    with pytest.raises(RuntimeError, match="Closure"):
        sc.step(opt, closure=lambda: 0)
    sc.update(new_scale=8.0)
    assert sc.get_scale() == 8.0
    sc.update(fastnn.tensor(4.0))
    assert sc.get_scale() == 4.0
    outs = sc.scale([fastnn.ones(1), (fastnn.ones(1) * 2,)])
    assert outs[0].item() == 4.0 and outs[1][0].item() == 8.0
    other = fastnn.amp.GradScaler()
    other.load_state_dict(sc.state_dict())
    assert other.get_scale() == 4.0 and other.state_dict() == sc.state_dict()
    with pytest.raises(RuntimeError, match="empty"):
        other.load_state_dict({})
    with pytest.raises(AssertionError, match="No inf checks"):
        sc.update()
    with pytest.raises(AssertionError, match="_scale is None"):
        other.update()


def test_grad_scaler_disabled_is_pass_through():
    p = nn.Parameter(fastnn.ones(2))
    opt = fastnn.optim.SGD([p], lr=1.0)
    for sc in (fastnn.amp.GradScaler(enabled=False), _quiet(fastnn.cuda.amp.GradScaler),
               _quiet(lambda: fastnn.amp.GradScaler("cuda"))):
        assert not sc.is_enabled() and sc.get_scale() == 1.0 and sc.state_dict() == {}
        loss = (p * 3).sum()
        assert sc.scale(loss) is loss
        loss.backward()
        sc.unscale_(opt)
        assert p.grad.tolist() == [3.0, 3.0]
        sc.step(opt)
        sc.update()
        opt.zero_grad()
    assert p.detach().tolist() == [-8.0, -8.0]
    with pytest.warns(UserWarning, match="Disabling"):
        fastnn.cuda.amp.GradScaler()
    assert fastnn.cpu.amp.GradScaler().is_enabled()


def _quiet(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()


# ------------------------------------------------------------------ checkpoint
def test_checkpoint_values_and_gradients():
    fastnn.manual_seed(1)
    lin = nn.Linear(3, 2)
    x = fastnn.randn(4, 3, requires_grad=True)

    def f(a, scale=1.0):
        return (lin(a).tanh() * scale).sum()

    ref = f(x, scale=2.0)
    ref.backward()
    gx, gw = x.grad.numpy().copy(), lin.weight.grad.numpy().copy()
    x.grad = None
    lin.zero_grad()
    for kw in ({"use_reentrant": False}, {"use_reentrant": False, "preserve_rng_state": False},
               {"use_reentrant": False, "determinism_check": "none", "debug": False}):
        out = checkpoint(f, x, scale=2.0, **kw)
        assert out.item() == ref.item()
        out.backward()
        np.testing.assert_array_equal(x.grad.numpy(), gx)
        np.testing.assert_array_equal(lin.weight.grad.numpy(), gw)
        x.grad = None
        lin.zero_grad()
    assert checkpoint(f, x, use_reentrant=True).item() == f(x).item()
    with pytest.raises(ValueError, match="Unexpected keyword arguments: scale"):
        checkpoint(f, x, scale=2.0, use_reentrant=True)
    with pytest.raises(ValueError, match="determinism_check"):
        checkpoint(f, x, determinism_check="bad")


def test_checkpoint_sequential_matches_torch_signature():
    fastnn.manual_seed(2)
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = fastnn.randn(5, 3, requires_grad=True)
    ref = seq(x)
    out = checkpoint_sequential(seq, 2, x, use_reentrant=False)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    out.sum().backward()
    g = x.grad.numpy().copy()
    x.grad = None
    ref.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), g)
    with pytest.warns(UserWarning, match="use_reentrant"):
        out2 = checkpoint_sequential(list(seq), 3, x)
    np.testing.assert_array_equal(out2.detach().numpy(), ref.detach().numpy())
    assert fastnn.utils.checkpoint.checkpoint is checkpoint


@pytest.mark.parametrize("reentrant", [None, True, False])
def test_checkpoint_reentrant_rule_matches_torch(reentrant):
    """PyTorch's default (``use_reentrant`` left out: a warning, then True)
    and the reentrant form record no graph when no tensor argument requires
    grad, so a block checkpointed on the raw input gets no gradients and
    trains differently; the non-reentrant form records as usual.  The same
    parameters get gradients in fastnn, with the same warnings."""
    torch = pytest.importorskip("torch")
    seen = {}
    for lib in (torch, fastnn):
        from importlib import import_module
        ck = import_module(lib.__name__ + ".utils.checkpoint")
        seq = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 4),
                                lib.nn.ReLU(), lib.nn.Linear(4, 2))
        x = lib.ones(2, 3)
        kw = {} if reentrant is None else {"use_reentrant": reentrant}
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            h = ck.checkpoint(seq[0], x, **kw)
            out = ck.checkpoint_sequential(list(seq[1:]), 2, h, **kw)
        out.sum().backward()
        seen[lib.__name__] = ([p.grad is None for p in seq.parameters()], h.requires_grad,
                              sorted({str(m.message)[:25] for m in w}))
    assert seen["fastnn"] == seen["torch"]
    assert seen["torch"][0][0] is (reentrant is not False)


def test_device_amp_classes_warn_deprecated_as_torch():
    """torch.cuda.amp / torch.cpu.amp's autocast and GradScaler are
    deprecated spellings: PyTorch's FutureWarning, same text."""
    import fastnn.cpu.amp
    import fastnn.cuda.amp
    torch = pytest.importorskip("torch")
    for dev in ("cpu", "cuda"):
        for name in ("GradScaler", "autocast"):
            msgs = []
            for mod in (getattr(fastnn, dev).amp, getattr(torch, dev).amp):
                with warnings.catch_warnings(record=True) as w:
                    warnings.simplefilter("always")
                    getattr(mod, name)(enabled=False)
                msgs.append([str(x.message) for x in w if x.category is FutureWarning])
            assert msgs[0] == msgs[1] and len(msgs[0]) == 1, msgs
