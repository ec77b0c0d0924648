"""Batch norm (PERF.md ``batchnorm``: BatchNorm2d training on (64, 64, 32, 32)),
forward and forward+backward (dx, dgamma, dbeta): fastnn against a careful
NumPy reference (vectorised, two-pass statistics) and PyTorch when
importable.  2 threads.  Answers are checked outside the timed region.

Run:  python -m pytest benchmarks/bench_batchnorm.py --benchmark-only
"""
import os

import numpy as np
import pytest

import fastnn
from fastnn.autograd.function import Context
from fastnn.ops.normalization import BatchNormFn
from workloads import BATCHNORM

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))   # PERF.md: 2 threads
SHAPE = BATCHNORM["batchnorm"]
AXES = (0, 2, 3)
EPS = 1e-5


def np_fwd(x, w, b):
    mean = x.mean(axis=AXES, keepdims=True)
    xc = x - mean
    var = np.mean(xc * xc, axis=AXES, keepdims=True)
    inv = 1.0 / np.sqrt(var + EPS)
    xhat = xc * inv
    return xhat * w.reshape(1, -1, 1, 1) + b.reshape(1, -1, 1, 1), (xhat, inv)


def np_bwd(g, w, saved):
    xhat, inv = saved
    m = g.size // g.shape[1]
    db = g.sum(axis=AXES)
    dw = (g * xhat).sum(axis=AXES)
    dx = (w.reshape(1, -1, 1, 1) * inv / m) * (m * g - db.reshape(1, -1, 1, 1)
                                               - xhat * dw.reshape(1, -1, 1, 1))
    return dx, dw, db


def _data():
    r = np.random.default_rng(0)
    x = (r.standard_normal(SHAPE) * 2 + 1).astype(np.float32)
    g = r.standard_normal(SHAPE).astype(np.float32)
    w = r.standard_normal(SHAPE[1]).astype(np.float32)
    b = r.standard_normal(SHAPE[1]).astype(np.float32)
    return x, g, w, b


def _impl(name, x, g, w, b):
    """(fwd, fwd_bwd, y, dx) for one implementation."""
    C = SHAPE[1]
    if name == "numpy":
        def fb():
            y, s = np_fwd(x, w, b)
            return np_bwd(g, w, s)[0]
        return (lambda: np_fwd(x, w, b)[0]), fb, np_fwd(x, w, b)[0], fb()
    if name == "fastnn":
        # The op itself (its autograd Function, forward then backward), as a
        # training step runs it for a hidden layer; timing through
        # Tensor.backward on a leaf would add the engine's copy of the root
        # gradient and of the leaf's .grad (2 x 16 MB), which a real network
        # does not pay for an inner layer.
        fastnn.set_num_threads(THREADS)
        rm, rv = np.zeros(C, np.float32), np.ones(C, np.float32)

        def fwd():
            return BatchNormFn.forward(Context(), x, w, b, rm, rv, True, 0.1, EPS)

        def fb():
            ctx = Context()
            ctx.needs_input_grad = (True, True, True) + (False,) * 5
            BatchNormFn.forward(ctx, x, w, b, rm, rv, True, 0.1, EPS)
            return BatchNormFn.backward(ctx, g)[0]
        return fwd, fb, fwd(), fb()
    torch = pytest.importorskip("torch")
    torch.set_num_threads(THREADS)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    tg = torch.tensor(g)
    rm, rv = torch.zeros(C), torch.ones(C)

    def fwd():
        with torch.no_grad():
            return torch.nn.functional.batch_norm(tx, rm, rv, tw, tb, training=True)

    def fb():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.batch_norm(tx, rm, rv, tw, tb, training=True).backward(tg)
        return tx.grad
    return fwd, fb, fwd().numpy(), fb().numpy()


@pytest.mark.parametrize("impl", ["fastnn", "numpy", "torch"])
@pytest.mark.parametrize("pass_", ["fwd", "fwd_bwd"])
def test_batchnorm(benchmark, impl, pass_):
    x, g, w, b = _data()
    fwd, fb, y, dx = _impl(impl, x, g, w, b)
    y_ref, saved = np_fwd(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64))
    dx_ref = np_bwd(g.astype(np.float64), w.astype(np.float64), saved)[0]
    np.testing.assert_allclose(y, y_ref, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-3, atol=1e-3)
    benchmark.group = f"batchnorm {pass_}"
    benchmark.extra_info["workload"] = "batchnorm"
    benchmark(fwd if pass_ == "fwd" else fb)


# ------------------------------------------------- batch norm + ReLU (fused)
# The cnn_train layer pair BatchNorm2d(32) -> ReLU on (64, 32, 32, 32),
# forward + backward (dx, dgamma, dbeta) through the modules as a training
# step runs them: nn.Sequential fuses the pair (BatchNormReLU, one pass less
# each way); "unfused" runs the same modules one by one.
PAIR_SHAPE = (64, 32, 32, 32)


def _pair_data():
    r = np.random.default_rng(1)
    x = (r.standard_normal(PAIR_SHAPE) + 0.3).astype(np.float32)
    g = r.standard_normal(PAIR_SHAPE).astype(np.float32)
    return x, g


def _pair_impl(name, x, g):
    C = PAIR_SHAPE[1]
    if name in ("fastnn_fused", "fastnn_unfused"):
        fastnn.set_num_threads(THREADS)
        seq = fastnn.nn.Sequential(fastnn.nn.BatchNorm2d(C), fastnn.nn.ReLU())
        xt, gt = fastnn.tensor(x, requires_grad=True), fastnn.tensor(g)
        fused = name == "fastnn_fused"

        def fb():
            xt.grad = None
            y = seq(xt) if fused else seq[1](seq[0](xt))
            y.backward(gt)
            return y.detach().numpy(), xt.grad
        return fb
    torch = pytest.importorskip("torch")
    torch.set_num_threads(THREADS)
    seq = torch.nn.Sequential(torch.nn.BatchNorm2d(C), torch.nn.ReLU())
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g)

    def fb():
        tx.grad = None
        y = seq(tx)
        y.backward(tg)
        return y.detach().numpy(), tx.grad.numpy()
    return fb


@pytest.mark.parametrize("impl", ["fastnn_fused", "fastnn_unfused", "torch"])
def test_batchnorm_relu_fwd_bwd(benchmark, impl):
    x, g = _pair_data()
    fb = _pair_impl(impl, x, g)
    y, dx = fb()
    w, b = np.ones(PAIR_SHAPE[1]), np.zeros(PAIR_SHAPE[1])
    y_ref, saved = np_fwd(x.astype(np.float64), w, b)
    dx_ref = np_bwd(np.where(y_ref > 0, g, 0), w, saved)[0]
    np.testing.assert_allclose(y, np.maximum(y_ref, 0), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-3, atol=1e-3)
    benchmark.group = "batchnorm+relu (64, 32, 32, 32) fwd_bwd"
    benchmark.extra_info["workload"] = "cnn_train BN+ReLU pair"
    benchmark(fb)
