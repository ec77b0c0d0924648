"""Update rules: 50 steps on a small nonlinear least-squares problem match the
NumPy reference (always) and torch.optim (when importable) for every
hyper-parameter combination; the update is in place and keeps the dtype."""
import numpy as np
import pytest

import fastnn
from fastnn import _core
import fastnn.nn.functional as F
from fastnn.testing import reference as R

STEPS = 50

# (optimizer, kwargs, reference function, reference kwargs)
CASES = [
    ("SGD", dict(lr=0.1), R.sgd_step, {}),
    ("SGD", dict(lr=0.1, momentum=0.9), R.sgd_step, {}),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5), R.sgd_step, {}),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), R.sgd_step, {}),
    ("SGD", dict(lr=0.1, weight_decay=0.05), R.sgd_step, {}),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.05), R.sgd_step, {}),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True), R.sgd_step, {}),
    ("Adagrad", dict(lr=0.1), R.adagrad_step, {}),
    ("Adagrad", dict(lr=0.1, weight_decay=0.05), R.adagrad_step, {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, eps=1e-6),
     R.adagrad_step, {}),
    ("RMSprop", dict(lr=0.01), R.rmsprop_step, {}),
    ("RMSprop", dict(lr=0.01, momentum=0.9), R.rmsprop_step, {}),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-3, weight_decay=0.05), R.rmsprop_step, {}),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True), R.rmsprop_step, {}),
    ("RMSprop", dict(lr=0.01, alpha=0.3, eps=1e-3, centered=True), R.rmsprop_step, {}),
    ("Adam", dict(lr=0.01), R.adam_step, {}),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05), R.adam_step, {}),
    ("Adam", dict(lr=0.02, betas=(0.3, 0.9), eps=1e-6), R.adam_step, {}),
    ("AdamW", dict(lr=0.01), R.adam_step, dict(weight_decay=1e-2, decoupled=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, betas=(0.85, 0.995)), R.adam_step,
     dict(decoupled=True)),
]
IDS = [f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[1].items())}" for c in CASES]


def _problem(dtype=np.float64):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((16, 3))
    y = np.sin(x @ rng.standard_normal((3, 2)))
    w = [rng.standard_normal((4, 3)) * 0.5, rng.standard_normal(4) * 0.1,
         rng.standard_normal((2, 4)) * 0.5, rng.standard_normal(2) * 0.1]
    return x.astype(dtype), y.astype(dtype), [a.astype(dtype) for a in w]


def _model(w):
    l1, l2 = fastnn.nn.Linear(3, 4), fastnn.nn.Linear(4, 2)
    for p, a in zip([l1.weight, l1.bias, l2.weight, l2.bias], w):
        p.data = a.copy()
    return l1, l2


def _loss(l1, l2, x, y):
    out = l2(F.tanh(l1(fastnn.tensor(x))))
    return ((out - fastnn.tensor(y)) ** 2).mean()


def _params(l1, l2):
    return [l1.weight, l1.bias, l2.weight, l2.bias]


def _run_fastnn(name, kw, dtype=np.float64, steps=STEPS):
    x, y, w = _problem(dtype)
    l1, l2 = _model(w)
    ps = _params(l1, l2)
    opt = getattr(fastnn.optim, name)(ps, **kw)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = _loss(l1, l2, x, y)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return [p.detach().numpy() for p in ps], losses


