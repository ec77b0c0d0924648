"""GEMM benchmarks (PERF.md: gemm_1024 and the conv/linear-shaped GEMMs):
fastnn's fnn_gemm_f32 against numpy.matmul (its BLAS pinned to the same
thread count with threadpoolctl), at 1 and 2 threads, float32, GFLOP/s in
extra_info; plus the machine's FMA peak from a register-only probe.

    pytest benchmarks/bench_gemm.py --benchmark-only --benchmark-group-by=group
    python benchmarks/bench_gemm.py        # one-run ratio table (medians)

For NumPy at its best run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset
(``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ...``).  Correctness is
asserted outside the timed region.
"""
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
if __name__ == "__main__":   # run as a script from anywhere: this tree's fastnn
    sys.path.insert(1, os.path.dirname(_HERE))
from workloads import GEMM  # noqa: E402

import fastnn  # noqa: E402,F401  (chooses the kernel path)
import fastnn._core as core  # noqa: E402

THREADS = (1, 2)


def _limits(n):
    """threadpoolctl's limit on NumPy's BLAS, or a no-op without it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=n)


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return "unknown (threadpoolctl not installed)"
    for d in threadpool_info():
        if d.get("user_api") == "blas":
            return f"{d.get('internal_api')} {d.get('version')} {d.get('architecture')}"
    return "unknown"


def operands(w, seed=0):
    rng = np.random.default_rng(seed)
    M, N, K = w["M"], w["N"], w["K"]
    a = rng.standard_normal((K, M) if w["trans_a"] else (M, K), dtype=np.float32)
    b = rng.standard_normal((N, K) if w["trans_b"] else (K, N), dtype=np.float32)
    return a, b, np.empty((M, N), np.float32)


def runner(lib, w, a, b, c, nt):
    ta, tb = w["trans_a"], w["trans_b"]
    if lib == "fastnn":
        return lambda: core.gemm(a, b, c, trans_a=ta, trans_b=tb, n_threads=nt)
    A = a.T if ta else a
    B = b.T if tb else b
    return lambda: np.matmul(A, B, out=c)


def check(w, a, b, c):
    A = (a.T if w["trans_a"] else a).astype(np.float64)
    B = (b.T if w["trans_b"] else b).astype(np.float64)
    want = A @ B
    bound = 1e-5 * np.sqrt(w["K"]) * (np.abs(A) @ np.abs(B)) + 1e-6
    assert np.all(np.abs(c - want) <= bound)


@pytest.mark.parametrize("nt", THREADS)
@pytest.mark.parametrize("lib", ["fastnn", "numpy"])
@pytest.mark.parametrize("name", list(GEMM))
def test_gemm(benchmark, name, lib, nt):
    w = GEMM[name]
    a, b, c = operands(w)
    fn = runner(lib, w, a, b, c, nt)
    with _limits(nt):
        fn()
        check(w, a, b, c)                      # outside the timed region
        benchmark.group = f"{name} {nt}t"
        benchmark.extra_info.update(
            threads=nt, isa=core.gemm_isa() if lib == "fastnn" else blas_info())
        benchmark.pedantic(fn, rounds=7 if w["M"] * w["N"] * w["K"] > 5e7 else 30,
                           warmup_rounds=1)
    flops = 2.0 * w["M"] * w["N"] * w["K"]
    if benchmark.stats is not None:              # None under --benchmark-disable
        benchmark.extra_info["gflops"] = round(flops / benchmark.stats.stats.median / 1e9, 1)


PEAK_SRC = r"""
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <omp.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
__attribute__((noinline)) static float run(long n, float s){
    __m256 a = _mm256_set1_ps(s), b = _mm256_set1_ps(0.999f);
    /* distinct starting values: with equal ones the compiler merges the 12
     * identical chains into one and the loop measures FMA latency, not
     * throughput (it did, and reported ~1.5x the real peak) */
#define Z(i) _mm256_set1_ps(1e-3f * (i))
    __m256 c0=Z(0),c1=Z(1),c2=Z(2),c3=Z(3),c4=Z(4),c5=Z(5),c6=Z(6),c7=Z(7),c8=Z(8),c9=Z(9),c10=Z(10),c11=Z(11);
    for (long k = 0; k < n; k++) {
#define F(c) c = _mm256_fmadd_ps(a, b, c);
        F(c0)F(c1)F(c2)F(c3)F(c4)F(c5)F(c6)F(c7)F(c8)F(c9)F(c10)F(c11)
    }
    __m256 r = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0,c1),_mm256_add_ps(c2,c3)),
                             _mm256_add_ps(_mm256_add_ps(c4,c5),_mm256_add_ps(c6,c7)));
    r = _mm256_add_ps(r, _mm256_add_ps(_mm256_add_ps(c8,c9),_mm256_add_ps(c10,c11)));
    float o[8]; _mm256_storeu_ps(o, r); return o[0];
}
int main(int argc, char **argv){
    int nt = atoi(argv[1]); long n = atol(argv[2]); double best = 0; volatile float sink = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t = now();
#pragma omp parallel num_threads(nt)
        { float s = run(n, 1.0f + omp_get_thread_num());
#pragma omp atomic
          sink += s; }
        t = now() - t;
        double g = (double)n * 12 * 16 * nt / t / 1e9;
        if (g > best) best = g;
    }
    printf("%.1f\n", best);
    return 0;
}
"""


def fma_peak(nt, n=20_000_000):
    """Best-of-5 AVX2 FMA GFLOP/s of a register-only loop at nt threads
    (compiled with gcc -O2 -mavx2 -mfma here), or None without gcc/AVX2."""
    gcc = shutil.which("gcc")
    if gcc is None or core.cpu_best_isa() == "portable":
        return None
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "peak.c"), os.path.join(d, "peak")
        with open(src, "w") as f:
            f.write(PEAK_SRC)
        r = subprocess.run([gcc, "-O2", "-mavx2", "-mfma", "-fopenmp", src, "-o", exe],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return None
        out = subprocess.run([exe, str(nt), str(n)], capture_output=True, text=True, timeout=120)
        return float(out.stdout.strip())


@pytest.mark.parametrize("nt", THREADS)
def test_fma_peak(benchmark, nt):
    got = {}
    benchmark.group = "fma_peak"
    benchmark.pedantic(lambda: got.setdefault("g", fma_peak(nt)), rounds=1, iterations=1)
    if got["g"] is None:
        pytest.skip("no gcc or no AVX2+FMA")
    benchmark.extra_info.update(threads=nt, gflops=got["g"])


def _median_time(fn, reps):
    import time
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def main(names=None, reps=7):
    """Prints GFLOP/s medians, fastnn and NumPy measured alternately in one run."""
    print(f"fastnn path {core.gemm_isa()}  NumPy BLAS {blas_info()}")
    print("FMA peak (AVX2, best of 5): " + ", ".join(f"{nt}t {fma_peak(nt)}" for nt in THREADS))
    print(f"{'workload':24s} {'thr':>3s} {'fastnn':>8s} {'numpy':>8s} {'ratio':>6s}")
    for name in names or GEMM:
        w = GEMM[name]
        a, b, c = operands(w)
        flops = 2.0 * w["M"] * w["N"] * w["K"]
        for nt in THREADS:
            with _limits(nt):
                f1, f2 = runner("fastnn", w, a, b, c, nt), runner("numpy", w, a, b, c, nt)
                f1()
                check(w, a, b, c)
                r = reps if flops > 5e7 else 5 * reps
                t1, t2 = [], []
                for _ in range(3):      # alternate to share the machine's mood
                    t1.append(_median_time(f1, r))
                    t2.append(_median_time(f2, r))
                g1, g2 = flops / np.median(t1) / 1e9, flops / np.median(t2) / 1e9
            print(f"{name:24s} {nt:3d} {g1:8.1f} {g2:8.1f} {g1 / g2:6.2f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or None)
