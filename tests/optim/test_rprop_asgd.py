"""Rprop and ASGD against torch.optim over 10 steps (float64 and float32,
weight decay, maximize, averaging after t0), state keys, state_dict round
trip and hyper-parameter errors."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

CASES = [
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(lr=0.02, maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.02, t0=0, maximize=True)),
]
STATE = {"Rprop": ["step", "prev", "step_size"], "ASGD": ["step", "eta", "mu", "ax"]}


def _loss(lib, w, b, x, y):
    return ((x @ w + b - y) ** 2).mean() + (w ** 4).sum() * 0.01


def _run(lib, mk, name, kw, dtype, steps=10):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    w0, b0 = rng.standard_normal((3, 2)), rng.standard_normal(2)
    w, b = mk(w0.astype(dtype)), mk(b0.astype(dtype))
    opt = getattr(lib.optim, name)([w, b], **kw)
    X, Y = lib.tensor(x.astype(dtype)), lib.tensor(y.astype(dtype))
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, w, b, X, Y).backward()
        opt.step()
        traj.append(np.concatenate([w.detach().numpy().ravel(), b.detach().numpy().ravel()]))
    return np.array(traj), opt


@pytest.mark.parametrize("name, kw", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch(name, kw, dtype):
    torch = requires_torch()
    ours, opt = _run(fastnn, lambda a: fastnn.nn.Parameter(fastnn.tensor(a)), name, kw, dtype)
    theirs, topt = _run(torch, lambda a: torch.nn.Parameter(torch.tensor(a)), name, kw, dtype)
    tol = dict(rtol=1e-7, atol=1e-9) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(ours, theirs, **tol)
    st, tst = opt.state_dict(), topt.state_dict()
    assert list(st["state"][0]) == list(tst["state"][0]) == STATE[name]
    for k, v in tst["state"][0].items():
        np.testing.assert_allclose(np.asarray(st["state"][0][k], dtype=np.float64),
                                   v.double().numpy(), rtol=1e-5, atol=1e-7)
    assert set(st["param_groups"][0]) == set(tst["param_groups"][0])


@pytest.mark.parametrize("name, kw", CASES)
def test_state_dict_resume(name, kw):
    full, _ = _run(fastnn, lambda a: fastnn.nn.Parameter(fastnn.tensor(a)), name, kw,
                   np.float64, steps=6)
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    w = fastnn.nn.Parameter(fastnn.tensor(rng.standard_normal((3, 2))))
    b = fastnn.nn.Parameter(fastnn.tensor(rng.standard_normal(2)))
    opt = getattr(fastnn.optim, name)([w, b], **kw)
    X, Y = fastnn.tensor(x), fastnn.tensor(y)
    for i in range(6):
        if i == 3:
            sd = opt.state_dict()
            opt = getattr(fastnn.optim, name)([w, b], **kw)
            opt.load_state_dict(sd)
        opt.zero_grad()
        _loss(fastnn, w, b, X, Y).backward()
        opt.step()
    np.testing.assert_allclose(np.concatenate([w.detach().numpy().ravel(),
                                               b.detach().numpy().ravel()]), full[-1],
                               rtol=1e-12)


@pytest.mark.parametrize("name, kw, msg", [
    ("Rprop", dict(lr=-1.0), "Invalid learning rate"),
    ("Rprop", dict(etas=(1.2, 0.5)), "Invalid eta values"),
    ("Rprop", dict(etas=(0.0, 1.2)), "Invalid eta values"),
    ("ASGD", dict(lr=-0.1), "Invalid learning rate"),
    ("ASGD", dict(weight_decay=-0.1), "Invalid weight_decay value"),
])
def test_bad_hyperparameters(name, kw, msg):
    p = fastnn.nn.Parameter(fastnn.zeros(2))
    with pytest.raises(ValueError, match=msg):
        getattr(fastnn.optim, name)([p], **kw)
