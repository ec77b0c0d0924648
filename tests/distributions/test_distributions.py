"""fastnn.distributions against torch.distributions: values, gradients,
sampling, validation, KL, and a REINFORCE program written as PyTorch code."""
import math

import numpy as np
import pytest

import fastnn
import fastnn.distributions as D
from fastnn.distributions import constraints
from fastnn.testing import requires_torch

BATCH = (3, 4)


def _ft(a, dtype, grad=False):
    return fastnn.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def _tt(torch, a, dtype, grad=False):
    return torch.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


# name -> (params(rng) -> dict of ndarrays, build(module, P) -> distribution,
#          values(rng, P) -> ndarray of shape (2,) + batch + event, or an int array)
def _normal_params(r):
    return dict(loc=r.normal(size=(3, 1)), scale=r.uniform(0.5, 2.0, size=(4,)))


SPECS = {
    "Normal": (_normal_params, lambda M, P: M.Normal(P["loc"], P["scale"]),
               lambda r, P: r.normal(size=(2,) + BATCH)),
    "Laplace": (_normal_params, lambda M, P: M.Laplace(P["loc"], P["scale"]),
                lambda r, P: r.normal(size=(2,) + BATCH)),
    "Exponential": (lambda r: dict(rate=r.uniform(0.5, 2.0, size=BATCH)),
                    lambda M, P: M.Exponential(P["rate"]),
                    lambda r, P: r.uniform(0.0, 3.0, size=(2,) + BATCH)),
    "Uniform": (lambda r: dict(low=r.normal(size=(3, 1)) - 1.0,
                               high=r.uniform(0.5, 2.0, size=BATCH)),
                lambda M, P: M.Uniform(P["low"], P["high"]),
                lambda r, P: r.uniform(-0.4, 0.4, size=(2,) + BATCH)),
    "BernoulliProbs": (lambda r: dict(probs=r.uniform(0.1, 0.9, size=BATCH)),
                       lambda M, P: M.Bernoulli(probs=P["probs"]),
                       lambda r, P: r.integers(0, 2, size=(2,) + BATCH).astype(float)),
    "BernoulliLogits": (lambda r: dict(logits=r.normal(scale=3.0, size=BATCH)),
                        lambda M, P: M.Bernoulli(logits=P["logits"]),
                        lambda r, P: r.integers(0, 2, size=(2,) + BATCH).astype(float)),
    "CategoricalProbs": (lambda r: dict(probs=r.uniform(0.1, 1.0, size=BATCH + (5,))),
                         lambda M, P: M.Categorical(probs=P["probs"]),
                         lambda r, P: r.integers(0, 5, size=(2,) + BATCH)),
    "CategoricalLogits": (lambda r: dict(logits=r.normal(size=BATCH + (5,))),
                          lambda M, P: M.Categorical(logits=P["logits"]),
                          lambda r, P: r.integers(0, 5, size=(2, 1, 4))),
    "OneHotCategorical": (lambda r: dict(logits=r.normal(size=BATCH + (5,))),
                          lambda M, P: M.OneHotCategorical(logits=P["logits"]),
                          lambda r, P: np.eye(5)[r.integers(0, 5, size=(2,) + BATCH)]),
    "Independent": (lambda r: dict(loc=r.normal(size=BATCH), scale=r.uniform(0.5, 2, BATCH)),
                    lambda M, P: M.Independent(M.Normal(P["loc"], P["scale"]), 1),
                    lambda r, P: r.normal(size=(2,) + BATCH)),
}
HAS_CDF = {"Normal", "Laplace", "Exponential", "Uniform"}
HAS_RSAMPLE = {"Normal", "Laplace", "Exponential", "Uniform", "Independent"}


def _make(torch, name, dtype, grad=False, seed=0):
    r = np.random.default_rng(seed)
    params, build, values = SPECS[name]
    P = params(r)
    v = values(r, P)
    vdtype = np.int64 if v.dtype.kind == "i" else dtype
    fP = {k: _ft(a, dtype, grad) for k, a in P.items()}
    out = dict(f=build(D, fP), fP=fP, fv=_ft(v, vdtype))
    if torch is not None:
        tP = {k: _tt(torch, a, dtype, grad) for k, a in P.items()}
        out.update(t=build(torch.distributions, tP), tP=tP, tv=_tt(torch, v, vdtype))
    return out


