"""F.rrelu / nn.RReLU (eval vs PyTorch; training: slope range and mean,
gradient = saved slope, seeding; gradcheck does not apply to a random op),
F.lp_pool1d/2d / nn.LPPool1d/2d, F.multilabel_margin_loss /
nn.MultiLabelMarginLoss and F.triplet_margin_with_distance_loss /
nn.TripletMarginWithDistanceLoss: values and gradients vs PyTorch, reprs,
errors."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.testing import requires_torch

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-5)}


# ------------------------------------------------------------------ rrelu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lower,upper", [(1 / 8, 1 / 3), (0.1, 0.1), (0.0, 0.9)])
def test_rrelu_eval_matches_torch(lower, upper, dtype):
    torch = requires_torch()
    a = np.random.default_rng(0).standard_normal((3, 7)).astype(dtype)
    a[0, 0] = 0
    xf, xt = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    yf = F.rrelu(xf, lower, upper)
    yt = torch.nn.functional.rrelu(xt, lower, upper)
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), **TOL[dtype])
    g = np.random.default_rng(1).standard_normal(a.shape).astype(dtype)
    yf.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(fastnn.rrelu(fastnn.tensor(a), lower, upper).numpy(),
                               yt.detach().numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rrelu_training_slopes_and_gradient(dtype):
    lower, upper = 0.2, 0.6
    a = np.random.default_rng(2).standard_normal(20000).astype(dtype)
    a[:10] = 0                          # x <= 0 draws a slope too (PyTorch's rule)
    x = fastnn.tensor(a, requires_grad=True)
    y = F.rrelu(x, lower, upper, training=True)
    y.sum().backward()
    yv, gv = y.detach().numpy(), x.grad.numpy()
    pos, neg = a > 0, a < 0
    np.testing.assert_array_equal(yv[pos], a[pos])
    np.testing.assert_array_equal(gv[pos], 1)
    assert gv.dtype == dtype and yv.dtype == dtype
    slope = yv[neg] / a[neg]
    assert slope.min() >= lower - 1e-6 and slope.max() <= upper + 1e-6
    assert len(np.unique(slope)) > 100              # drawn per element
    np.testing.assert_allclose(gv[neg], slope, rtol=1e-5)
    assert (gv[:10] >= lower - 1e-6).all() and (gv[:10] <= upper + 1e-6).all()
    # U(lower, upper): mean (l+u)/2, sd (u-l)/sqrt(12)/sqrt(n) ~ 0.0016 here
    assert abs(gv[neg].mean() - (lower + upper) / 2) < 0.01
    assert abs(gv[neg].std() - (upper - lower) / np.sqrt(12)) < 0.01


def test_rrelu_seeding_and_generator():
    a = np.random.default_rng(3).standard_normal(100).astype(np.float32)
    fastnn.manual_seed(7)
    y1 = F.rrelu(fastnn.tensor(a), training=True).numpy()
    y2 = F.rrelu(fastnn.tensor(a), training=True).numpy()
    fastnn.manual_seed(7)
    np.testing.assert_array_equal(F.rrelu(fastnn.tensor(a), training=True).numpy(), y1)
    assert not np.array_equal(y1, y2)
    g = fastnn.Generator().manual_seed(5)
    z1 = fastnn.rrelu(fastnn.tensor(a), training=True, generator=g).numpy()
    g.manual_seed(5)
    np.testing.assert_array_equal(fastnn.rrelu(fastnn.tensor(a), training=True,
                                               generator=g).numpy(), z1)


def test_rrelu_inplace_and_module():
    torch = requires_torch()
    a = np.array([-2.0, 3.0, -1.0], np.float32)
    x = fastnn.tensor(a.copy())
    out = F.rrelu_(x, 0.5, 0.5, training=True)
    assert out is x
    np.testing.assert_array_equal(x.numpy(), [-1.0, 3.0, -0.5])
    x = fastnn.tensor(a.copy())
    fastnn.rrelu_(x, 0.25, 0.75)
    np.testing.assert_array_equal(x.numpy(), [-1.0, 3.0, -0.5])
    for args in [(), (0.1, 0.3), (0.1, 0.3, True)]:
        assert repr(nn.RReLU(*args)) == repr(torch.nn.RReLU(*args))
    m = nn.RReLU(0.3, 0.3)
    np.testing.assert_allclose(m(fastnn.tensor(a)).numpy(), [-0.6, 3.0, -0.3], rtol=1e-6)
    m.eval()
    np.testing.assert_allclose(m(fastnn.tensor(a)).numpy(), [-0.6, 3.0, -0.3], rtol=1e-6)
    m = nn.RReLU(0.1, 0.5)
    assert not np.array_equal(m(fastnn.tensor(-np.ones(50, np.float32))).numpy(),
                              np.full(50, -0.3, np.float32))
    m.eval()
    np.testing.assert_allclose(m(fastnn.tensor(-np.ones(4, np.float32))).numpy(), -0.3,
                               rtol=1e-6)
    x = fastnn.tensor(a.copy())
    assert nn.RReLU(0.5, 0.5, inplace=True)(x) is x


def test_rrelu_errors():
    with pytest.raises(ValueError, match="Lower bound"):
        F.rrelu(fastnn.ones(3), 0.5, 0.2, training=True)
    with pytest.raises(ValueError, match="Lower bound"):
        F.rrelu(fastnn.ones(3), 0.5, 0.2)
    with pytest.raises(TypeError, match="lower"):
        F.rrelu(fastnn.ones(3), "a")
    with pytest.raises(TypeError):
        F.rrelu(fastnn.tensor(np.array([1, 2])), training=True)


# ----------------------------------------------------------------- lp_pool
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [1, 2, 3, 1.5, float("inf"), -float("inf")])
@pytest.mark.parametrize("nd,shape,k,s,ceil", [
    (1, (2, 3, 9), 3, None, False), (1, (3, 10), 3, 2, True), (1, (2, 2, 8), 2, 3, True),
    (2, (2, 3, 7, 8), 2, None, False), (2, (2, 3, 7, 8), (3, 2), (2, 3), True),
    (2, (3, 5, 5), 2, 1, False)])
def test_lp_pool_matches_torch(nd, shape, k, s, ceil, p, dtype):
    torch = requires_torch()
    rng = np.random.default_rng(4)
    a = rng.uniform(0.1, 2.0, shape).astype(dtype)
    if p in (1, 2) or abs(p) == float("inf"):
        a *= rng.choice([-1, 1], shape)      # odd powers of negatives give NaN (as PyTorch)
    ff, tf = (F.lp_pool1d, torch.nn.functional.lp_pool1d) if nd == 1 else \
        (F.lp_pool2d, torch.nn.functional.lp_pool2d)
    xf, xt = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    yf, yt = ff(xf, p, k, s, ceil), tf(xt, p, k, s, ceil)
    assert yf.shape == tuple(yt.shape) and yf.dtype == fastnn.tensor(a).dtype
    tol = dict(rtol=1e-9, atol=1e-11) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), **tol)
    g = rng.standard_normal(yt.shape).astype(dtype)
    yf.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), **tol)
    mf = (nn.LPPool1d if nd == 1 else nn.LPPool2d)(p, k, s, ceil)
    mt = (torch.nn.LPPool1d if nd == 1 else torch.nn.LPPool2d)(p, k, s, ceil)
    assert repr(mf) == repr(mt)
    np.testing.assert_allclose(mf(fastnn.tensor(a)).numpy(), mt(torch.tensor(a)).detach().numpy(),
                               **tol)


def test_lp_pool_gradcheck_and_errors():
    rng = np.random.default_rng(5)
    x = fastnn.tensor(rng.uniform(0.5, 2.0, (2, 2, 5, 4)), requires_grad=True)
    assert fastnn.gradcheck(lambda t: F.lp_pool2d(t, 3, 2, 1, True), (x,))
    x = fastnn.tensor(rng.uniform(0.5, 2.0, (2, 7)), requires_grad=True)
    assert fastnn.gradcheck(lambda t: F.lp_pool1d(t, 2, 3, 2), (x,))
    np.testing.assert_allclose(F.lp_pool1d(fastnn.tensor([[3.0, 4.0]]), 2, 2).numpy(), [[5.0]])
    with pytest.raises(ValueError, match="kernel size"):
        F.lp_pool2d(fastnn.ones(1, 4, 4), 2, 0)
    with pytest.raises(TypeError, match="norm_type"):
        F.lp_pool1d(fastnn.ones(1, 4), "2", 2)
    with pytest.raises(TypeError, match="kernel_size"):
        F.lp_pool1d(fastnn.ones(1, 4), 2, 2.5)


# ----------------------------------------------------- multilabel_margin_loss
def _ml_targets(rng, N, C):
    t = np.full((N, C), -1, np.int64)
    for n in range(N):
        k = rng.integers(0, C + 1)
        t[n, :k] = rng.integers(0, C, k)                 # duplicates allowed
        t[n, k + 1:] = rng.integers(0, C, max(C - k - 1, 0))   # junk after the -1
    t[0] = rng.permutation(C)                           # every class listed
    t[1, 0] = -1                                        # empty list
    t[2, :3] = [1, 1, -1]                               # a duplicate
    return t


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_matches_torch(reduction, dtype):
    torch = requires_torch()
    rng = np.random.default_rng(6)
    N, C = 9, 5
    a = (rng.standard_normal((N, C)) * 0.7).astype(dtype)
    t = _ml_targets(rng, N, C)
    xf, xt = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    lf = F.multilabel_margin_loss(xf, t, reduction=reduction)
    lt = torch.nn.functional.multilabel_margin_loss(xt, torch.tensor(t), reduction=reduction)
    assert lf.shape == tuple(lt.shape)
    np.testing.assert_allclose(lf.detach().numpy(), lt.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(lt.shape).astype(dtype)
    lf.backward(g)
    lt.backward(torch.tensor(g))
    np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), **TOL[dtype])
    mf = nn.MultiLabelMarginLoss(reduction=reduction)
    mt = torch.nn.MultiLabelMarginLoss(reduction=reduction)
    if reduction == "mean":     # (fastnn's losses show a non-default reduction)
        assert repr(mf) == repr(mt)
    np.testing.assert_allclose(mf(fastnn.tensor(a), t).numpy(),
                               mt(torch.tensor(a), torch.tensor(t)).numpy(), **TOL[dtype])


def test_multilabel_margin_1d_and_gradcheck():
    torch = requires_torch()
    rng = np.random.default_rng(7)
    a = rng.standard_normal(6)
    t = np.array([2, 2, 5, -1, 0, 9 % 6])
    for red in ("mean", "none"):
        xf, xt = fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        lf = F.multilabel_margin_loss(xf, t, reduction=red)
        lt = torch.nn.functional.multilabel_margin_loss(xt, torch.tensor(t), reduction=red)
        assert lf.shape == tuple(lt.shape) == ()
        lf.backward()
        lt.backward()
        np.testing.assert_allclose(lf.item(), lt.item(), rtol=1e-12)
        np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    x = fastnn.tensor(rng.standard_normal((4, 5)) * 0.3, requires_grad=True)
    tt = _ml_targets(rng, 4, 5)
    for red in ("mean", "sum", "none"):
        assert fastnn.gradcheck(lambda v: F.multilabel_margin_loss(v, tt, reduction=red), (x,))


def test_multilabel_margin_errors():
    x = fastnn.zeros(2, 4)
    with pytest.raises(IndexError, match="out of range"):
        F.multilabel_margin_loss(x, np.array([[0, 4, -1, 0], [1, -1, 0, 0]]))
    with pytest.raises(IndexError, match="out of range"):
        F.multilabel_margin_loss(x, np.array([[0, -1, -2, 0], [1, -1, 0, 0]]))
    with pytest.raises(fastnn.ShapeError, match="inconsistent target size"):
        F.multilabel_margin_loss(x, np.array([[0, 1, -1]]))
    with pytest.raises(fastnn.ShapeError, match="non-empty vector or matrix"):
        F.multilabel_margin_loss(fastnn.zeros(2, 3, 4), np.zeros((2, 3, 4), np.int64))
    with pytest.raises(fastnn.ShapeError, match="non-empty vector or matrix"):
        F.multilabel_margin_loss(fastnn.zeros(2, 0), np.zeros((2, 0), np.int64))
    with pytest.raises(TypeError, match="int64"):
        F.multilabel_margin_loss(x, np.zeros((2, 4)))
    with pytest.raises(ValueError):
        F.multilabel_margin_loss(x, np.zeros((2, 4), np.int64), reduction="max")


# ---------------------------------------------- triplet_margin_with_distance
def _cos_dist(lib):
    return lambda x, y: 1.0 - lib.nn.functional.cosine_similarity(x, y, dim=-1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dist", ["default", "cosine", "l1"])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(6, 4), (5,)])
def test_triplet_with_distance_matches_torch(shape, reduction, swap, dist, dtype):
    torch = requires_torch()
    rng = np.random.default_rng(8)
    arrs = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]
    arrs[2][0] = arrs[0][0] + 0.05       # a close negative: the hinge active
    fs = [fastnn.tensor(a, requires_grad=True) for a in arrs]
    ts = [torch.tensor(a, requires_grad=True) for a in arrs]
    dfs = {"default": (None, None), "cosine": (_cos_dist(fastnn), _cos_dist(torch)),
           "l1": (lambda x, y: (x - y).abs().sum(-1), lambda x, y: (x - y).abs().sum(-1))}[dist]
    kw = dict(margin=1.5, swap=swap, reduction=reduction)
    lf = F.triplet_margin_with_distance_loss(*fs, distance_function=dfs[0], **kw)
    lt = torch.nn.functional.triplet_margin_with_distance_loss(*ts, distance_function=dfs[1],
                                                               **kw)
    assert lf.shape == tuple(lt.shape)
    np.testing.assert_allclose(lf.detach().numpy(), lt.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(lt.shape).astype(dtype)
    lf.backward(g)
    lt.backward(torch.tensor(g))
    for a, b in zip(fs, ts):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TOL[dtype])
    mf = nn.TripletMarginWithDistanceLoss(distance_function=dfs[0], **kw)
    mt = torch.nn.TripletMarginWithDistanceLoss(distance_function=dfs[1], **kw)
    np.testing.assert_allclose(mf(*[fastnn.tensor(a) for a in arrs]).numpy(),
                               mt(*[torch.tensor(a) for a in arrs]).detach().numpy(),
                               **TOL[dtype])


def test_triplet_with_distance_module_and_errors():
    torch = requires_torch()
    assert repr(nn.TripletMarginWithDistanceLoss()) == \
        repr(torch.nn.TripletMarginWithDistanceLoss())
    assert repr(nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(1))) == \
        repr(torch.nn.TripletMarginWithDistanceLoss(
            distance_function=torch.nn.PairwiseDistance(1)))
    assert isinstance(nn.TripletMarginWithDistanceLoss().distance_function,
                      nn.PairwiseDistance)
    rng = np.random.default_rng(9)
    x = [fastnn.tensor(rng.standard_normal((3, 4)), requires_grad=True) for _ in range(3)]
    assert fastnn.gradcheck(lambda a, p, n: F.triplet_margin_with_distance_loss(
        a, p, n, margin=3.0, swap=True, reduction="none"), x)
    with pytest.raises(ValueError, match="margin"):
        F.triplet_margin_with_distance_loss(*x, margin=0)
    with pytest.raises(ValueError, match="margin"):
        nn.TripletMarginWithDistanceLoss(margin=-1.0)
    with pytest.raises(ValueError):
        F.triplet_margin_with_distance_loss(*x, reduction="max")
    with pytest.raises(fastnn.ShapeError, match="same number of dimensions"):
        F.triplet_margin_with_distance_loss(x[0], x[1], fastnn.zeros(4))
    with pytest.raises(TypeError):
        F.triplet_margin_with_distance_loss(*x, None)        # keyword-only
