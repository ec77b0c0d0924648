"""F.ctc_loss and nn.CTCLoss: values and gradients against PyTorch (float32
and float64, padded and concatenated targets, every reduction,
zero_infinity, unbatched input, lengths as tensors, lists and tuples),
against the NumPy reference, gradcheck in float64 through log_softmax,
1 versus 2 threads, and PyTorch-like errors."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.testing import reference as R
from fastnn.testing import requires_torch

RED = ["mean", "sum", "none"]
TOL = {np.float64: dict(rtol=1e-9, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-5)}


def _log_probs(rng, T, N, C, scale=1.0):
    x = scale * rng.standard_normal((T, N, C))
    return x - np.logaddexp.reduce(x, axis=-1, keepdims=True)


def _case(seed, T=10, N=4, C=5, S=4, blank=0, impossible=False):
    """log-probs (T, N, C) float64, padded targets (N, S), lengths; with
    impossible, sample 1 gets a target its input cannot align to."""
    rng = np.random.default_rng(seed)
    labels = [c for c in range(C) if c != blank]
    tg = rng.choice(labels, (N, S)).astype(np.int64)
    if S >= 2:
        tg[0, 1] = tg[0, 0]
    il = rng.integers(S * 2, T + 1, N).astype(np.int64)
    il[0] = T
    tl = rng.integers(0, S + 1, N).astype(np.int64)
    tl[0] = S
    if impossible:
        tg[1, :] = labels[0]
        tl[1], il[1] = S, S          # S repeats need 2S - 1 steps
    return _log_probs(rng, T, N, C, 2.0), tg, il, tl


def _concat(tg, tl):
    return np.concatenate([tg[b, :tl[b]] for b in range(len(tl))]).astype(np.int64)


def _both(lib, lp, tg, il, tl, dtype, g=None, lengths=lambda a: a, **kw):
    """(loss, grad of log_probs, upstream) of lib's ctc_loss."""
    if lib is fastnn:
        x = fastnn.tensor(lp.astype(dtype), requires_grad=True)
        out = F.ctc_loss(x, fastnn.tensor(tg), lengths(il), lengths(tl), **kw)
    else:
        x = lib.tensor(lp.astype(dtype), requires_grad=True)
        out = lib.nn.functional.ctc_loss(x, lib.tensor(tg), lib.tensor(il), lib.tensor(tl),
                                         **kw)
    if g is None:
        g = np.random.default_rng(7).standard_normal(tuple(out.shape)).astype(dtype)
    out.backward(g if lib is fastnn else lib.tensor(g))
    return out.detach().numpy().copy(), np.asarray(x.grad.numpy()).copy(), g