def _close(a, b, dtype, **kw):
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    tol.update(kw)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, equal_nan=True, **tol)


# ------------------------------------------------------------ values vs PyTorch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_values_match_torch(name, dtype):
    torch = requires_torch()
    m = _make(torch, name, dtype)
    f, t = m["f"], m["t"]
    assert f.batch_shape == t.batch_shape and f.event_shape == t.event_shape
    assert isinstance(f.batch_shape, fastnn.Size)
    lp = f.log_prob(m["fv"])
    assert lp.dtype == fastnn.float64 if dtype == np.float64 else lp.dtype == fastnn.float32
    _close(lp, t.log_prob(m["tv"]), dtype)
    _close(f.entropy(), t.entropy(), dtype)
    for attr in ("mean", "variance", "stddev", "mode"):
        _close(getattr(f, attr), getattr(t, attr), dtype)
    if name in HAS_CDF:
        fv, tv = m["fv"], m["tv"]
        _close(f.cdf(fv), t.cdf(tv), dtype)
        q = np.random.default_rng(1).uniform(0.05, 0.95, size=(2,) + BATCH)
        _close(f.icdf(_ft(q, dtype)), t.icdf(_tt(torch, q, dtype)), dtype, rtol=1e-4
               if dtype == np.float32 else 1e-9)
    assert f.has_rsample == t.has_rsample
    if name == "Uniform":          # bounds are tensors; their printing differs
        assert repr(f.support).startswith("Interval(lower_bound=tensor(")
    else:
        assert repr(f.support) == repr(t.support)
    assert repr(f).replace("fastnn.", "torch.") == repr(t)


@pytest.mark.parametrize("name", ["CategoricalProbs", "CategoricalLogits", "BernoulliProbs",
                                  "BernoulliLogits", "OneHotCategorical"])
