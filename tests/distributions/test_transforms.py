"""fastnn.distributions.transforms, biject_to/transform_to and
TransformedDistribution against torch.distributions: forward and inverse
maps, log |det J| (also against autograd's derivative), domains, signs,
shapes, caching, equality, composition and event dims."""
import numpy as np
import pytest

import fastnn
import fastnn.distributions as D
from fastnn.distributions import constraints
from fastnn.distributions import transforms as T
from fastnn.testing import requires_torch


def _ft(a, grad=False):
    return fastnn.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _close(a, b, **kw):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    kw.setdefault("rtol", 1e-10)
    kw.setdefault("atol", 1e-12)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, **kw)


R = np.random.default_rng(0)
LOC, SCALE = R.normal(size=(4,)), R.uniform(-2, 2, size=(3, 4))

# name -> (build(module, tensor) -> transform, x in the domain)
TRANSFORMS = {
    "Exp": (lambda M, t: M.ExpTransform(), R.normal(size=(3, 4))),
    "Sigmoid": (lambda M, t: M.SigmoidTransform(), 3 * R.normal(size=(3, 4))),
    "Tanh": (lambda M, t: M.TanhTransform(), R.normal(size=(3, 4))),
    "Softplus": (lambda M, t: M.SoftplusTransform(), 3 * R.normal(size=(3, 4))),
    "Power": (lambda M, t: M.PowerTransform(t(np.array([0.5, -1.0, 2.0, 3.0]))),
              R.uniform(0.2, 3, size=(3, 4))),
    "AffineNum": (lambda M, t: M.AffineTransform(1.5, -2.0), R.normal(size=(3, 4))),
    "AffineTensor": (lambda M, t: M.AffineTransform(t(LOC), t(SCALE)), R.normal(size=(3, 4))),
    "AffineEvent": (lambda M, t: M.AffineTransform(t(LOC), t(SCALE), event_dim=1),
                    R.normal(size=(3, 4))),
    "StickBreaking": (lambda M, t: M.StickBreakingTransform(), R.normal(size=(3, 4))),
    "Compose": (lambda M, t: M.ComposeTransform([M.AffineTransform(t(LOC), 0.5),
                                                 M.SigmoidTransform(),
                                                 M.AffineTransform(0.0, 2.0)]),
                R.normal(size=(3, 4))),
    "ComposeEvent": (lambda M, t: M.ComposeTransform([M.ExpTransform(),
                                                      M.StickBreakingTransform()]),
                     R.normal(size=(3, 4))),
    "Independent": (lambda M, t: M.IndependentTransform(M.ExpTransform(), 2),
                    R.normal(size=(3, 4))),
    "Reshape": (lambda M, t: M.ReshapeTransform((4,), (2, 2)), R.normal(size=(3, 4))),
    "InverseExp": (lambda M, t: M.ExpTransform().inv, R.uniform(0.1, 3, size=(3, 4))),
    "CDF": (lambda M, t: M.CumulativeDistributionTransform(
        __import__(M.__name__.rsplit(".", 1)[0], fromlist=["Normal"]).Normal(
            t(np.array(0.5)), t(np.array(2.0)))), R.normal(size=(3, 4))),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_matches_torch(name):
    torch = requires_torch()
    build, x = TRANSFORMS[name]
    ft = build(T, lambda a: _ft(a))
    tt = build(torch.distributions.transforms, lambda a: torch.tensor(a))
    fx, tx = _ft(x, grad=True), torch.tensor(x, requires_grad=True)
    fy, ty = ft(fx), tt(tx)
    _close(fy, ty)
    _close(ft.inv(fy), tt.inv(ty), rtol=1e-8, atol=1e-10)
    assert repr(ft.domain) == repr(tt.domain) and repr(ft.codomain) == repr(tt.codomain)
    assert ft.domain.event_dim == tt.domain.event_dim
    assert ft.codomain.event_dim == tt.codomain.event_dim
    assert ft.bijective == tt.bijective
    assert tuple(ft.forward_shape(fastnn.Size((5, 3, 4)))) == tuple(
        tt.forward_shape(torch.Size((5, 3, 4))))
    yshape = tuple(tt.forward_shape(torch.Size((3, 4))))
    assert tuple(ft.inverse_shape(fastnn.Size(yshape))) == tuple(tt.inverse_shape(
        torch.Size(yshape)))
    assert bool(ft.codomain.check(fy).all())
    if ft.bijective:
        fl, tl = ft.log_abs_det_jacobian(fx, fy), tt.log_abs_det_jacobian(tx, ty)
        _close(fl, tl, rtol=1e-9, atol=1e-11)
        if tl.requires_grad:                   # (affine and reshape: constant in x)
            w = np.random.default_rng(1).normal(size=tuple(tl.shape))
            (fl * _ft(w)).sum().backward()
            gx, = torch.autograd.grad((tl * torch.tensor(w)).sum(), [tx])
            _close(fx.grad, gx, rtol=1e-8, atol=1e-10)
        try:
            ts = tt.sign
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                ft.sign
        else:
            _close(ft.sign, ts.detach() if hasattr(ts, "detach") else ts)
    if "Event" not in name and name not in ("Reshape", "Independent", "Compose"):
        assert repr(ft) == repr(tt)


@pytest.mark.parametrize("name", ["Exp", "Sigmoid", "Tanh", "Softplus", "Power", "AffineNum",
                                  "AffineTensor", "Compose", "InverseExp", "CDF"])
def test_log_abs_det_jacobian_is_log_derivative(name):
    """For elementwise transforms log |dy/dx| equals the log of autograd's derivative."""
    build, x = TRANSFORMS[name]
    t = build(T, _ft)
    fx = _ft(x, grad=True)
    y = t(fx)
    (dy,) = fastnn.autograd.grad(y.sum(), [fx])
    _close(t.log_abs_det_jacobian(fx, y), np.log(np.abs(dy.numpy())), rtol=1e-9, atol=1e-11)


def test_inverse_cache_equality_and_compose():
    e = T.ExpTransform()
    assert e.inv.inv is e and e.inv is e.inv
    assert e == T.ExpTransform() and e != T.SigmoidTransform() and e.inv == T.ExpTransform().inv
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.AffineTransform(_ft([1.0, 2.0]), 2.0) == T.AffineTransform(_ft([1.0, 2.0]), 2.0)
    assert T.PowerTransform(_ft(2.0)) == T.PowerTransform(_ft(2.0))
    assert T.ComposeTransform([e, T.TanhTransform()]) == T.ComposeTransform(
        [T.ExpTransform(), T.TanhTransform()])
    # caching: the inverse of the last output is the input object itself
    c = T.TanhTransform(cache_size=1)
    x = _ft([0.5, 30.0])
    y = c(x)
    assert c.inv(y) is x and c(x) is y
    assert T.TanhTransform().with_cache(1)._cache_size == 1
    assert T.AffineTransform(0.0, 2.0).with_cache(1)._cache_size == 1
    with pytest.raises(ValueError, match="cache_size"):
        T.ExpTransform(cache_size=2)
    # composition order and its inverse
    t = T.ComposeTransform([T.AffineTransform(1.0, 2.0), T.ExpTransform()])
    y = t(_ft([0.0, 0.5]))
    _close(y, np.exp([1.0, 2.0]))
    _close(t.inv(y), [0.0, 0.5])
    assert t.inv.inv is t and t.sign == 1
    assert T.identity_transform(x) is x and T.identity_transform.inv(x) is x
    assert T.AffineTransform(0.0, -2.0).sign == -1
    np.testing.assert_array_equal(T.AffineTransform(0.0, _ft([-2.0, 3.0])).sign.numpy(),
                                  [-1.0, 1.0])
    with pytest.raises(NotImplementedError):
        T.AbsTransform().log_abs_det_jacobian(x, x)
    with pytest.raises(ValueError, match="numbers of elements"):
        T.ReshapeTransform((4,), (3,))
    assert T.StickBreakingTransform().event_dim == 1 and T.ExpTransform().event_dim == 0
    assert T.AffineTransform(0.0, 1.0, event_dim=2).event_dim == 2


def _constraint_pairs(C):
    return [C.real, C.positive, C.nonnegative, C.unit_interval, C.simplex, C.greater_than(2.0),
            C.greater_than_eq(-1.0), C.less_than(-1.0), C.interval(-1.0, 3.0),
            C.half_open_interval(0.0, 2.0), C.real_vector, C.independent(C.positive, 1)]


@pytest.mark.parametrize("i", range(12))
def test_biject_to_and_transform_to(i):
    torch = requires_torch()
    cons = _constraint_pairs(constraints)[i]
    tcons = _constraint_pairs(torch.distributions.constraints)[i]
    x = np.random.default_rng(3).normal(size=(3, 4))
    for freg, treg in ((D.biject_to, torch.distributions.biject_to),
                       (D.transform_to, torch.distributions.transform_to)):
        ft, tt = freg(cons), treg(tcons)
        assert repr(ft) == repr(tt)
        fy, ty = ft(_ft(x)), tt(torch.tensor(x))
        _close(fy, ty)
        assert bool(cons.check(fy).all())
        if ft.bijective:
            _close(ft.inv(fy), x, rtol=1e-7, atol=1e-9)
            _close(ft.log_abs_det_jacobian(_ft(x), fy),
                   tt.log_abs_det_jacobian(torch.tensor(x), ty), rtol=1e-9, atol=1e-11)


def test_registry_errors_and_register():
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
        D.biject_to(constraints.boolean)
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        D.transform_to.register(int, lambda c: T.ExpTransform())
    reg = D.constraint_registry.ConstraintRegistry()

    @reg.register(constraints.positive)
    def _softplus(c):
        return T.SoftplusTransform()
    assert isinstance(reg(constraints.greater_than(0.0)), T.SoftplusTransform)


def test_transform_to_optimises_a_constrained_parameter():
    """The common use: an unconstrained leaf mapped onto the simplex and the
    positive reals, trained with an optimiser."""
    u = fastnn.zeros(3, requires_grad=True)
    v = fastnn.zeros(1, requires_grad=True)
    opt = fastnn.optim.Adam([u, v], lr=0.1)
    target = fastnn.tensor([0.2, 0.3, 0.5])
    for _ in range(300):
        probs = D.transform_to(constraints.simplex)(u)
        rate = D.transform_to(constraints.positive)(v)
        loss = ((probs - target) ** 2).sum() + ((rate - 3.0) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(probs.detach().numpy(), target.numpy(), atol=1e-3)
    assert abs(rate.item() - 3.0) < 1e-2


# ------------------------------------------------- TransformedDistribution
def test_transformed_distribution_shapes_and_values():
    torch = requires_torch()
    TD = torch.distributions
    loc = np.random.default_rng(4).normal(size=(2, 3))
    cases = [
        (lambda M, t: M.TransformedDistribution(M.Normal(t(loc), 1.0),
                                                [M.transforms.StickBreakingTransform()]),
         np.random.default_rng(5).dirichlet(np.ones(4), size=(5, 2))),
        (lambda M, t: M.TransformedDistribution(M.Normal(t(loc), 1.0),
                                                M.transforms.ReshapeTransform((3,), (3, 1))),
         np.random.default_rng(5).normal(size=(5, 2, 3, 1))),
        (lambda M, t: M.TransformedDistribution(
            M.Normal(t(loc), 1.0), [M.transforms.AffineTransform(t(loc), 2.0, event_dim=1)]),
         np.random.default_rng(5).normal(size=(5, 2, 3))),
        (lambda M, t: M.TransformedDistribution(M.Normal(t(loc), 1.0), []),
         np.random.default_rng(5).normal(size=(5, 2, 3))),
        (lambda M, t: M.TransformedDistribution(M.Normal(0.0, 1.0),
                                                [M.transforms.AffineTransform(t(loc), 2.0)]),
         np.random.default_rng(5).normal(size=(5, 2, 3))),
    ]
    for build, v in cases:
        f, t = build(D, _ft), build(TD, torch.tensor)
        assert f.batch_shape == t.batch_shape and f.event_shape == t.event_shape, t
        assert f.base_dist.batch_shape == t.base_dist.batch_shape
        assert repr(f.support) == repr(t.support)
        _close(f.log_prob(_ft(v)), t.log_prob(torch.tensor(v)))
        assert f.sample((5,)).shape == (5,) + tuple(t.batch_shape) + tuple(t.event_shape)
        e = f.expand((4,) + tuple(f.batch_shape))
        assert e.batch_shape == (4,) + tuple(f.batch_shape) and e.event_shape == f.event_shape


def test_transformed_cdf_icdf_with_a_decreasing_transform():
    torch = requires_torch()
    TD = torch.distributions
    f = D.TransformedDistribution(D.Normal(_ft(0.0), _ft(1.0)), [
        D.transforms.AffineTransform(1.0, -2.0), D.transforms.ExpTransform()])
    t = TD.TransformedDistribution(TD.Normal(torch.tensor(0.0, dtype=torch.float64), 1.0), [
        TD.transforms.AffineTransform(1.0, -2.0), TD.transforms.ExpTransform()])
    v = np.array([0.1, 1.0, 5.0])
    _close(f.cdf(_ft(v)), t.cdf(torch.tensor(v)))
    q = np.array([0.1, 0.5, 0.9])
    _close(f.icdf(_ft(q)), t.icdf(torch.tensor(q)), rtol=1e-9)
    c = f.cdf(_ft(v)).numpy()
    assert np.all(np.diff(c) > 0)


def test_tanh_squashed_gaussian_policy_like_sac():
    """A SAC-style policy: rsample through tanh, log_prob of the action with the
    Jacobian correction, gradients equal PyTorch's for the same noise."""
    torch = requires_torch()
    TD = torch.distributions
    r = np.random.default_rng(6)
    mu, log_std = r.normal(size=(5, 2)), r.normal(size=(5, 2)) * 0.3
    eps = r.normal(size=(5, 2))
    fmu, fls = _ft(mu, True), _ft(log_std, True)
    tmu, tls = torch.tensor(mu, requires_grad=True), torch.tensor(log_std, requires_grad=True)
    results = []
    for M, t, m_, s_ in ((D, _ft, fmu, fls), (TD, torch.tensor, tmu, tls)):
        d = M.TransformedDistribution(M.Independent(M.Normal(m_, s_.exp()), 1),
                                      [M.transforms.TanhTransform(cache_size=1)])
        pre = m_ + s_.exp() * t(eps)               # the same noise in both libraries
        action = d.transforms[0](pre)
        logp = d.log_prob(action)
        loss = (logp - (action ** 2).sum(-1)).mean()
        loss.backward()
        results.append((action, logp, loss))
    for a, b in zip(*results):
        _close(a, b, rtol=1e-9)
    _close(fmu.grad, tmu.grad, rtol=1e-8)
    _close(fls.grad, tls.grad, rtol=1e-8)
