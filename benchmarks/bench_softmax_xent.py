"""Cross-entropy on logits (fused log-softmax + NLL), forward and
forward+backward, on (128, 10) (an MLP/CNN classifier head) and (1024, 1000)
(ImageNet-sized): fastnn against a careful NumPy reference (max shift,
``np.exp``, log-sum-exp, gather; softmax minus one-hot backward) and PyTorch
when importable.  2 threads.  Answers are checked outside the timed region.

Run:  python -m pytest benchmarks/bench_softmax_xent.py --benchmark-only
"""
import os

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))   # PERF.md: 2 threads
SHAPES = {"xent_128x10": (128, 10), "xent_1024x1000": (1024, 1000)}


def np_fwd(x, t):
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1)
    loss = (np.log(s) - z[np.arange(len(t)), t]).mean()
    return loss, (e, s)


def np_bwd(t, saved):
    e, s = saved
    p = e / s[:, None]
    p[np.arange(len(t)), t] -= 1
    p /= len(t)
    return p


def _impl(name, x, t):
    if name == "numpy":
        def fb():
            return np_bwd(t, np_fwd(x, t)[1])
        return (lambda: np_fwd(x, t)[0]), fb, np_fwd(x, t)[0], fb()
    if name == "fastnn":
        fastnn.set_num_threads(THREADS)
        xt = fastnn.Tensor(x, requires_grad=True)
        tt = fastnn.tensor(t)

        def fwd():
            with fastnn.no_grad():
                return F.cross_entropy(xt, tt)

        def fb():   # the loss is the graph's root: this is a training step's cost
            xt.grad = None
            F.cross_entropy(xt, tt).backward()
            return xt.grad
        return fwd, fb, fwd().item(), fb()
    torch = pytest.importorskip("torch")
    torch.set_num_threads(THREADS)
    tx = torch.tensor(x, requires_grad=True)
    tt = torch.tensor(t)

    def fwd():
        with torch.no_grad():
            return torch.nn.functional.cross_entropy(tx, tt)

    def fb():
        tx.grad = None
        torch.nn.functional.cross_entropy(tx, tt).backward()
        return tx.grad
    return fwd, fb, fwd().item(), fb().numpy()


@pytest.mark.parametrize("impl", ["fastnn", "numpy", "torch"])
@pytest.mark.parametrize("pass_", ["fwd", "fwd_bwd"])
@pytest.mark.parametrize("workload", list(SHAPES))
def test_cross_entropy(benchmark, workload, impl, pass_):
    N, C = SHAPES[workload]
    r = np.random.default_rng(0)
    x = (3 * r.standard_normal((N, C))).astype(np.float32)
    t = r.integers(0, C, N).astype(np.int64)
    fwd, fb, loss, dx = _impl(impl, x, t)
    loss_ref, saved = np_fwd(x.astype(np.float64), t)
    np.testing.assert_allclose(loss, loss_ref, rtol=1e-5)
    np.testing.assert_allclose(dx, np_bwd(t, saved), rtol=1e-4, atol=1e-7)
    benchmark.group = f"{workload} {pass_}"
    benchmark.extra_info["workload"] = workload
    benchmark(fwd if pass_ == "fwd" else fb)
