"""max_pool2d / avg_pool2d forward and backward on PERF.md's ``maxpool``
workload (2x2 stride 2 on (64, 64, 32, 32)): fastnn against a careful-NumPy
reference (``sliding_window_view`` windows, argmax, strided scatter) and
PyTorch when importable.  2 threads.  Answers checked outside the timed
region.

Run:  python -m pytest benchmarks/bench_pool2d.py --benchmark-only
"""
import os
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import fastnn
from fastnn.autograd.function import Context
from fastnn.ops.pooling import AvgPool2dFn, MaxPool2dFn, _geom
from workloads import MAXPOOL

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))   # PERF.md: 2 threads
SHAPE, K, S = MAXPOOL["maxpool"]


def np_max_fwd(x):
    win = sliding_window_view(x, (K, K), axis=(2, 3))[:, :, ::S, ::S]
    flat = win.reshape(win.shape[:4] + (K * K,))
    idx = flat.argmax(axis=-1)
    return np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0], idx


def np_max_bwd(x, g, idx):
    dx = np.zeros_like(x)
    OH, OW = g.shape[2:]
    for r in range(K):
        for s in range(K):
            dx[:, :, r:r + S * OH:S, s:s + S * OW:S] += g * (idx == r * K + s)
    return dx


def np_avg_fwd(x):
    return sliding_window_view(x, (K, K), axis=(2, 3))[:, :, ::S, ::S].mean(axis=(4, 5))


def np_avg_bwd(x, g):
    dx = np.zeros_like(x)
    OH, OW = g.shape[2:]
    for r in range(K):
        for s in range(K):
            dx[:, :, r:r + S * OH:S, s:s + S * OW:S] += g / (K * K)
    return dx


def _setup(op, impl, x, g):
    """(fwd, bwd, y, dx) callables and results for one implementation."""
    k, s, p = (K, K), (S, S), (0, 0)
    if impl == "fastnn":
        fastnn.set_num_threads(THREADS)
        fn = MaxPool2dFn if op == "max" else AvgPool2dFn
        name = "max_pool2d" if op == "max" else "avg_pool2d"
        geom = _geom(name, 2, x.shape, k, s, p, 1, False, True, None)
        ctx = Context()
        ctx.needs_input_grad = (True, False, False)
        y = fn.forward(ctx, x, geom)
        return (lambda: fn.forward(Context(), x, geom),
                lambda: fn.backward(ctx, g)[0], y, fn.backward(ctx, g)[0])
    if impl == "numpy":
        if op == "max":
            y, idx = np_max_fwd(x)
            return (lambda: np_max_fwd(x), lambda: np_max_bwd(x, g, idx), y,
                    np_max_bwd(x, g, idx))
        return (lambda: np_avg_fwd(x), lambda: np_avg_bwd(x, g), np_avg_fwd(x),
                np_avg_bwd(x, g))
    torch = pytest.importorskip("torch")
    torch.set_num_threads(THREADS)
    tf = torch.nn.functional.max_pool2d if op == "max" else torch.nn.functional.avg_pool2d
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g)
    y = tf(tx, K, S)

    def fwd():
        with torch.no_grad():
            return tf(tx, K, S)
    bwd = lambda: torch.autograd.grad(y, tx, tg, retain_graph=True)[0]  # noqa: E731
    return fwd, bwd, y.detach().numpy(), bwd().numpy()


@pytest.mark.parametrize("impl", ["fastnn", "numpy", "torch"])
@pytest.mark.parametrize("pass_", ["fwd", "bwd"])
@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool2d(benchmark, op, pass_, impl):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE).astype(np.float32)
    g = rng.standard_normal((SHAPE[0], SHAPE[1], SHAPE[2] // S, SHAPE[3] // S)).astype(np.float32)
    before = fastnn.get_num_threads()
    try:
        fwd, bwd, y, dx = _setup(op, impl, x, g)
        yr = np_max_fwd(x)[0] if op == "max" else np_avg_fwd(x)
        dxr = np_max_bwd(x, g, np_max_fwd(x)[1]) if op == "max" else np_avg_bwd(x, g)
        np.testing.assert_allclose(y, yr, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(dx, dxr, rtol=1e-6, atol=1e-6)
        benchmark.group = f"{op}pool-{pass_}"
        benchmark(fwd if pass_ == "fwd" else bwd)
    finally:
        fastnn.set_num_threads(before)
