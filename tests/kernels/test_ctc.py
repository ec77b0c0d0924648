"""Kernel tests: the CTC loss (csrc/ctc.c) against the NumPy reference, the
reference against a brute-force sum over alignments, thread invariance and
the binding's checks."""
import itertools

import numpy as np
import pytest

from fastnn import _core
from fastnn.testing import reference as R

DT = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}


def _log_probs(rng, T, N, C, dtype, scale=1.0):
    x = scale * rng.standard_normal((T, N, C))
    return (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(dtype)


def _batch(rng, T, N, C, S, blank=0, repeats=True):
    """Padded targets (N, S) without the blank, lengths, and the label lists."""
    labels = [c for c in range(C) if c != blank]
    tg = rng.choice(labels, (N, S)).astype(np.int64)
    if repeats and S >= 2:
        tg[0, 1] = tg[0, 0]                      # a repeated label needs a blank between
    tl = rng.integers(0, S + 1, N).astype(np.int64)
    tl[0] = S
    il = rng.integers(0, T + 1, N).astype(np.int64)
    il[0] = T
    return tg, il, tl, [tg[b, :tl[b]] for b in range(N)]


def _run(lp, tg, off, il, tl, blank, g, zi=False, nt=2):
    nll, alpha = _core.ctc_fwd(lp, tg, off, il, tl, blank, nt)
    gx = _core.ctc_bwd(lp, tg, off, il, tl, blank, nll, alpha, g, zi, nt)
    return nll, gx


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("T,N,C,S,blank", [(1, 1, 2, 1, 0), (6, 3, 4, 3, 0), (12, 5, 6, 5, 2),
                                           (30, 4, 10, 8, 9), (7, 2, 3, 0, 1), (20, 3, 2, 6, 0)])
def test_ctc_fwd_bwd_vs_reference(dtype, T, N, C, S, blank):
    rng = np.random.default_rng(T * 100 + N * 10 + C)
    lp = _log_probs(rng, T, N, C, dtype, scale=2.0)
    tg, il, tl, lists = _batch(rng, T, N, C, S, blank)
    g = rng.standard_normal(N).astype(dtype)
    off = np.arange(N, dtype=np.int64) * S
    nll, gx = _run(lp, tg.reshape(-1), off, il, tl, blank, g)
    ref = R.ctc_nll(lp, lists, il, blank)
    np.testing.assert_allclose(nll, ref, **TOL[dtype])
    finite = np.isfinite(ref)
    gref = R.ctc_nll_grad(lp, lists, il, g.astype(np.float64), blank)
    np.testing.assert_allclose(gx[:, finite], gref[:, finite], **TOL[dtype])
    # an impossible sample: inf, NaN gradient for t < input_length, 0 beyond
    for b in np.flatnonzero(~finite):
        assert np.isnan(gx[:il[b], b]).all() and (gx[il[b]:, b] == 0).all()


@pytest.mark.parametrize("dtype", DT)
def test_ctc_concatenated_targets_equal_padded(dtype):
    rng = np.random.default_rng(1)
    T, N, C, S = 15, 4, 5, 4
    lp = _log_probs(rng, T, N, C, dtype)
    tg, il, tl, lists = _batch(rng, T, N, C, S)
    g = rng.standard_normal(N).astype(dtype)
    pad = _run(lp, tg.reshape(-1), np.arange(N, dtype=np.int64) * S, il, tl, 0, g)
    cat = np.concatenate(lists).astype(np.int64)
    off = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
    got = _run(lp, cat, off, il, tl, 0, g)
    np.testing.assert_array_equal(pad[0], got[0])
    np.testing.assert_array_equal(pad[1], got[1])


def _brute_force(lp, labels, blank):
    """-log sum over every path of length T collapsing to labels."""
    T, C = lp.shape
    total = -np.inf
    for path in itertools.product(range(C), repeat=T):
        out, prev = [], None
        for c in path:
            if c != prev and c != blank:
                out.append(c)
            prev = c
        if out == list(labels):
            total = np.logaddexp(total, sum(lp[t, c] for t, c in enumerate(path)))
    return -total


@pytest.mark.parametrize("labels,T", [([], 3), ([1], 1), ([1], 4), ([1, 1], 3), ([1, 1], 2),
                                      ([1, 2], 2), ([2, 1, 2], 5), ([1, 1, 1], 4)])
def test_ctc_reference_is_the_sum_over_alignments(labels, T):
    rng = np.random.default_rng(len(labels) * 10 + T)
    lp = _log_probs(rng, T, 1, 3, np.float64)
    want = _brute_force(lp[:, 0], labels, 0)
    got = R.ctc_nll(lp, [np.array(labels)], [T], 0)[0]
    assert got == want if np.isinf(want) else abs(got - want) < 1e-12
    nll, _ = _core.ctc_fwd(lp, np.array(labels, np.int64), np.zeros(1, np.int64),
                           np.array([T]), np.array([len(labels)]), 0, 1)
    np.testing.assert_allclose(nll[0], want, rtol=1e-12)


@pytest.mark.parametrize("dtype", DT)
def test_ctc_edge_lengths(dtype):
    """input length 0 (0 or inf), target length 0 (-sum of blanks),
    target longer than the input (inf), an exact fit."""
    rng = np.random.default_rng(2)
    T, C = 5, 3
    lp = _log_probs(rng, T, 5, C, dtype)
    tg = np.array([[1, 2, 1], [1, 2, 1], [1, 1, 2], [1, 2, 1], [2, 2, 2]], np.int64)
    il = np.array([0, 0, 4, 5, 4], np.int64)
    tl = np.array([0, 2, 0, 3, 3], np.int64)
    g = np.ones(5, dtype)
    nll, gx = _run(lp, tg.reshape(-1), np.arange(5, dtype=np.int64) * 3, il, tl, 0, g)
    assert nll[0] == 0 and nll[1] == np.inf and nll[4] == np.inf   # 2 _ 2 _ 2 needs 5 steps, has 4
    np.testing.assert_allclose(nll[2], -lp[:4, 2, 0].astype(np.float64).sum(), **TOL[dtype])
    np.testing.assert_allclose(nll[3], R.ctc_nll(lp[:, 3:4], [tg[3]], [5])[0], **TOL[dtype])
    assert (gx[:, :2] == 0).all() and (gx[4:, 2] == 0).all()
    assert np.isnan(gx[:4, 4]).all() and (gx[4, 4] == 0).all()
    _, gz = _run(lp, tg.reshape(-1), np.arange(5, dtype=np.int64) * 3, il, tl, 0, g, zi=True)
    assert (gz[:, 4] == 0).all() and (gz[:, 1] == 0).all()
    np.testing.assert_array_equal(gz[:, :4], gx[:, :4])


@pytest.mark.parametrize("dtype", DT)
def test_ctc_masked_class_has_zero_gradient(dtype):
    """A class at log-prob -inf: finite loss, zero gradient there (PyTorch: NaN)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 1, 4))
    x[:, :, 3] = -np.inf
    lp = (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(dtype)
    tg = np.array([1, 2], np.int64)
    nll, gx = _run(lp, tg, np.zeros(1, np.int64), np.array([6]), np.array([2]), 0,
                   np.ones(1, dtype))
    assert np.isfinite(nll).all() and np.isfinite(gx).all() and (gx[:, 0, 3] == 0).all()
    np.testing.assert_allclose(gx, R.ctc_nll_grad(lp, [tg], [6], [1.0]), **TOL[dtype])


@pytest.mark.parametrize("dtype", DT)
def test_ctc_nan_and_inf_log_probs(dtype):
    """A NaN on a path makes the loss NaN (as PyTorch); a NaN on a class no
    path uses leaves the loss and the other gradients alone; -inf
    everywhere for a label makes the loss +inf."""
    rng = np.random.default_rng(6)
    lp = _log_probs(rng, 6, 3, 4, dtype)
    lp[2, 0, 1] = np.nan                      # label 1 of sample 0
    lp[3, 1, 3] = np.nan                      # class 3: not in sample 1's target
    lp[:, 2, 2] = -np.inf                     # sample 2's label never emitted
    tg = np.array([[1, 2], [1, 2], [2, 1]], np.int64)
    il, tl = np.array([6, 6, 6], np.int64), np.array([2, 2, 2], np.int64)
    nll, gx = _run(lp, tg.reshape(-1), np.array([0, 2, 4], np.int64), il, tl, 0,
                   np.ones(3, dtype))
    assert np.isnan(nll[0]) and np.isfinite(nll[1]) and nll[2] == np.inf
    np.testing.assert_allclose(nll[1], R.ctc_nll(lp[:, 1:2], [tg[1]], [6])[0], **TOL[dtype])
    ref = R.ctc_nll_grad(lp[:, 1:2], [tg[1]], [6], [1.0])[:, 0]
    ok = ~np.isnan(lp[:, 1])
    assert np.isnan(gx[3, 1, 3]) and ok.sum() == ok.size - 1
    np.testing.assert_allclose(gx[:, 1][ok], ref[ok], **TOL[dtype])


@pytest.mark.parametrize("dtype", DT)
def test_ctc_peaked_log_probs(dtype):
    """A confident model (log-probs near -100 for the wrong classes: exp
    underflows in float32) keeps the loss and its gradient."""
    rng = np.random.default_rng(4)
    T, C = 40, 8
    lab = np.array([3, 5, 5, 1, 7], np.int64)
    path = [0, 3, 3, 0, 5, 0, 5, 1, 1, 0, 7] + [0] * (T - 11)
    x = np.full((T, 1, C), -100.0)
    x[np.arange(T), 0, path] = 0.0
    x += rng.uniform(-3, 3, x.shape)
    lp = (x - np.logaddexp.reduce(x, axis=-1, keepdims=True)).astype(dtype)
    nll, gx = _run(lp, lab, np.zeros(1, np.int64), np.array([T]), np.array([5]), 0,
                   np.ones(1, dtype))
    np.testing.assert_allclose(nll, R.ctc_nll(lp, [lab], [T]), **TOL[dtype])
    np.testing.assert_allclose(gx, R.ctc_nll_grad(lp, [lab], [T], [1.0]),
                               rtol=TOL[dtype]["rtol"], atol=1e-4 if dtype == np.float32 else 1e-12)


def test_ctc_threads_identical():
    """1 and 2 threads bitwise equal, above the serial cut-off (the parallel path runs)."""
    rng = np.random.default_rng(5)
    T, N, C, S = 60, 12, 20, 12
    lp = _log_probs(rng, T, N, C, np.float32)
    tg, il, tl, _ = _batch(rng, T, N, C, S)
    g = rng.standard_normal(N).astype(np.float32)
    off = np.arange(N, dtype=np.int64) * S
    # (the counts are compared, never reset: the session's report sums them)
    before = _core.parallel_regions()
    one = _run(lp, tg.reshape(-1), off, il, tl, 0, g, nt=1)
    assert _core.parallel_regions() == before
    two = _run(lp, tg.reshape(-1), off, il, tl, 0, g, nt=2)
    if _core.openmp_enabled():
        ran = {k.rsplit("/", 1)[-1] for k, v in _core.parallel_regions().items()
               if v > before.get(k, 0)}
        assert len(ran) == 2 and all(k.startswith("ctc.inc:") for k in ran), ran
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


def _args(T=4, N=2, C=3):
    lp = np.log(np.full((T, N, C), 1.0 / C))
    return [lp, np.array([1, 2, 1, 2], np.int64), np.array([0, 2], np.int64),
            np.array([T, T], np.int64), np.array([2, 2], np.int64)]


@pytest.mark.parametrize("i,bad,blank,exc", [
    (1, np.array([1, 3, 1, 2], np.int64), 0, IndexError),    # label >= C
    (1, np.array([1, -1, 1, 2], np.int64), 0, IndexError),   # negative label
    (2, np.array([0, 3], np.int64), 0, ValueError),          # offset + length past the end
    (2, np.array([-1, 2], np.int64), 0, ValueError),         # negative offset
    (3, np.array([5, 4], np.int64), 0, ValueError),          # input length > T
    (3, np.array([-1, 4], np.int64), 0, ValueError),         # negative input length
    (4, np.array([2, -1], np.int64), 0, ValueError),         # negative target length
    (4, np.array([2, 5], np.int64), 0, ValueError),          # target length > targets
    (None, None, 3, ValueError),                             # blank >= C
    (None, None, -1, ValueError),                            # negative blank
    (2, np.array([0], np.int64), 0, ValueError),             # offsets of the wrong size
    (3, np.array([4, 4], np.int32), 0, TypeError),           # lengths not int64
    (0, np.ones((4, 6)), 0, ValueError),                     # log_probs not 3-D
    (0, np.ones((4, 2, 3), np.int64), 0, TypeError),         # log_probs not float
])
def test_ctc_binding_rejects_bad_arguments(i, bad, blank, exc):
    args = _args()
    if i is not None:
        args[i] = bad
    with pytest.raises(exc):
        _core.ctc_fwd(*args, blank, 1)


def test_ctc_bwd_checks_saved_arrays():
    args = _args()
    nll, alpha = _core.ctc_fwd(*args, 0, 1)
    g = np.ones(2)
    with pytest.raises(ValueError):
        _core.ctc_bwd(*args, 0, nll, alpha[:, :-1].copy(), g, False, 1)
    with pytest.raises(ValueError):
        _core.ctc_bwd(*args, 0, nll, alpha, np.ones(3), False, 1)
    with pytest.raises(TypeError):
        _core.ctc_bwd(*args, 0, nll.astype(np.float32), alpha, g, False, 1)
    longer = list(args)
    longer[4] = np.array([2, 9], np.int64)          # a longer target than the alpha was for
    longer[1] = np.array([1, 2] * 5 + [1], np.int64)
    with pytest.raises(ValueError):
        _core.ctc_bwd(*longer, 0, nll, alpha, g, False, 1)