def _run_torch(torch, name, kw):
    x, y, w = _problem()
    torch.manual_seed(0)
    l1, l2 = torch.nn.Linear(3, 4).double(), torch.nn.Linear(4, 2).double()
    ps = [l1.weight, l1.bias, l2.weight, l2.bias]
    with torch.no_grad():
        for p, a in zip(ps, w):
            p.copy_(torch.from_numpy(a))
    opt = getattr(torch.optim, name)(ps, **kw)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((l2(torch.tanh(l1(xt))) - yt) ** 2).mean()
        loss.backward()
        opt.step()
    return [p.detach().numpy().copy() for p in ps]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_reference(case):
    # In lockstep: every step of the compiled rule from the same parameters,
    # gradients and state as the NumPy reference's step.  (Whole runs of the
    # two drift apart by rounding: an adaptive rule near a zero gradient
    # amplifies a last-bit difference a million-fold within 20 steps, so only
    # the per-step comparison can be tight.)
    name, kw, fn, ref_kw = case
    x, y, w = _problem()
    l1, l2 = _model(w)
    ps = _params(l1, l2)
    opt = getattr(fastnn.optim, name)(ps, **kw)
    states = [{} for _ in ps]
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = _loss(l1, l2, x, y)
        loss.backward()
        losses.append(float(loss))
        want = [fn(p.detach().numpy().copy(), p.grad.numpy().copy(), st, **dict(kw, **ref_kw))
                for p, st in zip(ps, states)]
        opt.step()
        for p, b in zip(ps, want):
            np.testing.assert_allclose(p.detach().numpy(), b, rtol=1e-12, atol=1e-15)
            p.data[...] = b      # both continue from the reference's step
    assert losses[-1] < losses[0]  # the problem is actually being optimised


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_torch(case):
    torch = fastnn.testing.requires_torch()
    name, kw, _, _ = case
    got, _ = _run_fastnn(name, kw)
    want = _run_torch(torch, name, kw)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                     ("Adagrad", dict(lr=0.1)),
                                     ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                                     ("Adam", dict(lr=0.01, weight_decay=0.01)),
                                     ("AdamW", dict(lr=0.01))])
def test_float32_stays_float32_and_in_place(name, kw):
    x, y, w = _problem(np.float32)
    l1, l2 = _model(w)
    ps = _params(l1, l2)
    arrays = [p.detach().numpy() for p in ps]
    before = [a.copy() for a in arrays]
    opt = getattr(fastnn.optim, name)(ps, **kw)
    for _ in range(5):
        opt.zero_grad()
        _loss(l1, l2, x, y).backward()
        opt.step()
    for p, a, b in zip(ps, arrays, before):
        assert p.detach().numpy() is a                       # the very same ndarray object
        assert np.shares_memory(p.detach().numpy(), a)
        assert p.detach().numpy().dtype == np.float32
        assert not np.array_equal(p.detach().numpy(), b)     # and it was updated
    for st in opt.state.values():
        for v in st.values():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32
    # float32 follows the float64 trajectory closely
    got32, _ = _run_fastnn(name, kw, np.float32, steps=5)
    got64, _ = _run_fastnn(name, kw, np.float64, steps=5)
    for a, b in zip(got32, got64):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_params_without_grad_are_skipped():
    a = fastnn.nn.Parameter(np.ones(3))
    b = fastnn.nn.Parameter(np.ones(3))
    opt = fastnn.optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert np.all(a.detach().numpy() < 1) and np.array_equal(b.detach().numpy(), np.ones(3))
    assert b not in opt.state or not opt.state[b]
    assert opt.state[a]["step"] == 1


def test_late_parameter_gets_its_own_step_count():
    """A parameter whose gradient appears later starts its own Adam step count
    and SGD buffer (torch's per-parameter state)."""
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal(5), rng.standard_normal(5)
    for name, kw in [("Adam", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2))]:
        a, b = fastnn.nn.Parameter(a0.copy()), fastnn.nn.Parameter(b0.copy())
        opt = getattr(fastnn.optim, name)([a, b], **kw)
        sa, sb = {}, {}
        ra, rb = a0.copy(), b0.copy()
        fn = R.adam_step if name == "Adam" else R.sgd_step
        for i in range(4):
            opt.zero_grad()
            loss = (a * a).sum() + ((b * b).sum() if i >= 2 else 0.0)
            loss.backward()
            opt.step()
            ra = fn(ra, 2 * ra, sa, **kw)
            if i >= 2:
                rb = fn(rb, 2 * rb, sb, **kw)
        np.testing.assert_allclose(a.detach().numpy(), ra, rtol=1e-12)
        np.testing.assert_allclose(b.detach().numpy(), rb, rtol=1e-12)


