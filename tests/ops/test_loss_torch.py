"""Every loss of issue 14 against PyTorch: values and gradients (input,
target and weight where PyTorch differentiates them) in float64 and
float32, each reduction, with a random upstream gradient; edge shapes
(batch 1, K-dim cross entropy, all targets ignored); gradcheck in float64;
PyTorch-like errors."""
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.testing import requires_torch

RED = ["mean", "sum", "none"]
TOL = {np.float64: dict(rtol=1e-8, atol=1e-11), np.float32: dict(rtol=2e-4, atol=2e-5)}
R = np.random.default_rng(0)


def _f(shape, lo=None, hi=None, seed=None):
    r = np.random.default_rng(seed) if seed is not None else R
    if lo is not None:
        return r.uniform(lo, hi, shape)
    return r.standard_normal(shape)


def _soft(shape, axis=1):
    e = np.exp(R.standard_normal(shape))
    return e / e.sum(axis=axis, keepdims=True)


def _sign(shape):
    return np.where(R.random(shape) < 0.5, -1.0, 1.0)


def _labels(shape, C, ignore=None, frac=0.3):
    t = R.integers(0, C, shape)
    if ignore is not None:
        t = np.where(R.random(shape) < frac, ignore, t)
    return t.astype(np.int64)


# name, positional inputs (float arrays are differentiated unless listed in
# no_grad), keyword arguments (arrays become tensors), reductions
CASES = [
    ("cross_entropy", [_f((5, 4)), _labels(5, 4)], dict(weight=_f(4, 0.2, 2)), RED),
    ("cross_entropy", [_f((6, 4)), _labels(6, 4, -100)], dict(), RED),
    ("cross_entropy", [_f((6, 4)), _labels(6, 4, 2)], dict(ignore_index=2, weight=_f(4, .5, 2)),
     RED),
    ("cross_entropy", [_f((6, 5)), _labels(6, 5, -100)],
     dict(label_smoothing=0.15, weight=_f(5, 0.2, 2)), RED),
    ("cross_entropy", [_f((6, 5)), _labels(6, 5)], dict(label_smoothing=0.3), RED),
    ("cross_entropy", [_f((2, 3, 4, 5)), _labels((2, 4, 5), 3, -100)],
     dict(weight=_f(3, 0.5, 1.5), label_smoothing=0.05), RED),
    ("cross_entropy", [_f((2, 3, 7)), _labels((2, 7), 3)], dict(), RED),
    ("cross_entropy", [_f(6), np.array(4)], dict(label_smoothing=0.2), RED),
    ("cross_entropy", [_f((1, 3)), np.array([1])], dict(weight=_f(3, 0.5, 2)), RED),
    ("cross_entropy", [_f((4, 3)), _soft((4, 3))], dict(), RED),
    ("cross_entropy", [_f((4, 3)), _soft((4, 3))], dict(weight=_f(3, .2, 2),
                                                         label_smoothing=0.1), RED),
    ("cross_entropy", [_f((2, 3, 2, 2)), _soft((2, 3, 2, 2))], dict(weight=_f(3, .2, 2)), RED),
    ("nll_loss", [_f((5, 4)), _labels(5, 4, -100)], dict(weight=_f(4, 0.2, 2)), RED),
    ("nll_loss", [_f((2, 3, 4)), _labels((2, 4), 3, 1)], dict(ignore_index=1), RED),
    ("binary_cross_entropy", [_f((4, 3), 0.02, 0.98), _f((4, 3), 0, 1)],
     dict(weight=_f(3, 0.1, 2)), RED),
    ("binary_cross_entropy", [np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 0.5])], dict(),
     RED),
    ("binary_cross_entropy_with_logits", [_f((4, 3)) * 3, _f((4, 3), 0, 1)],
     dict(pos_weight=_f(3, 0.5, 3)), RED),
    ("binary_cross_entropy_with_logits", [_f((4, 3)) * 3, _f((4, 3), 0, 1)],
     dict(weight=_f((4, 1), 0.1, 2), pos_weight=_f(3, 0.5, 3)), RED),
    ("binary_cross_entropy_with_logits", [_f((4, 3)), _f((4, 3), 0, 1)],
     dict(weight=_f(3, 0.1, 2)), RED),
    ("l1_loss", [_f((3, 4)), _f((3, 4))], dict(), RED),
    ("l1_loss", [_f((3, 4)), _f((3, 4))], dict(weight=_f((3, 4), 0.1, 1)), RED),
    ("mse_loss", [_f((3, 4)), _f((3, 4))], dict(weight=_f((3, 4), 0.1, 1)), RED),
    ("smooth_l1_loss", [_f((4, 5)) * 2, _f((4, 5))], dict(beta=0.5), RED),
    ("smooth_l1_loss", [_f((4, 5)), _f((4, 5))], dict(beta=0.0), RED),
    ("smooth_l1_loss", [_f((4, 5)) * 2, _f((4, 5))], dict(), RED),
    ("huber_loss", [_f((4, 5)) * 2, _f((4, 5))], dict(delta=0.7), RED),
    ("huber_loss", [_f((4, 5)) * 2, _f((4, 5))], dict(delta=1.3, weight=_f((4, 5), .1, 1)),
     RED),
    ("soft_margin_loss", [_f((4, 3)) * 3, _sign((4, 3))], dict(), RED),
    ("kl_div", [np.log(_soft((4, 5))), _soft((4, 5))], dict(reduction="batchmean"),
     ["batchmean"]),
    ("kl_div", [np.log(_soft((4, 5))), np.log(_soft((4, 5)))], dict(log_target=True),
     RED + ["batchmean"]),
    ("kl_div", [np.log(_soft((3, 4))), np.concatenate([np.zeros((3, 1)), _soft((3, 3))], 1)],
     dict(), ["sum", "none"]),
    ("poisson_nll_loss", [_f((3, 4)), _f((3, 4), 0, 4)], dict(), RED),
    ("poisson_nll_loss", [_f((3, 4), 0.1, 3), _f((3, 4), 0, 4)], dict(log_input=False,
                                                                      full=True), RED),
    ("poisson_nll_loss", [_f((3, 4)), _f((3, 4), 0, 4)], dict(full=True, eps=1e-4), RED),
    ("hinge_embedding_loss", [_f((4, 3)), _sign((4, 3))], dict(margin=0.8), RED),
    ("margin_ranking_loss", [_f(6), _f(6), _sign(6)], dict(margin=0.3), RED),
    ("cosine_embedding_loss", [_f((5, 4)), _f((5, 4)), _sign(5)], dict(margin=-0.2), RED),
    ("cosine_embedding_loss", [_f(4), _f(4), np.array(-1.0)], dict(), RED),
    ("triplet_margin_loss", [_f((5, 4)), _f((5, 4)), _f((5, 4))], dict(), RED),
    ("triplet_margin_loss", [_f((5, 4)), _f((5, 4)), _f((5, 4))],
     dict(p=1, margin=2.0, swap=True), RED),
    ("triplet_margin_loss", [_f((5, 4)), _f((5, 4)), _f((5, 4))], dict(p=3, swap=True), RED),
    ("multi_margin_loss", [_f((6, 4)), _labels(6, 4)], dict(), RED),
    ("multi_margin_loss", [_f((6, 4)), _labels(6, 4)], dict(p=2, margin=0.7,
                                                            weight=_f(4, 0.2, 2)), RED),
    ("multi_margin_loss", [_f(5), np.array(2)], dict(), RED),
    ("multilabel_soft_margin_loss", [_f((4, 3)), (R.random((4, 3)) < 0.5) * 1.0],
     dict(weight=_f(3, 0.2, 2)), RED),
    ("gaussian_nll_loss", [_f((4, 3)), _f((4, 3)), _f((4, 3), 0.1, 2)], dict(full=True), RED),
    ("gaussian_nll_loss", [_f((4, 3)), _f((4, 3)), _f(4, 0.1, 2)], dict(), RED),
    ("gaussian_nll_loss", [_f((4, 3)), _f((4, 3)), _f((4, 1), 1e-8, 2e-6)], dict(eps=1e-6),
     RED),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def _is_label(name, i, a):
    if a.dtype.kind in "iu":
        return True
    if name in ("soft_margin_loss", "hinge_embedding_loss", "multilabel_soft_margin_loss"):
        return i == 1
    if name in ("margin_ranking_loss", "cosine_embedding_loss"):
        return i == 2
    return False


