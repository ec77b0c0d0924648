"""nn.AdaptiveLogSoftmaxWithLoss against PyTorch from the same weights:
state-dict keys and shapes, forward (output, loss) values and the gradients
of the input and every parameter (float64 and float32, batched and one
sample, targets in every cluster or in the shortlist only), log_prob,
predict, gradcheck, and the constructor's and forward's errors."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn.testing import requires_torch

# the second configuration's last cluster has 10 // 4**3 = 0 hidden units (as in PyTorch)
pytestmark = pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}
CONFIGS = [dict(in_features=16, n_classes=20, cutoffs=[5, 12], div_value=2.0, head_bias=True),
           dict(in_features=10, n_classes=30, cutoffs=[3, 8, 20]),
           dict(in_features=8, n_classes=5, cutoffs=[4], div_value=1.0)]


def _pair(torch, cfg, dtype):
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(**cfg).to(
        torch.float64 if dtype == np.float64 else torch.float32)
    fm = nn.AdaptiveLogSoftmaxWithLoss(**cfg, dtype=np.dtype(dtype).name)
    fm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return tm, fm


def test_state_dict_keys_and_shapes_match_torch():
    torch = requires_torch()
    for cfg in CONFIGS:
        tm = torch.nn.AdaptiveLogSoftmaxWithLoss(**cfg)
        fm = nn.AdaptiveLogSoftmaxWithLoss(**cfg)
        want = {k: tuple(v.shape) for k, v in tm.state_dict().items()}
        assert {k: tuple(v.shape) for k, v in fm.state_dict().items()} == want
        assert repr(fm) == repr(tm)
        for a in ("shortlist_size", "n_clusters", "head_size", "cutoffs", "div_value"):
            assert getattr(fm, a) == getattr(tm, a), a


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize("targets", ["all", "shortlist"])
def test_forward_and_gradients_match_torch(dtype, cfg, targets):
    torch = requires_torch()
    tm, fm = _pair(torch, cfg, dtype)
    rng = np.random.default_rng(0)
    B = 13
    x = rng.standard_normal((B, cfg["in_features"])).astype(dtype)
    hi = cfg["n_classes"] if targets == "all" else cfg["cutoffs"][0]
    t = rng.integers(0, hi, B)
    if targets == "all":
        t[:len(cfg["cutoffs"]) + 1] = [0] + cfg["cutoffs"]     # every cluster used
    w = rng.standard_normal(B).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    o = tm(xt, torch.tensor(t))
    ((o.output * torch.tensor(w)).sum() + 2 * o.loss).backward()
    xf = fastnn.tensor(x, requires_grad=True)
    of = fm(xf, t)
    assert type(of).__name__ == "_ASMoutput" and of._fields == ("output", "loss")
    ((of.output * fastnn.tensor(w)).sum() + 2 * of.loss).backward()
    np.testing.assert_allclose(of.output.detach().numpy(), o.output.detach().numpy(),
                               **TOL[dtype])
    np.testing.assert_allclose(of.loss.item(), o.loss.item(), **TOL[dtype])
    np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), **TOL[dtype])
    tp = dict(tm.named_parameters())
    for name, p in fm.named_parameters():
        if tp[name].grad is None:           # a cluster no target falls in
            assert p.grad is None and targets == "shortlist", name
            continue
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), err_msg=name,
                                   **TOL[dtype])


@pytest.mark.parametrize("cfg", CONFIGS)
def test_log_prob_and_predict_match_torch(cfg):
    torch = requires_torch()
    tm, fm = _pair(torch, cfg, np.float64)
    rng = np.random.default_rng(1)
    x = 3 * rng.standard_normal((40, cfg["in_features"]))
    lp = fm.log_prob(fastnn.tensor(x))
    want = tm.log_prob(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(lp.detach().numpy(), want, **TOL[np.float64])
    np.testing.assert_allclose(np.exp(lp.detach().numpy()).sum(1), 1.0, rtol=1e-12)
    pred = fm.predict(fastnn.tensor(x))
    assert pred.dtype == fastnn.int64
    np.testing.assert_array_equal(pred.numpy(), tm.predict(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(pred.numpy(), want.argmax(1))
    # rows whose head prefers a cluster, alone and all of them
    rest = np.flatnonzero(want.argmax(1) >= cfg["cutoffs"][0])
    if rest.size:
        np.testing.assert_array_equal(fm.predict(fastnn.tensor(x[rest])).numpy(),
                                      want[rest].argmax(1))


def test_one_sample_and_gradient_of_log_prob():
    torch = requires_torch()
    cfg = CONFIGS[0]
    tm, fm = _pair(torch, cfg, np.float64)
    x = np.random.default_rng(2).standard_normal(cfg["in_features"])
    for target in (3, 15):
        of = fm(fastnn.tensor(x), np.array(target))
        o = tm(torch.tensor(x), torch.tensor(target))
        assert tuple(of.output.shape) == () and tuple(of.loss.shape) == ()
        np.testing.assert_allclose(of.output.item(), o.output.item(), rtol=1e-12)
        np.testing.assert_allclose(of.loss.item(), o.loss.item(), rtol=1e-12)
    xb = fastnn.tensor(np.tile(x, (2, 1)), requires_grad=True)
    fm.log_prob(xb)[:, 17].sum().backward()
    xt = torch.tensor(np.tile(x, (2, 1)), requires_grad=True)
    tm.log_prob(xt)[:, 17].sum().backward()
    np.testing.assert_allclose(xb.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gradcheck():
    fastnn.manual_seed(3)
    fm = nn.AdaptiveLogSoftmaxWithLoss(6, 9, [3, 6], div_value=2.0, head_bias=True,
                                       dtype="float64")
    x = fastnn.tensor(np.random.default_rng(3).standard_normal((5, 6)), requires_grad=True)
    t = np.array([0, 4, 8, 2, 6])
    w = fastnn.tensor(np.random.default_rng(4).standard_normal(5))
    assert fastnn.gradcheck(lambda x: (fm(x, t).output * w).sum(), [x])
    assert fastnn.gradcheck(lambda x: fm.log_prob(x) * 0.5, [x])


@pytest.mark.parametrize("cutoffs", [[], [0, 3], [3, 3], [5, 2], [3, 10], [2.5]])
def test_bad_cutoffs(cutoffs):
    with pytest.raises(ValueError, match="cutoffs"):
        nn.AdaptiveLogSoftmaxWithLoss(4, 10, cutoffs)


@pytest.mark.parametrize("x_shape,target,exc,words", [
    ((3, 4), [0, 1], ValueError, "same size in the batch"),
    ((3, 4, 1), [0, 1, 2], ValueError, "expects 2D input"),
    ((3, 4), 1, ValueError, "expects 1D input"),
    ((3, 4), [[0], [1], [2]], ValueError, "multi-target"),
    ((3, 4), [0, 1, 10], IndexError, r"Target values should be in \[0, 9\]"),
    ((3, 4), [0, -1, 2], IndexError, r"\[-1, 2\]"),
    ((3, 4), [0.0, 1.0, 2.0], TypeError, "int64"),
])
def test_forward_errors(x_shape, target, exc, words):
    m = nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])
    with pytest.raises(exc, match=words):
        m(fastnn.zeros(*x_shape), np.array(target))


def test_log_prob_and_predict_need_2d_input():
    m = nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])
    with pytest.raises(ValueError, match="2-D"):
        m.log_prob(fastnn.zeros(4))
    with pytest.raises(ValueError, match="2-D"):
        m.predict(fastnn.zeros(4))