def test_param_groups_have_their_own_lr():
    a = fastnn.nn.Parameter(np.ones(2))
    b = fastnn.nn.Parameter(np.ones(2))
    opt = fastnn.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0
    ((a * a).sum() + (b * b).sum()).backward()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.8, 0.8])
    np.testing.assert_allclose(b.detach().numpy(), [0.0, 0.0])
    c = fastnn.nn.Parameter(np.ones(2))
    opt.add_param_group({"params": c, "lr": 1.0})
    assert len(opt.param_groups) == 3 and opt.param_groups[2]["params"] == [c]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_step_returns_closure_loss_and_zero_grad():
    w = fastnn.nn.Parameter(np.array([3.0]))
    opt = fastnn.optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss) == 9.0 and w.detach().numpy()[0] == 1.5
    assert w.grad is not None
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and np.all(w.grad == 0)
    opt.zero_grad()
    assert w.grad is None


def test_maximize_ascends():
    for name, kw in [("SGD", dict(lr=0.1, momentum=0.5)), ("Adam", dict(lr=0.1)),
                     ("Adagrad", dict(lr=0.1)), ("RMSprop", dict(lr=0.01))]:
        w = fastnn.nn.Parameter(np.array([1.0]))
        opt = getattr(fastnn.optim, name)([w], maximize=True, **kw)
        (w * w).sum().backward()
        opt.step()
        assert w.detach().numpy()[0] > 1.0, name


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True,
                                                  weight_decay=0.01)),
                                     ("Adam", dict(lr=0.01)),
                                     ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
                                     ("Adagrad", dict(lr=0.1))])
def test_threads_and_multi_tensor_give_identical_results(name, kw):
    """Large tensors (parallel path) and many small ones (one multi-tensor
    call) give bitwise the same numbers as one thread / one tensor at a time."""
    rng = np.random.default_rng(3)
    shapes = [(300, 200), (7,), (50, 3), (40000,)]
    p0 = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    gs = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(3)]
    results = []
    for threads, per_tensor in [(1, False), (2, False), (2, True)]:
        fastnn.set_num_threads(threads)
        ps = [fastnn.nn.Parameter(a.copy()) for a in p0]
        opts = ([getattr(fastnn.optim, name)([p], **kw) for p in ps] if per_tensor
                else [getattr(fastnn.optim, name)(ps, **kw)])
        for g in gs:
            for p, gi in zip(ps, g):
                p.grad = gi.copy()
            for o in opts:
                o.step()
        results.append([p.detach().numpy().copy() for p in ps])
    for r in results[1:]:
        for a, b in zip(results[0], r):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True,
                                                  weight_decay=0.01)),
                                     ("Adam", dict(lr=0.01, weight_decay=0.1)),
                                     ("AdamW", dict(lr=0.01)),
                                     ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
                                     ("Adagrad", dict(lr=0.1, weight_decay=0.1))])
def test_float32_follows_torch(name, kw):
    """float32 arithmetic per element, as torch: within a few ulps after 50 steps."""
    torch = fastnn.testing.requires_torch()
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(50).astype(np.float32)
    p = fastnn.nn.Parameter(w0.copy())
    tp = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    opt = getattr(fastnn.optim, name)([p], **kw)
    topt = getattr(torch.optim, name)([tp], **kw)
    for _ in range(STEPS):
        g = rng.standard_normal(50).astype(np.float32)
        p.grad = g.copy()
        tp.grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    assert p.detach().numpy().dtype == np.float32
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_optimizer_steps_threads_bitwise(dtype):
    rng = np.random.default_rng(1)
    sizes = [70001, 5, 31]             # above the serial cut-off in all
    p0 = [rng.standard_normal(s).astype(dtype) for s in sizes]
    gs = [rng.standard_normal(s).astype(dtype) for s in sizes]
    res = []
    for nt in (1, 2):
        before = sum(_core.parallel_regions().values())
        p = [a.copy() for a in p0]
        m = [np.zeros_like(a) for a in p0]
        v = [np.zeros_like(a) for a in p0]
        b = [np.empty_like(a) for a in p0]
        q = [a.copy() for a in p0]
        for t in (1, 2):
            _core.adam_step(p, gs, m, v, float(t), lr=0.01, n_threads=nt)
            _core.sgd_step(q, gs, b, 0.1, momentum=0.9, init_buf=(t == 1), n_threads=nt)
        res.append(p + m + v + q + b)
        ran = sum(_core.parallel_regions().values()) > before
        assert ran == (nt == 2 and _core.openmp_enabled())
    for a, c in zip(*res):
        assert np.array_equal(a, c)