def _close(a, b, dtype, what):
    np.testing.assert_allclose(a, b, err_msg=what, equal_nan=True, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_matches_torch(dtype, reduction, layout, zero_infinity):
    torch = requires_torch()
    lp, tg, il, tl = _case(1, impossible=True)
    if layout == "concatenated":
        tg = _concat(tg, tl)
    kw = dict(reduction=reduction, zero_infinity=zero_infinity)
    got, ggot, g = _both(fastnn, lp, tg, il, tl, dtype, **kw)
    want, gwant, _ = _both(torch, lp, tg, il, tl, dtype, g, **kw)
    assert got.dtype == dtype and got.shape == want.shape
    _close(got, want, dtype, "value")
    _close(ggot, gwant, dtype, "grad")
    if not zero_infinity:      # the impossible sample: inf, NaN gradient while t < il
        assert np.isnan(ggot[:il[1], 1]).all() and not np.isnan(ggot[:, [0, 2, 3]]).any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("blank", [0, 3, 5])
def test_ctc_blank_and_lengths_match_torch(dtype, blank):
    """Another blank, zero target lengths, short inputs, batch 1 and long sequences."""
    torch = requires_torch()
    for seed, (T, N, C, S) in enumerate([(30, 6, 6, 8), (1, 1, 6, 0), (5, 2, 6, 2)]):
        lp, tg, il, tl = _case(seed, T, N, C, S, blank)
        for reduction in RED:
            got, ggot, g = _both(fastnn, lp, tg, il, tl, dtype, blank=blank,
                                 reduction=reduction)
            want, gwant, _ = _both(torch, lp, tg, il, tl, dtype, g, blank=blank,
                                   reduction=reduction)
            _close(got, want, dtype, f"value {T, N, C, S} {reduction}")
            _close(ggot, gwant, dtype, f"grad {T, N, C, S} {reduction}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ctc_matches_reference(dtype):
    lp, tg, il, tl = _case(3, T=12, N=3, C=4, S=3)
    lists = [tg[b, :tl[b]] for b in range(3)]
    got, ggot, g = _both(fastnn, lp, tg, il, tl, dtype, reduction="none")
    lpd = lp.astype(dtype)
    _close(got, R.ctc_nll(lpd, lists, il), dtype, "value")
    _close(ggot, R.ctc_nll_grad(lpd, lists, il, g.astype(np.float64)), dtype, "grad")


@pytest.mark.parametrize("lengths", [list, tuple, lambda a: a.astype(np.int32),
                                     lambda a: fastnn.tensor(a)])
def test_ctc_lengths_as_lists_tuples_and_tensors(lengths):
    lp, tg, il, tl = _case(4)
    want = _both(fastnn, lp, tg, il, tl, np.float64, reduction="none")
    got = _both(fastnn, lp, tg.astype(np.int32), il, tl, np.float64, want[2],
                lengths=lambda a: lengths(a), reduction="none")
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", RED)
def test_ctc_unbatched_matches_torch(dtype, reduction):
    """(T, C) input; targets 1-D or (1, S); lengths 0-d, of one element or lists."""
    torch = requires_torch()
    lp, tg, il, tl = _case(5, N=1)
    lp2 = lp[:, 0].astype(dtype)
    for targets, lengths in [(tg[0, :tl[0]], lambda a: a.reshape(())), (tg, lambda a: a),
                             (tg[0, :tl[0]], list)]:
        x = fastnn.tensor(lp2, requires_grad=True)
        out = F.ctc_loss(x, targets, lengths(il), lengths(tl), reduction=reduction)
        xt = torch.tensor(lp2, requires_grad=True)
        as_t = (lambda a: lengths(a)) if lengths is list else (
            lambda a: torch.tensor(lengths(a)))
        ref = torch.nn.functional.ctc_loss(xt, torch.tensor(targets), as_t(il), as_t(tl),
                                           reduction=reduction)
        assert tuple(out.shape) == tuple(ref.shape) == ()
        out.backward()
        ref.backward()
        _close(out.detach().numpy(), ref.detach().numpy(), dtype, "value")
        _close(x.grad.numpy(), xt.grad.numpy(), dtype, "grad")


def test_ctc_module_matches_functional_and_torch():
    torch = requires_torch()
    lp, tg, il, tl = _case(6, impossible=True)
    m = nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    assert m.blank == 0 and m.zero_infinity and m.reduction == "sum"
    assert dict(m.state_dict()) == {} and list(m.parameters()) == []
    x = fastnn.tensor(lp, requires_grad=True)
    out = m(x, tg, il, tl)
    out.backward()
    xt = torch.tensor(lp, requires_grad=True)
    ref = torch.nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)(
        xt, torch.tensor(tg), torch.tensor(il), torch.tensor(tl))
    ref.backward()
    _close(out.detach().numpy(), ref.detach().numpy(), np.float64, "value")
    _close(x.grad.numpy(), xt.grad.numpy(), np.float64, "grad")
    assert repr(nn.CTCLoss()) == "CTCLoss()"
    with pytest.raises(ValueError):
        nn.CTCLoss(reduction="avg")


@pytest.mark.parametrize("reduction", RED)
def test_ctc_gradcheck(reduction):
    """Through log_softmax (PyTorch's gradient adds exp(log_probs), which
    log_softmax's backward removes: it is the gradient of normalised
    log-probabilities), with a random upstream gradient for 'none'."""
    rng = np.random.default_rng(8)
    _, tg, il, tl = _case(8, T=6, N=3, C=4, S=2)
    x = fastnn.tensor(rng.standard_normal((6, 3, 4)), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal(3))

    def fn(x):
        out = F.ctc_loss(F.log_softmax(x, 2), tg, il, tl, reduction=reduction)
        return out * w if reduction == "none" else out

    assert fastnn.gradcheck(fn, [x])
    x1 = fastnn.tensor(rng.standard_normal((6, 4)), requires_grad=True)     # unbatched
    assert fastnn.gradcheck(lambda x: F.ctc_loss(F.log_softmax(x, 1), tg[0, :tl[0]], il[:1],
                                                 tl[:1], reduction=reduction), [x1])


def test_ctc_threads_identical():
    """1 and 2 threads bitwise equal above the serial cut-off."""
    lp, tg, il, tl = _case(9, T=60, N=16, C=20, S=12)
    out = []
    for nt in (1, 2):
        fastnn.set_num_threads(nt)
        out.append(_both(fastnn, lp, tg, il, tl, np.float32, reduction="none"))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_ctc_targets_not_recorded_and_no_grad():
    lp, tg, il, tl = _case(10)
    x = fastnn.tensor(lp)
    out = F.ctc_loss(x, tg, il, tl)
    assert not out.requires_grad
    with fastnn.no_grad():
        y = fastnn.tensor(lp, requires_grad=True)
        assert not F.ctc_loss(y, tg, il, tl).requires_grad


def _args():
    lp = np.log(np.full((6, 2, 4), 0.25))
    return [lp, np.array([[1, 2, 2], [3, 1, 1]]), [6, 5], [3, 2]]


BAD = [
    (dict(input_lengths=[7, 5]), ValueError, "input_lengths to have value at most 6"),
    (dict(input_lengths=[-1, 5]), ValueError, "input_lengths to have value at least 0"),
    (dict(target_lengths=[-1, 2]), ValueError, "target_lengths to have value at least 0"),
    (dict(target_lengths=[4, 2]), ValueError, "size at least 4 at dimension 1"),
    (dict(input_lengths=[6, 5, 4]), ValueError, "input_lengths must be of size batch_size"),
    (dict(target_lengths=[3]), ValueError, "target_lengths must be of size batch_size"),
    (dict(input_lengths=[6.0, 5.0]), TypeError, "input_lengths must be integral"),
    (dict(blank=4), ValueError, "blank must be in label range"),
    (dict(blank=-1), ValueError, "blank must be in label range"),
    (dict(blank=1.0), TypeError, "blank must be an int"),
    (dict(targets=np.array([[0, 1, 2], [3, 1, 1]])), ValueError, "blank label"),
    (dict(targets=np.array([[4, 1, 2], [3, 1, 1]])), IndexError, "target label 4"),
    (dict(targets=np.array([[-2, 1, 2], [3, 1, 1]])), IndexError, "target label -2"),
    (dict(targets=np.array([[1, 2, 2]])), ValueError, "size 2 at dimension 0"),
    (dict(targets=np.array([1, 2, 2, 3])), ValueError, "size 5"),
    (dict(targets=np.array([1, 2, 2, 3, 1, 1])), ValueError, "size 5"),
    (dict(targets=np.ones((2, 3, 1), np.int64)), ValueError, "1-D (concatenated) or 2-D"),
    (dict(targets=np.array([["a"]])), TypeError, "class indices"),
    (dict(log_probs=np.zeros((6, 2, 4, 1))), ValueError, "3-D (T, N, C)"),
    (dict(log_probs=np.zeros(6)), ValueError, "3-D (T, N, C)"),
    (dict(log_probs=np.zeros((0, 2, 4))), ValueError, "must not be empty"),
    (dict(log_probs=np.zeros((6, 2, 4), np.int64)), TypeError, "float32 or float64"),
    (dict(reduction="avg"), ValueError, "reduction"),
]


@pytest.mark.parametrize("kw,exc,words", BAD, ids=[b[2] for b in BAD])
def test_ctc_bad_arguments_raise(kw, exc, words):
    args = dict(zip(["log_probs", "targets", "input_lengths", "target_lengths"], _args()))
    args.update(kw)
    lp = args.pop("log_probs")
    with pytest.raises(exc, match=words.replace("(", r"\(").replace(")", r"\)")):
        F.ctc_loss(fastnn.tensor(lp), **args)


def test_ctc_target_longer_than_input_is_inf():
    lp, tg, il, _ = _args()
    out = F.ctc_loss(fastnn.tensor(lp), tg, [2, 5], [3, 2], reduction="none").numpy()
    assert out[0] == np.inf and np.isfinite(out[1])


def test_torch_namespace_ctc_loss_takes_the_reduction_enum():
    lp, tg, il, tl = _case(11)
    x = fastnn.tensor(lp)
    for enum, name in [(0, "none"), (1, "mean"), (2, "sum")]:
        np.testing.assert_array_equal(fastnn.ctc_loss(x, tg, il, tl, 0, enum).numpy(),
                                      F.ctc_loss(x, tg, il, tl, reduction=name).numpy())
    with pytest.raises(ValueError, match="reduction"):
        fastnn.ctc_loss(x, tg, il, tl, 0, 3)


def test_ctc_non_contiguous_log_probs():
    """A batch-first array transposed to (T, N, C): same values and gradient."""
    lp, tg, il, tl = _case(12)
    want = _both(fastnn, lp, tg, il, tl, np.float64, reduction="none")
    x = fastnn.tensor(np.ascontiguousarray(lp.transpose(1, 0, 2)), requires_grad=True)
    xt = x.transpose(0, 1)
    out = F.ctc_loss(xt, tg, il, tl, reduction="none")
    out.backward(fastnn.tensor(want[2]))
    np.testing.assert_array_equal(out.detach().numpy(), want[0])
    np.testing.assert_array_equal(x.grad.numpy().transpose(1, 0, 2), want[1])


@pytest.mark.parametrize("kw", [dict(input_lengths=[7, 5]), dict(input_lengths=[-1, 5]),
                                dict(target_lengths=[-1, 2]), dict(blank=4),
                                dict(input_lengths=[6.0, 5.0]), dict(target_lengths=[3.0, 2.0]),
                                dict(target_lengths=[4, 2]), dict(input_lengths=[6, 5, 4])],
                         ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_ctc_bad_lengths_and_blank_raise_runtime_error_as_torch(kw):
    # PyTorch raises RuntimeError for each of these; so does fastnn (its
    # errors stay ValueError / TypeError as well)
    torch = requires_torch()
    args = dict(zip(["log_probs", "targets", "input_lengths", "target_lengths"], _args()))
    args.update(kw)
    lp = args.pop("log_probs")
    conv = {k: (torch.tensor(v) if isinstance(v, (list, np.ndarray)) else v)
            for k, v in args.items()}
    with pytest.raises(RuntimeError):
        torch.nn.functional.ctc_loss(torch.tensor(lp), **conv)
    with pytest.raises(RuntimeError):
        F.ctc_loss(fastnn.tensor(lp), **args)
