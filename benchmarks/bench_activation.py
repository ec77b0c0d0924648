"""Element-wise activations (GELU, SiLU), forward + backward, on the
``gelu`` and ``silu`` workloads: fastnn (the op's Function, forward then
backward) against NumPy and PyTorch when importable.  2 threads.  Answers
are checked outside the timed region.

Run:  python -m pytest benchmarks/bench_activation.py --benchmark-only
      python benchmarks/bench_activation.py   (alternating runs, ratio table)
"""
import math
import os

import numpy as np
import pytest

import fastnn
from fastnn.autograd.function import Context
from fastnn.ops.activation import GELUFn, SiLUFn
from workloads import ACTIVATION

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))
FNS = {"gelu": GELUFn, "silu": SiLUFn}


def np_fwd_bwd(kind, x, g):
    if kind == "silu":
        s = 1.0 / (1.0 + np.exp(-x))
        return x * s, g * s * (1 + x * (1 - s))
    erf = np.vectorize(math.erf, otypes=[x.dtype])   # NumPy has no erf ufunc
    cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
    return x * cdf, g * (cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))


def _data(name):
    r = np.random.default_rng(0)
    shape = ACTIVATION[name][1]
    return r.standard_normal(shape).astype(np.float32), r.standard_normal(shape).astype(
        np.float32)


def impls(name, with_numpy=True):
    kind = ACTIVATION[name][0]
    x, g = _data(name)
    fastnn.set_num_threads(THREADS)
    Fn = FNS[kind]

    def fnn():
        ctx = Context()
        ctx.needs_input_grad = [True]
        y = Fn.forward(ctx, x)
        return y, Fn.backward(ctx, g)[0]
    out = {"fastnn": fnn}
    if with_numpy:
        out["numpy"] = lambda: np_fwd_bwd(kind, x, g)
    try:
        import torch
    except ImportError:
        return out
    torch.set_num_threads(THREADS)
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g)
    tf = getattr(torch.nn.functional, kind)

    def tor():
        y = tf(tx)
        return y.detach(), torch.autograd.grad(y, tx, tg)[0]
    out["torch"] = tor
    return out


@pytest.mark.parametrize("impl", ["fastnn", "numpy", "torch"])
@pytest.mark.parametrize("name", sorted(ACTIVATION))
def test_activation(benchmark, name, impl):
    before = fastnn.get_num_threads()
    try:
        fns = impls(name)
        if impl not in fns:
            pytest.skip("PyTorch is not installed")
        x, g = _data(name)
        n = 1 << 16      # the answer checked on a slice (the NumPy erf is a Python loop)
        y_ref, dx_ref = np_fwd_bwd(ACTIVATION[name][0], x.ravel()[:n].astype(np.float64),
                                   g.ravel()[:n].astype(np.float64))
        y, dx = fns[impl]()
        np.testing.assert_allclose(np.asarray(y).ravel()[:n], y_ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(dx).ravel()[:n], dx_ref, rtol=1e-5, atol=1e-6)
        benchmark.group = f"{name} fwd+bwd"
        benchmark.extra_info["workload"] = name
        benchmark(fns[impl])
    finally:
        fastnn.set_num_threads(before)


if __name__ == "__main__":
    from _alternate import alternate, report
    for name in sorted(ACTIVATION):
        report(f"{name} fwd+bwd", alternate(impls(name, with_numpy=False)))
