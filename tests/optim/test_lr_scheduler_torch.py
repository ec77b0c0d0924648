"""The schedules added for PyTorch parity (LambdaLR ... OneCycleLR, and the
composites): 60-step lr (and momentum) sequences equal torch's, state_dict
round trips, bad arguments raise like torch."""
import math
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.optim import lr_scheduler as S
from fastnn.testing import requires_torch

STEPS = 60
LRS = (0.1, 0.03)


class _Halver:
    """A callable object: its __dict__ goes into the state_dict."""

    def __init__(self):
        self.rate = 0.97

    def __call__(self, epoch):
        return self.rate ** epoch


def _fn_decay(e):
    return 0.95 ** e


# (name, kwargs builder(lib) -> kwargs, optimizer kind, call step(epoch)? )
CASES = [
    ("LambdaLR", lambda: dict(lr_lambda=_fn_decay), "sgd"),
    ("LambdaLR", lambda: dict(lr_lambda=[_fn_decay, lambda e: 1.0 / (1 + e)]), "sgd"),
    ("MultiplicativeLR", lambda: dict(lr_lambda=lambda e: 0.9 if e % 3 else 1.1), "sgd"),
    ("MultiStepLR", lambda: dict(milestones=[5, 12, 12, 40], gamma=0.5), "sgd"),
    ("ConstantLR", lambda: dict(), "sgd"),
    ("ConstantLR", lambda: dict(factor=0.25, total_iters=17), "sgd"),
    ("LinearLR", lambda: dict(), "sgd"),
    ("LinearLR", lambda: dict(start_factor=0.1, end_factor=0.6, total_iters=23), "sgd"),
    ("PolynomialLR", lambda: dict(total_iters=40, power=2.0), "sgd"),
    ("PolynomialLR", lambda: dict(), "sgd"),
    ("ExponentialLR", lambda: dict(gamma=0.93), "sgd"),
    ("StepLR", lambda: dict(step_size=7, gamma=0.3), "sgd"),
    ("StepLR", lambda: dict(step_size=2.5, gamma=0.3), "sgd"),   # a float, as tutorials pass
    ("CosineAnnealingLR", lambda: dict(T_max=11, eta_min=0.002), "sgd"),
    ("CyclicLR", lambda: dict(base_lr=0.01, max_lr=0.1, step_size_up=5), "sgd"),
    ("CyclicLR", lambda: dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=4,
                              step_size_down=7, mode="triangular2"), "sgd"),
    ("CyclicLR", lambda: dict(base_lr=0.01, max_lr=0.1, step_size_up=6, mode="exp_range",
                              gamma=0.97), "adam"),
    ("CyclicLR", lambda: dict(base_lr=0.01, max_lr=0.1, step_size_up=3,
                              scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations",
                              cycle_momentum=False), "sgd"),
    ("CosineAnnealingWarmRestarts", lambda: dict(T_0=7), "sgd"),
    ("CosineAnnealingWarmRestarts", lambda: dict(T_0=3, T_mult=2, eta_min=0.001), "sgd"),
    ("OneCycleLR", lambda: dict(max_lr=0.5, total_steps=STEPS), "sgd"),
    ("OneCycleLR", lambda: dict(max_lr=[0.5, 0.2], epochs=6, steps_per_epoch=10,
                                anneal_strategy="linear", pct_start=0.25), "adam"),
    ("OneCycleLR", lambda: dict(max_lr=0.3, total_steps=STEPS, three_phase=True,
                                div_factor=10.0, final_div_factor=100.0), "sgd"),
    ("OneCycleLR", lambda: dict(max_lr=0.3, total_steps=STEPS, cycle_momentum=False),
     "adagrad"),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def _opt(lib, kind):
    if lib is fastnn:
        mk = lambda: fastnn.nn.Parameter(np.zeros(1))  # noqa: E731
    else:
        mk = lambda: lib.nn.Parameter(lib.zeros(1))  # noqa: E731
    groups = [{"params": [mk()], "lr": lr} for lr in LRS]
    if kind == "sgd":
        return lib.optim.SGD(groups, lr=LRS[0], momentum=0.9)
    if kind == "adam":
        return lib.optim.Adam(groups, lr=LRS[0])
    return lib.optim.Adagrad(groups, lr=LRS[0])


