"""The second set of fastnn.distributions against torch.distributions: Gamma,
Chi2, Beta, Dirichlet, Poisson, Binomial, Geometric, NegativeBinomial,
LogNormal, StudentT, Cauchy, HalfNormal, HalfCauchy, Gumbel, VonMises,
LogisticNormal, the relaxed distributions, MixtureSameFamily and
TransformedDistribution: values (float64 and float32, broadcast batch
shapes), gradients, KL, sample statistics, seeding, expand and validation."""
import math

import numpy as np
import pytest

import fastnn
import fastnn.distributions as D
from fastnn.testing import requires_torch

BATCH = (3, 4)


def _ft(a, dtype, grad=False):
    return fastnn.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def _tt(torch, a, dtype, grad=False):
    return torch.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def _ints(lo, hi):
    return lambda r, P: r.integers(lo, hi, size=(2,) + BATCH).astype(float)


def _simplex(k, shape):
    return lambda r, P: r.dirichlet(np.ones(k), size=shape)


def _mix(M, P):
    return M.MixtureSameFamily(M.Categorical(logits=P["logits"]),
                               M.Normal(P["loc"], P["scale"]))


def _tanh_normal(M, P):
    base = M.Independent(M.Normal(P["loc"], P["scale"]), 1)
    return M.TransformedDistribution(base, [M.transforms.TanhTransform()])


def _affine_sigmoid(M, P):
    return M.TransformedDistribution(M.Normal(P["loc"], P["scale"]), [
        M.transforms.AffineTransform(P["a"], P["b"]), M.transforms.SigmoidTransform()])


def _inverse_gamma(M, P):
    return M.TransformedDistribution(M.Gamma(P["c"], P["r"]),
                                     [M.transforms.PowerTransform(-P["e"])])


def _ls(r):
    return dict(loc=r.normal(size=(3, 1)), scale=r.uniform(0.5, 2.0, size=(4,)))


