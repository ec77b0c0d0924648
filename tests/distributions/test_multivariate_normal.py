"""fastnn.distributions.MultivariateNormal against torch.distributions: the
three parameterisations, batch broadcasting, log_prob / entropy / moments /
derived matrices, gradients through log_prob, rsample and KL (against
PyTorch and by gradcheck), sampling statistics, expand, validation, and the
matrix constraints."""
import numpy as np
import pytest

import fastnn
from fastnn.distributions import (LowRankMultivariateNormal, MultivariateNormal, constraints,
                                 kl_divergence)
from fastnn.testing import requires_torch

K = 3
KINDS = ["covariance_matrix", "precision_matrix", "scale_tril"]


def _spd(rng, *batch):
    x = rng.standard_normal(batch + (K, K))
    return x @ np.swapaxes(x, -1, -2) + K * np.eye(K)


def _param(kind, s):
    return np.linalg.cholesky(s) if kind == "scale_tril" else \
        (np.linalg.inv(s) if kind == "precision_matrix" else s)


def _pair(torch, kind, loc, mat, grad=False):
    f = MultivariateNormal(fastnn.tensor(loc, requires_grad=grad),
                           **{kind: fastnn.tensor(mat, requires_grad=grad)})
    t = torch.distributions.MultivariateNormal(torch.tensor(loc, requires_grad=grad),
                                               **{kind: torch.tensor(mat, requires_grad=grad)})
    return f, t


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loc_shape,mat_batch", [((K,), ()), ((2, 1, K), (3,)), ((4, K), (4,)),
                                                 ((K,), (2, 3))])
def test_values_match_torch(kind, loc_shape, mat_batch):
    torch = requires_torch()
    rng = np.random.default_rng(0)
    loc, mat = rng.standard_normal(loc_shape), _param(kind, _spd(rng, *mat_batch))
    f, t = _pair(torch, kind, loc, mat)
    assert tuple(f.batch_shape) == tuple(t.batch_shape)
    assert tuple(f.event_shape) == tuple(t.event_shape) == (K,)
    x = rng.standard_normal((2,) + tuple(t.batch_shape) + (K,))
    checks = [(f.log_prob(fastnn.tensor(x)), t.log_prob(torch.tensor(x))),
              (f.entropy(), t.entropy()), (f.mean, t.mean), (f.mode, t.mode),
              (f.variance, t.variance), (f.stddev, t.stddev), (f.scale_tril, t.scale_tril),
              (f.covariance_matrix, t.covariance_matrix),
              (f.precision_matrix, t.precision_matrix)]
    for a, b in checks:
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


