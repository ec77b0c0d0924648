"""The convolution shape sweep (workloads.CONV_SWEEP: kernels 1, 3, 5, 7; strides 1
and 2; 1 to 512 channels; 4x4 to 224x224 images; batch 1 to 64; the layers of
LeNet, VGG, ResNet-18/50 and MobileNet): fastnn's Conv2d against PyTorch's, forward
and forward + backward, same weights, same run, answers checked against PyTorch
outside the timed region.  PERF.md's target: no shape slower than PyTorch, and
the geometric mean of the forward + backward ratios <= 0.7.

Run:  python -m pytest benchmarks/bench_conv_sweep.py --benchmark-only
or    python benchmarks/bench_conv_sweep.py [rounds [threads [shape ...]]]
      (a table: medians of alternating runs, the ratio per shape, the geometric
      means, and the algorithm fastnn picks for each shape's forward)
"""
import math
import os
import sys

import numpy as np
import pytest

import fastnn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_conv_layers as _layers  # noqa: E402
from bench_train import _lib  # noqa: E402
from workloads import CONV_SWEEP  # noqa: E402


def conv_path(name):
    """The methods fastnn takes for a sweep shape: forward / input gradient /
    weight gradient."""
    n, c, h, w, k, r, s, p, g = CONV_SWEEP[name]
    geom = ((n, c, h, w), (k, c // g, r, r), (s, s), (p, p), (1, 1), g)
    return "/".join(fastnn._core.conv2d_algorithm(*geom, grad_input=q) for q in (0, 1, 2))


def _step(libname, name, backward):
    """step() runs the shape's forward (and backward); outputs() the results."""
    lib = _lib(libname)
    n, c, h, w, k, r, s, p, g = CONV_SWEEP[name]
    m = lib.nn.Conv2d(c, k, r, stride=s, padding=p, groups=g)
    rng = np.random.default_rng(0)
    for t in m.parameters():      # the same weights in both libraries
        t.data[...] = lib.tensor(rng.uniform(-0.1, 0.1, tuple(t.shape)).astype(np.float32))
    x = lib.tensor(rng.standard_normal((n, c, h, w)).astype(np.float32),
                   requires_grad=backward)
    with lib.no_grad():
        gy = lib.tensor(rng.standard_normal(tuple(m(x).shape)).astype(np.float32))
    last = {}

    def step():
        if not backward:
            with lib.no_grad():
                last["y"] = m(x)
            return
        x.grad = m.weight.grad = m.bias.grad = None
        last["y"] = m(x)
        last["y"].backward(gy)

    def outputs():
        ts = [last["y"]] + ([x.grad, m.weight.grad, m.bias.grad] if backward else [])
        return [np.asarray(t.detach().numpy()) for t in ts]
    return step, outputs


def _check(name, backward):
    fs, fo = _step("fastnn", name, backward)
    ts, to = _step("torch", name, backward)
    fs(), ts()
    for a, b in zip(fo(), to()):
        scale = max(float(np.abs(b).max()), 1.0)
        assert np.abs(a - b).max() <= 1e-4 * scale, name


@pytest.mark.parametrize("impl", ["fastnn", "torch"])
@pytest.mark.parametrize("pass_", ["fwd", "fwdbwd"])
@pytest.mark.parametrize("name", list(CONV_SWEEP))
def test_conv_sweep(benchmark, name, pass_, impl):
    if impl == "torch":
        pytest.importorskip("torch")
    backward = pass_ == "fwdbwd"
    if impl == "fastnn" and _layers._has_torch():
        _check(name, backward)
    step, _ = _step(impl, name, backward)
    step()
    benchmark.group = f"sweep {name} {pass_}"
    benchmark.extra_info["fastnn_path"] = conv_path(name)
    benchmark(step)


def main(rounds=7, names=None):
    print(f"{'shape':26s} {'path (fwd/dx/dw)':>26s} {'fwd':>6s} {'fwd+bwd':>8s}   "
          f"(fastnn time / PyTorch time, {_layers.THREADS} thread(s))")
    logs = {"fwd": [], "fwdbwd": []}
    for name in names or CONV_SWEEP:
        cells = []
        for pass_, backward in (("fwd", False), ("fwdbwd", True)):
            _check(name, backward)
            a, b = _layers._median_pair(_step("fastnn", name, backward)[0],
                                        _step("torch", name, backward)[0], rounds, inner=2)
            logs[pass_].append(math.log(a / b))
            cells.append(a / b)
        print(f"{name:26s} {conv_path(name):>26s} {cells[0]:6.2f} {cells[1]:8.2f}", flush=True)
    gm = {k: math.exp(sum(v) / len(v)) for k, v in logs.items()}
    worst = {k: math.exp(max(v)) for k, v in logs.items()}
    print(f"{'geometric mean':26s} {'':>26s} {gm['fwd']:6.2f} {gm['fwdbwd']:8.2f}")
    print(f"{'worst shape':26s} {'':>26s} {worst['fwd']:6.2f} {worst['fwdbwd']:8.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 2:
        _layers.THREADS = int(sys.argv[2])
        sys.modules["bench_train"].THREADS = _layers.THREADS
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7, sys.argv[3:])
