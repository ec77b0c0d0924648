"""Helpers for the tests of ``fastnn._core.gemm`` and its kernel paths:
which paths this CPU runs, random operands, one call, and a check against
the float64 oracle with an error bound scaled by the terms summed."""
import numpy as np

from .. import _core as core
from . import reference as ref

TOL = {np.float32: 2e-6, np.float64: 1e-14}


def kernel_paths():
    """Paths this CPU can run: portable, avx2 (and the AVX-512 kernels'
    code, emulated with AVX2), avx512 when the CPU has it."""
    best = core.cpu_best_isa()
    paths = ["portable"]
    if best in ("avx2", "avx512"):
        paths += ["avx2", "avx512sim"]
    if best == "avx512":
        paths.append("avx512")
    return paths


def operands(rng, M, N, K, ta, tb, dtype):
    """Random op(A) (M x K), op(B) (K x N) stored as trans_a / trans_b
    say, and C (M x N)."""
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    c = rng.standard_normal((M, N)).astype(dtype)
    return a, b, c


def run(a, b, c0, ta, tb, alpha, beta, nt):
    """alpha op(a) op(b) + beta c0 through the binding, into a copy of c0."""
    c = c0.copy()
    core.gemm(a, b, c, trans_a=ta, trans_b=tb, alpha=alpha, beta=beta, n_threads=nt)
    return c


def check(a, b, c0, out, ta, tb, alpha, beta):
    """out against the float64 oracle, with an error bound scaled by the
    magnitude of the terms summed (|alpha| |A| |B| + |beta C|)."""
    dtype = out.dtype.type
    want = ref.gemm(a, b, c0, trans_a=ta, trans_b=tb, alpha=alpha, beta=beta)
    A = np.abs(a.T if ta else a).astype(np.float64)
    B = np.abs(b.T if tb else b).astype(np.float64)
    scale = abs(alpha) * (A @ B) + (abs(beta) * np.abs(c0.astype(np.float64)) if beta else 0)
    K = A.shape[1]
    bound = TOL[dtype] * (1 + np.sqrt(K)) * (scale + 1)
    err = np.abs(out.astype(np.float64) - want.astype(np.float64))
    assert np.all(np.isfinite(out))
    assert np.all(err <= bound), f"max err {err.max()} (bound {bound.min()})"
