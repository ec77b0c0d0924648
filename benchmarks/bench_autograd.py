"""Per-op overhead of the autograd engine on tiny tensors: microseconds per
op, forward + backward, for add, matmul and relu (PyTorch alongside when
installed).  The op is applied K times in a chain and the chain is
backpropagated, so the figure is (time per chain) / K."""
import numpy as np
import pytest

import fastnn

K = 50


def _chain_fastnn(op):
    a = fastnn.tensor(np.full((4, 4), 0.1, np.float32), requires_grad=True)
    w = fastnn.tensor(np.eye(4, dtype=np.float32) * 0.5, requires_grad=True)

    def run():
        y = a
        for _ in range(K):
            y = y + w if op == "add" else (y @ w if op == "matmul" else y.relu())
        y.sum().backward()
        return a.grad
    return run


def _chain_torch(op):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    a = torch.full((4, 4), 0.1, requires_grad=True)
    w = (torch.eye(4) * 0.5).requires_grad_()

    def run():
        y = a
        for _ in range(K):
            y = y + w if op == "add" else (y @ w if op == "matmul" else y.relu())
        y.sum().backward()
        return a.grad
    return run


@pytest.mark.parametrize("op", ["add", "matmul", "relu"])
@pytest.mark.parametrize("lib", ["fastnn", "torch"])
def test_autograd_overhead(benchmark, op, lib):
    benchmark.group = f"autograd-overhead-{op}"
    fastnn.set_num_threads(1)
    run = _chain_fastnn(op) if lib == "fastnn" else _chain_torch(op)
    g = run()
    assert np.all(np.isfinite(np.asarray(g)))
    benchmark.extra_info["ops_per_call"] = K
    benchmark(run)
    if benchmark.stats is not None:              # None under --benchmark-disable
        benchmark.extra_info["us_per_op_fwd_bwd"] = benchmark.stats.stats.median / K * 1e6