def test_float32():
    torch = requires_torch()
    rng = np.random.default_rng(1)
    loc, s = rng.standard_normal(K).astype(np.float32), _spd(rng, 2).astype(np.float32)
    f, t = _pair(torch, "covariance_matrix", loc, s)
    x = rng.standard_normal((5, 2, K)).astype(np.float32)
    r = f.log_prob(fastnn.tensor(x))
    assert r.dtype == fastnn.float32 and f.rsample().dtype == fastnn.float32
    np.testing.assert_allclose(r.numpy(), t.log_prob(torch.tensor(x)).numpy(), rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_torch(kind):
    torch = requires_torch()
    rng = np.random.default_rng(2)
    loc, mat = rng.standard_normal((2, K)), _param(kind, _spd(rng, 2))
    x = rng.standard_normal((4, 2, K))
    grads = []
    for mod, dist in ((fastnn, MultivariateNormal),
                      (torch, torch.distributions.MultivariateNormal)):
        leaves = [mod.tensor(loc, requires_grad=True), mod.tensor(mat, requires_grad=True)]
        d = dist(leaves[0], **{kind: leaves[1]})
        loss = d.log_prob(mod.tensor(x)).sum() + d.entropy().sum() + d.variance.sum()
        loss.backward()
        grads.append([p.grad.numpy() for p in leaves])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_log_prob_entropy_rsample(kind):
    rng = np.random.default_rng(3)
    loc, s = rng.standard_normal((2, K)), _spd(rng, 2)
    mat = _param(kind, s)
    x = fastnn.tensor(rng.standard_normal((3, 2, K)))
    w = fastnn.tensor(rng.standard_normal((3, 2)))
    sym = (lambda m: (m + m.mT) * 0.5) if kind != "scale_tril" else (lambda m: m.tril())

    def make(lo, m):
        return MultivariateNormal(lo, **{kind: sym(m)})
    params = [fastnn.tensor(loc, requires_grad=True), fastnn.tensor(mat, requires_grad=True)]
    assert fastnn.gradcheck(lambda lo, m: (make(lo, m).log_prob(x) * w).sum()
                            + make(lo, m).entropy().sum(), params)

    def draw(lo, m):
        fastnn.manual_seed(7)
        return (make(lo, m).rsample((4,)) * fastnn.tensor(np.arange(1.0, K + 1))).sum()
    assert fastnn.gradcheck(draw, params)


def test_rsample_is_loc_plus_scale_tril_eps():
    rng = np.random.default_rng(4)
    loc, s = rng.standard_normal((2, K)), _spd(rng, 2)
    d = MultivariateNormal(fastnn.tensor(loc), covariance_matrix=fastnn.tensor(s))
    fastnn.manual_seed(3)
    r = d.rsample((5,)).numpy()
    fastnn.manual_seed(3)
    eps = fastnn.randn(5, 2, K, dtype=fastnn.float64).numpy()
    ref = loc + np.einsum("bij,sbj->sbi", np.linalg.cholesky(s), eps)
    np.testing.assert_allclose(r, ref, rtol=1e-12)
    assert not d.sample().requires_grad


def test_sample_moments():
    rng = np.random.default_rng(5)
    loc, s = rng.standard_normal(K), _spd(rng) / K
    fastnn.manual_seed(0)
    d = MultivariateNormal(fastnn.tensor(loc), precision_matrix=fastnn.tensor(np.linalg.inv(s)))
    x = d.sample((40000,)).numpy()
    assert x.shape == (40000, K)
    np.testing.assert_allclose(x.mean(0), loc, atol=0.03)
    np.testing.assert_allclose(np.cov(x.T), s, atol=0.05)


@pytest.mark.parametrize("kp,kq", [("covariance_matrix", "scale_tril"),
                                   ("precision_matrix", "covariance_matrix"),
                                   ("scale_tril", "precision_matrix")])
def test_kl_matches_torch_and_gradcheck(kp, kq):
    torch = requires_torch()
    rng = np.random.default_rng(6)
    lp, mp = rng.standard_normal((2, 1, K)), _param(kp, _spd(rng, 3))
    lq, mq = rng.standard_normal(K), _param(kq, _spd(rng, 2, 1))
    fp, tp = _pair(torch, kp, lp, mp)
    fq, tq = _pair(torch, kq, lq, mq)
    r, s = kl_divergence(fp, fq), torch.distributions.kl_divergence(tp, tq)
    assert tuple(r.shape) == tuple(s.shape) == (2, 3)
    np.testing.assert_allclose(r.numpy(), s.numpy(), rtol=1e-10)
    assert np.allclose(kl_divergence(fp, fp).numpy(), 0.0, atol=1e-12)
    symp = (lambda m: (m + m.mT) * 0.5) if kp != "scale_tril" else (lambda m: m.tril())
    symq = (lambda m: (m + m.mT) * 0.5) if kq != "scale_tril" else (lambda m: m.tril())
    params = [fastnn.tensor(a, requires_grad=True) for a in (lp, mp, lq, mq)]
    assert fastnn.gradcheck(lambda a, b, c, d: kl_divergence(
        MultivariateNormal(a, **{kp: symp(b)}), MultivariateNormal(c, **{kq: symq(d)})).sum(),
        params)


def test_expand_and_repr():
    rng = np.random.default_rng(7)
    d = MultivariateNormal(fastnn.tensor(rng.standard_normal(K)),
                           covariance_matrix=fastnn.tensor(_spd(rng)))
    e = d.expand((4, 2))
    assert e.batch_shape == (4, 2) and e.event_shape == (K,)
    assert e.covariance_matrix.shape == (4, 2, K, K) and e.loc.shape == (4, 2, K)
    x = fastnn.tensor(rng.standard_normal((4, 2, K)))
    np.testing.assert_allclose(e.log_prob(x).numpy(), d.log_prob(x).numpy())
    assert e.sample((3,)).shape == (3, 4, 2, K)
    assert e.entropy().shape == (4, 2)
    assert repr(d).startswith("MultivariateNormal(loc: fastnn.Size([3]), covariance_matrix:")


def test_bad_arguments():
    loc, eye = fastnn.zeros(K), fastnn.eye(K)
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix"):
        MultivariateNormal(loc)
    with pytest.raises(ValueError, match="Exactly one of"):
        MultivariateNormal(loc, covariance_matrix=eye, scale_tril=eye)
    with pytest.raises(ValueError, match="at least one-dimensional"):
        MultivariateNormal(fastnn.tensor(0.0), covariance_matrix=eye)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        MultivariateNormal(loc, scale_tril=fastnn.ones(K))
    with pytest.raises(ValueError, match="PositiveDefinite"):
        MultivariateNormal(loc, covariance_matrix=-eye)
    with pytest.raises(ValueError, match="LowerCholesky"):
        MultivariateNormal(loc, scale_tril=fastnn.ones(K, K))
    with pytest.raises(ValueError, match="shape"):
        MultivariateNormal(loc, covariance_matrix=fastnn.eye(K + 1))
    with pytest.raises(fastnn.linalg.LinAlgError, match="not positive-definite"):
        MultivariateNormal(loc, covariance_matrix=-eye, validate_args=False)
    MultivariateNormal(loc, scale_tril=-eye, validate_args=False)      # not checked
    d = MultivariateNormal(loc, scale_tril=eye)
    with pytest.raises(ValueError, match="event_shape"):
        d.log_prob(fastnn.zeros(K + 1))


def test_matrix_constraints():
    torch = requires_torch()
    mats = np.array([[[2.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]],
                     [[1.0, 2.0], [0.0, 1.0]], [[1.0, 0.0], [2.0, -1.0]]])
    names = ["positive_definite", "positive_semidefinite", "symmetric", "lower_triangular",
             "lower_cholesky", "square"]
    for name in names:
        for sel in (slice(0, 3), slice(0, 5), slice(3, 5)):
            r = getattr(constraints, name).check(fastnn.tensor(mats[sel]))
            s = getattr(torch.distributions.constraints, name).check(torch.tensor(mats[sel]))
            assert r.tolist() == s.tolist(), (name, sel)
        assert getattr(constraints, name).event_dim == 2
    assert constraints.positive_definite.check(fastnn.tensor(mats[:2])).tolist() == [True, False]
    assert constraints.square.check(fastnn.ones(4, 2, 3)).tolist() == [False] * 4


def test_program_written_for_pytorch():
    """A Gaussian-process style fit: learn a Cholesky factor by maximum
    likelihood, as a PyTorch user writes it (``import fastnn as torch``)."""
    torch = fastnn
    torch.manual_seed(0)
    true = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.8, 0.0], [-0.3, 0.2, 0.6]])
    data = torch.distributions.MultivariateNormal(torch.zeros(3), scale_tril=true).sample((2000,))
    raw = torch.zeros(3, 3, requires_grad=True)
    mu = torch.zeros(3, requires_grad=True)
    opt = torch.optim.Adam([raw, mu], lr=0.05)
    for _ in range(300):
        scale = torch.tril(raw, -1) + torch.diag_embed(torch.nn.functional.softplus(
            torch.diagonal(raw)) + 1e-3)
        nll = -torch.distributions.MultivariateNormal(mu, scale_tril=scale).log_prob(data).mean()
        opt.zero_grad()
        nll.backward()
        opt.step()
    cov = (scale @ scale.T).detach().numpy()
    np.testing.assert_allclose(cov, (true @ true.T).numpy(), atol=0.1)
    assert torch.linalg.det(scale).item() > 0


