"""Optimizer state_dict / load_state_dict: torch's layout, and a run resumed
from a mid-run checkpoint continues bit for bit."""
import copy

import numpy as np
import pytest

import fastnn

CASES = [("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
         ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
         ("SGD", dict(lr=0.1)),
         ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
         ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
         ("Adam", dict(lr=0.01, weight_decay=0.01)),
         ("AdamW", dict(lr=0.01))]


def _setup(dtype, name, kw):
    rng = np.random.default_rng(11)
    x = fastnn.tensor(rng.standard_normal((12, 3)).astype(dtype))
    y = fastnn.tensor(rng.standard_normal((12, 1)).astype(dtype))
    l1 = fastnn.nn.Linear(3, 5)
    l2 = fastnn.nn.Linear(5, 1)
    ps = [l1.weight, l1.bias, l2.weight, l2.bias]
    for p in ps:
        p.data = (rng.standard_normal(p.shape) * 0.5).astype(dtype)
    opt = getattr(fastnn.optim, name)(ps, **kw)

    def step():
        opt.zero_grad()
        loss = ((l2(fastnn.tanh(l1(x))) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return ps, opt, step


def _as_plain(sd):
    """A checkpoint as a file would hold it: nested dicts/lists of numbers and arrays."""
    def conv(v):
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, np.ndarray):
            return np.array(v)
        return v
    return conv(sd)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,kw", CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_resume_is_bit_exact(name, kw, dtype):
    ps, opt, step = _setup(dtype, name, kw)
    for _ in range(7):
        step()
    ckpt_params = [p.detach().numpy().copy() for p in ps]
    ckpt = _as_plain(opt.state_dict())
    for _ in range(8):
        step()
    want = [p.detach().numpy().copy() for p in ps]

    ps2, opt2, step2 = _setup(dtype, name, kw)
    for p, a in zip(ps2, ckpt_params):
        p.data[...] = a
    opt2.load_state_dict(ckpt)
    for _ in range(8):
        step2()
    for a, b in zip(want, ps2):
        np.testing.assert_array_equal(a, b.detach().numpy())
        assert b.detach().numpy().dtype == dtype


def test_state_dict_layout_is_torchs():
    a = fastnn.nn.Parameter(np.ones((2, 3)))
    b = fastnn.nn.Parameter(np.ones(3))
    c = fastnn.nn.Parameter(np.ones(1))
    opt = fastnn.optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    ((a * a).sum() + (c * c).sum()).backward()
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 2}              # b had no gradient: no state
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 1
    # the checkpoint does not change when training goes on
    saved = sd["state"][0]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], saved)


def test_state_dict_matches_torch_layout_and_values():
    torch = fastnn.testing.requires_torch()
    rng = np.random.default_rng(0)
    w0, g0 = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    for name, kw in [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1)),
                     ("RMSprop", dict(lr=0.1, momentum=0.5, centered=True)),
                     ("Adagrad", dict(lr=0.1))]:
        w = fastnn.nn.Parameter(w0.copy())
        tw = torch.nn.Parameter(torch.from_numpy(w0.copy()))
        opt = getattr(fastnn.optim, name)([w], **kw)
        topt = getattr(torch.optim, name)([tw], **kw)
        for _ in range(3):
            w.grad = g0.copy()
            tw.grad = torch.from_numpy(g0.copy())
            opt.step()
            topt.step()
        sd, tsd = opt.state_dict(), topt.state_dict()
        assert set(sd["state"][0]) == set(tsd["state"][0]), name
        for k, v in tsd["state"][0].items():
            np.testing.assert_allclose(np.asarray(sd["state"][0][k]), v.numpy(), rtol=1e-12)
        for k in sd["param_groups"][0]:
            assert k in tsd["param_groups"][0], (name, k)
        # a torch checkpoint loads into fastnn and continues the same way
        w2 = fastnn.nn.Parameter(w.detach().numpy().copy())
        opt2 = getattr(fastnn.optim, name)([w2], **kw)
        opt2.load_state_dict(tsd)
        w.grad = g0.copy()
        w2.grad = g0.copy()
        opt.step()
        opt2.step()
        np.testing.assert_array_equal(w.detach().numpy(), w2.detach().numpy())


def test_load_state_dict_checks_sizes_and_copies():
    a = fastnn.nn.Parameter(np.ones(2))
    b = fastnn.nn.Parameter(np.ones(2))
    opt = fastnn.optim.SGD([a], lr=0.1, momentum=0.9)
    (a * a).sum().backward()
    opt.step()
    sd = opt.state_dict()
    other = fastnn.optim.SGD([a, b], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="size"):
        other.load_state_dict(sd)
    two = fastnn.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="number of parameter groups"):
        two.load_state_dict(sd)
    fresh = fastnn.optim.SGD([b], lr=0.5, momentum=0.9)
    fresh.load_state_dict(copy.deepcopy(sd))
    assert fresh.param_groups[0]["lr"] == 0.1 and fresh.param_groups[0]["params"][0] is b
    buf = fresh.state[b]["momentum_buffer"]
    assert not np.shares_memory(buf, sd["state"][0]["momentum_buffer"])
    # float64 state loaded into a float32 parameter is cast
    c = fastnn.nn.Parameter(np.ones(2, np.float32))
    f32 = fastnn.optim.SGD([c], lr=0.1, momentum=0.9)
    f32.load_state_dict(sd)
    assert f32.state[c]["momentum_buffer"].dtype == np.float32


def test_checkpoint_through_fastnn_save(tmp_path):
    """Optimizer and scheduler state survive fastnn.save / fastnn.load (when the
    serialization module is present) and the resumed run is bit-exact."""
    ser = pytest.importorskip("fastnn.serialization")
    ps, opt, step = _setup(np.float32, "Adam", dict(lr=0.01))
    sched = fastnn.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    for i in range(4):
        step()
        sched.step(1.0)
    path = str(tmp_path / "ckpt")
    ser.save({"params": [p.detach().numpy() for p in ps], "opt": opt.state_dict(),
              "sched": sched.state_dict()}, path)
    for _ in range(3):
        step()
        sched.step(1.0)
    want = [p.detach().numpy().copy() for p in ps]
    ck = ser.load(path)
    ps2, opt2, step2 = _setup(np.float32, "Adam", dict(lr=0.01))
    for p, a in zip(ps2, ck["params"]):
        p.data[...] = a
    opt2.load_state_dict(ck["opt"])
    sched2 = fastnn.optim.lr_scheduler.ReduceLROnPlateau(opt2, patience=0, factor=0.5)
    sched2.load_state_dict(ck["sched"])
    for _ in range(3):
        step2()
        sched2.step(1.0)
    for a, p in zip(want, ps2):
        np.testing.assert_array_equal(a, p.detach().numpy())
    assert sched2.get_last_lr() == sched.get_last_lr()