# name -> (params(rng) -> dict of ndarrays, build(module, P) -> distribution,
#          values(rng, P) -> ndarray of shape (2,) + batch + event)
SPECS = {
    "Gamma": (lambda r: dict(concentration=r.uniform(0.5, 3.0, size=(3, 1)),
                             rate=r.uniform(0.5, 2.0, size=(4,))),
              lambda M, P: M.Gamma(P["concentration"], P["rate"]),
              lambda r, P: r.gamma(2.0, size=(2,) + BATCH)),
    "Chi2": (lambda r: dict(df=r.uniform(0.5, 6.0, size=BATCH)),
             lambda M, P: M.Chi2(P["df"]),
             lambda r, P: r.gamma(2.0, size=(2,) + BATCH)),
    "Beta": (lambda r: dict(c1=r.uniform(0.5, 3.0, size=(3, 1)),
                            c0=r.uniform(0.5, 3.0, size=(4,))),
             lambda M, P: M.Beta(P["c1"], P["c0"]),
             lambda r, P: r.uniform(0.05, 0.95, size=(2,) + BATCH)),
    "Dirichlet": (lambda r: dict(concentration=r.uniform(0.5, 3.0, size=BATCH + (5,))),
                  lambda M, P: M.Dirichlet(P["concentration"]),
                  _simplex(5, (2,) + BATCH)),
    "Poisson": (lambda r: dict(rate=r.uniform(0.5, 5.0, size=BATCH)),
                lambda M, P: M.Poisson(P["rate"]), _ints(0, 9)),
    "BinomialProbs": (lambda r: dict(n=np.full((4,), 8.0), probs=r.uniform(0.1, 0.9, BATCH)),
                      lambda M, P: M.Binomial(P["n"], probs=P["probs"]), _ints(0, 9)),
    "BinomialLogits": (lambda r: dict(n=np.full((4,), 8.0), logits=r.normal(size=BATCH)),
                       lambda M, P: M.Binomial(P["n"], logits=P["logits"]), _ints(0, 9)),
    "GeometricProbs": (lambda r: dict(probs=r.uniform(0.1, 0.9, size=BATCH)),
                       lambda M, P: M.Geometric(probs=P["probs"]), _ints(0, 7)),
    "GeometricLogits": (lambda r: dict(logits=r.normal(size=BATCH)),
                        lambda M, P: M.Geometric(logits=P["logits"]), _ints(0, 7)),
    "NegBinomialProbs": (lambda r: dict(n=r.uniform(0.5, 5.0, (3, 1)),
                                        probs=r.uniform(0.1, 0.8, (4,))),
                         lambda M, P: M.NegativeBinomial(P["n"], probs=P["probs"]),
                         _ints(0, 11)),
    "NegBinomialLogits": (lambda r: dict(n=r.uniform(0.5, 5.0, (3, 1)),
                                         logits=r.normal(size=(4,))),
                          lambda M, P: M.NegativeBinomial(P["n"], logits=P["logits"]),
                          _ints(0, 11)),
    "LogNormal": (_ls, lambda M, P: M.LogNormal(P["loc"], P["scale"]),
                  lambda r, P: np.exp(r.normal(size=(2,) + BATCH))),
    "StudentT": (lambda r: dict(df=np.array([[0.7, 1.5, 3.0, 6.0]] * 3), loc=r.normal(size=4),
                                scale=r.uniform(0.5, 2.0, size=(3, 1))),
                 lambda M, P: M.StudentT(P["df"], P["loc"], P["scale"]),
                 lambda r, P: 2 * r.normal(size=(2,) + BATCH)),
    "Cauchy": (_ls, lambda M, P: M.Cauchy(P["loc"], P["scale"]),
               lambda r, P: 3 * r.normal(size=(2,) + BATCH)),
    "HalfNormal": (lambda r: dict(scale=r.uniform(0.5, 2.0, size=BATCH)),
                   lambda M, P: M.HalfNormal(P["scale"]),
                   lambda r, P: np.abs(r.normal(size=(2,) + BATCH))),
    "HalfCauchy": (lambda r: dict(scale=r.uniform(0.5, 2.0, size=BATCH)),
                   lambda M, P: M.HalfCauchy(P["scale"]),
                   lambda r, P: np.abs(3 * r.normal(size=(2,) + BATCH))),
    "Gumbel": (_ls, lambda M, P: M.Gumbel(P["loc"], P["scale"]),
               lambda r, P: r.normal(size=(2,) + BATCH)),
    "VonMises": (lambda r: dict(loc=r.normal(size=BATCH),
                                concentration=np.array([0.3, 2.0, 4.0, 9.0])),
                 lambda M, P: M.VonMises(P["loc"], P["concentration"]),
                 lambda r, P: r.uniform(-4, 4, size=(2,) + BATCH)),
    "LogisticNormal": (lambda r: dict(loc=r.normal(size=BATCH), scale=r.uniform(0.5, 2, (4,))),
                       lambda M, P: M.LogisticNormal(P["loc"], P["scale"]),
                       _simplex(5, (2, 3))),
    "RelaxedBernoulli": (lambda r: dict(t=np.array(0.7), probs=r.uniform(0.1, 0.9, BATCH)),
                         lambda M, P: M.RelaxedBernoulli(P["t"], probs=P["probs"]),
                         lambda r, P: r.uniform(0.05, 0.95, size=(2,) + BATCH)),
    "RelaxedOneHot": (lambda r: dict(t=np.array(0.6), logits=r.normal(size=BATCH + (5,))),
                      lambda M, P: M.RelaxedOneHotCategorical(P["t"], logits=P["logits"]),
                      _simplex(5, (2,) + BATCH)),
    "Mixture": (lambda r: dict(logits=r.normal(size=(3, 4)), loc=r.normal(size=(3, 4)),
                               scale=r.uniform(0.5, 2.0, size=(3, 4))),
                _mix, lambda r, P: 2 * r.normal(size=(2, 3))),
    "TanhNormal": (lambda r: dict(loc=r.normal(size=BATCH), scale=r.uniform(0.5, 2.0, BATCH)),
                   _tanh_normal, lambda r, P: r.uniform(-0.95, 0.95, size=(2,) + BATCH)),
    "AffineSigmoid": (lambda r: dict(loc=r.normal(size=BATCH), scale=r.uniform(0.5, 2, BATCH),
                                     a=r.normal(size=(4,)), b=r.uniform(-2, 2, size=(4,))),
                      _affine_sigmoid, lambda r, P: r.uniform(0.05, 0.95, (2,) + BATCH)),
    "InverseGamma": (lambda r: dict(c=r.uniform(1.5, 3.0, size=BATCH),
                                    r=r.uniform(0.5, 2.0, size=BATCH), e=np.array(1.0)),
                     _inverse_gamma, lambda r, P: r.uniform(0.2, 3.0, size=(2,) + BATCH)),
    "Pareto": (lambda r: dict(scale=r.uniform(0.5, 2.0, size=BATCH),
                              alpha=r.uniform(0.5, 5.0, size=(4,))),
               lambda M, P: M.Pareto(P["scale"], P["alpha"]),
               lambda r, P: P["scale"] * (1 + r.exponential(size=(2,) + BATCH))),
    "Weibull": (lambda r: dict(scale=r.uniform(0.5, 2.0, size=(3, 1)),
                               concentration=r.uniform(0.5, 3.0, size=(4,))),
                lambda M, P: M.Weibull(P["scale"], P["concentration"]),
                lambda r, P: r.gamma(2.0, size=(2,) + BATCH)),
    "InverseGammaD": (lambda r: dict(concentration=r.uniform(0.5, 4.0, size=BATCH),
                                     rate=r.uniform(0.5, 2.0, size=(4,))),
                      lambda M, P: M.InverseGamma(P["concentration"], P["rate"]),
                      lambda r, P: r.uniform(0.2, 3.0, size=(2,) + BATCH)),
    "FisherSnedecor": (lambda r: dict(df1=r.uniform(1.0, 6.0, size=BATCH),
                                      df2=np.array([1.5, 3.0, 5.0, 9.0])),
                       lambda M, P: M.FisherSnedecor(P["df1"], P["df2"]),
                       lambda r, P: r.gamma(2.0, size=(2,) + BATCH)),
    "Multinomial": (lambda r: dict(logits=r.normal(size=BATCH + (5,))),
                    lambda M, P: M.Multinomial(6, logits=P["logits"]),
                    lambda r, P: r.multinomial(6, np.ones(5) / 5, size=(2,) + BATCH)
                    .astype(float)),
    "OneHotST": (lambda r: dict(logits=r.normal(size=BATCH + (5,))),
                 lambda M, P: M.OneHotCategoricalStraightThrough(logits=P["logits"]),
                 lambda r, P: np.eye(5)[r.integers(0, 5, size=(2,) + BATCH)]),
}
# parameters that must not take part in gradient checks
CONST = {"t", "n", "e"}


def _make(torch, name, dtype, grad=False, seed=0):
    r = np.random.default_rng(seed)
    params, build, values = SPECS[name]
    P = params(r)
    v = values(r, P)
    fP = {k: _ft(a, dtype, grad and k not in CONST) for k, a in P.items()}
    out = dict(f=build(D, fP), fP=fP, fv=_ft(v, dtype))
    if torch is not None:
        tP = {k: _tt(torch, a, dtype, grad and k not in CONST) for k, a in P.items()}
        out.update(t=build(torch.distributions, tP), tP=tP, tv=_tt(torch, v, dtype))
    return out


def _close(a, b, dtype, **kw):
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    tol.update(kw)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, equal_nan=True, **tol)


def _both(f, t, call):
    """call(f) and call(t), or both raise NotImplementedError (None then)."""
    try:
        tv = call(t)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            call(f)
        return None, None
    return call(f), tv


