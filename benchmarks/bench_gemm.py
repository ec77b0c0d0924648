"""GEMM benchmarks (PERF.md: gemm_1024 and the conv/linear-shaped GEMMs):
fastnn's fnn_gemm_f32 against numpy.matmul (its BLAS pinned to the same
thread count with threadpoolctl), at 1 and 2 threads, float32, GFLOP/s in
extra_info; plus the machine's FMA peak from fastnn's register-only probe
for the kernel path in force (``fastnn bench --peak`` prints the same).

    pytest benchmarks/bench_gemm.py --benchmark-only --benchmark-group-by=group
    python benchmarks/bench_gemm.py        # one-run table (medians, % of peak)
    python benchmarks/bench_gemm.py 256 512 1024 2048 gemm_conv_fwd   # chosen rows

For NumPy at its best run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset
(``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ...``).  Correctness is
asserted outside the timed region.
"""
import contextlib
import os
import sys

import numpy as np
import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
if __name__ == "__main__":   # run as a script from anywhere: this tree's fastnn
    sys.path.insert(1, os.path.dirname(_HERE))
from workloads import GEMM  # noqa: E402

import fastnn  # noqa: E402,F401  (chooses the kernel path)
import fastnn._core as core  # noqa: E402

# thread counts timed; FASTNN_BENCH_THREADS picks one (the CPU-time runs: 1)
THREADS = ((int(os.environ["FASTNN_BENCH_THREADS"]),) if "FASTNN_BENCH_THREADS" in os.environ
           else (1, 2))


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
    # outside the timed region, on one BLAS thread (a threaded check would
    # leave OpenBLAS's workers spinning through the timing: conftest.py)
    with _limits(1):
        check(w, a, b, c)
    with _limits(nt):
        benchmark.group = f"{name} {nt}t"
        benchmark.extra_info.update(
            threads=nt, isa=core.gemm_isa() if lib == "fastnn" else blas_info())
        benchmark.pedantic(fn, rounds=7 if w["M"] * w["N"] * w["K"] > 5e7 else 30,
                           warmup_rounds=1)
    flops = 2.0 * w["M"] * w["N"] * w["K"]
    if benchmark.stats is not None:              # None under --benchmark-disable
        benchmark.extra_info["gflops"] = round(flops / benchmark.stats.stats.median / 1e9, 1)


def fma_peak(nt):
    """The FMA probe's peak (GFLOP/s) for the kernel path in force at nt
    threads: fastnn's own register-only loop (csrc/gemm_kernels.c), best of
    5 runs, timed by each thread's CPU time (fastnn.cli.fma_peak)."""
    from fastnn.cli import fma_peak as peak
    return peak(nt, min_time=0.2)


@pytest.mark.parametrize("nt", THREADS)
def test_fma_peak(benchmark, nt):
    got = {}
    benchmark.group = "fma_peak"
    benchmark.pedantic(lambda: got.setdefault("g", fma_peak(nt)), rounds=1, iterations=1)
    benchmark.extra_info.update(threads=nt, gflops=round(got["g"], 1), isa=core.gemm_isa())


def _median_time(fn, reps):
    import time
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def _torch_runner(w, a, b, c, nt):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(nt)
    A = torch.from_numpy(a.T if w["trans_a"] else a)
    B = torch.from_numpy(b.T if w["trans_b"] else b)
    C = torch.from_numpy(c)
    return lambda: torch.mm(A, B, out=C)


def main(names=None, reps=7, rounds=5):
    """Prints GFLOP/s medians and % of the FMA probe's peak (measured next
    to each workload), fastnn, NumPy and PyTorch measured alternately in
    rounds, and the spread of the rounds (interquartile range / median)."""
    from fastnn.cli import spread_of
    print(f"fastnn path {core.gemm_isa()} {core.gemm_blocking()}  NumPy BLAS {blas_info()}")
    print(f"{'workload':24s} {'thr':>3s} {'peak':>6s} {'fastnn':>8s} {'%':>4s} {'numpy':>8s} "
          f"{'%':>4s} {'torch':>8s} {'%':>4s} {'spread':>6s}")
    for name in names or GEMM:
        # a bare number n: the square product n x n x n
        w = GEMM[name] if name in GEMM else dict(M=int(name), N=int(name), K=int(name),
                                                   trans_a=False, trans_b=False)
        a, b, c = operands(w)
        flops = 2.0 * w["M"] * w["N"] * w["K"]
        for nt in THREADS:
            peak = fma_peak(nt)
            with _limits(nt):
                fns = {"fastnn": runner("fastnn", w, a, b, c, nt),
                       "numpy": runner("numpy", w, a, b, c, nt),
                       "torch": _torch_runner(w, a, b, c, nt)}
                fns["fastnn"]()
                check(w, a, b, c)
                r = reps if flops > 5e7 else 5 * reps
                ts = {k: [] for k, f in fns.items() if f is not None}
                for _ in range(rounds):      # alternate to share the machine's mood
                    for k in ts:
                        ts[k].append(_median_time(fns[k], r))
            g = {k: flops / np.median(v) / 1e9 for k, v in ts.items()}
            sp = max(spread_of(v) for v in ts.values())
            cols = "".join(f" {g[k]:8.1f} {100 * g[k] / peak:3.0f}%" if k in g else f" {'-':>8} {'':>4}"
                           for k in ("fastnn", "numpy", "torch"))
            print(f"{name:24s} {nt:3d} {peak:6.1f}{cols} {100 * sp:5.0f}%", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or None)
