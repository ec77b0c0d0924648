"""Adafactor against torch.optim.Adafactor: parameter trajectories over
several steps (float64 and float32; 0-d, vector, matrix and conv-shaped
parameters; weight decay, maximize, eps, d, beta2_decay), the state (factored
row/column moments), state_dict layout and checkpoints both ways, errors."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

SHAPES = [(5, 3), (4,), (3, 2, 3, 3), ()]
CASES = [
    dict(),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.3, d=1.5, beta2_decay=-0.5, eps=(1e-20, 1e-2)),
    dict(maximize=True, eps=(1e-6, 1e-3)),
    dict(lr=1.0, d=4.0, weight_decay=0.01, beta2_decay=-0.3),
]
IDS = [str(i) for i in range(len(CASES))]


def _problem(dtype, steps):
    rng = np.random.default_rng(7)
    w0 = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[(rng.standard_normal(s) * (1 + i)).astype(dtype) for s in SHAPES]
             for i in range(steps)]
    return w0, grads


def _run(lib, kw, dtype, steps=8, start=None):
    w0, grads = _problem(dtype, steps)
    ps = [lib.nn.Parameter(lib.tensor(a.copy())) for a in w0]
    opt = lib.optim.Adafactor(ps, **kw)
    traj = []
    for gs in grads:
        for p, g in zip(ps, gs):
            p.grad = lib.tensor(g.copy())
        opt.step()
        traj.append(np.concatenate([p.detach().numpy().ravel() for p in ps]))
    return np.array(traj), opt, ps


@pytest.mark.parametrize("kw", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_trajectory_matches_torch(kw, dtype):
    torch = requires_torch()
    ours, opt, ps = _run(fastnn, kw, dtype)
    theirs, topt, _ = _run(torch, kw, dtype)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(ours, theirs, **tol)
    assert all(p.dtype == dtype for p in ps)
    assert not np.allclose(ours[0], ours[-1])              # it moved
    st, tst = opt.state_dict(), topt.state_dict()
    assert st["param_groups"][0].keys() == tst["param_groups"][0].keys()
    for i in range(len(SHAPES)):
        assert list(st["state"][i]) == list(tst["state"][i])
        for k, v in tst["state"][i].items():
            got = np.asarray(st["state"][i][k])
            assert got.shape == tuple(v.shape), (i, k)
            np.testing.assert_allclose(got, v.numpy(), rtol=1e-5 if dtype == np.float32
                                       else 1e-12, atol=1e-30, err_msg=f"{i} {k}")


def test_factored_state_shapes():
    w = fastnn.nn.Parameter(fastnn.randn(6, 7, 3, 5))
    v = fastnn.nn.Parameter(fastnn.randn(9))
    opt = fastnn.optim.Adafactor([w, v])
    (w.sum() + (v * v).sum()).backward()
    opt.step()
    assert opt.state[w]["row_var"].shape == (6, 7, 3, 1)
    assert opt.state[w]["col_var"].shape == (6, 7, 1, 5)
    assert opt.state[v]["variance"].shape == (9,) and opt.state[v]["step"] == 1.0


def test_torch_checkpoint_continues_and_resume_is_exact():
    torch = requires_torch()
    kw = dict(lr=0.1, weight_decay=0.05)
    w0, grads = _problem(np.float64, 8)
    full, _, _ = _run(torch, kw, np.float64)
    # 4 steps in torch, then its state dict loaded into fastnn for the rest
    tps = [torch.nn.Parameter(torch.tensor(a.copy())) for a in w0]
    topt = torch.optim.Adafactor(tps, **kw)
    for gs in grads[:4]:
        for p, g in zip(tps, gs):
            p.grad = torch.tensor(g.copy())
        topt.step()
    ps = [fastnn.nn.Parameter(fastnn.tensor(p.detach().numpy().copy())) for p in tps]
    opt = fastnn.optim.Adafactor(ps, **kw)
    opt.load_state_dict(topt.state_dict())
    for gs in grads[4:]:
        for p, g in zip(ps, gs):
            p.grad = fastnn.tensor(g.copy())
        opt.step()
    got = np.concatenate([p.detach().numpy().ravel() for p in ps])
    np.testing.assert_allclose(got, full[-1], rtol=1e-12, atol=1e-14)
    # and a fastnn checkpoint resumes bit for bit
    ours, _, _ = _run(fastnn, kw, np.float64)
    ps = [fastnn.nn.Parameter(fastnn.tensor(a.copy())) for a in w0]
    opt = fastnn.optim.Adafactor(ps, **kw)
    for i, gs in enumerate(grads):
        if i == 3:
            sd = opt.state_dict()
            opt = fastnn.optim.Adafactor(ps, **kw)
            opt.load_state_dict(sd)
        for p, g in zip(ps, gs):
            p.grad = fastnn.tensor(g.copy())
        opt.step()
    np.testing.assert_array_equal(np.concatenate([p.detach().numpy().ravel() for p in ps]),
                                  ours[-1])


def test_groups_skipped_params_and_training():
    a = fastnn.nn.Parameter(fastnn.ones(3, 2))
    b = fastnn.nn.Parameter(fastnn.ones(2))
    opt = fastnn.optim.Adafactor([{"params": [a]}, {"params": [b], "lr": 0.0}])
    (a * 2).sum().backward()
    before = a._array
    opt.step()
    assert a._array is before and (a.detach().numpy() < 1).all()
    assert b not in opt.state and (b.detach().numpy() == 1).all()
    fastnn.manual_seed(0)
    model = fastnn.nn.Sequential(fastnn.nn.Linear(4, 8), fastnn.nn.Tanh(),
                                 fastnn.nn.Linear(8, 1))
    x = fastnn.randn(64, 4)
    y = x[:, :1] * 0.5 - x[:, 1:2]
    opt = fastnn.optim.Adafactor(model.parameters(), lr=0.05)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


@pytest.mark.parametrize("kw", [dict(lr=-1.0), dict(beta2_decay=0.5), dict(eps=(-1.0, 1e-3)),
                                dict(eps=(None, -1e-3)), dict(d=0.5),
                                dict(weight_decay=-0.1)])
def test_bad_hyperparameters_match_torch(kw):
    torch = requires_torch()
    with pytest.raises(ValueError) as theirs:
        torch.optim.Adafactor([torch.nn.Parameter(torch.zeros(2))], **kw)
    with pytest.raises(ValueError) as ours:
        fastnn.optim.Adafactor([fastnn.nn.Parameter(fastnn.zeros(2))], **kw)
    assert str(ours.value) == "Adafactor: " + str(theirs.value)
