"""conv2d forward and backward (PERF.md workloads conv_cifar64, conv_first,
conv_batch1, conv_deep): fastnn against the careful-NumPy reference (im2col by
``sliding_window_view`` + one ``@``; the backward reuses the forward's
columns and folds with one strided add per kernel offset) and PyTorch when
importable.  2 threads everywhere.  Each (workload, pass) is one
pytest-benchmark group; GFLOP/s in extra_info; answers are checked against
NumPy outside the timed region.

``test_conv2d_relu``: conv + bias + ReLU on conv_cifar64 and conv_first, the fused op
(``Conv2dReLUFn``, ReLU in the GEMM epilogue, one autograd node) against the
two ops in sequence (``Conv2dFn`` then ``ReluFn``) and PyTorch's conv -> relu,
forward alone and forward + backward (one training step's share).

Run:  python -m pytest benchmarks/bench_conv2d.py --benchmark-only
"""
import os
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import fastnn
from fastnn.autograd.function import Context
from fastnn.ops.conv import Conv2dFn, Conv2dReLUFn, _validate
from fastnn.ops.elementwise import ReluFn
from workloads import CONV

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))   # PERF.md: 2 threads

# name: (N, C, H, W, K, R, S, stride, padding)
WORKLOADS = CONV


def _data(name):
    N, C, H, W, K, R, S, st, p = WORKLOADS[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = (rng.standard_normal((K, C, R, S)) / np.sqrt(C * R * S)).astype(np.float32)
    b = rng.standard_normal(K).astype(np.float32)
    OH, OW = (H + 2 * p - R) // st + 1, (W + 2 * p - S) // st + 1
    g = rng.standard_normal((N, K, OH, OW)).astype(np.float32)
    return x, w, b, g, st, p


def _flops(name, pass_):
    N, C, H, W, K, R, S, st, p = WORKLOADS[name]
    OH, OW = (H + 2 * p - R) // st + 1, (W + 2 * p - S) // st + 1
    f = 2.0 * N * K * C * R * S * OH * OW
    return f if pass_ == "fwd" else 2 * f       # backward: dx and dw products


# ---------------------------------------------------------------- NumPy
def np_forward(x, w, b, stride, pad):
    """Returns (y, cols); cols (N*OH*OW, C*R*S) is kept for the backward."""
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(xp, (R, S), axis=(2, 3))[:, :, ::stride, ::stride]
    OH, OW = win.shape[2:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * R * S)
    y = cols @ w.reshape(K, -1).T + b
    return y.reshape(N, OH, OW, K).transpose(0, 3, 1, 2), cols


def np_backward(x, w, g, cols, stride, pad):
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    OH, OW = g.shape[2:]
    g2 = g.transpose(0, 2, 3, 1).reshape(-1, K)
    dw = (g2.T @ cols).reshape(w.shape)
    db = g2.sum(axis=0)
    dcols = (g2 @ w.reshape(K, -1)).reshape(N, OH, OW, C, R, S)
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), x.dtype)
    for r in range(R):
        for s in range(S):
            dxp[:, :, r:r + stride * OH:stride, s:s + stride * OW:stride] += \
                dcols[..., r, s].transpose(0, 3, 1, 2)
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


# ---------------------------------------------------------------- runners
def _geom(x, w, b, st, p):
    """The op's normalised geometry (what F.conv2d passes its Function)."""
    return _validate("conv2d", x, w, b, st, p, 1, 1)


def _fastnn(x, w, b, g, st, p):
    fastnn.set_num_threads(THREADS)
    geom = _geom(x, w, b, st, p)

    def fwd():
        ctx = Context()
        return Conv2dFn.forward(ctx, x, w, b, geom)

    ctx = Context()
    ctx.needs_input_grad = (True, True, True, False)
    y = Conv2dFn.forward(ctx, x, w, b, geom)

    def bwd():
        return Conv2dFn.backward(ctx, g)[:3]
    return fwd, bwd, y


def _numpy(x, w, b, g, st, p):
    from threadpoolctl import threadpool_limits
    limiter = threadpool_limits(THREADS)
    y, cols = np_forward(x, w, b, st, p)
    return (lambda: np_forward(x, w, b, st, p)[0],
            lambda: np_backward(x, w, g, cols, st, p), y, limiter)


def _torch(x, w, b, g, st, p):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(THREADS)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tg = torch.tensor(g)

    def fwd():
        with torch.no_grad():
            return torch.nn.functional.conv2d(tx, tw, tb, st, p)
    y = torch.nn.functional.conv2d(tx, tw, tb, st, p)

    def bwd():
        return torch.autograd.grad(y, (tx, tw, tb), tg, retain_graph=True)
    return fwd, bwd, y.detach().numpy()


def _check(name, y, grads, x, w, b, g):
    st, p = WORKLOADS[name][7:]
    yr, cols = np_forward(x, w, b, st, p)
    scale = np.abs(yr).max()
    assert np.abs(np.asarray(y) - yr).max() <= 1e-4 * scale
    for got, want in zip(grads, np_backward(x, w, g, cols, st, p)):
        got = got.detach().numpy() if hasattr(got, "detach") else np.asarray(got)
        assert np.abs(got - want).max() <= 1e-4 * max(np.abs(want).max(), 1.0)