def _momenta(opt):
    out = []
    for g in opt.param_groups:
        if "betas" in g:
            out.append(float(g["betas"][0]))
        elif "momentum" in g:
            out.append(float(g["momentum"]))
    return out


def _trace(lib, name, kw, kind, n=STEPS):
    opt = _opt(lib, kind)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
    lrs, moms = [list(sched.get_last_lr())], [_momenta(opt)]
    for _ in range(n):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        moms.append(_momenta(opt))
    return lrs, moms, sched, opt


@pytest.mark.parametrize("name,kw,kind", CASES, ids=IDS)
def test_sequence_equals_torch(name, kw, kind):
    torch = requires_torch()
    n = STEPS - 1 if name == "OneCycleLR" else STEPS
    got, gm, _, _ = _trace(fastnn, name, kw(), kind, n)
    want, wm, _, _ = _trace(torch, name, kw(), kind, n)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-13, atol=0)
    np.testing.assert_allclose(np.array(gm), np.array(wm), rtol=1e-13, atol=0)


def _composite(lib, which):
    opt = _opt(lib, "sgd")
    L = lib.optim.lr_scheduler
    if which == "sequential":
        s = L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.2, total_iters=5),
                                 L.CosineAnnealingLR(opt, T_max=20),
                                 L.ExponentialLR(opt, gamma=0.9)], milestones=[5, 25])
    elif which == "chained":
        s = L.ChainedScheduler([L.ConstantLR(opt, factor=0.5, total_iters=4),
                                L.ExponentialLR(opt, gamma=0.95),
                                L.MultiStepLR(opt, milestones=[10, 30])])
    elif which == "nested":
        inner = L.SequentialLR(opt, [L.LinearLR(opt, total_iters=4),
                                     L.PolynomialLR(opt, total_iters=30)], milestones=[4])
        s = L.ChainedScheduler([L.StepLR(opt, step_size=3, gamma=0.9), inner])
    else:
        s = L.ChainedScheduler([L.CosineAnnealingLR(opt, T_max=9),
                                L.MultiplicativeLR(opt, lr_lambda=lambda e: 0.98)])
    out = [list(s.get_last_lr())]
    for _ in range(STEPS):
        opt.step()
        s.step()
        out.append(list(s.get_last_lr()))
        assert out[-1] == [g["lr"] for g in opt.param_groups]
    return out


@pytest.mark.parametrize("which", ["sequential", "chained", "nested", "cos_mult"])
def test_composites_equal_torch(which):
    torch = requires_torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _composite(torch, which)
    np.testing.assert_allclose(np.array(_composite(fastnn, which)), np.array(want),
                               rtol=1e-13, atol=0)


def test_warm_restarts_fractional_epochs_equal_torch():
    torch = requires_torch()
    res = []
    for lib in (fastnn, torch):
        opt = _opt(lib, "sgd")
        s = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2,
                                                                eta_min=0.01)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(70):
                s.step(i / 7)
                out.append(list(s.get_last_lr()) + [s.T_cur, s.T_i, s.last_epoch])
        res.append(np.array(out, dtype=np.float64))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name,kw", [("StepLR", dict(step_size=4)),
                                     ("MultiStepLR", dict(milestones=[3, 9])),
                                     ("LinearLR", dict(total_iters=8)),
                                     ("PolynomialLR", dict(total_iters=9, power=0.5)),
                                     ("ConstantLR", dict(total_iters=6)),
                                     ("CosineAnnealingLR", dict(T_max=5))])
def test_step_epoch_closed_form_equals_torch(name, kw):
    torch = requires_torch()
    res = []
    for lib in (fastnn, torch):
        opt = _opt(lib, "sgd")
        s = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in [3, 1, 7, 12, 12, 0, 20]:
                s.step(e)
                out.append(list(s.get_last_lr()))
        res.append(out)
    np.testing.assert_allclose(np.array(res[0]), np.array(res[1]), rtol=1e-13)