def _run(lib, name, inputs, kw, reduction, dtype, g=None):
    to = (lambda a, rg=False: fastnn.tensor(a, requires_grad=rg)) if lib is fastnn else \
        (lambda a, rg=False: lib.tensor(a, requires_grad=rg))
    args, grads_of = [], []
    for i, a in enumerate(inputs):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            a = a.astype(dtype)
        rg = a.dtype.kind == "f" and not _is_label(name, i, a)
        t = to(a, rg)
        args.append(t)
        if rg:
            grads_of.append(t)
    kws = {}
    for k, v in kw.items():
        if isinstance(v, np.ndarray):
            t = to(v.astype(dtype), k == "weight" and name in ("mse_loss", "l1_loss"))
            if k == "weight" and name in ("mse_loss", "l1_loss"):
                grads_of.append(t)
            kws[k] = t
        else:
            kws[k] = v
    kws["reduction"] = reduction
    fn = getattr(F, name) if lib is fastnn else getattr(lib.nn.functional, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(*args, **kws)
    if g is None:
        g = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype)
    out.backward(to(g) if lib is not fastnn else g)
    val = out.detach().numpy().copy()
    return val, [np.asarray(t.grad if lib is fastnn else t.grad.numpy()).copy()
                 for t in grads_of], g


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,inputs,kw,reds", CASES, ids=IDS)
def test_matches_torch(name, inputs, kw, reds, dtype):
    torch = requires_torch()
    kw = dict(kw)
    kw.pop("reduction", None)
    for reduction in reds:
        got, ggot, g = _run(fastnn, name, inputs, kw, reduction, dtype)
        want, gwant, _ = _run(torch, name, inputs, kw, reduction, dtype, g)
        assert got.dtype == dtype and got.shape == want.shape, (reduction, got.shape)
        np.testing.assert_allclose(got, want, err_msg=f"{name} {reduction} value",
                                   **TOL[dtype])
        assert len(ggot) == len(gwant)
        for i, (a, b) in enumerate(zip(ggot, gwant)):
            np.testing.assert_allclose(a, b, err_msg=f"{name} {reduction} grad {i}",
                                       **TOL[dtype])