@pytest.mark.parametrize("impl", ["fastnn", "numpy", "torch"])
@pytest.mark.parametrize("pass_", ["fwd", "bwd"])
@pytest.mark.parametrize("name", list(WORKLOADS))
def test_conv2d(benchmark, name, pass_, impl):
    x, w, b, g, st, p = _data(name)
    before = fastnn.get_num_threads()
    limiter = None
    try:
        if impl == "fastnn":
            fwd, bwd, y = _fastnn(x, w, b, g, st, p)
        elif impl == "numpy":
            fwd, bwd, y, limiter = _numpy(x, w, b, g, st, p)
        else:
            fwd, bwd, y = _torch(x, w, b, g, st, p)
        _check(name, y if pass_ == "bwd" else fwd(), bwd() if pass_ == "bwd" else (),
               x, w, b, g)
        benchmark.group = f"{name}-{pass_}"
        benchmark.extra_info["gflop"] = _flops(name, pass_) / 1e9
        benchmark(fwd if pass_ == "fwd" else bwd)
        if benchmark.stats is not None:
            med = benchmark.stats.stats.median
            benchmark.extra_info["GFLOP/s"] = round(_flops(name, pass_) / med / 1e9, 1)
    finally:
        if limiter is not None:
            limiter.unregister()
        fastnn.set_num_threads(before)


# ------------------------------------------------ conv + bias + ReLU fused
RELU_WORKLOADS = ["conv_cifar64", "conv_first"]


def _fastnn_relu(x, w, b, g, st, p, fused):
    """fwd() and step() (forward + backward) of relu(conv2d(x, w) + b)."""
    fastnn.set_num_threads(THREADS)
    geom = _geom(x, w, b, st, p)
    need = (True, True, True, False)

    def fwd():
        if fused:
            return Conv2dReLUFn.forward(Context(), x, w, b, geom)
        return ReluFn.forward(Context(), Conv2dFn.forward(Context(), x, w, b, geom))

    def step():
        c1 = Context()
        c1.needs_input_grad = need
        if fused:
            y = Conv2dReLUFn.forward(c1, x, w, b, geom)
            return y, Conv2dReLUFn.backward(c1, g)[:3]
        c2 = Context()
        c2.needs_input_grad = (True,)
        y = ReluFn.forward(c2, Conv2dFn.forward(c1, x, w, b, geom))
        return y, Conv2dFn.backward(c1, ReluFn.backward(c2, g))[:3]
    return fwd, step


def _torch_relu(x, w, b, g, st, p):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(THREADS)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tg = torch.tensor(g)

    def fwd():
        with torch.no_grad():
            return torch.relu(torch.nn.functional.conv2d(tx, tw, tb, st, p)).numpy()

    def step():
        y = torch.relu(torch.nn.functional.conv2d(tx, tw, tb, st, p))
        return y.detach().numpy(), torch.autograd.grad(y, (tx, tw, tb), tg)
    return fwd, step


@pytest.mark.parametrize("impl", ["fused", "unfused", "torch"])
@pytest.mark.parametrize("pass_", ["fwd", "fwdbwd"])
@pytest.mark.parametrize("name", RELU_WORKLOADS)
def test_conv2d_relu(benchmark, name, pass_, impl):
    x, w, b, g, st, p = _data(name)
    before = fastnn.get_num_threads()
    try:
        if impl == "torch":
            fwd, step = _torch_relu(x, w, b, g, st, p)
        else:
            fwd, step = _fastnn_relu(x, w, b, g, st, p, impl == "fused")
        # correctness outside the timed region: the NumPy reference
        # (the gradient masked by the implementation's own y > 0: outputs
        # within rounding of 0 may fall either side)
        yr, cols = np_forward(x, w, b, st, p)
        y, grads = step()
        assert np.abs(np.asarray(y) - np.maximum(yr, 0)).max() <= 1e-4 * np.abs(yr).max()
        assert np.array_equal(np.asarray(fwd()) > 0, np.asarray(y) > 0)
        mask = np.asarray(y) > 0
        for got, want in zip(grads, np_backward(x, w, g * mask, cols, st, p)):
            got = got.detach().numpy() if hasattr(got, "detach") else np.asarray(got)
            assert np.abs(got - want).max() <= 1e-4 * max(np.abs(want).max(), 1.0)
        benchmark.group = f"{name}-relu-{pass_}"
        fl = _flops(name, "fwd") + (_flops(name, "bwd") if pass_ == "fwdbwd" else 0)
        benchmark.extra_info["gflop"] = fl / 1e9
        benchmark(fwd if pass_ == "fwd" else step)
        if benchmark.stats is not None:
            benchmark.extra_info["GFLOP/s"] = round(fl / benchmark.stats.stats.median / 1e9, 1)
    finally:
        fastnn.set_num_threads(before)