@pytest.mark.parametrize("name,kw,kind", [c for c in CASES if c[0] != "OneCycleLR"] +
                         [("OneCycleLR", lambda: dict(max_lr=0.5, total_steps=200), "adam")],
                         ids=[i for c, i in zip(CASES, IDS) if c[0] != "OneCycleLR"] +
                         ["OneCycleLR"])
def test_state_dict_resumes_identically(name, kw, kind):
    opt = _opt(fastnn, kind)
    sched = getattr(S, name)(opt, **kw())
    for _ in range(13):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd
    osd = opt.state_dict()
    ref = []
    for _ in range(20):
        opt.step()
        sched.step()
        ref.append(list(sched.get_last_lr()))
    opt2 = _opt(fastnn, kind)
    sched2 = getattr(S, name)(opt2, **kw())    # built first, as PyTorch's docs say
    opt2.load_state_dict(osd)
    sched2.load_state_dict(sd)
    out = []
    for _ in range(20):
        opt2.step()
        sched2.step()
        out.append(list(sched2.get_last_lr()))
    assert out == ref


def test_lambda_state_dict_keeps_only_callable_objects():
    opt = _opt(fastnn, "sgd")
    h = _Halver()
    s = S.LambdaLR(opt, [h, _fn_decay])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.97}, None]
    h2 = _Halver()
    h2.rate = 0.5
    s2 = S.LambdaLR(_opt(fastnn, "sgd"), [h2, _fn_decay])
    s2.load_state_dict(sd)
    assert h2.rate == 0.97


def test_composite_state_dict_nests_members():
    opt = _opt(fastnn, "sgd")
    s = S.SequentialLR(opt, [S.ConstantLR(opt), S.ExponentialLR(opt, gamma=0.9)],
                       milestones=[3])
    for _ in range(5):
        opt.step()
        s.step()
    sd = s.state_dict()
    assert [d["last_epoch"] for d in sd["_schedulers"]] == [2, 2]
    assert sd["_milestones"] == [3] and sd["last_epoch"] == 5


def test_bad_arguments():
    opt = _opt(fastnn, "sgd")
    with pytest.raises(ValueError, match="factor"):
        S.ConstantLR(opt, factor=1.5)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        S.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Ending multiplicative factor"):
        S.LinearLR(opt, end_factor=2)
    with pytest.raises(ValueError, match="lr_lambdas"):
        S.LambdaLR(opt, [_fn_decay])
    with pytest.raises(TypeError, match="lr_lambda should be a function"):
        S.MultiplicativeLR(opt, 0.5)
    with pytest.raises(ValueError, match="T_0"):
        S.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="T_mult"):
        S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="non-negative epoch"):
        S.CosineAnnealingWarmRestarts(opt, T_0=2).step(-1)
    with pytest.raises(ValueError, match="total_steps OR"):
        S.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="pct_start"):
        S.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy"):
        S.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="total_steps"):
        S.OneCycleLR(opt, max_lr=1.0, total_steps=0)
    with pytest.raises(ValueError, match="expected 2 values for max_lr"):
        S.OneCycleLR(opt, max_lr=[1.0], total_steps=10)
    one = S.OneCycleLR(_opt(fastnn, "sgd"), max_lr=1.0, total_steps=2)
    one.step()
    one.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        one.step()
    with pytest.raises(ValueError, match="momentum or beta1"):
        plain = fastnn.optim.LBFGS([fastnn.nn.Parameter(np.zeros(1))])
        S.CyclicLR(plain, 0.1, 1.0)
    with pytest.raises(ValueError, match="mode"):
        S.CyclicLR(opt, 0.1, 1.0, mode="sawtooth")
    with pytest.raises(ValueError, match="number of milestones"):
        S.SequentialLR(opt, [S.ConstantLR(opt)], milestones=[3])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        S.ChainedScheduler([S.ReduceLROnPlateau(opt)])
    other = _opt(fastnn, "sgd")
    with pytest.raises(ValueError, match="same optimizer"):
        S.ChainedScheduler([S.ConstantLR(opt), S.ConstantLR(other)])
    with pytest.raises(ValueError, match="at least one"):
        S.ChainedScheduler([])
    with pytest.raises(TypeError, match="not an Optimizer"):
        S.LambdaLR(object(), _fn_decay)


