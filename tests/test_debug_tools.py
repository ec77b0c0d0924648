"""PyTorch's debugging and tooling surface: anomaly detection, the profiler,
torch.jit's pass-through, torch.testing.assert_close / make_tensor,
optimiser step hooks, and assorted names programs touch (module paths,
Tensor.nbytes / pin_memory / H, utils.data.DistributedSampler)."""
import json

import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch


# ------------------------------------------------------------ anomaly mode
def test_detect_anomaly_names_the_node_returning_nan():
    x = fastnn.tensor([0.0, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection"):
        ctx = fastnn.autograd.detect_anomaly()
    with ctx:
        assert fastnn.autograd.anomaly_mode.is_anomaly_enabled()
        with pytest.raises(RuntimeError, match="SqrtBackward0' returned nan values in its "
                                               "0th output"):
            (x.sqrt() * 0).sum().backward()
    assert not fastnn.autograd.anomaly_mode.is_anomaly_enabled()
    x.grad = None
    (x.sqrt() * 0).sum().backward()          # off: the NaN just propagates
    assert np.isnan(x.grad.numpy()[0])


def test_set_detect_anomaly_function_and_context_and_torch_agrees():
    torch = requires_torch()
    for M in (torch, fastnn):
        M.autograd.set_detect_anomaly(True)
        try:
            x = M.tensor([0.0, 4.0], requires_grad=True)
            with pytest.raises(RuntimeError, match="returned nan values"):
                M.autograd.grad((x.sqrt() * 0).sum(), x)
            y = M.tensor([1.0, 4.0], requires_grad=True)
            (g,) = M.autograd.grad(y.sqrt().sum(), y)       # no NaN: fine
            np.testing.assert_allclose(g.numpy(), [0.5, 0.25])
        finally:
            M.autograd.set_detect_anomaly(False)
    with fastnn.autograd.set_detect_anomaly(True):
        assert fastnn.autograd.anomaly_mode.is_anomaly_enabled()
    assert not fastnn.autograd.anomaly_mode.is_anomaly_enabled()


# ---------------------------------------------------------------- profiler
def test_profiler_records_ops_and_labelled_regions(tmp_path):
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    with fastnn.profiler.profile(activities=[fastnn.profiler.ProfilerActivity.CPU],
                                 record_shapes=True) as prof:
        with fastnn.profiler.record_function("model_inference"):
            y = (x * 2).exp().sum()
    y.backward()                                  # after the block: not recorded
    avgs = {a.key: a for a in prof.key_averages()}
    assert {"model_inference", "fastnn::mul", "fastnn::exp", "fastnn::sum"} <= set(avgs)
    region = avgs["model_inference"]
    assert region.count == 1 and region.cpu_time_total >= avgs["fastnn::exp"].cpu_time_total
    assert region.self_cpu_time_total <= region.cpu_time_total
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=2)
    assert "model_inference" in table and "Self CPU time total" in table
    assert len([ln for ln in table.splitlines() if ln.startswith("fastnn::")]) <= 1
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    events = json.loads(path.read_text())["traceEvents"]
    assert any(e["name"] == "model_inference" and e["dur"] >= 0 for e in events)
    # the op timing is removed once no profile records
    from fastnn.autograd.function import Function
    assert "apply" not in Function.__dict__


def test_profiler_schedule_matches_torch():
    torch = requires_torch()
    kw = dict(wait=1, warmup=1, active=2, repeat=2, skip_first=1)
    ours = fastnn.profiler.schedule(**kw)
    theirs = torch.profiler.schedule(**kw)
    assert [ours(i).name for i in range(12)] == [theirs(i).name for i in range(12)]


def test_profiler_steps_call_on_trace_ready_after_each_active_cycle():
    seen = []
    sched = fastnn.profiler.schedule(wait=1, warmup=0, active=2, repeat=2)
    x = fastnn.ones(3)
    with fastnn.profiler.profile(schedule=sched,
                                 on_trace_ready=lambda p: seen.append(len(p.events))) as prof:
        for _ in range(8):
            x = x + 1
            prof.step()
    assert seen == [2, 2]       # two active steps of one add each, per cycle


def test_autograd_profiler_profile():
    with fastnn.autograd.profiler.profile() as prof:
        fastnn.ones(3).mul(2)
    assert "fastnn::mul" in prof.key_averages().table()


# --------------------------------------------------------------------- jit
def test_jit_script_trace_save_load(tmp_path):
    m = fastnn.nn.Sequential(fastnn.nn.Linear(3, 2), fastnn.nn.ReLU())
    assert fastnn.jit.script(m) is m
    x = fastnn.randn(4, 3)
    assert fastnn.jit.trace(m, x) is m
    path = str(tmp_path / "m.pt")
    fastnn.jit.save(m, path)
    m2 = fastnn.jit.load(path)
    np.testing.assert_array_equal(m2(x).detach().numpy(), m(x).detach().numpy())
    assert not fastnn.jit.is_scripting() and isinstance(m, fastnn.jit.ScriptModule)
    with pytest.raises(fastnn.ShapeError):
        fastnn.jit.trace(m, fastnn.randn(4, 5))


# ------------------------------------------------------- torch.testing
@pytest.mark.parametrize("a,b,kw", [
    ([1.0, 2.0], [1.0, 2.000001], {}),
    ([1.0, 2.0], [1.0, 2.1], {}),
    ([1.0, 2.0], [1.0, 2.1], {"rtol": 0.1, "atol": 0.0}),
    ([1.0, float("nan")], [1.0, float("nan")], {}),
    ([1.0, float("nan")], [1.0, float("nan")], {"equal_nan": True}),
    ([1, 2], [1, 3], {}),
])
def test_assert_close_agrees_with_torch(a, b, kw):
    torch = requires_torch()
    outcome = []
    for M in (torch, fastnn):
        dt = M.float32 if isinstance(a[0], float) else M.int64
        try:
            M.testing.assert_close(M.tensor(a, dtype=dt), M.tensor(b, dtype=dt), **kw)
            outcome.append(True)
        except AssertionError as e:
            assert "not close" in str(e) or "not equal" in str(e)
            outcome.append(False)
    assert outcome[0] == outcome[1]


def test_assert_close_errors_and_containers():
    T = fastnn.testing
    T.assert_close({"a": [fastnn.ones(2), 1.0]}, {"a": [fastnn.ones(2), 1.0]})
    with pytest.raises(AssertionError, match="dtype"):
        T.assert_close(fastnn.ones(2), fastnn.ones(2, dtype=fastnn.float64))
    with pytest.raises(AssertionError, match="shape"):
        T.assert_close(fastnn.ones(2), fastnn.ones(3))
    with pytest.raises(ValueError, match="rtol"):
        T.assert_close(fastnn.ones(2), fastnn.ones(2), atol=1.0)
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 3"):
        T.assert_close(fastnn.tensor([1.0, 2.0, 3.0]), fastnn.tensor([1.0, 2.5, 3.0]))
    with pytest.raises(AssertionError, match="custom"):
        T.assert_close(fastnn.ones(1), fastnn.zeros(1), msg="custom")


def test_make_tensor():
    t = fastnn.testing.make_tensor(3, 4, dtype=fastnn.float64, low=-1, high=1,
                                   requires_grad=True)
    assert t.shape == (3, 4) and t.dtype == fastnn.float64 and t.requires_grad
    assert (t.detach().numpy() >= -1).all() and (t.detach().numpy() < 1).all()
    i = fastnn.testing.make_tensor((50,), dtype=fastnn.int64, low=0, high=3, exclude_zero=True)
    assert set(np.unique(i.numpy())) <= {1, 2}


# ---------------------------------------------------------- step hooks
def test_optimizer_step_hooks_match_torch():
    torch = requires_torch()
    logs = {}
    for M in (torch, fastnn):
        log = []
        w = M.nn.Parameter(M.ones(2))
        opt = M.optim.Adam([w], lr=0.1)
        h_pre = opt.register_step_pre_hook(lambda o, a, k: log.append(("pre", len(a))))
        opt.register_step_post_hook(lambda o, a, k: log.append(("post", len(a))))
        import importlib
        mod = importlib.import_module(M.__name__ + ".optim.optimizer")
        g = mod.register_optimizer_step_pre_hook(
            lambda o, a, k: log.append(("global", type(o).__name__)))
        try:
            (w * w).sum().backward()
            opt.step()
            h_pre.remove()
            opt.step()
        finally:
            g.remove()
        opt.step()
        logs[M.__name__] = log
    assert logs["fastnn"] == logs["torch"]
    x = fastnn.ones(2)
    assert x.pin_memory() is x and x.share_memory_() is x


def test_step_pre_hook_may_replace_arguments():
    w = fastnn.nn.Parameter(fastnn.ones(2))
    opt = fastnn.optim.SGD([w], lr=0.5)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    opt.register_step_pre_hook(lambda o, a, k: ((o,), {"closure": closure}))
    opt.step()
    assert calls == [1]
    opt.register_step_pre_hook(lambda o, a, k: "bad")
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()


# ---------------------------------------------------------- assorted names
def test_assorted_names_match_torch():
    torch = requires_torch()
    for M in (torch, fastnn):
        x = M.arange(6, dtype=M.float32).reshape(2, 3)
        assert x.nbytes == 24 and x.itemsize == 4
        np.testing.assert_array_equal(x.H.numpy(), x.numpy().T)
        np.testing.assert_array_equal(x.mH.numpy(), x.numpy().T)
        assert not x.is_pinned()
        bn = M.nn.BatchNorm2d(3)
        assert isinstance(bn, M.nn.modules.batchnorm._BatchNorm)
        assert M.nn.modules.instancenorm.InstanceNorm2d is M.nn.InstanceNorm2d
        s = M.utils.data.DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
        assert list(s) == [1, 4, 7, 0] and len(s) == 4