# every other case (BCE at 0/1, a zero KL target and a var below eps have no
# finite differences)
_NO_FD = {IDS[15], IDS[30], IDS[-1]}
GRADCHECK = [(c, i) for c, i in zip(CASES, IDS) if i not in _NO_FD][::2]


@pytest.mark.parametrize("name,inputs,kw,reds", [c for c, _ in GRADCHECK],
                         ids=[i for _, i in GRADCHECK])
def test_gradcheck(name, inputs, kw, reds):
    kw = dict(kw)
    kw.setdefault("reduction", "none" if "none" in reds else reds[0])
    tens, pos = [], []
    for i, a in enumerate(inputs):
        a = np.asarray(a)
        rg = a.dtype.kind == "f" and not _is_label(name, i, a)
        tens.append(fastnn.tensor(a, requires_grad=rg))
        if rg:
            pos.append(i)
    kws = {k: (fastnn.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}

    def fn(*diff):
        args = list(tens)
        for i, d in zip(pos, diff):
            args[i] = d
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = getattr(F, name)(*args, **kws)
        up = np.random.default_rng(3).standard_normal(out.shape)
        return (out * fastnn.tensor(up)).sum()
    assert fastnn.gradcheck(fn, [tens[i] for i in pos], eps=1e-6, atol=1e-6, rtol=1e-4)


def test_all_ignored_gives_nan_mean_and_zero_grad():
    torch = requires_torch()
    x = _f((3, 4))
    t = np.full(3, -100)
    for kw in (dict(), dict(weight=_f(4, 1, 2)), dict(label_smoothing=0.1)):
        xf = fastnn.tensor(x, requires_grad=True)
        lf = F.cross_entropy(xf, t, **kw)
        lf.backward()
        xt = torch.tensor(x, requires_grad=True)
        kt = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        lt = torch.nn.functional.cross_entropy(xt, torch.tensor(t), **kt)
        lt.backward()
        assert np.isnan(lf.item()) and np.isnan(lt.item())
        np.testing.assert_array_equal(xf.grad, xt.grad.numpy())
        assert F.cross_entropy(x, t, reduction="sum", **kw).item() == 0.0
    ln = F.nll_loss(fastnn.tensor(x, requires_grad=True), t)
    assert np.isnan(ln.item())


def test_plain_cross_entropy_path_is_unchanged():
    """No weight, no smoothing, no ignored target: loss.c's kernel, bitwise."""
    from fastnn import _core
    x = _f((64, 10)).astype(np.float32)
    t = _labels(64, 10)
    loss = np.empty(64, np.float32)
    _core.cross_entropy_fwd(x, t, loss, np.empty((64, 2), np.float32), 1)
    assert F.cross_entropy(x, t, reduction="none").numpy().tobytes() == loss.tobytes()
    # the general kernel computes the same losses (to rounding)
    np.testing.assert_allclose(F.cross_entropy(x, t, reduction="none",
                                               weight=np.ones(10, np.float32)).numpy(),
                               loss, rtol=1e-6)


@pytest.mark.parametrize("kw", [dict(weight=np.linspace(0.5, 2, 200), label_smoothing=0.1),
                                dict(ignore_index=3), dict(prob=True, label_smoothing=0.2)])
def test_xent_thread_invariance(kw):
    kw = dict(kw)
    prob = kw.pop("prob", False)
    x = _f((400, 200), seed=5).astype(np.float32)          # 80000 elements > the cut-off
    t = _soft((400, 200)).astype(np.float32) if prob else _labels(400, 200, 3)
    if "weight" in kw:
        kw["weight"] = kw["weight"].astype(np.float32)
    res = []
    for n in (1, 2):
        fastnn.set_num_threads(n)
        xt = fastnn.tensor(x, requires_grad=True)
        loss = F.cross_entropy(xt, t, reduction="none", **kw)
        loss.backward(np.linspace(-1, 1, 400).astype(np.float32))
        res.append((loss.detach().numpy().copy(), np.array(xt.grad)))
    assert fastnn.get_num_threads() == 2
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])