# ------------------------------------------------------------ values vs PyTorch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_values_match_torch(name, dtype):
    torch = requires_torch()
    m = _make(torch, name, dtype)
    f, t = m["f"], m["t"]
    assert f.batch_shape == t.batch_shape and f.event_shape == t.event_shape
    assert isinstance(f.batch_shape, fastnn.Size) and isinstance(f.event_shape, fastnn.Size)
    lp = f.log_prob(m["fv"])
    assert lp.dtype == (fastnn.float64 if dtype == np.float64 else fastnn.float32)
    _close(lp, t.log_prob(m["tv"]), dtype)
    for call in (lambda d: d.entropy(), lambda d: d.mean, lambda d: d.variance,
                 lambda d: d.stddev, lambda d: d.mode):
        a, b = _both(f, t, call)
        if b is not None:
            # PyTorch's Multinomial entropy takes lgamma(n + 1) in float32
            _close(a, b, dtype, **({"rtol": 1e-7} if name == "Multinomial" else {}))
    a, b = _both(f, t, lambda d: d.cdf(m["fv"] if d is f else m["tv"]))
    if b is not None:
        _close(a, b, dtype, rtol=1e-5 if dtype == np.float32 else 1e-8)
    q = np.random.default_rng(1).uniform(0.05, 0.95, size=(2,) + BATCH)
    a, b = _both(f, t, lambda d: d.icdf(_ft(q, dtype) if d is f else _tt(torch, q, dtype)))
    if b is not None:
        _close(a, b, dtype, rtol=1e-4 if dtype == np.float32 else 1e-9)
    assert f.has_rsample == t.has_rsample
    assert f.has_enumerate_support == t.has_enumerate_support
    if f.has_enumerate_support:
        _close(f.enumerate_support(), t.enumerate_support(), dtype)
        _close(f.enumerate_support(False), t.enumerate_support(False), dtype)
    if name.startswith("Binomial"):       # bounds are tensors; their printing differs
        assert repr(f.support).startswith("IntegerInterval(lower_bound=0, upper_bound=")
    elif name == "Pareto":
        assert repr(f.support).startswith("GreaterThanEq(lower_bound=tensor(")
    elif name != "AffineSigmoid":
        assert repr(f.support) == repr(t.support)
    if not name.startswith(("Binomial", "NegBinomial", "Gamma", "Beta")):
        assert repr(f).replace("fastnn.", "torch.") == repr(t)


@pytest.mark.parametrize("name", ["BinomialProbs", "BinomialLogits", "GeometricProbs",
                                  "GeometricLogits", "NegBinomialProbs", "NegBinomialLogits",
                                  "RelaxedBernoulli", "RelaxedOneHot"])
def test_probs_logits(name):
    torch = requires_torch()
    m = _make(torch, name, np.float64)
    f, t = m["f"], m["t"]
    _close(f.probs, t.probs, np.float64)
    _close(f.logits, t.logits, np.float64)


def test_parameter_properties():
    torch = requires_torch()
    b = _make(torch, "Beta", np.float64)
    _close(b["f"].concentration1, b["t"].concentration1, np.float64)
    _close(b["f"].concentration0, b["t"].concentration0, np.float64)
    c = _make(torch, "Chi2", np.float64)
    _close(c["f"].df, c["t"].df, np.float64)
    _close(c["f"].concentration, c["t"].concentration, np.float64)
    for name in ("LogNormal", "LogisticNormal"):
        m = _make(torch, name, np.float64)
        _close(m["f"].loc, m["t"].loc, np.float64)
        _close(m["f"].scale, m["t"].scale, np.float64)
    m = _make(torch, "Mixture", np.float64)
    assert isinstance(m["f"].mixture_distribution, D.Categorical)
    assert isinstance(m["f"].component_distribution, D.Normal)
    assert float(D.Beta(2.0, 3.0).concentration1) == 2.0 and D.Beta(2.0, 3.0).batch_shape == ()
    for cls in (D.Gamma, D.Beta, D.Dirichlet, D.Poisson):
        assert issubclass(cls, D.ExponentialFamily)


@pytest.mark.parametrize("name", ["Gamma", "Beta", "Dirichlet"])
def test_exponential_family_entropy_and_kl(name):
    """The Bregman-divergence forms (autograd of the log normaliser, create_graph)
    agree with the closed forms."""
    from fastnn.distributions.kl_more import _kl_expfamily_expfamily
    p = _make(None, name, np.float64, seed=0)
    q = _make(None, name, np.float64, grad=True, seed=1)
    if name == "Gamma":              # the only one with a carrier measure, as in PyTorch
        _close(D.ExponentialFamily.entropy(p["f"]), p["f"].entropy(), np.float64, rtol=1e-9)
    else:
        with pytest.raises(NotImplementedError):
            D.ExponentialFamily.entropy(p["f"])
    kl = _kl_expfamily_expfamily(p["f"], q["f"])
    closed = D.kl_divergence(p["f"], q["f"])
    _close(kl, closed, np.float64, rtol=1e-9)
    # differentiable in q through the Bregman form (p's natural parameters are detached)
    qs = list(q["fP"].values())
    g1 = fastnn.autograd.grad(kl.sum(), qs, retain_graph=True)
    g2 = fastnn.autograd.grad(closed.sum(), qs)
    for a, b in zip(g1, g2):
        _close(a, b, np.float64, rtol=1e-9)


def test_gamma_cdf_gradient():
    torch = requires_torch()
    r = np.random.default_rng(3)
    c, rate = r.uniform(0.5, 4, BATCH), r.uniform(0.5, 2, BATCH)
    x = r.gamma(2.0, size=BATCH)
    fr, fx = _ft(rate, np.float64, True), _ft(x, np.float64, True)
    tr, tx = _tt(torch, rate, np.float64, True), _tt(torch, x, np.float64, True)
    w = r.normal(size=BATCH)
    (D.Gamma(_ft(c, np.float64), fr).cdf(fx) * _ft(w, np.float64)).sum().backward()
    (torch.distributions.Gamma(torch.tensor(c), tr).cdf(tx) * torch.tensor(w)).sum().backward()
    _close(fr.grad, tr.grad, np.float64, rtol=1e-8)
    _close(fx.grad, tx.grad, np.float64, rtol=1e-8)
    fc = _ft(c, np.float64, True)       # no derivative in the concentration, as in PyTorch
    with pytest.raises(RuntimeError, match="not implemented"):
        D.Gamma(fc, 1.0).cdf(_ft(x, np.float64)).sum().backward()


