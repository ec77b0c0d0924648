"""Elementwise activations, forward: relu / sigmoid / tanh over 2,000,000
float32 values at 1 and 2 threads, fastnn's C kernels against NumPy and
PyTorch (when importable), so that a loss of vectorisation at one thread
(as when ``#pragma omp parallel for simd ... if (nt > 1)`` dropped the simd
part at nt == 1: relu 30x slower at 1 thread) shows up in the table: the
fastnn/numpy ratio at 1 thread and the 2-thread/1-thread ratio.

Answers are checked against NumPy outside the timed region.  NumPy's ufuncs
are single-threaded (its row appears in both thread groups for reference).

Run:  python -m pytest benchmarks/bench_elementwise.py --benchmark-only
"""
import numpy as np
import pytest

import fastnn
from fastnn import _core

N = 2_000_000
OPS = ("relu", "sigmoid", "tanh")


def _x():
    return (np.random.default_rng(0).standard_normal(N) * 3).astype(np.float32)


def _np_op(op, x, out):
    if op == "relu":
        return np.maximum(x, 0, out=out)
    if op == "sigmoid":
        np.negative(x, out=out)
        np.exp(out, out=out)
        out += 1
        return np.reciprocal(out, out=out)
    return np.tanh(x, out=out)


def _impl(impl, op, x, threads):
    out = np.empty_like(x)
    if impl == "fastnn":
        fastnn.set_num_threads(threads)
        kern = getattr(_core, f"{op}_fwd")
        return lambda: kern(x, out, threads)
    if impl == "numpy":
        return lambda: _np_op(op, x, out)
    torch = pytest.importorskip("torch")
    torch.set_num_threads(threads)
    tx, tout = torch.from_numpy(x), torch.from_numpy(out)
    if op == "relu":    # torch.relu has no out=; clamp_min is the same op
        return lambda: torch.clamp_min(tx, 0, out=tout).numpy()
    fn = getattr(torch, op)
    return lambda: fn(tx, out=tout).numpy()


@pytest.mark.parametrize("impl", ["fastnn", "numpy", "torch"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("op", OPS)
def test_elementwise_fwd(benchmark, op, threads, impl):
    x = _x()
    run = _impl(impl, op, x, threads)
    got = run()
    ref = _np_op(op, x.astype(np.float64), np.empty(N)).astype(np.float32)
    np.testing.assert_allclose(got, ref, rtol=2e-6, atol=2e-7)
    benchmark.group = f"{op} fwd 2M float32, {threads} thread(s)"
    benchmark.extra_info.update(workload=f"{op}_2m", threads=threads)
    benchmark(run)
    if benchmark.stats is not None:              # None under --benchmark-disable
        benchmark.extra_info["GB/s"] = round(2 * x.nbytes / benchmark.stats.stats.median / 1e9, 2)
