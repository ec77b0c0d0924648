"""The K-split path of fnn_gemm (csrc/gemm.inc, constants in csrc/gemm.h):
products with a small C and many terms (a weight gradient over a large
batch) have K cut into a number of chunks fixed by the shape, each chunk
computed into C (chunk 0, beta applied) or its own partial, the partials
added in chunk order.

Checked here: the path is taken where gemm.h says (the result equals,
bit for bit, the chunked sum built from per-chunk products), against the
float64 oracle for float32/float64, every trans combination, alpha/beta
(beta == 0 with NaN in C), ragged chunks, K blocks and panels, more rows than
one A block, every kernel path and the direct path off; bitwise identical at
1, 2 and 3 threads."""
import numpy as np
import pytest

import fastnn._core as core
from fastnn.testing.gemm import check as _check, operands as _operands, run as _run

DTYPES = [np.float32, np.float64]
COMBOS = [(False, False), (True, False), (False, True), (True, True)]

# csrc/gemm.h
KS_MN_MAX, KS_K_MIN, KS_K_RATIO = 65536, 4096, 8
KS_CHUNKS, KS_CHUNK_MIN, KS_PART = 8, 512, 262144


def ks_chunks(M, N, K):
    """The chunk count gemm.h documents (0: the path is not taken)."""
    mn = M * N
    if mn <= 0 or mn > KS_MN_MAX or K < KS_K_MIN or K // KS_K_RATIO < max(M, N):
        return 0
    n = min(KS_CHUNKS, K // KS_CHUNK_MIN, 1 + KS_PART // mn)
    return n if n >= 2 else 0


def _chunk(x, trans, k0, k1, is_a):
    """op(X)[:, k0:k1] for A (is_a) or op(X)[k0:k1, :] for B, in X's layout."""
    k_on_rows = trans if is_a else not trans
    return np.ascontiguousarray(x[k0:k1] if k_on_rows else x[:, k0:k1])


def _chunked(a, b, c0, ta, tb, alpha, beta, K, nch):
    """What the K-split path computes: chunk 0 with beta into C, the others
    with beta = 0, added in chunk order (each chunk short enough for the
    ordinary packed path)."""
    cb, crem = divmod(K, nch)
    c = c0.copy()
    k0 = 0
    for ch in range(nch):
        k1 = k0 + cb + (ch < crem)
        assert ks_chunks(c0.shape[0], c0.shape[1], k1 - k0) == 0
        ac, bc = _chunk(a, ta, k0, k1, True), _chunk(b, tb, k0, k1, False)
        if ch == 0:
            core.gemm(ac, bc, c, trans_a=ta, trans_b=tb, alpha=alpha, beta=beta)
        else:
            p = np.full_like(c0, np.nan)
            core.gemm(ac, bc, p, trans_a=ta, trans_b=tb, alpha=alpha, beta=0.0)
            c += p
        k0 = k1
    assert k0 == K
    return c


def test_thresholds():
    """The workloads this path is for take it; the other named GEMMs do not."""
    assert ks_chunks(64, 576, 65536) == 8            # gemm_conv_bwd_weight
    assert ks_chunks(20, 24, 5000) == 8
    for M, N, K in [(1024, 1024, 1024), (65536, 64, 576), (65536, 576, 64),
                    (128, 256, 784), (64, 576, 4095), (600, 40, 4096)]:
        assert ks_chunks(M, N, K) == 0
    assert ks_chunks(256, 256, 8192) == 5            # partials bounded by KS_PART


@pytest.mark.parametrize("dtype", DTYPES)
def test_path_taken_bitwise(isa, dtype):
    """The full product equals the chunked sum bit for bit: the path runs,
    with the chunk bounds gemm.h documents."""
    rng = np.random.default_rng(21)
    M, N, K = 20, 37, 5003            # 8 chunks of 625-626: ragged
    nch = ks_chunks(M, N, K)
    assert nch == 8
    for idx, (ta, tb) in enumerate(COMBOS):
        a, b, c0 = _operands(rng, M, N, K, ta, tb, dtype)
        alpha, beta = [(1.0, 0.0), (-0.75, 0.5)][idx % 2]
        if beta == 0.0:
            c0[:] = np.nan
        out = _run(a, b, c0, ta, tb, alpha, beta, 2)
        want = _chunked(a, b, c0, ta, tb, alpha, beta, K, nch)
        assert np.array_equal(out, want), (ta, tb)
        _check(a, b, c0, out, ta, tb, alpha, beta)


@pytest.mark.parametrize("dtype", DTYPES)
def test_shapes_and_threads(isa, packed_only, dtype):
    """Against the oracle at shapes hitting the edges (rows/columns not a
    multiple of the register block, more columns than one B block, more rows
    than one A block, K not a multiple of the chunk count or of kc, one or
    two rows or columns with the direct path off), every trans combination
    and alpha/beta; bitwise the same at 1, 2 and 3 threads."""
    bl = core.gemm_blocking(dtype)
    mr, nr, mc = bl["mr"], bl["nr"], bl["mc"]
    rng = np.random.default_rng(22)
    # (mc is chosen from this CPU's L2: K grows with it so that a product of
    # more rows than one A block still takes the K-split path)
    shapes = [(20, 24, 5000), (mr + 1, 2 * nr + 3, 4099), (3, 200, 4096 + 7),
              (mc + 5, 17, max(4099, KS_K_RATIO * (mc + 5) + 3)), (1, 2, 4100), (33, 7, 4200)]
    for idx, (M, N, K) in enumerate(shapes):
        assert ks_chunks(M, N, K) >= 2, (M, N, K)
        for j, (ta, tb) in enumerate(COMBOS):
            a, b, c0 = _operands(rng, M, N, K, ta, tb, dtype)
            alpha, beta = [(1.0, 0.0), (-0.75, 0.5), (2.0, 1.0)][(idx + j) % 3]
            if beta == 0.0:
                c0[:] = np.nan                  # beta == 0: C is not read
            out = _run(a, b, c0, ta, tb, alpha, beta, 1)
            _check(a, b, c0, out, ta, tb, alpha, beta)
            for nt in (2, 3):
                assert np.array_equal(_run(a, b, c0, ta, tb, alpha, beta, nt), out), \
                    f"{nt} threads change the result at {(M, N, K, ta, tb)}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_bwd_weight_like(dtype):
    """A scaled-down conv weight gradient (dY^T @ cols): 2 and 3 threads
    repeatedly equal 1 thread (chunks are dealt dynamically)."""
    rng = np.random.default_rng(23)
    M, N, K = 16, 144, 8192
    assert ks_chunks(M, N, K) == 8
    a, b, c0 = _operands(rng, M, N, K, True, False, dtype)
    want = _run(a, b, c0, True, False, 1.0, 0.0, 1)
    _check(a, b, c0, want, True, False, 1.0, 0.0)
    for _ in range(5):
        for nt in (2, 3):
            assert np.array_equal(_run(a, b, c0, True, False, 1.0, 0.0, nt), want)


def test_alpha_zero_and_beta_nan():
    """alpha == 0 scales C only; beta == 0 ignores NaN in C on this path."""
    rng = np.random.default_rng(24)
    a, b, c0 = _operands(rng, 20, 24, 5000, True, False, np.float32)
    out = _run(a, b, c0, True, False, 0.0, 0.5, 2)
    np.testing.assert_array_equal(out, np.float32(0.5) * c0)
    c0[:] = np.nan
    out = _run(a, b, c0, True, False, 1.0, 0.0, 2)
    _check(a, b, c0, out, True, False, 1.0, 0.0)