# ------------------------------------------------------------ low rank
def _lowrank(mod, loc, w, d, grad=False):
    cls = LowRankMultivariateNormal if mod is fastnn else \
        mod.distributions.LowRankMultivariateNormal
    return cls(*(mod.tensor(a, requires_grad=grad) for a in (loc, w, d)))


@pytest.mark.parametrize("shapes", [((K,), (K, 2), (K,)), ((2, 1, K), (3, K, 1), (K,)),
                                    ((K,), (K, 4), (2, K))])
def test_lowrank_values_match_torch(shapes):
    torch = requires_torch()
    rng = np.random.default_rng(10)
    loc, w = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    d = rng.uniform(0.5, 2.0, shapes[2])
    f, t = _lowrank(fastnn, loc, w, d), _lowrank(torch, loc, w, d)
    assert tuple(f.batch_shape) == tuple(t.batch_shape)
    x = rng.standard_normal((2,) + tuple(t.batch_shape) + (K,))
    for a, b in [(f.log_prob(fastnn.tensor(x)), t.log_prob(torch.tensor(x))),
                 (f.entropy(), t.entropy()), (f.mean, t.mean), (f.variance, t.variance),
                 (f.scale_tril, t.scale_tril), (f.covariance_matrix, t.covariance_matrix),
                 (f.precision_matrix, t.precision_matrix)]:
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = MultivariateNormal(fastnn.tensor(loc), covariance_matrix=f.covariance_matrix)
    np.testing.assert_allclose(f.log_prob(fastnn.tensor(x)).numpy(),
                               g.log_prob(fastnn.tensor(x)).numpy(), rtol=1e-10)
    assert f.expand((5,) + tuple(f.batch_shape)).sample((2,)).shape == \
        (2, 5) + tuple(f.batch_shape) + (K,)


