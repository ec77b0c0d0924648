"""optim.Muon against torch.optim.Muon: trajectories of a small MLP (Muon
on the 2-D weights, AdamW on the rest) for each option, the state layout,
a state_dict round trip, and the argument errors."""
import copy

import numpy as np
import pytest

import fastnn
from fastnn.optim.muon import _bf16, _zeropower_via_newtonschulz
from fastnn.testing import requires_torch


def _mlp(lib):
    m = lib.nn.Sequential(lib.nn.Linear(12, 32), lib.nn.ReLU(), lib.nn.Linear(32, 16),
                          lib.nn.ReLU(), lib.nn.Linear(16, 3))
    rng = np.random.default_rng(4)
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(lib.tensor((rng.standard_normal(tuple(p.shape)) * 0.3)
                               .astype(np.float32)))
    return m


def _run(lib, kw, steps=6, reload_at=None):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((64, 12)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 3, 64))
    m = _mlp(lib)
    mats = [p for p in m.parameters() if p.ndim == 2]
    opt = lib.optim.Muon(mats, **kw)
    other = lib.optim.AdamW([p for p in m.parameters() if p.ndim != 2], lr=3e-3)
    losses = []
    for i in range(steps):
        if i == reload_at:
            sd = copy.deepcopy(opt.state_dict())
            opt = lib.optim.Muon(mats, **kw)
            opt.load_state_dict(sd)
        opt.zero_grad()
        other.zero_grad()
        loss = lib.nn.functional.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        other.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy().copy() for p in m.parameters()], opt


@pytest.mark.parametrize("kw", [dict(lr=0.02), dict(lr=0.02, nesterov=False, momentum=0.9,
                                                     weight_decay=0.0),
                                dict(lr=0.01, adjust_lr_fn="match_rms_adamw", ns_steps=3),
                                dict(lr=0.02, ns_coefficients=(2.0, -1.5, 0.5), eps=1e-5,
                                     adjust_lr_fn="original")])
def test_muon_trajectory_matches_torch(kw):
    torch = requires_torch()
    fl, fp, fo = _run(fastnn, kw)
    tl, tp, to = _run(torch, kw)
    np.testing.assert_allclose(fl, tl, rtol=1e-5)
    for a, b in zip(fp, tp):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    fs, ts = fo.state_dict(), to.state_dict()
    assert [sorted(v) for v in fs["state"].values()] == \
        [sorted(v) for v in ts["state"].values()] == [["momentum_buffer"]] * 3
    assert fs["param_groups"][0] == ts["param_groups"][0]


def test_muon_state_dict_round_trip_continues_the_run():
    kw = dict(lr=0.02)
    a = _run(fastnn, kw, steps=6)[1]
    b = _run(fastnn, kw, steps=6, reload_at=3)[1]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_newton_schulz_emulates_torch_bfloat16():
    torch = requires_torch()
    from torch.optim._muon import _zeropower_via_newtonschulz as tns
    rng = np.random.default_rng(1)
    for shape in [(8, 6), (6, 8), (3, 40)]:
        g = rng.standard_normal(shape).astype(np.float32)
        want = tns(torch.tensor(g), (3.4445, -4.775, 2.0315), 5, 1e-7).float().numpy()
        got = _zeropower_via_newtonschulz(g, (3.4445, -4.775, 2.0315), 5, 1e-7)
        np.testing.assert_array_equal(got, want)
    v = np.array([1.0, 1.00390625, 1.005859375, 3.0e38, -0.0, np.inf, np.nan], np.float32)
    r = _bf16(v)
    assert r[0] == 1.0 and r[1] == 1.0 and r[2] == 1.0078125    # ties to even
    assert np.isnan(r[-1]) and r[-2] == np.inf and np.signbit(r[4])


def test_muon_argument_errors():
    w = fastnn.nn.Parameter(fastnn.zeros(2, 2))
    for bad in (dict(lr=-1.0), dict(momentum=-0.1), dict(weight_decay=-1.0),
                dict(adjust_lr_fn="foo")):
        with pytest.raises(ValueError):
            fastnn.optim.Muon([w], **bad)
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        fastnn.optim.Muon(fastnn.nn.Linear(2, 2).parameters())
    opt = fastnn.optim.Muon([w], ns_steps=100)
    (w * w).sum().backward()
    with pytest.raises(ValueError, match="less than 100"):
        opt.step()
