"""Layer norm and group norm, forward + backward (dx, dweight, dbias), on
the ``layernorm`` and ``groupnorm`` workloads: fastnn (the op's Function,
forward then backward, as a training step runs an inner layer) against a
careful NumPy reference and PyTorch when importable.  2 threads.  Answers
are checked outside the timed region.

Run:  python -m pytest benchmarks/bench_norm.py --benchmark-only
      python benchmarks/bench_norm.py        (alternating runs, ratio table)
"""
import os

import numpy as np
import pytest

import fastnn
from fastnn.autograd.function import Context
from fastnn.ops.normalization import GroupNormFn, LayerNormFn
from workloads import NORM

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))
EPS = 1e-5


def _rows(kind, x, arg):
    """x as (rows, row length) and the per-element parameter index map."""
    if kind == "layer_norm":
        return x.reshape(-1, int(np.prod(arg)))
    return x.reshape(x.shape[0] * arg, -1)


def np_fwd_bwd(kind, x, g, w, b, arg):
    v = _rows(kind, x, arg)
    m = v.mean(1, keepdims=True)
    xc = v - m
    inv = 1.0 / np.sqrt((xc * xc).mean(1, keepdims=True) + EPS)
    xhat = (xc * inv).reshape(x.shape)
    pshape = (1, -1) + (1,) * (x.ndim - 2) if kind == "group_norm" else (1, -1)
    y = xhat * w.reshape(pshape) + b.reshape(pshape)
    axes = tuple(i for i in range(x.ndim) if i != 1) if kind == "group_norm" else (0,)
    dw, db = (g * xhat).sum(axis=axes), g.sum(axis=axes)
    dxh = _rows(kind, g * w.reshape(pshape), arg)
    xh = _rows(kind, xhat, arg)
    dx = inv * (dxh - dxh.mean(1, keepdims=True) - xh * (dxh * xh).mean(1, keepdims=True))
    return y, dx.reshape(x.shape), dw, db


def _data(name):
    kind, shape, arg = NORM[name]
    r = np.random.default_rng(0)
    x = (r.standard_normal(shape) * 2 + 1).astype(np.float32)
    g = r.standard_normal(shape).astype(np.float32)
    n = arg[0] if kind == "layer_norm" else shape[1]
    w, b = r.standard_normal(n).astype(np.float32), r.standard_normal(n).astype(np.float32)
    return kind, arg, x, g, w, b


def impls(name):
    """name -> fwd+bwd callable returning (y, dx) for each implementation."""
    kind, arg, x, g, w, b = _data(name)
    fastnn.set_num_threads(THREADS)
    Fn = LayerNormFn if kind == "layer_norm" else GroupNormFn

    def fnn():
        ctx = Context()
        ctx.needs_input_grad = [True, True, True, False, False]
        y = Fn.forward(ctx, x, w, b, arg, EPS)
        return y, Fn.backward(ctx, g)[0]
    out = {"fastnn": fnn, "numpy": lambda: np_fwd_bwd(kind, x, g, w, b, arg)[:2]}
    try:
        import torch
    except ImportError:
        return out
    torch.set_num_threads(THREADS)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tg = torch.tensor(g)
    tf = getattr(torch.nn.functional, kind)

    def tor():
        y = tf(tx, arg, tw, tb, EPS)
        return y.detach(), torch.autograd.grad(y, (tx, tw, tb), tg)[0]
    out["torch"] = tor
    return out


@pytest.mark.parametrize("impl", ["fastnn", "numpy", "torch"])
@pytest.mark.parametrize("name", sorted(NORM))
def test_norm(benchmark, name, impl):
    before = fastnn.get_num_threads()
    try:
        fns = impls(name)
        if impl not in fns:
            pytest.skip("PyTorch is not installed")
        kind, arg, x, g, w, b = _data(name)
        y_ref, dx_ref, _, _ = np_fwd_bwd(kind, *(a.astype(np.float64) for a in (x, g, w, b)),
                                         arg)
        y, dx = fns[impl]()
        np.testing.assert_allclose(np.asarray(y), y_ref, rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(np.asarray(dx), dx_ref, rtol=1e-3, atol=1e-3)
        benchmark.group = f"{name} fwd+bwd"
        benchmark.extra_info["workload"] = name
        benchmark(fns[impl])
    finally:
        fastnn.set_num_threads(before)


if __name__ == "__main__":
    from _alternate import alternate, report
    for name in sorted(NORM):
        fns = impls(name)
        fns.pop("numpy")
        report(f"{name} fwd+bwd", alternate(fns))