def test_legacy_size_average_and_reduce():
    x, t = _f((4, 3)), _labels(4, 3)
    with pytest.warns(UserWarning, match="deprecated"):
        a = F.cross_entropy(x, t, size_average=False)
    assert a.item() == pytest.approx(F.cross_entropy(x, t, reduction="sum").item())
    with pytest.warns(UserWarning):
        assert F.mse_loss(x, x * 2, reduce=False).shape == (4, 3)


def test_errors():
    x = _f((3, 4)).astype(np.float32)
    t = np.array([0, 1, 2])
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.cross_entropy(x, t, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, t, label_smoothing=1.5)
    with pytest.raises(fastnn.ShapeError, match="weight tensor should be defined"):
        F.cross_entropy(x, t, weight=np.ones(3, np.float32))
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F.cross_entropy(x, np.array([0, 7, -100]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.nll_loss(x, np.array([0, -1, 1]), weight=np.ones(4, np.float32))
    with pytest.raises(IndexError):
        F.cross_entropy(x, np.array([0, 4, 1]), ignore_index=5, label_smoothing=0.1)
    with pytest.raises(ValueError, match="ignore_index is not supported"):
        F.cross_entropy(x, _soft((3, 4)).astype(np.float32), ignore_index=1)
    with pytest.raises(TypeError, match="int64 class indices"):
        F.cross_entropy(x, np.array([0.0, 1.0, 1.0]))
    with pytest.raises(fastnn.ShapeError, match="batch_size"):
        F.cross_entropy(x, np.array([0, 1]))
    with pytest.raises(fastnn.ShapeError, match="same as input size"):
        F.binary_cross_entropy_with_logits(x, np.zeros(4, np.float32), pos_weight=np.ones(4))
    with pytest.raises(fastnn.ShapeError, match="same size"):
        F.mse_loss(x, x, weight=np.ones(4, np.float32))
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(x, t, p=3)
    with pytest.raises(IndexError, match="out of range"):
        F.multi_margin_loss(x, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, x, -np.ones((3, 4), np.float32))
    with pytest.raises(fastnn.ShapeError, match="incorrect size"):
        F.gaussian_nll_loss(x, x, np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.kl_div(x, x, reduction="batch")
    with pytest.raises(fastnn.ShapeError, match="same number of dimensions"):
        F.triplet_margin_loss(x, x, x[0])
    with pytest.raises(fastnn.ShapeError, match="same dimension"):
        F.margin_ranking_loss(x[0], x[0], np.ones(1, np.float32).reshape(1, 1))
    with pytest.raises(fastnn.ShapeError, match="1D target tensor expects 2D"):
        F.cosine_embedding_loss(x[0], x[0], np.ones(3, np.float32))
    with pytest.raises(ValueError, match="beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match="delta"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, np.abs(x), reduction="mean")


def test_kl_div_log_zero_input_is_nan_silently_as_torch():
    # the Annotated Transformer's label smoothing: log(0) = -inf inputs where
    # the target is 0 give NaN (0 * -inf) in PyTorch, with no warning
    torch = pytest.importorskip("torch")
    p = np.array([[0, 0.2, 0.7, 0.1, 0]], np.float32)
    t = np.array([[0, 0.1, 0.8, 0.1, 0]], np.float32)
    want = torch.nn.KLDivLoss(reduction="sum")(torch.tensor(p).log(), torch.tensor(t))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fastnn.nn.KLDivLoss(reduction="sum")(fastnn.tensor(p).log(), fastnn.tensor(t))
    assert np.isnan(want.item()) and np.isnan(got.item())