def test_reduce_on_plateau_full_signature_equals_torch():
    torch = requires_torch()
    rng = np.random.default_rng(0)
    metrics = list(np.cumsum(rng.standard_normal(80)) * 0.1 + 5)
    for kw in [dict(mode="max", factor=0.5, patience=2, threshold=0.05, threshold_mode="abs",
                    cooldown=3, min_lr=[0.01, 0.002], eps=1e-3),
               dict(patience=0, cooldown=1, min_lr=0.005, threshold=0.0)]:
        res = []
        for lib in (fastnn, torch):
            opt = _opt(lib, "sgd")
            s = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
            out = []
            for m in metrics:
                s.step(m)
                out.append(list(s.get_last_lr()) + [s.num_bad_epochs, s.cooldown_counter])
            res.append(out)
        assert res[0] == res[1]
    assert math.isfinite(res[0][-1][0])


def test_state_dict_survives_fastnn_save(tmp_path):
    opt = _opt(fastnn, "sgd")
    s = S.MultiStepLR(opt, milestones=[2, 4, 4])
    for _ in range(3):
        opt.step()
        s.step()
    fastnn.save(s.state_dict(), str(tmp_path / "s.fnn"))
    s2 = S.MultiStepLR(_opt(fastnn, "sgd"), milestones=[9])
    s2.load_state_dict(fastnn.load(str(tmp_path / "s.fnn")))
    assert s2.milestones == s.milestones
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s.step(5)
        s2.step(5)
    assert s2.get_last_lr() == s.get_last_lr()


def _poly_scheduler_class(lr_scheduler_module, warnings_list):
    """A user's scheduler written after PyTorch's own source: get_lr reads
    ``self._get_lr_called_within_step`` to warn when called outside step."""

    class Poly(lr_scheduler_module.LRScheduler):
        def __init__(self, optimizer, total, last_epoch=-1):
            self.total = total
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            if not self._get_lr_called_within_step:
                warnings_list.append("outside step")
            f = 1 - min(self.last_epoch, self.total) / self.total
            return [b * f for b in self.base_lrs]

    return Poly


def test_get_lr_called_within_step_flag_as_torch():
    """``_get_lr_called_within_step`` exists (False) on every scheduler and
    is True only while step() calls get_lr, as PyTorch: the custom
    scheduler gives PyTorch's lrs and warns only on an outside get_lr()
    call; the key is in the state_dict, as PyTorch's."""
    torch = pytest.importorskip("torch")
    runs = {}
    for name, lib, lrs_mod in (("torch", torch, torch.optim.lr_scheduler),
                               ("fastnn", fastnn, S)):
        notes = []
        p = lib.nn.Parameter(lib.ones(1))
        opt = lib.optim.SGD([p], lr=0.1)
        sched = _poly_scheduler_class(lrs_mod, notes)(opt, 5)
        lrs = []
        for _ in range(6):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        assert notes == []
        sched.get_lr()
        assert notes == ["outside step"]
        assert sched._get_lr_called_within_step is False
        runs[name] = (lrs, sorted(sched.state_dict()))
    np.testing.assert_allclose(runs["fastnn"][0], runs["torch"][0], rtol=1e-12)
    assert runs["fastnn"][1] == runs["torch"][1]
    assert "_get_lr_called_within_step" in runs["fastnn"][1]
    p = fastnn.nn.Parameter(fastnn.ones(1))
    cawr = S.CosineAnnealingWarmRestarts(fastnn.optim.SGD([p], lr=0.1), T_0=2)
    assert cawr._get_lr_called_within_step is False
    assert "_get_lr_called_within_step" in cawr.state_dict()


_WARN_CASES = {
    "StepLR": lambda L, o: L.StepLR(o, 2),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, 3),
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda e: 1.0),
    "CyclicLR": lambda L, o: L.CyclicLR(o, 0.01, 0.1),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, 0.1, total_steps=5),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, 2),
    "SequentialLR": lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.ExponentialLR(o, 0.9)],
                                                [2]),
    "ChainedScheduler": lambda L, o: L.ChainedScheduler([L.StepLR(o, 2),
                                                         L.ExponentialLR(o, 0.9)]),
}


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()
    return [str(x.message).split(".")[0] for x in w]