# ------------------------------------------------------------------ gradients
def _grad_names():
    return sorted(n for n in SPECS if n != "VonMises") + ["VonMises"]


@pytest.mark.parametrize("name", _grad_names())
def test_gradients_match_torch(name):
    torch = requires_torch()
    m = _make(torch, name, np.float64, grad=True)
    f, t = m["f"], m["t"]
    w = np.random.default_rng(5).normal(size=tuple(t.log_prob(m["tv"]).shape))
    floss = (f.log_prob(m["fv"]) * _ft(w, np.float64)).sum()
    tloss = (t.log_prob(m["tv"]) * torch.tensor(w)).sum()
    try:
        te = t.entropy()
    except NotImplementedError:
        te = None
    if te is not None:
        we = np.random.default_rng(6).normal(size=tuple(te.shape))
        floss = floss + (f.entropy() * _ft(we, np.float64)).sum()
        tloss = tloss + (te * torch.tensor(we)).sum()
    floss.backward()
    keys = [k for k in m["tP"] if k not in CONST]
    tg = torch.autograd.grad(tloss, [m["tP"][k] for k in keys], allow_unused=True)
    for k, g in zip(keys, tg):
        p = m["fP"][k]
        if g is None:
            assert p.grad is None or not np.any(p.grad.numpy()), k
            continue
        assert p.grad is not None, k
        # PyTorch's trigamma (in digamma's derivative) is good to about 1e-9
        _close(p.grad, g, np.float64, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", sorted(n for n in SPECS if n not in ("Mixture",)))
def test_gradcheck_log_prob(name):
    m = _make(None, name, np.float64, grad=True)
    build = SPECS[name][1]
    keys = [k for k in m["fP"] if k not in CONST]
    fixed = {k: v for k, v in m["fP"].items() if k in CONST}
    value = m["fv"]

    def fn(*params):
        d = build(D, dict(zip(keys, params), **fixed))
        out = d.log_prob(value).sum()
        if name not in ("Poisson", "VonMises", "LogisticNormal", "RelaxedBernoulli",
                        "RelaxedOneHot", "NegBinomialProbs", "NegBinomialLogits",
                        "TanhNormal", "AffineSigmoid", "InverseGamma", "FisherSnedecor"):
            out = out + d.entropy().sum()
        return out
    assert fastnn.gradcheck(fn, tuple(m["fP"][k] for k in keys))


def test_gradcheck_mixture():
    m = _make(None, "Mixture", np.float64, grad=True)
    keys = list(m["fP"])

    def fn(*params):
        d = _mix(D, dict(zip(keys, params)))
        return d.log_prob(m["fv"]).sum() + d.mean.sum() + d.variance.sum()
    assert fastnn.gradcheck(fn, tuple(m["fP"].values()))


# ------------------------------------------------------------------------ KL
KL_PAIRS = ["Gamma", "Chi2", "Beta", "Dirichlet", "Poisson", "BinomialProbs", "BinomialLogits",
            "GeometricProbs", "GeometricLogits", "LogNormal", "HalfNormal", "Gumbel", "Cauchy",
            "TanhNormal", "Pareto", "OneHotST", "InverseGammaD", "HalfCauchy", "LogisticNormal",
            "InverseGamma"]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_kl_pairs_supported_where_torch_has_them(name):
    torch = requires_torch()
    p, q = _make(torch, name, np.float64, seed=0), _make(torch, name, np.float64, seed=1)
    try:
        torch.distributions.kl_divergence(p["t"], q["t"])
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            D.kl_divergence(p["f"], q["f"])
    else:
        assert name in KL_PAIRS
        D.kl_divergence(p["f"], q["f"])


@pytest.mark.parametrize("name", KL_PAIRS)
def test_kl_matches_torch(name):
    torch = requires_torch()
    p = _make(torch, name, np.float64, grad=True, seed=0)
    q = _make(torch, name, np.float64, grad=True, seed=1)
    kf = D.kl_divergence(p["f"], q["f"])
    kt = torch.distributions.kl_divergence(p["t"], q["t"])
    _close(kf, kt, np.float64)
    assert kf.shape == tuple(p["f"].batch_shape)
    if name == "Pareto":        # infinite where p's support reaches below q's
        assert np.isinf(kf.detach().numpy()).any() and np.isfinite(kf.detach().numpy()).any()
    else:
        assert np.isfinite(kf.detach().numpy()).all()
    _close(D.kl_divergence(p["f"], p["f"]), np.zeros(kf.shape), np.float64, atol=1e-12)
    w = np.random.default_rng(2).normal(size=tuple(kt.shape))
    finite = np.isfinite(kt.detach().numpy())
    kt = torch.where(torch.tensor(finite), kt, 0.0)
    kf = fastnn.where(fastnn.tensor(finite), kf, 0.0)
    (kf * _ft(w, np.float64)).sum().backward()
    keys = [k for k in p["tP"] if k not in CONST]
    tparams = [p["tP"][k] for k in keys] + [q["tP"][k] for k in keys]
    fparams = [p["fP"][k] for k in keys] + [q["fP"][k] for k in keys]
    tg = torch.autograd.grad((kt * torch.tensor(w)).sum(), tparams, allow_unused=True)
    for fp, g in zip(fparams, tg):
        if g is not None:
            _close(fp.grad, g, np.float64, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["Gamma", "Beta", "Dirichlet", "Gumbel", "Cauchy", "Poisson"])
def test_kl_gradcheck(name):
    p, q = _make(None, name, np.float64, grad=True, seed=0), _make(None, name, np.float64,
                                                                   grad=True, seed=1)
    build = SPECS[name][1]
    kp = list(p["fP"])

    def fn(*params):
        a = build(D, dict(zip(kp, params[:len(kp)])))
        b = build(D, dict(zip(kp, params[len(kp):])))
        return D.kl_divergence(a, b)
    assert fastnn.gradcheck(fn, tuple(p["fP"].values()) + tuple(q["fP"].values()))


def test_kl_special_cases():
    torch = requires_torch()
    n8, n5 = fastnn.tensor([8.0, 5.0]), fastnn.tensor([5.0, 5.0])
    p, q = D.Binomial(n8, probs=fastnn.tensor([0.3, 0.4])), D.Binomial(n5, probs=0.5)
    k = D.kl_divergence(p, q)
    assert k[0].item() == math.inf and np.isfinite(k[1].item())
    with pytest.raises(NotImplementedError, match="total_count"):
        D.kl_divergence(q, p)
    t = D.TransformedDistribution(D.Normal(0.0, 1.0), [D.transforms.AffineTransform(0.0, 2.0)])
    u = D.TransformedDistribution(D.Normal(0.0, 1.0), [D.transforms.AffineTransform(1.0, 2.0)])
    with pytest.raises(NotImplementedError):
        D.kl_divergence(t, u)
    with pytest.raises(NotImplementedError):         # different families
        D.kl_divergence(D.Gamma(1.0, 1.0), D.Beta(1.0, 1.0))
    # Chi2 uses the Gamma rule; LogNormal the transformed-distribution one
    c = D.kl_divergence(D.Chi2(fastnn.tensor(3.0)), D.Chi2(fastnn.tensor(5.0)))
    tc = torch.distributions.kl_divergence(torch.distributions.Chi2(torch.tensor(3.0)),
                                           torch.distributions.Chi2(torch.tensor(5.0)))
    assert c.item() == pytest.approx(tc.item(), rel=1e-6)


# ------------------------------------------------------------------ sampling
SAMPLE_DTYPE_INT = set()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_sample_shape_dtype_seed_support(name):
    m = _make(None, name, np.float32)
    f = m["f"]
    fastnn.manual_seed(7)
    s = f.sample((5,))
    assert s.shape == (5,) + tuple(f.batch_shape) + tuple(f.event_shape)
    assert f.sample().shape == tuple(f.batch_shape) + tuple(f.event_shape)
    assert f.sample((2, 3)).shape[:2] == (2, 3)
    assert s.dtype == fastnn.float32 and not s.requires_grad
    assert bool(f.support.check(s).all()), name
    assert np.isfinite(f.log_prob(s).numpy()).all(), name
    fastnn.manual_seed(7)
    np.testing.assert_array_equal(f.sample((5,)).numpy(), s.numpy())
    assert not np.array_equal(f.sample((5,)).numpy(), s.numpy())
    if f.has_rsample:
        fastnn.manual_seed(7)
        np.testing.assert_array_equal(f.rsample((5,)).detach().numpy(), s.numpy())
    else:
        with pytest.raises(NotImplementedError):
            f.rsample()


N = 20000


@pytest.mark.parametrize("name", ["Gamma", "Chi2", "Beta", "Dirichlet", "Poisson",
                                  "BinomialProbs", "GeometricProbs", "NegBinomialProbs",
                                  "LogNormal", "HalfNormal", "Gumbel", "Mixture", "StudentT",
                                  "Weibull", "Multinomial", "Pareto", "InverseGammaD",
                                  "FisherSnedecor"])
def test_sample_moments(name):
    m = _make(None, name, np.float64)
    f = m["f"]
    if name == "LogNormal":                      # keep the fourth moment moderate
        f = D.LogNormal(m["fP"]["loc"] * 0.3, m["fP"]["scale"] * 0.3)
    if name == "StudentT":                       # df > 4: a finite fourth moment
        f = D.StudentT(fastnn.tensor([5.0, 8.0, 12.0], dtype=fastnn.float64), 1.0, 2.0)
    f64 = dict(dtype=fastnn.float64)
    if name == "Pareto":
        f = D.Pareto(fastnn.tensor([0.5, 2.0], **f64), fastnn.tensor([5.0, 9.0], **f64))
    if name == "InverseGammaD":
        f = D.InverseGamma(fastnn.tensor([5.0, 9.0], **f64), fastnn.tensor([0.5, 2.0], **f64))
    if name == "FisherSnedecor":
        f = D.FisherSnedecor(fastnn.tensor([3.0, 9.0], **f64), fastnn.tensor([10.0, 20.0], **f64))
    fastnn.manual_seed(0)
    x = f.sample((N,)).numpy()
    mean, var = f.mean.numpy(), f.variance.numpy()
    se = np.sqrt(var / N)
    assert np.all(np.abs(x.mean(0) - mean) < 5 * se + 1e-12), name
    # the sample variance's standard error: sqrt((m4 - var^2) / N), m4 estimated
    m4 = ((x - x.mean(0)) ** 4).mean(0)
    assert np.all(np.abs(x.var(0) - var) < 6 * np.sqrt(np.abs(m4 - var ** 2) / N) + 1e-12)


@pytest.mark.parametrize("name", ["Gamma", "Cauchy", "HalfCauchy", "HalfNormal", "Gumbel",
                                  "LogNormal", "Chi2", "InverseGamma", "Pareto", "Weibull",
                                  "InverseGammaD"])
def test_sample_cdf_at_quantiles(name):
    """The share of draws below a few of the distribution's quantiles is within
    binomial standard errors (via cdf or icdf): checks the whole law."""
    m = _make(None, name, np.float64)
    f = m["f"]
    fastnn.manual_seed(1)
    x = f.sample((N,)).numpy()
    for p in (0.1, 0.5, 0.9):
        shape = tuple(f.batch_shape)
        try:
            q = f.icdf(fastnn.full(shape, p, dtype=fastnn.float64)).numpy()
        except NotImplementedError:
            cdf = f.cdf(fastnn.tensor(x)).numpy()
            frac = (cdf < p).mean(0)
        else:
            frac = (x < q).mean(0)
        assert np.all(np.abs(frac - p) < 5 * math.sqrt(p * (1 - p) / N)), (name, p, frac)


def test_von_mises_samples():
    d = D.VonMises(fastnn.tensor([0.5, -3.0, 2.0], dtype=fastnn.float64),
                   fastnn.tensor([0.5, 3.0, 50.0], dtype=fastnn.float64))
    fastnn.manual_seed(0)
    x = d.sample((N,)).numpy()
    assert np.all((x >= -math.pi) & (x < math.pi))
    # the circular mean direction and the mean resultant length 1 - variance
    c, s = np.cos(x).mean(0), np.sin(x).mean(0)
    np.testing.assert_allclose(np.arctan2(s, c), [0.5, -3.0, 2.0], atol=0.05)
    np.testing.assert_allclose(np.hypot(c, s), 1 - d.variance.numpy(), atol=0.02)


def test_unvalidated_bad_parameters_never_hang():
    """validate_args=False with out-of-range parameters: NaN draws, not a
    rejection loop that never accepts (PyTorch's VonMises hangs on an infinite
    concentration) and not a NumPy error."""
    v = D.VonMises(fastnn.tensor([0.5, 0.5, 0.5, 0.5]),
                   fastnn.tensor([float("inf"), 0.0, -1.0, float("nan")]), validate_args=False)
    x = v.sample((3,)).numpy()
    np.testing.assert_allclose(x[:, 0], 0.5, rtol=1e-6)
    assert np.isnan(x[:, 1:]).all()
    g = D.Gamma(fastnn.tensor([-1.0, float("nan"), 0.0, 2.0]), 1.0, validate_args=False)
    y = g.sample((3,)).numpy()
    assert np.isnan(y[:, :2]).all() and (y[:, 2:] > 0).all()


def test_categorical_like_frequencies():
    """Binomial and Geometric pmfs against sample frequencies."""
    for d in (D.Binomial(6, probs=fastnn.tensor([0.2, 0.7], dtype=fastnn.float64)),
              D.Geometric(probs=fastnn.tensor([0.3, 0.6], dtype=fastnn.float64)),
              D.Poisson(fastnn.tensor([0.5, 3.0], dtype=fastnn.float64)),
              D.NegativeBinomial(2.5, probs=fastnn.tensor([0.3, 0.6], dtype=fastnn.float64))):
        fastnn.manual_seed(2)
        s = d.sample((N,)).numpy()
        for k in range(5):
            pk = d.log_prob(fastnn.full((2,), float(k), dtype=fastnn.float64)).exp().numpy()
            freq = (s == k).mean(0)
            assert np.all(np.abs(freq - pk) < 5 * np.sqrt(pk * (1 - pk) / N) + 1e-12), (d, k)


# ------------------------------------------------------------- rsample gradients
def _per_sample_grads(make, params, n=N, fn=lambda x: x, seed=0):
    """Draws one sample per copy of the parameters (each a Tensor of n equal
    values) and returns d fn(x) / d param per draw, for each parameter."""
    leaves = [fastnn.full((n,), float(p), dtype=fastnn.float64, requires_grad=True)
              for p in params]
    fastnn.manual_seed(seed)
    x = make(*leaves).rsample()
    fn(x).sum().backward()
    return x.detach().numpy(), [leaf.grad.numpy() for leaf in leaves]


def _assert_mean(samples, expected, k=5.0):
    se = samples.std() / math.sqrt(samples.size)
    assert abs(samples.mean() - expected) < k * se + 1e-12, (samples.mean(), expected, se)


@pytest.mark.parametrize("c, rate", [(0.3, 1.0), (1.5, 2.0), (4.0, 0.5), (20.0, 1.5)])
def test_gamma_rsample_gradient_statistics(c, rate):
    """E[x] = c / rate and E[x^2] = c (c + 1) / rate^2: the per-draw pathwise
    gradients average to the derivatives of these moments."""
    x, (gc, gr) = _per_sample_grads(D.Gamma, (c, rate))
    _assert_mean(x, c / rate)
    _assert_mean(gc, 1 / rate)
    _assert_mean(gr, -c / rate ** 2)
    x, (gc, gr) = _per_sample_grads(D.Gamma, (c, rate), fn=lambda x: x * x)
    _assert_mean(gc, (2 * c + 1) / rate ** 2)
    _assert_mean(gr, -2 * c * (c + 1) / rate ** 3)


def test_chi2_beta_dirichlet_studentt_rsample_gradient_statistics():
    _, (g,) = _per_sample_grads(D.Chi2, (3.0,))
    _assert_mean(g, 1.0)                               # E[x] = df
    a, b = 2.0, 0.7
    x, (ga, gb) = _per_sample_grads(D.Beta, (a, b))
    _assert_mean(x, a / (a + b))
    _assert_mean(ga, b / (a + b) ** 2)
    _assert_mean(gb, -a / (a + b) ** 2)
    alpha = fastnn.tensor([[0.8, 2.0, 3.5]] * N, dtype=fastnn.float64, requires_grad=True)
    fastnn.manual_seed(0)
    x = D.Dirichlet(alpha).rsample()
    x[:, 0].sum().backward()                            # d E[x0] / d alpha_j
    a0 = 6.3
    want = [(a0 - 0.8) / a0 ** 2, -0.8 / a0 ** 2, -0.8 / a0 ** 2]
    for j in range(3):
        _assert_mean(alpha.grad.numpy()[:, j], want[j])
    # StudentT: E[x^2] = scale^2 df / (df - 2); d/d df = -2 scale^2 / (df - 2)^2
    _, (gdf, gl, gs) = _per_sample_grads(D.StudentT, (9.0, 0.5, 1.5),
                                         fn=lambda x: (x - 0.5) ** 2)
    _assert_mean(gdf, -2 * 1.5 ** 2 / 49.0)
    _assert_mean(gs, 2 * 1.5 * 9.0 / 7.0)


def test_inverse_gamma_fisher_snedecor_straight_through_rsample_gradients():
    c, rate = 3.5, 2.0                     # E[x] = rate / (c - 1)
    x, (gc, gr) = _per_sample_grads(D.InverseGamma, (c, rate))
    _assert_mean(gc, -rate / (c - 1) ** 2)
    _assert_mean(gr, 1 / (c - 1))
    _, (g1, g2) = _per_sample_grads(D.FisherSnedecor, (4.0, 12.0))
    _assert_mean(g1, 0.0)                  # E[x] = df2 / (df2 - 2): free of df1
    _assert_mean(g2, -2 / 10.0 ** 2)
    logits = fastnn.tensor([0.2, -0.5, 1.0], dtype=fastnn.float64, requires_grad=True)
    w = fastnn.tensor([1.0, 2.0, -3.0], dtype=fastnn.float64)
    fastnn.manual_seed(0)
    x = D.OneHotCategoricalStraightThrough(logits=logits).rsample()
    assert x.shape == (3,) and sorted(x.detach().numpy().tolist()) == [0.0, 0.0, 1.0]
    (x * w).sum().backward()               # the gradient of E[x . w] = probs . w
    (want,) = fastnn.autograd.grad((logits.softmax(-1) * w).sum(), [logits])
    np.testing.assert_allclose(logits.grad.numpy(), want.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["LogNormal", "Cauchy", "HalfNormal", "HalfCauchy", "Gumbel",
                                  "LogisticNormal", "RelaxedBernoulli", "RelaxedOneHot",
                                  "TanhNormal", "AffineSigmoid", "Pareto", "Weibull"])
def test_rsample_gradcheck_fixed_noise(name):
    """Location-scale style draws are smooth in the parameters for fixed noise."""
    m = _make(None, name, np.float64, grad=True)
    build = SPECS[name][1]
    keys = [k for k in m["fP"] if k not in CONST]
    fixed = {k: v for k, v in m["fP"].items() if k in CONST}

    def fn(*params):
        fastnn.manual_seed(3)
        x = build(D, dict(zip(keys, params), **fixed)).rsample((2,))
        return (x * x).sum()
    assert fastnn.gradcheck(fn, tuple(m["fP"][k] for k in keys))


def test_relaxed_temperature_limits():
    """Low temperature: RelaxedOneHotCategorical draws approach one-hot vectors
    whose class frequencies are the probabilities."""
    probs = np.array([0.2, 0.5, 0.3])
    d = D.RelaxedOneHotCategorical(fastnn.tensor(0.02, dtype=fastnn.float64),
                                   probs=fastnn.tensor(probs))
    fastnn.manual_seed(0)
    x = d.sample((N,)).numpy()
    assert np.mean(x.max(-1) > 0.99) > 0.9
    freq = np.bincount(x.argmax(-1), minlength=3) / N
    assert np.all(np.abs(freq - probs) < 5 * np.sqrt(probs * (1 - probs) / N))
    b = D.RelaxedBernoulli(fastnn.tensor(0.05, dtype=fastnn.float64),
                           probs=fastnn.tensor([0.3], dtype=fastnn.float64))
    y = b.sample((N,)).numpy()
    assert abs((y > 0.5).mean() - 0.3) < 5 * math.sqrt(0.21 / N)
    # the temperature is differentiable too
    t = fastnn.tensor(0.7, dtype=fastnn.float64, requires_grad=True)
    D.RelaxedBernoulli(t, logits=fastnn.tensor([0.3])).rsample((4,)).sum().backward()
    assert t.grad is not None


# ---------------------------------------------------------------- expand
@pytest.mark.parametrize("name", sorted(SPECS))
def test_expand(name):
    m = _make(None, name, np.float64)
    f = m["f"]
    new_batch = (2,) + tuple(f.batch_shape)
    e = f.expand(new_batch)
    assert type(e) is type(f) and e.batch_shape == new_batch and e.event_shape == f.event_shape
    assert e.sample().shape == new_batch + tuple(f.event_shape)
    lp, lpe = f.log_prob(m["fv"]).numpy(), e.log_prob(m["fv"][:1]).numpy() if \
        len(f.batch_shape) else None
    if lpe is not None:
        np.testing.assert_allclose(lpe, np.broadcast_to(lp[:1], lpe.shape), rtol=1e-12)
    assert e._validate_args == f._validate_args


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("make, param", [
    (lambda: D.Gamma(0.0, 1.0), "concentration"),
    (lambda: D.Gamma(1.0, fastnn.tensor([1.0, -1.0])), "rate"),
    (lambda: D.Chi2(-1.0), "df"),
    (lambda: D.Beta(fastnn.tensor([1.0]), fastnn.tensor([0.0])), "concentration"),
    (lambda: D.Dirichlet(fastnn.tensor([1.0, -0.5])), "concentration"),
    (lambda: D.Poisson(-1.0), "rate"),
    (lambda: D.Binomial(2.5, probs=0.5), "total_count"),
    (lambda: D.Binomial(2, probs=1.5), "probs"),
    (lambda: D.Geometric(probs=1.2), "probs"),
    (lambda: D.NegativeBinomial(-1.0, probs=0.5), "total_count"),
    (lambda: D.NegativeBinomial(1.0, probs=1.0), "probs"),
    (lambda: D.LogNormal(0.0, -1.0), "scale"),
    (lambda: D.StudentT(0.0), "df"),
    (lambda: D.Cauchy(float("nan"), 1.0), "loc"),
    (lambda: D.HalfNormal(0.0), "scale"),
    (lambda: D.HalfCauchy(-2.0), "scale"),
    (lambda: D.Gumbel(0.0, -1.0), "scale"),
    (lambda: D.VonMises(0.0, -1.0), "concentration"),
    (lambda: D.LogisticNormal(fastnn.zeros(2), -fastnn.ones(2)), "scale"),
    (lambda: D.RelaxedBernoulli(fastnn.tensor(1.0), probs=2.0), "probs"),
    (lambda: D.Pareto(1.0, 0.0), "rate"),          # the base Exponential's, as PyTorch
    (lambda: D.Weibull(-1.0, 1.0), "scale"),
    (lambda: D.InverseGamma(1.0, -1.0), "rate"),
    (lambda: D.FisherSnedecor(1.0, 0.0), "concentration"),   # its Gamma's, as PyTorch
    (lambda: D.Multinomial(3, probs=fastnn.tensor([-0.5, 1.5])), "probs"),
])
def test_bad_parameters_raise(make, param):
    with pytest.raises(ValueError, match=f"parameter {param}"):
        make()


def test_bad_parameter_messages_like_torch():
    torch = requires_torch()
    for build in (lambda M, T: M.Gamma(T([1.0, -1.0]), 1.0),
                  lambda M, T: M.Poisson(T([-1.0, 1.0])),
                  lambda M, T: M.Geometric(probs=T([0.0, 0.5])),
                  lambda M, T: M.Dirichlet(T([1.0, -0.5]))):
        with pytest.raises(ValueError) as ef:
            build(D, fastnn.tensor)
        with pytest.raises(ValueError) as et:
            build(torch.distributions, torch.tensor)
        first = str(et.value).split("\n")[0]        # then the values, printed differently
        assert str(ef.value).replace("fastnn.", "torch.").split("\n")[0] == first


@pytest.mark.parametrize("make, value", [
    (lambda: D.Gamma(1.0, 1.0), -1.0),
    (lambda: D.Beta(1.0, 1.0), 1.5),
    (lambda: D.Dirichlet(fastnn.ones(3)), [0.5, 0.6, 0.1]),
    (lambda: D.Poisson(1.0), 1.5),
    (lambda: D.Binomial(3, probs=0.5), 4.0),
    (lambda: D.Geometric(probs=0.5), -1.0),
    (lambda: D.NegativeBinomial(2.0, probs=0.5), 0.5),
    (lambda: D.LogNormal(0.0, 1.0), 0.0),
    (lambda: D.HalfNormal(1.0), -0.5),
    (lambda: D.HalfCauchy(1.0), -0.5),
    (lambda: D.RelaxedBernoulli(fastnn.tensor(0.5), probs=0.3), 1.5),
    (lambda: D.LogisticNormal(fastnn.zeros(2), fastnn.ones(2)), [0.5, 0.6, 0.1]),
    (lambda: D.MixtureSameFamily(D.Categorical(logits=fastnn.zeros(2)),
                                 D.Gamma(fastnn.ones(2), 1.0)), -1.0),
    (lambda: D.Pareto(2.0, 1.0), 1.5),
    (lambda: D.Multinomial(3, logits=fastnn.zeros(2)), [3.0, 1.0]),
    (lambda: D.Multinomial(3, logits=fastnn.zeros(2)), [-1.0, 1.0]),
])
def test_out_of_support_log_prob_raises(make, value):
    with pytest.raises(ValueError, match="support"):
        make().log_prob(fastnn.tensor(value))


def test_argument_errors():
    for cls in (D.Binomial, D.NegativeBinomial):
        with pytest.raises(ValueError, match="Either `probs` or `logits`"):
            cls(2.0)
    for kw in ({}, dict(probs=0.5, logits=0.0)):
        with pytest.raises(ValueError, match="Either `probs` or `logits`"):
            D.Geometric(**kw)
        with pytest.raises(ValueError, match="Either `probs` or `logits`"):
            D.RelaxedBernoulli(fastnn.tensor(1.0), **kw)
    with pytest.raises(ValueError, match="at least one-dimensional"):
        D.Dirichlet(fastnn.tensor(1.0))
    with pytest.raises(ValueError, match="Categorical"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(fastnn.zeros(2), 1.0))
    with pytest.raises(ValueError, match="Distribution"):
        D.MixtureSameFamily(D.Categorical(logits=fastnn.zeros(2)), 3)
    with pytest.raises(ValueError, match="does not equal"):
        D.MixtureSameFamily(D.Categorical(logits=fastnn.zeros(3)), D.Normal(fastnn.zeros(2), 1.0))
    with pytest.raises(ValueError, match="not compatible"):
        D.MixtureSameFamily(D.Categorical(logits=fastnn.zeros(4, 2)),
                            D.Normal(fastnn.zeros(3, 2), 1.0))
    with pytest.raises(ValueError, match="transforms must be"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), "exp")
    with pytest.raises(ValueError, match="transforms must be"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), [D.transforms.ExpTransform(), 1])
    with pytest.raises(NotImplementedError, match="Inhomogeneous"):
        D.Binomial(fastnn.tensor([2.0, 3.0]), probs=0.5).entropy()
    with pytest.raises(NotImplementedError, match="Inhomogeneous"):
        D.Binomial(fastnn.tensor([2.0, 3.0]), probs=0.5).enumerate_support()
    with pytest.raises(NotImplementedError):
        D.Poisson(1.0).entropy()
    # an unbatched Categorical draws a 0-d index (a regression test)
    assert D.Categorical(logits=fastnn.zeros(3)).sample().shape == ()
    assert D.OneHotCategorical(logits=fastnn.zeros(3)).sample().shape == (3,)
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
        D.Multinomial(fastnn.tensor(3), probs=fastnn.ones(2))
    # validate_args=False lets bad values through, as in PyTorch
    D.Gamma(-1.0, 1.0, validate_args=False)
    assert D.Gamma(1.0, 1.0, validate_args=False).log_prob(fastnn.tensor(-1.0)).item() == 1.0

    class MyGamma(D.Gamma):
        def __init__(self, c):
            super().__init__(c, 1.0)
    with pytest.raises(NotImplementedError, match="custom .expand"):
        MyGamma(2.0).expand((3,))


