"""The direct (unpacked) path of fnn_gemm (csrc/gemm_small.c): products with
at most a few rows or columns (a Linear layer at batch 1 and its backward)
or very few terms.  Every branch (dot / running-sum kernels, the transposed
problem, gathered operands), K and N just under, at and over the kernels'
lane and block widths, every trans combination, alpha/beta (beta == 0 with
NaN in C), float32/float64, every kernel path, against the float64 oracle;
bitwise identical at 1, 2 and 3 threads; and the packed path with the
direct one switched off."""
import numpy as np
import pytest

import fastnn._core as core
from fastnn.testing.gemm import check as _check, operands as _operands, run as _run

DTYPES = [np.float32, np.float64]
COMBOS = [(False, False), (True, False), (False, True), (True, True)]


def _shapes(dtype):
    L = 64 // np.dtype(dtype).itemsize     # lanes of the dot sums
    ks = [1, 2, L - 1, L, L + 1, 2 * L + 3, 5 * L - 1]
    ns = [1, 3, 4, 5, 9, 2 * L - 1, 2 * L, 2 * L + 1, 4 * L + 7]
    shapes = []
    for m in (1, 2, 4):                    # few rows (and, transposed, few columns)
        for i, k in enumerate(ks):
            n = ns[(i + m) % len(ns)]
            shapes += [(m, n, k), (n + 5, m, k)]
    for m in (5, 12, 16):                  # up to 16 rows / columns: dot products
        shapes += [(m, 2 * L + 1, 3 * L + 5), (2 * L + 3, m, 2 * L - 1)]
    # the dot kernel's k blocks (32 or 16 lane groups) and the copied B
    # block (8 rows of A and more): one block, two, a block and a tail
    kb = L * (32 if L == 16 else 16)
    for m, k in ((3, kb + L), (8, kb), (9, 2 * kb + 3), (16, kb + 1), (13, 3 * kb - L)):
        shapes += [(m, 10, k), (10, m, k)]
    # a few output columns of many rows over K >= 256 terms (a classifier's
    # Linear, x W^T): the dot products of the transposed problem at any M
    shapes += [(300, 10, 256), (130, 16, 300), (1000, 7, 2 * kb + 5)]
    for k in (1, 3, 16):                   # few terms, many rows and columns
        shapes += [(17, 4 * L + 5, k), (40, 2 * L, k)]
    return shapes


@pytest.mark.parametrize("dtype", DTYPES)
def test_direct_shapes(isa, dtype):
    rng = np.random.default_rng(11)
    for idx, (M, N, K) in enumerate(_shapes(dtype)):
        for ta, tb in COMBOS:
            a, b, c0 = _operands(rng, M, N, K, ta, tb, dtype)
            alpha, beta = [(1.0, 0.0), (-0.75, 0.5), (2.0, 1.0)][(idx + ta + 2 * tb) % 3]
            if beta == 0.0:
                c0[:] = np.nan                  # beta == 0: C is not read
            out = _run(a, b, c0, ta, tb, alpha, beta, 1)
            _check(a, b, c0, out, ta, tb, alpha, beta)
            assert np.array_equal(_run(a, b, c0, ta, tb, alpha, beta, 2), out), \
                f"threads change the result at {(M, N, K, ta, tb)}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M,N,K,combos", [
    (1, 4099, 70, COMBOS), (3, 2001, 131, COMBOS), (2301, 2, 150, COMBOS),
    (50, 2085, 9, COMBOS),
    (12, 60, 3001, [(False, True), (True, True)]),      # dot products: B transposed
    (61, 14, 3001, [(False, False), (False, True)]),    # the same, transposed problem
    (2301, 10, 300, [(False, False), (False, True)])])  # the same at many rows, K >= 256
