"""The CTC loss, forward and forward+backward, on the CTC workloads of
workloads.py (log_probs (T, N, C) from a log-softmax, padded targets,
reduction 'mean'): fastnn against PyTorch when importable.  2 threads.
The losses and gradients are checked against each other (and against the
NumPy reference on one sample) outside the timed region.

Run:  python -m pytest benchmarks/bench_ctc.py --benchmark-only
"""
import os

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.testing import reference as R
from workloads import CTC

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))   # PERF.md: 2 threads


def _data(T, N, C, S):
    r = np.random.default_rng(0)
    x = r.standard_normal((T, N, C))
    lp = (x - np.logaddexp.reduce(x, axis=-1, keepdims=True)).astype(np.float32)
    tg = r.integers(1, C, (N, S)).astype(np.int64)
    tl = r.integers(S // 2, S + 1, N).astype(np.int64)
    il = np.full(N, T, dtype=np.int64)
    return lp, tg, il, tl


def _impl(name, lp, tg, il, tl):
    if name == "fastnn":
        fastnn.set_num_threads(THREADS)
        x = fastnn.tensor(lp, requires_grad=True)
        loss_of = lambda: F.ctc_loss(x, tg, il, tl)    # noqa: E731
        no_grad = fastnn.no_grad
        grad = lambda: x.grad.numpy()                  # noqa: E731
    else:
        torch = pytest.importorskip("torch")
        torch.set_num_threads(THREADS)
        x = torch.tensor(lp, requires_grad=True)
        ttg, til, ttl = torch.tensor(tg), torch.tensor(il), torch.tensor(tl)
        loss_of = lambda: torch.nn.functional.ctc_loss(x, ttg, til, ttl)   # noqa: E731
        no_grad = torch.no_grad
        grad = lambda: x.grad.numpy()                  # noqa: E731

    def fwd():
        with no_grad():
            return loss_of()

    def fb():
        x.grad = None
        loss_of().backward()
        return x.grad
    fb()
    return fwd, fb, float(fwd().item()), grad().copy()


@pytest.mark.parametrize("impl", ["fastnn", "torch"])
@pytest.mark.parametrize("pass_", ["fwd", "fwd_bwd"])
@pytest.mark.parametrize("workload", list(CTC))
def test_ctc_loss(benchmark, workload, impl, pass_):
    lp, tg, il, tl = _data(**CTC[workload])
    fwd, fb, loss, grad = _impl(impl, lp, tg, il, tl)
    nll0 = R.ctc_nll(lp[:, :1], [tg[0, :tl[0]]], il[:1])[0]
    ref_grad0 = R.ctc_nll_grad(lp[:, :1], [tg[0, :tl[0]]], il[:1], [1.0])[:, 0]
    np.testing.assert_allclose(grad[:, 0], ref_grad0 / tl[0] / len(tl), rtol=1e-3, atol=1e-6)
    assert np.isfinite(loss) and loss > 0 and np.isfinite(nll0)
    try:
        import torch
        want = torch.nn.functional.ctc_loss(torch.tensor(lp), torch.tensor(tg),
                                            torch.tensor(il), torch.tensor(tl)).item()
        np.testing.assert_allclose(loss, want, rtol=1e-5)
    except ImportError:
        pass
    benchmark.group = f"{workload} {pass_}"
    benchmark.extra_info["workload"] = workload
    benchmark(fwd if pass_ == "fwd" else fb)