def test_gamma_log_prob_accepts_numbers_and_small_alpha_draws_stay_positive():
    d = D.Gamma(fastnn.tensor([0.01, 0.05], dtype=fastnn.float32), 1.0)
    assert d.log_prob(1.0).shape == (2,)
    fastnn.manual_seed(0)
    x = d.sample((2000,)).numpy()
    assert (x > 0).all() and np.isfinite(d.log_prob(fastnn.tensor(x)).numpy()).all()
    dd = D.Dirichlet(fastnn.tensor([0.05, 0.05, 0.05]))
    s = dd.sample((500,)).numpy()
    assert (s > 0).all() and np.allclose(s.sum(-1), 1, atol=1e-5)


def test_repr_of_one_element_parameters_as_torch():
    torch = pytest.importorskip("torch")
    for build in (lambda M, T: M.Normal(T([[0.5]]), 1.0),
                  lambda M, T: M.Bernoulli(T([0.3])),
                  lambda M, T: M.Normal(T(0.5), T(1.0)),
                  lambda M, T: M.Categorical(probs=T([1.0])),
                  lambda M, T: M.Normal(T([0.0, 1.0]), 1.0)):
        f, t = build(D, fastnn.tensor), build(torch.distributions, torch.tensor)
        assert repr(f).replace("fastnn.", "torch.") == repr(t)