def test_lowrank_gradients_and_kl():
    torch = requires_torch()
    rng = np.random.default_rng(11)
    loc, w, d = rng.standard_normal((2, K)), rng.standard_normal((K, 2)), rng.uniform(0.5, 2, K)
    x = rng.standard_normal((4, 2, K))
    grads = []
    for mod in (fastnn, torch):
        leaves = [mod.tensor(a, requires_grad=True) for a in (loc, w, d)]
        cls = LowRankMultivariateNormal if mod is fastnn else \
            torch.distributions.LowRankMultivariateNormal
        dist = cls(*leaves)
        (dist.log_prob(mod.tensor(x)).sum() + dist.entropy().sum()).backward()
        grads.append([p.grad.numpy() for p in leaves])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    params = [fastnn.tensor(a, requires_grad=True) for a in (loc, w, d)]
    xs = fastnn.tensor(x)
    def loss(a, b, c):
        dist = LowRankMultivariateNormal(a, b, c)
        fastnn.manual_seed(1)
        return dist.log_prob(xs).sum() + (dist.rsample((2,)) * fastnn.tensor([1.0, 2.0, 3.0])).sum()
    assert fastnn.gradcheck(loss, params)
    s = _spd(rng)
    pairs = [(_lowrank(fastnn, loc, w, d), _lowrank(torch, loc, w, d)),
             (MultivariateNormal(fastnn.tensor(loc[0]), covariance_matrix=fastnn.tensor(s)),
              torch.distributions.MultivariateNormal(torch.tensor(loc[0]),
                                                     covariance_matrix=torch.tensor(s)))]
    for fp, tp in pairs:
        for fq, tq in pairs:
            np.testing.assert_allclose(kl_divergence(fp, fq).numpy(),
                                       torch.distributions.kl_divergence(tp, tq).numpy(),
                                       rtol=1e-10, atol=1e-12)


def test_lowrank_bad_arguments():
    with pytest.raises(ValueError, match="shape 3 x m"):
        LowRankMultivariateNormal(fastnn.zeros(K), fastnn.ones(K + 1, 1), fastnn.ones(K))
    with pytest.raises(ValueError, match="cov_diag"):
        LowRankMultivariateNormal(fastnn.zeros(K), fastnn.ones(K, 1), -fastnn.ones(K))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        LowRankMultivariateNormal(fastnn.tensor(0.0), fastnn.ones(K, 1), fastnn.ones(K))
