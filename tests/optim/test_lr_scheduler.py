"""Learning-rate schedules: the lr sequence equals PyTorch's and the
hand-computed closed forms; state_dict round trips."""
import math

import numpy as np
import pytest

import fastnn
from fastnn.optim import lr_scheduler as S
from fastnn.testing import reference as R

EPOCHS = 25


def _opt(lrs=(0.1,)):
    groups = [{"params": [fastnn.nn.Parameter(np.zeros(1))], "lr": lr} for lr in lrs]
    return fastnn.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def _seq(sched, opt, n=EPOCHS, metrics=None):
    out = []
    for i in range(n):
        out.append(list(sched.get_last_lr()))
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
    out.append(list(sched.get_last_lr()))
    assert out[-1] == [g["lr"] for g in opt.param_groups]
    return out


SCHEDS = [("StepLR", dict(step_size=3, gamma=0.5)),
          ("StepLR", dict(step_size=1)),
          ("ExponentialLR", dict(gamma=0.9)),
          ("CosineAnnealingLR", dict(T_max=7)),
          ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01))]


def _closed(name, kw, lr0, t):
    if name == "StepLR":
        return R.step_lr(lr0, kw["step_size"], kw.get("gamma", 0.1), t)
    if name == "ExponentialLR":
        return R.exponential_lr(lr0, kw["gamma"], t)
    return R.cosine_annealing_lr(lr0, kw["T_max"], t, kw.get("eta_min", 0.0))


@pytest.mark.parametrize("name,kw", SCHEDS)
def test_schedule_matches_closed_form(name, kw):
    opt = _opt((0.1, 0.03))
    seq = _seq(getattr(S, name)(opt, **kw), opt)
    for t, lrs in enumerate(seq):
        for lr0, lr in zip((0.1, 0.03), lrs):
            assert lr == pytest.approx(_closed(name, kw, lr0, t), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name,kw", SCHEDS)
def test_schedule_equals_torch(name, kw):
    torch = fastnn.testing.requires_torch()
    opt = _opt((0.1, 0.03))
    got = _seq(getattr(S, name)(opt, **kw), opt)
    topt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr}
                            for lr in (0.1, 0.03)], lr=0.1, momentum=0.9)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    want = []
    for _ in range(EPOCHS):
        want.append(list(tsched.get_last_lr()))
        topt.step()
        tsched.step()
    want.append(list(tsched.get_last_lr()))
    assert got == want    # bit for bit


def test_inverse_time_lr():
    opt = _opt((0.5, 0.2))
    seq = _seq(S.InverseTimeLR(opt, k=0.3), opt)
    for t, lrs in enumerate(seq):
        assert lrs[0] == pytest.approx(0.5 / (1 + 0.3 * t), rel=1e-12)
        assert lrs[1] == pytest.approx(R.inverse_time_lr(0.2, 0.3, t), rel=1e-12)
    with pytest.raises(ValueError, match="k"):
        S.InverseTimeLR(_opt(), k=-1.0)


PLATEAU = [dict(), dict(patience=2, factor=0.5), dict(patience=0, cooldown=2, factor=0.5),
           dict(patience=1, factor=0.5, min_lr=0.02), dict(mode="max", patience=1),
           dict(patience=1, threshold=0.1, threshold_mode="abs")]
METRICS = [1.0, 0.9, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85,
           0.79, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]


@pytest.mark.parametrize("kw", PLATEAU)
def test_reduce_on_plateau_matches_hand_rules(kw):
    opt = _opt()
    seq = _seq(S.ReduceLROnPlateau(opt, **kw), opt, metrics=METRICS)
    want = R.reduce_lr_on_plateau(0.1, METRICS, **kw)
    np.testing.assert_allclose([s[0] for s in seq[1:]], want, rtol=1e-15)
    if "patience" in kw and kw.get("mode") != "max":
        assert seq[-1][0] < 0.1       # the case does reduce the lr


@pytest.mark.parametrize("kw", PLATEAU)
def test_reduce_on_plateau_equals_torch(kw):
    torch = fastnn.testing.requires_torch()
    opt = _opt((0.1, 0.05))
    got = _seq(S.ReduceLROnPlateau(opt, **kw), opt, metrics=METRICS)
    topt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr}
                            for lr in (0.1, 0.05)], lr=0.1)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    want = []
    for m in METRICS:
        want.append(list(tsched.get_last_lr()))
        topt.step()
        tsched.step(m)
    want.append(list(tsched.get_last_lr()))
    assert got == want


def test_reduce_on_plateau_validation():
    with pytest.raises(ValueError, match="(?i)factor"):
        S.ReduceLROnPlateau(_opt(), factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        S.ReduceLROnPlateau(_opt(), mode="up")
    with pytest.raises(ValueError, match="threshold"):
        S.ReduceLROnPlateau(_opt(), threshold_mode="pct")
    with pytest.raises(ValueError, match="min_lrs"):
        S.ReduceLROnPlateau(_opt((0.1, 0.2)), min_lr=[0.0])
    with pytest.raises(TypeError, match="Optimizer"):
        S.StepLR(object(), step_size=2)


@pytest.mark.parametrize("name,kw", SCHEDS + [("InverseTimeLR", dict(k=0.5)),
                                              ("ReduceLROnPlateau", dict(patience=1))])
def test_scheduler_state_dict_resumes(name, kw):
    plateau = name == "ReduceLROnPlateau"
    metrics = METRICS if plateau else None
    opt = _opt()
    sched = getattr(S, name)(opt, **kw)
    full = _seq(sched, opt, metrics=metrics)

    opt = _opt()
    sched = getattr(S, name)(opt, **kw)
    _seq(sched, opt, n=10, metrics=metrics)
    osd, ssd = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in ssd and ssd["last_epoch"] == 10

    opt2 = _opt()
    opt2.load_state_dict(osd)
    sched2 = getattr(S, name)(opt2, **kw)
    sched2.load_state_dict(ssd)
    rest = _seq(sched2, opt2, n=EPOCHS - 10, metrics=metrics[10:] if plateau else None)
    assert rest == full[10:]


def test_step_with_epoch_uses_closed_form():
    opt = _opt()
    sched = S.CosineAnnealingLR(opt, T_max=10)
    with pytest.warns(UserWarning):
        sched.step(4)
    assert sched.get_last_lr()[0] == pytest.approx(0.05 * (1 + math.cos(math.pi * 0.4)))
