"""optim.swa_utils against PyTorch's: AveragedModel (SWA mean, EMA by
avg_fn and by multi_avg_fn, with and without buffers), SWALR's lr sequence,
update_bn's recomputed statistics, and the argument errors."""
import numpy as np
import pytest

import fastnn
from fastnn.optim import swa_utils as S
from fastnn.testing import requires_torch


def _net(lib, bn=True):
    lib.manual_seed(0)
    if not bn:   # a float buffer only
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
        m.register_buffer("scale", lib.ones(4))
        return m
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(),
                             lib.nn.Linear(4, 2))


def _set(lib, model, arrays):
    with lib.no_grad():
        for t, a in zip(list(model.parameters()) + list(model.buffers()), arrays):
            t.copy_(lib.tensor(a.astype(np.float32) if a.dtype.kind == "f" else a))


@pytest.mark.parametrize("kind", ["swa", "ema_multi", "ema_avg", "swa_avg", "buffers"])
def test_averaged_model_matches_torch(kind):
    torch = requires_torch()
    fm, tm = _net(fastnn, kind != "buffers"), _net(torch, kind != "buffers")
    kw = {"swa": {}, "buffers": dict(use_buffers=True),
          "ema_multi": dict(multi_avg_fn="get_ema_multi_avg_fn"),
          "ema_avg": dict(avg_fn="get_ema_avg_fn"), "swa_avg": dict(avg_fn="get_swa_avg_fn")}[kind]

    def make(lib_utils, model):
        k = {n: (getattr(lib_utils, v)(0.8) if "ema" in v else getattr(lib_utils, v)())
             if isinstance(v, str) else v for n, v in kw.items()}
        return lib_utils.AveragedModel(model, **k)
    fa, ta = make(S, fm), make(torch.optim.swa_utils, tm)
    rng = np.random.default_rng(0)
    shapes = [tuple(t.shape) for t in list(tm.parameters()) + list(tm.buffers())]
    for _ in range(4):
        arrays = [rng.standard_normal(s) if len(s) else np.array(rng.integers(0, 9))
                  for s in shapes]
        _set(fastnn, fm, arrays)
        _set(torch, tm, arrays)
        fa.update_parameters(fm)
        ta.update_parameters(tm)
    assert int(fa.n_averaged) == int(ta.n_averaged) == 4
    fs, ts = fa.state_dict(), ta.state_dict()
    assert list(fs) == list(ts)
    for k in ts:
        np.testing.assert_allclose(fs[k].numpy(), ts[k].numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=k)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    fa.eval(), ta.eval()
    np.testing.assert_allclose(fa(fastnn.tensor(x)).detach().numpy(),
                               ta(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("strategy,epochs", [("cos", 3), ("linear", 4), ("cos", 0)])
def test_swalr_matches_torch(strategy, epochs):
    torch = requires_torch()
    seqs = []
    for lib in (fastnn, torch):
        p1, p2 = lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(2))
        opt = lib.optim.SGD([{"params": [p1]}, {"params": [p2], "lr": 0.3}], lr=0.1)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=[0.05, 0.01], anneal_epochs=epochs,
                                          anneal_strategy=strategy)
        lrs = []
        for _ in range(8):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        seqs.append(lrs)
    np.testing.assert_allclose(np.array(seqs[0]), np.array(seqs[1]), rtol=1e-12)


def test_update_bn_matches_torch():
    torch = requires_torch()
    rng = np.random.default_rng(1)
    data = [rng.standard_normal((6, 3)).astype(np.float32) * 2 + 1 for _ in range(4)]
    stats = []
    weights = {k: v.numpy() for k, v in _net(torch).state_dict().items()}
    for lib in (fastnn, torch):
        m = _net(lib)
        m.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
        m.eval()
        lib.optim.swa_utils.update_bn([(lib.tensor(d), 0) for d in data], m)
        assert not m.training and m[1].momentum == 0.1
        stats.append([m[1].running_mean.numpy().copy(), m[1].running_var.numpy().copy()])
    for a, b in zip(*stats):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_swa_argument_errors():
    net = fastnn.nn.Linear(2, 2)
    with pytest.raises(AssertionError):
        S.AveragedModel(net, avg_fn=S.get_swa_avg_fn(), multi_avg_fn=S.get_swa_multi_avg_fn())
    opt = fastnn.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        S.SWALR(opt, 0.05, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs"):
        S.SWALR(opt, 0.05, anneal_epochs=-1)
    with pytest.raises(ValueError, match="same length"):
        S.SWALR(opt, [0.05, 0.01])


@pytest.mark.parametrize("kind", ["ema", "swa", "ema_avg"])
def test_averaged_model_with_batchnorm_buffers_matches_torch(kind):
    """The tutorial's EMA of a model with batch norm, ``use_buffers=True``:
    the int64 ``num_batches_tracked`` is averaged as PyTorch averages it (a
    float result truncated back; the float function never sees it)."""
    torch = requires_torch()
    fm, tm = _net(fastnn), _net(torch)
    fm.load_state_dict({k: fastnn.tensor(v.numpy()) for k, v in tm.state_dict().items()})

    def make(lib_utils, model):
        kw = {"ema": dict(multi_avg_fn=lib_utils.get_ema_multi_avg_fn(0.7)), "swa": {},
              "ema_avg": dict(avg_fn=lib_utils.get_ema_avg_fn(0.7))}[kind]
        return lib_utils.AveragedModel(model, use_buffers=True, **kw)
    fa, ta = make(S, fm), make(torch.optim.swa_utils, tm)
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = rng.standard_normal((8, 3)).astype(np.float32)
        for lib, m, avg in ((fastnn, fm, fa), (torch, tm, ta)):
            m.train()
            m(lib.tensor(x))          # moves the running stats and the counter
            with lib.no_grad():
                for p in m.parameters():
                    p.add_(0.1)
            avg.update_parameters(m)
    fs, ts = fa.state_dict(), ta.state_dict()
    assert list(fs) == list(ts)
    for k in ts:
        assert fs[k].numpy().dtype == ts[k].numpy().dtype, k
        np.testing.assert_allclose(fs[k].numpy(), ts[k].numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=k)


def test_swalr_state_dict_keys_and_round_trip_match_torch():
    torch = requires_torch()
    sds = []
    for lib in (fastnn, torch):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=0.1)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=3,
                                          anneal_strategy="linear")
        opt.step()
        sched.step()
        sds.append(sched.state_dict())
    assert sorted(sds[0]) == sorted(sds[1])
    assert sds[0]["_anneal_strategy"] == "linear"
    opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(2))], lr=0.1)
    sched = S.SWALR(opt, swa_lr=0.05, anneal_epochs=3)          # cos
    sched.load_state_dict(sds[0])
    assert sched.anneal_func(0.5) == 0.5                        # linear again


def test_update_bn_passes_dict_batches_to_the_model_as_torch():
    """A loader of dict batches (Hugging Face style): PyTorch hands each
    batch to the model as it is; so does fastnn (it used to try to make a
    tensor of the dict)."""
    torch = requires_torch()
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(3)]
    stats = []
    for lib in (fastnn, torch):
        class DictNet(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.bn = lib.nn.BatchNorm1d(3)

            def forward(self, batch):
                return self.bn(batch["x"] * 2)
        m = DictNet()
        lib.optim.swa_utils.update_bn([{"x": lib.tensor(x), "n": 1} for x in xs], m)
        stats.append([m.bn.running_mean.numpy().copy(), m.bn.running_var.numpy().copy()])
    for a, b in zip(*stats):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