@pytest.mark.parametrize("name", sorted(_WARN_CASES))
def test_step_order_and_get_lr_warnings_as_torch(name):
    """PyTorch warns when the first ``scheduler.step()`` comes before any
    ``optimizer.step()`` (the schedule then skips its first value), when
    ``optimizer.step`` was replaced after the scheduler was made, and when a
    built-in schedule's ``get_lr()`` is called by hand; the right order is
    silent.  fastnn gives the same warnings in the same places."""
    torch = requires_torch()
    make = _WARN_CASES[name]
    seen = {}
    for lib, L in ((torch, torch.optim.lr_scheduler), (fastnn, S)):
        def opt():
            return lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=0.1, momentum=0.9)
        runs = []
        o = opt()
        s = make(L, o)
        runs.append(_warnings_of(lambda: (s.step(), s.step())))        # wrong order
        o = opt()
        s = make(L, o)
        runs.append(_warnings_of(lambda: [(o.step(), s.step()) for _ in range(3)]))
        o = opt()
        s = make(L, o)
        o.step = lambda closure=None: None
        runs.append(_warnings_of(lambda: (o.step(), s.step())))        # replaced step
        if hasattr(s, "get_lr") and name not in ("SequentialLR", "ChainedScheduler"):
            runs.append(_warnings_of(s.get_lr))
        seen[lib.__name__] = runs
    assert seen["fastnn"] == seen["torch"]
    assert seen["torch"][1] == []
    if name != "CosineAnnealingWarmRestarts":      # (its own step() does not check)
        assert seen["torch"][0]


def test_step_tracking_keeps_no_reference_and_survives_state_dict():
    import gc
    import weakref
    opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(2))], lr=0.1)
    sched = S.StepLR(opt, 2)
    assert sorted(opt.state_dict()) == ["param_groups", "state"]
    opt.step()
    sched.step()
    assert opt._opt_called is True
    r = weakref.ref(opt)
    del opt, sched
    gc.collect()
    assert r() is None


_TENSOR_LR_CASES = {
    "ReduceLROnPlateau": lambda L, o: L.ReduceLROnPlateau(o, patience=0),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, 0.1, total_steps=6),
    "CyclicLR": lambda L, o: L.CyclicLR(o, 0.01, 0.1, 2, cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, 2),
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda e: 0.5 ** e),
    "SequentialLR": lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.5, total_iters=2),
                                                    L.ExponentialLR(o, 0.9)], [2]),
}


@pytest.mark.parametrize("name", sorted(_TENSOR_LR_CASES))
def test_tensor_lr_is_filled_in_place_as_torch(name):
    """``Adam(lr=torch.tensor(0.01))``: PyTorch's schedules write the new lr
    into that tensor (the group keeps its tensor; initial_lr and the
    recorded last lrs are clones), with the same values."""
    torch = requires_torch()
    seen = {}
    for lib, L in ((torch, torch.optim.lr_scheduler), (fastnn, S)):
        p = lib.nn.Parameter(lib.zeros(2))
        lr = lib.tensor(0.01)
        opt = lib.optim.Adam([p], lr=lr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = _TENSOR_LR_CASES[name](L, opt)
            out = []
            for _ in range(5):
                opt.step()
                sched.step(1.0) if name == "ReduceLROnPlateau" else sched.step()
                g = opt.param_groups[0]
                last = sched.get_last_lr()[0]
                out.append((float(g["lr"]), g["lr"] is lr, isinstance(last, lib.Tensor),
                            last is not lr, g.get("initial_lr") is not lr))
        seen[lib.__name__] = out
    assert [o[1:] for o in seen["fastnn"]] == [o[1:] for o in seen["torch"]]
    np.testing.assert_allclose([o[0] for o in seen["fastnn"]], [o[0] for o in seen["torch"]],
                               rtol=1e-6)
    assert seen["torch"][0][1] is True