def test_thread_invariance_large(dtype, M, N, K, combos):
    """Big enough for the direct path to use several threads: bitwise the
    same at 1, 2 and 3 threads."""
    rng = np.random.default_rng(12)
    for ta, tb in combos:
        a, b, c0 = _operands(rng, M, N, K, ta, tb, dtype)
        outs = [_run(a, b, c0, ta, tb, 1.0, 0.5, nt) for nt in (1, 2, 3)]
        _check(a, b, c0, outs[0], ta, tb, 1.0, 0.5)
        assert np.array_equal(outs[0], outs[1])
        assert np.array_equal(outs[0], outs[2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_direct_matches_packed(dtype):
    """The same products with the direct path off (packed) agree to rounding,
    and the switch reports and restores its setting."""
    rng = np.random.default_rng(13)
    assert core.gemm_set_direct() is True
    differ = 0
    for (M, N, K) in [(1, 10, 4096), (1, 4096, 10), (10, 4096, 1), (8, 10, 300), (4, 33, 7)]:
        for ta, tb in COMBOS:
            a, b, c0 = _operands(rng, M, N, K, ta, tb, dtype)
            direct = _run(a, b, c0, ta, tb, 1.0, 1.0, 1)
            old = core.gemm_set_direct(False)
            try:
                assert old is True and core.gemm_set_direct() is False
                packed = _run(a, b, c0, ta, tb, 1.0, 1.0, 1)
            finally:
                core.gemm_set_direct(True)
            _check(a, b, c0, packed, ta, tb, 1.0, 1.0)
            tol = 1e-4 if dtype == np.float32 else 1e-12
            np.testing.assert_allclose(direct, packed, rtol=tol, atol=tol * np.sqrt(K))
            differ += not np.array_equal(direct, packed)
    # the switch reaches the kernel: the two paths order the long sums differently
    assert differ > 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_packed_small_shapes(isa, packed_only, dtype):
    """With the direct path off, the packed path still handles the small
    shapes it would otherwise not see (its M, N, K edges below a block)."""
    bl = core.gemm_blocking(dtype)
    mr, nr = bl["mr"], bl["nr"]
    rng = np.random.default_rng(14)
    shapes = [(1, 1, 1), (1, nr + 3, 9), (mr - 1, nr + 5, 9), (mr + 1, 3, 13),
              (2 * mr + 1, nr - 1, 11), (mr + 1, 2 * nr + 1, 5), (3, 4, 300)]
    for idx, (M, N, K) in enumerate(shapes):
        ta, tb = COMBOS[idx % 4]
        a, b, c0 = _operands(rng, M, N, K, ta, tb, dtype)
        alpha, beta = (1.0, 0.0) if idx % 2 else (0.75, 0.5)
        if beta == 0.0:
            c0[:] = np.nan
        out = _run(a, b, c0, ta, tb, alpha, beta, 1)
        _check(a, b, c0, out, ta, tb, alpha, beta)
        assert np.array_equal(_run(a, b, c0, ta, tb, alpha, beta, 2), out)


def test_gather_too_long_falls_back():
    """A transposed single-row A whose gathered copy would not fit the
    workspace goes to the packed path, still correct."""
    rng = np.random.default_rng(15)
    K = 1_100_000
    a = rng.standard_normal((K, 1)).astype(np.float32)    # op(A) = a.T: 1 x K
    b = rng.standard_normal((2, K)).astype(np.float32)    # op(B) = b.T: K x 2
    c = np.full((1, 2), np.nan, np.float32)
    core.gemm(a, b, c, trans_a=True, trans_b=True, n_threads=2)
    want = a.T.astype(np.float64) @ b.T.astype(np.float64)
    np.testing.assert_allclose(c, want, rtol=1e-4, atol=1e-2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_packed_private_panels_no_race(packed_only, dtype):
    """Regression: with threads over N only (each packing its own B panels, no
    barrier) and k blocks of unequal length (K % nk != 0), a thread packing
    the next k-block group used to overwrite the end of a neighbour's panel
    still in use (wrong results at 3 threads, now and then).  Repeated,
    bitwise against 1 thread."""
    rng = np.random.default_rng(16)
    for M, N, K in [(12, 60, 3001), (7, 100, 1025)]:
        a, b, c0 = _operands(rng, M, N, K, False, False, dtype)
        want = _run(a, b, c0, False, False, 1.0, 0.0, 1)
        _check(a, b, c0, want, False, False, 1.0, 0.0)
        for _ in range(25):
            for nt in (2, 3):
                assert np.array_equal(_run(a, b, c0, False, False, 1.0, 0.0, nt), want)


@pytest.mark.skipif(core.cpu_best_isa() != "avx512", reason="the CPU has no AVX-512")
@pytest.mark.parametrize("dtype", DTYPES)
def test_dot_row_blocks_same_bits_as_avx2(dtype):
    """On AVX-512 the dot kernel runs the rows of A in fours (groups of at
    most 4 vector slots), pairs, then singly, sharing each B vector among
    them; every element keeps the sums of its own K order, so the result is
    bitwise the AVX2 kernel's (one row at a time): row counts 1-16 cross
    every split, 10 and 3 output columns a short last group, K several k
    blocks and a tail."""
    L = 64 // np.dtype(dtype).itemsize
    kb = L * (32 if L == 16 else 16)
    rng = np.random.default_rng(21)
    try:
        for m in list(range(1, 17)):
            for n, k in ((10, 2 * kb + L + 3), (3, 300), (16, kb - 1), (9, 4 * L)):
                for shape, tb in (((m, n, k), True), ((n, m, k), False)):
                    M, N, K = shape
                    a, b, c0 = _operands(rng, M, N, K, False, tb, dtype)
                    outs = []
                    for path in ("avx2", "avx512"):
                        core.gemm_set_isa(path)
                        outs.append(_run(a, b, c0, False, tb, 1.0, 0.5, 1))
                    _check(a, b, c0, outs[1], False, tb, 1.0, 0.5)
                    assert np.array_equal(outs[0], outs[1]), (shape, tb)
    finally:
        core.gemm_set_isa("auto")