def test_probs_logits_and_support(name):
    torch = requires_torch()
    m = _make(torch, name, np.float64)
    f, t = m["f"], m["t"]
    _close(f.probs, t.probs, np.float64)
    _close(f.logits, t.logits, np.float64)
    assert f.param_shape == t.param_shape
    if f.has_enumerate_support:
        _close(f.enumerate_support(), t.enumerate_support(), np.float64)
        _close(f.enumerate_support(False), t.enumerate_support(False), np.float64)


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("name", sorted(SPECS))
def test_gradients_match_torch(name):
    torch = requires_torch()
    m = _make(torch, name, np.float64, grad=True)
    f, t = m["f"], m["t"]
    w = np.random.default_rng(5).normal(size=tuple(t.log_prob(m["tv"]).shape))
    we = np.random.default_rng(6).normal(size=tuple(t.batch_shape))
    floss = (f.log_prob(m["fv"]) * _ft(w, np.float64)).sum() + (
        f.entropy() * _ft(we, np.float64)).sum()
    tloss = (t.log_prob(m["tv"]) * torch.tensor(w)).sum() + (
        t.entropy() * torch.tensor(we)).sum()
    floss.backward()
    tg = torch.autograd.grad(tloss, list(m["tP"].values()))
    for (k, p), g in zip(m["fP"].items(), tg):
        assert p.grad is not None, k
        _close(p.grad, g, np.float64, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_gradcheck_log_prob_entropy(name):
    m = _make(None, name, np.float64, grad=True)
    build = SPECS[name][1]
    keys = list(m["fP"])
    value = m["fv"]

    def fn(*params):
        d = build(D, dict(zip(keys, params)))
        return d.log_prob(value).sum() + d.entropy().sum()
    assert fastnn.gradcheck(fn, tuple(m["fP"].values()))


@pytest.mark.parametrize("name", sorted(HAS_RSAMPLE))
def test_rsample_gradients(name):
    m = _make(None, name, np.float64, grad=True)
    build = SPECS[name][1]
    keys = list(m["fP"])

    def fn(*params):
        fastnn.manual_seed(3)              # the same noise in every evaluation
        x = build(D, dict(zip(keys, params))).rsample((2,))
        return (x * x).sum()
    assert fastnn.gradcheck(fn, tuple(m["fP"].values()))
    fastnn.manual_seed(3)
    x = m["f"].rsample((2,))
    assert x.requires_grad and x.grad_fn is not None
    fastnn.manual_seed(3)
    s = m["f"].sample((2,))
    assert not s.requires_grad and s.grad_fn is None
    np.testing.assert_array_equal(s.numpy(), x.detach().numpy())


def test_normal_rsample_is_loc_plus_eps_scale():
    loc = fastnn.tensor([1.0, -2.0], dtype=fastnn.float64, requires_grad=True)
    scale = fastnn.tensor([0.5, 3.0], dtype=fastnn.float64, requires_grad=True)
    fastnn.manual_seed(11)
    x = D.Normal(loc, scale).rsample((7,))
    fastnn.manual_seed(11)
    eps = fastnn.randn((7, 2), dtype=fastnn.float64)
    np.testing.assert_allclose(x.detach().numpy(), (loc + eps * scale).detach().numpy())
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [7.0, 7.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.numpy().sum(0))


def test_no_rsample_raises():
    for d in (D.Categorical(logits=fastnn.zeros(3)), D.Bernoulli(0.3),
              D.OneHotCategorical(probs=fastnn.ones(3))):
        assert not d.has_rsample
        with pytest.raises(NotImplementedError):
            d.rsample()


# ------------------------------------------------------------------------ KL
KL_PAIRS = ["Normal", "Laplace", "Exponential", "CategoricalProbs", "CategoricalLogits",
            "BernoulliProbs", "BernoulliLogits", "OneHotCategorical", "Independent"]


@pytest.mark.parametrize("name", KL_PAIRS + ["Uniform"])
def test_kl_matches_torch(name):
    torch = requires_torch()
    p, q = _make(torch, name, np.float64, grad=True, seed=0), _make(torch, name, np.float64,
                                                                    grad=True, seed=1)
    if name == "Uniform":     # q must contain p for a finite value; both kinds tested
        q = _make(torch, name, np.float64, grad=True, seed=0)
        qf = D.Uniform(q["fP"]["low"] - 0.5, q["fP"]["high"] * 1.5 + 0.2)
        qt = torch.distributions.Uniform(q["tP"]["low"] - 0.5, q["tP"]["high"] * 1.5 + 0.2)
        _close(D.kl_divergence(qf, p["f"]), torch.distributions.kl_divergence(qt, p["t"]),
               np.float64)
        assert np.isinf(D.kl_divergence(qf, p["f"]).detach().numpy()).all()
    else:
        qf, qt = q["f"], q["t"]
    kf = D.kl_divergence(p["f"], qf)
    kt = torch.distributions.kl_divergence(p["t"], qt)
    _close(kf, kt, np.float64)
    assert np.isfinite(kf.detach().numpy()).all()
    kf.sum().backward()
    tparams = list(p["tP"].values()) + list(q["tP"].values())
    tg = torch.autograd.grad(kt.sum(), tparams, allow_unused=True)
    for fp, g in zip(list(p["fP"].values()) + list(q["fP"].values()), tg):
        if g is None:
            continue
        _close(fp.grad, g, np.float64, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", KL_PAIRS)
def test_kl_gradcheck(name):
    p, q = _make(None, name, np.float64, grad=True, seed=0), _make(None, name, np.float64,
                                                                   grad=True, seed=1)
    build = SPECS[name][1]
    kp, kq = list(p["fP"]), list(q["fP"])

    def fn(*params):
        a = build(D, dict(zip(kp, params[:len(kp)])))
        b = build(D, dict(zip(kq, params[len(kp):])))
        return D.kl_divergence(a, b)
    assert fastnn.gradcheck(fn, tuple(p["fP"].values()) + tuple(q["fP"].values()))


def test_kl_special_values_and_registry():
    p = D.Categorical(probs=fastnn.tensor([0.5, 0.5, 0.0]))
    q = D.Categorical(probs=fastnn.tensor([0.5, 0.25, 0.25]))
    assert np.isfinite(D.kl_divergence(p, q).item())
    assert D.kl_divergence(q, p).item() == math.inf
    b0, b1 = D.Bernoulli(0.0), D.Bernoulli(1.0)
    assert D.kl_divergence(b0, b0).item() == 0.0 and D.kl_divergence(b0, b1).item() == math.inf
    with pytest.raises(NotImplementedError, match="Normal.*Categorical"):
        D.kl_divergence(D.Normal(0.0, 1.0), q)
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Independent(D.Normal(fastnn.zeros(2, 2), 1.0), 1),
                        D.Independent(D.Normal(fastnn.zeros(2, 2), 1.0), 2))

    class MyNormal(D.Normal):
        pass
    # subclasses use the parent's rule until a more specific one is registered
    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == pytest.approx(0.5)

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return p.loc * 0 + 42.0
    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == 42.0
    assert D.kl_divergence(D.Normal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == pytest.approx(0.5)
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


# ------------------------------------------------------------------ sampling
@pytest.mark.parametrize("name", sorted(SPECS))
def test_sample_shape_dtype_and_seed(name):
    m = _make(None, name, np.float32)
    f = m["f"]
    fastnn.manual_seed(7)
    s = f.sample((5,))
    assert s.shape == (5,) + tuple(f.batch_shape) + tuple(f.event_shape)
    assert f.sample().shape == tuple(f.batch_shape) + tuple(f.event_shape)
    assert f.sample((2, 3)).shape[:2] == (2, 3)
    expected = fastnn.int64 if name.startswith("Categorical") else fastnn.float32
    assert s.dtype == expected
    assert bool(f.support.check(s).all())
    fastnn.manual_seed(7)
    np.testing.assert_array_equal(f.sample((5,)).numpy(), s.numpy())
    assert not np.array_equal(f.sample((5,)).numpy(), s.numpy())


N = 20000


@pytest.mark.parametrize("name", ["Normal", "Laplace", "Exponential", "Uniform",
                                  "BernoulliProbs", "OneHotCategorical", "Independent"])
def test_sample_moments(name):
    m = _make(None, name, np.float64)
    f = m["f"]
    fastnn.manual_seed(0)
    x = f.sample((N,)).numpy()
    mean, var = f.mean.numpy(), f.variance.numpy()
    se = np.sqrt(var / N)
    assert np.all(np.abs(x.mean(0) - mean) < 5 * se + 1e-12)
    # the sample variance: standard error about var * sqrt(2 / N) (4x for heavy tails)
    assert np.all(np.abs(x.var(0) - var) < 5 * var * np.sqrt(8.0 / N) + 1e-12)


def test_categorical_frequencies():
    probs = np.array([[0.1, 0.0, 0.6, 0.3], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 0.0, 1.0]])
    d = D.Categorical(probs=fastnn.tensor(probs * 3.0))      # unnormalised on purpose
    fastnn.manual_seed(0)
    s = d.sample((N,)).numpy()
    assert s.shape == (N, 3) and s.dtype == np.int64
    for row in range(3):
        freq = np.bincount(s[:, row], minlength=4) / N
        se = np.sqrt(probs[row] * (1 - probs[row]) / N)
        assert np.all(np.abs(freq - probs[row]) <= 5 * se + 1e-12), (row, freq)
    assert (s[:, 0] != 1).all() and (s[:, 2] == 3).all()


def test_categorical_sample_without_batch_shape():
    """One distribution over the events (probs of shape (K,)), as an actor-critic
    program's per-step policy: sample() is a 0-d int64 tensor, as torch's."""
    torch = requires_torch()
    probs = [0.2, 0.8]
    fastnn.manual_seed(0)
    d = D.Categorical(fastnn.tensor(probs))
    a = d.sample()
    want = torch.distributions.Categorical(torch.tensor(probs)).sample()
    assert a.shape == want.shape == () and a.dtype == fastnn.int64
    assert a.item() in (0, 1)
    assert d.sample((3,)).shape == (3,)
    assert d.log_prob(a).item() == pytest.approx(math.log(probs[a.item()]), rel=1e-6)


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("make, param", [
    (lambda: D.Normal(0.0, -1.0), "scale"),
    (lambda: D.Normal(fastnn.tensor([0.0, float("nan")]), 1.0), "loc"),
    (lambda: D.Laplace(0.0, 0.0), "scale"),
    (lambda: D.Exponential(fastnn.tensor([1.0, -2.0])), "rate"),
    (lambda: D.Uniform(1.0, 0.0), "low"),
    (lambda: D.Bernoulli(probs=1.5), "probs"),
    (lambda: D.Categorical(probs=fastnn.tensor([-0.1, 1.0])), "probs"),
    (lambda: D.OneHotCategorical(probs=fastnn.tensor([-0.1, 1.0])), "probs"),
])
def test_bad_parameters_raise(make, param):
    with pytest.raises(ValueError, match=f"parameter {param} "):
        make()


def test_probs_logits_arguments():
    for kw in ({}, dict(probs=fastnn.ones(2), logits=fastnn.ones(2))):
        for cls in (D.Categorical, D.Bernoulli, D.OneHotCategorical):
            with pytest.raises(ValueError, match="Either `probs` or `logits`"):
                cls(**kw)
    d = D.Categorical(probs=fastnn.tensor([1.0, 3.0]))
    np.testing.assert_allclose(d.probs.numpy(), [0.25, 0.75])
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        D.Independent(D.Normal(fastnn.zeros(2), 1.0), 2)


@pytest.mark.parametrize("make, value", [
    (lambda: D.Exponential(1.0), -1.0),
    (lambda: D.Uniform(0.0, 1.0), 1.5),
    (lambda: D.Bernoulli(0.3), 0.5),
    (lambda: D.Categorical(logits=fastnn.zeros(3)), 3),
    (lambda: D.Categorical(logits=fastnn.zeros(3)), -1),
    (lambda: D.OneHotCategorical(logits=fastnn.zeros(3)), [1.0, 1.0, 0.0]),
])
def test_out_of_support_log_prob_raises(make, value):
    with pytest.raises(ValueError, match="support"):
        make().log_prob(fastnn.tensor(value))


def test_validate_args_switches():
    with pytest.raises(ValueError, match="must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(1.0)
    with pytest.raises(ValueError, match="broadcastable"):
        D.Normal(fastnn.zeros(2), 1.0).log_prob(fastnn.zeros(3))
    assert D.Exponential(1.0, validate_args=False).log_prob(fastnn.tensor(-1.0)).item() == 1.0
    D.Normal(0.0, -1.0, validate_args=False)
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)
        with pytest.raises(ValueError):
            D.Normal(0.0, -1.0, validate_args=True)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args(2)


def test_constraints():
    x = fastnn.tensor([-1.0, 0.0, 0.5, 1.0, 2.0])
    checks = {
        constraints.real: [1, 1, 1, 1, 1], constraints.positive: [0, 0, 1, 1, 1],
        constraints.nonnegative: [0, 1, 1, 1, 1], constraints.unit_interval: [0, 1, 1, 1, 0],
        constraints.boolean: [0, 1, 0, 1, 0], constraints.nonnegative_integer: [0, 1, 0, 1, 1],
        constraints.integer_interval(0, 1): [0, 1, 0, 1, 0],
        constraints.interval(-1.0, 0.5): [1, 1, 1, 0, 0],
        constraints.greater_than(0.5): [0, 0, 0, 1, 1],
    }
    for c, want in checks.items():
        assert c.check(x).numpy().tolist() == [bool(w) for w in want], c
    s = fastnn.tensor([[0.2, 0.8], [0.5, 0.6], [-0.5, 1.5]])
    assert constraints.simplex.check(s).numpy().tolist() == [True, False, False]
    assert constraints.real_vector.check(fastnn.tensor([[1.0, float("nan")], [1.0, 2.0]])
                                         ).numpy().tolist() == [False, True]
    assert constraints.is_dependent(constraints.dependent)
    assert repr(constraints.positive) == "GreaterThan(lower_bound=0.0)"
    assert D.Normal.support is constraints.real
    assert D.Uniform(0.0, 2.0).support.check(fastnn.tensor(1.0)).item()


def test_expand_and_misc():
    torch = requires_torch()
    d = D.Normal(fastnn.tensor([0.0, 1.0]), 2.0).expand((3, 2))
    assert d.batch_shape == (3, 2) and d.sample().shape == (3, 2)
    c = D.Categorical(logits=fastnn.tensor([0.0, 1.0, 2.0])).expand((4,))
    assert c.batch_shape == (4,) and c.probs.shape == (4, 3)
    i = D.Independent(D.Normal(fastnn.zeros(2), 1.0), 1).expand((5,))
    assert i.batch_shape == (5,) and i.event_shape == (2,)
    o = D.OneHotCategorical(probs=fastnn.ones(3)).expand((2,))
    assert o.sample().shape == (2, 3)
    n = D.Normal(0.0, 1.0)
    assert repr(n) == "Normal(loc: 0.0, scale: 1.0)" and n.batch_shape == ()
    assert n.perplexity().item() == pytest.approx(math.exp(torch.distributions.Normal(
        0.0, 1.0).entropy().item()), rel=1e-6)
    assert D.Categorical(logits=fastnn.zeros(2, 3)).mean.shape == (2,)
    assert fastnn.distributions is D and hasattr(fastnn, "distributions")


# ------------------------------------------------------ a PyTorch program
PROGRAM = """
policy = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
policy.load_state_dict({k: torch.tensor(v) for k, v in WEIGHTS.items()})
optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
obs = torch.tensor(OBS)
returns = torch.tensor(RETURNS)
dist = torch.distributions.Categorical(logits=policy(obs))
actions = dist.sample() if ACTIONS is None else torch.tensor(ACTIONS)
loss = (-dist.log_prob(actions) * returns).mean()
optimizer.zero_grad()
loss.backward()
grads = {name: p.grad.clone() for name, p in policy.named_parameters()}
optimizer.step()
after = {name: p.detach().clone() for name, p in policy.named_parameters()}
"""


def _run(torch, weights, obs, returns, actions):
    ns = dict(torch=torch, WEIGHTS=weights, OBS=obs, RETURNS=returns, ACTIONS=actions)
    exec(PROGRAM, ns)
    return ns


def test_reinforce_program_matches_torch():
    torch = requires_torch()
    r = np.random.default_rng(0)
    weights = {"0.weight": r.normal(size=(16, 4)).astype(np.float32) * 0.5,
               "0.bias": r.normal(size=16).astype(np.float32) * 0.1,
               "2.weight": r.normal(size=(3, 16)).astype(np.float32) * 0.3,
               "2.bias": np.zeros(3, np.float32)}
    obs = r.normal(size=(8, 4)).astype(np.float32)
    returns = r.normal(size=8).astype(np.float32)
    fastnn.manual_seed(0)
    f = _run(fastnn, weights, obs, returns, None)
    assert f["actions"].dtype == fastnn.int64 and f["actions"].shape == (8,)
    assert np.isfinite(f["loss"].item())
    for k, w in weights.items():
        assert not np.array_equal(f["after"][k].numpy(), w), k
    t = _run(torch, weights, obs, returns, f["actions"].numpy())
    assert f["loss"].item() == pytest.approx(t["loss"].item(), rel=1e-5)
    for k in weights:
        np.testing.assert_allclose(f["grads"][k].numpy(), t["grads"][k].numpy(),
                                   rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(f["after"][k].numpy(), t["after"][k].numpy(),
                                   rtol=1e-4, atol=1e-6)
