"""Dense layer (PERF.md ``linear_mlp``: 784 -> 256, batch 128), forward and
forward+backward (dx, dW, db) through fastnn's ``F.linear`` (fnn_gemm),
against NumPy (``x @ W.T + b`` on its BLAS) and PyTorch when importable.
2 threads (threadpoolctl pins NumPy's BLAS when installed).  GFLOP/s in
``extra_info``.  Answers are checked outside the timed region.

Run:  python -m pytest benchmarks/bench_linear.py --benchmark-only
"""
import contextlib
import os

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from workloads import LINEAR

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))   # PERF.md: 2 threads
N, IN, OUT = LINEAR["linear_mlp"]
FLOPS = {"fwd": 2 * N * IN * OUT, "fwd_bwd": 3 * 2 * N * IN * OUT}


def _blas_limit():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(THREADS)


def np_fwd(x, w, b):
    return x @ w.T + b


def np_fb(x, w, b, g):
    np_fwd(x, w, b)
    return g @ w, g.T @ x, g.sum(axis=0)


def _impl(name, x, w, b, g):
    if name == "numpy":
        return (lambda: np_fwd(x, w, b)), (lambda: np_fb(x, w, b, g)[0]), np_fwd(x, w, b), \
            np_fb(x, w, b, g)[0]
    if name == "fastnn":
        fastnn.set_num_threads(THREADS)
        xt, wt, bt = (fastnn.Tensor(a, requires_grad=True) for a in (x, w, b))

        def fwd():
            with fastnn.no_grad():
                return F.linear(xt, wt, bt)

        def fb():
            xt.grad = wt.grad = bt.grad = None
            F.linear(xt, wt, bt).backward(g)
            return xt.grad
        return fwd, fb, fwd().numpy(), fb()
    torch = pytest.importorskip("torch")
    torch.set_num_threads(THREADS)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tg = torch.tensor(g)

    def fwd():
        with torch.no_grad():
            return torch.nn.functional.linear(tx, tw, tb)

    def fb():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.linear(tx, tw, tb).backward(tg)
        return tx.grad
    return fwd, fb, fwd().numpy(), fb().numpy()


@pytest.mark.parametrize("impl", ["fastnn", "numpy", "torch"])
@pytest.mark.parametrize("pass_", ["fwd", "fwd_bwd"])
def test_linear_mlp(benchmark, impl, pass_):
    r = np.random.default_rng(0)
    x = r.standard_normal((N, IN)).astype(np.float32)
    w = (r.standard_normal((OUT, IN)) / 28).astype(np.float32)
    b = r.standard_normal(OUT).astype(np.float32)
    g = r.standard_normal((N, OUT)).astype(np.float32)
    with _blas_limit():
        fwd, fb, y, dx = _impl(impl, x, w, b, g)
        np.testing.assert_allclose(y, x.astype(np.float64) @ w.T.astype(np.float64) + b,
                                   rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(dx, g.astype(np.float64) @ w.astype(np.float64), rtol=1e-4,
                                   atol=1e-4)
        benchmark.group = f"linear_mlp {pass_}"
        benchmark.extra_info["workload"] = "linear_mlp"
        benchmark.extra_info["gflop"] = FLOPS[pass_] / 1e9
        benchmark(fwd if pass_ == "fwd" else fb)
        if benchmark.stats is not None:          # None under --benchmark-disable
            benchmark.extra_info["gflops"] = FLOPS[pass_] / benchmark.stats.stats.median / 1e9


@pytest.mark.parametrize("impl", ["fastnn", "numpy", "torch"])
@pytest.mark.parametrize("pass_", ["fwd", "fwd_bwd"])
@pytest.mark.parametrize("batch", [1, 8])
def test_linear_head_small_batch(benchmark, impl, pass_, batch):
    """The CNN head of PERF.md's cnn_* workloads, Linear(4096 -> 10), at the
    small batches of cnn_infer_b1 / cnn_train_b8 (fnn_gemm's direct path)."""
    r = np.random.default_rng(1)
    x = r.standard_normal((batch, 4096)).astype(np.float32)
    w = (r.standard_normal((10, 4096)) / 64).astype(np.float32)
    b = r.standard_normal(10).astype(np.float32)
    g = r.standard_normal((batch, 10)).astype(np.float32)
    with _blas_limit():
        fwd, fb, y, dx = _impl(impl, x, w, b, g)
        np.testing.assert_allclose(y, x.astype(np.float64) @ w.T.astype(np.float64) + b,
                                   rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(dx, g.astype(np.float64) @ w.astype(np.float64), rtol=1e-4,
                                   atol=1e-4)
        flops = 2 * batch * 4096 * 10 * (1 if pass_ == "fwd" else 3)
        benchmark.group = f"linear_head_b{batch} {pass_}"
        benchmark.extra_info["gflop"] = flops / 1e9
        benchmark(fwd if pass_ == "fwd" else fb)
        if benchmark.stats is not None:
            benchmark.extra_info["gflops"] = flops / benchmark.stats.stats.median / 1e9
