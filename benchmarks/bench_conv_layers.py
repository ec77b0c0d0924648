"""Convolution layers beyond the plain 3x3 (PERF.md / workloads.py:
depthwise3x3, conv_grouped4, convT4x4s2) forward + backward (dx, dW, db)
as modules, and the MobileNet- and LeNet-style training steps
(mobilenet_train, lenet_train: the 5x5 layers of issue 18's MNIST program):
fastnn against PyTorch in the same run, 2 threads, the same weights and
upstream gradient; answers checked against PyTorch outside the timed region.

Run:  python -m pytest benchmarks/bench_conv_layers.py --benchmark-only
or    python benchmarks/bench_conv_layers.py [rounds [threads]]   (medians
      of alternating fastnn / PyTorch runs, and their ratio)
"""
import os
import sys
import time

import numpy as np
import pytest

import fastnn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_train import _lib, _step_fn  # noqa: E402
from workloads import CONV_LAYERS, MODELS, TRAIN  # noqa: E402

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))   # PERF.md: 2 threads


def _layer_step(libname, name):
    """(step, outputs): step() runs forward + backward of the workload's
    layer (fresh gradients each time); outputs() the last y and gradients."""
    lib = _lib(libname)
    cls, args, kw, shape = CONV_LAYERS[name]
    lib.manual_seed(0)
    m = getattr(lib.nn, cls)(*args, **kw)
    rng = np.random.default_rng(0)
    for p in m.parameters():      # the same weights in both libraries
        p.data[...] = lib.tensor(rng.uniform(-0.1, 0.1, tuple(p.shape)).astype(np.float32))
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    with lib.no_grad():
        out_shape = tuple(m(x).shape)
    g = lib.tensor(rng.standard_normal(out_shape).astype(np.float32))
    last = {}

    def step():
        x.grad = None
        for p in m.parameters():
            p.grad = None
        y = m(x)
        y.backward(g)
        last["y"] = y
        return y

    def outputs():
        return [np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)
                for t in (last["y"], x.grad, m.weight.grad, m.bias.grad)]
    return step, outputs


def _train_step(libname, name="mobilenet_train"):
    lib = _lib(libname)
    model_name, _, batch, in_shape = TRAIN[name]
    lib.manual_seed(0)
    model = MODELS[model_name](lib.nn)
    if TRAIN[name][1] == "adam":
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((batch,) + in_shape).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, batch).astype(np.int64))
    return _step_fn(lib, model, opt, x, y)


def _check_layer(name):
    fs, fo = _layer_step("fastnn", name)
    ts, to = _layer_step("torch", name)
    fs(), ts()
    for a, b in zip(fo(), to()):
        scale = max(np.abs(b).max(), 1.0)
        assert np.abs(a - b).max() <= 1e-4 * scale, name


@pytest.mark.parametrize("impl", ["fastnn", "torch"])
@pytest.mark.parametrize("name", list(CONV_LAYERS))
def test_conv_layer(benchmark, name, impl):
    if impl == "torch":
        pytest.importorskip("torch")
    before = fastnn.get_num_threads()
    try:
        if impl == "fastnn" and _has_torch():
            _check_layer(name)
        step, _ = _layer_step(impl, name)
        step()
        benchmark.group = f"{name}-fwdbwd"
        benchmark(step)
    finally:
        fastnn.set_num_threads(before)


@pytest.mark.parametrize("impl", ["fastnn", "torch"])
@pytest.mark.parametrize("name", ["mobilenet_train", "lenet_train"])
def test_train_step(benchmark, name, impl):
    if impl == "torch":
        pytest.importorskip("torch")
    before = fastnn.get_num_threads()
    try:
        step = _train_step(impl, name)
        first = float(step().item())
        for _ in range(5):
            last = float(step().item())
        assert np.isfinite(first) and np.isfinite(last) and last != first
        benchmark.group = name
        benchmark.extra_info["images_per_step"] = TRAIN[name][2]
        benchmark(step)
    finally:
        fastnn.set_num_threads(before)


def _has_torch():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


def _median_pair(fa, fb, rounds, inner=3):
    """Medians of fa and fb timed alternately (inner calls a sample); at one
    thread by the calling thread's CPU time (steady on a shared machine)."""
    clock = time.thread_time if THREADS == 1 else time.perf_counter
    ta, tb = [], []
    for f in (fa, fb):
        f()
        f()
    for _ in range(rounds):
        for f, ts in ((fa, ta), (fb, tb)):
            t0 = clock()
            for _ in range(inner):
                f()
            ts.append((clock() - t0) / inner)
    return np.median(ta), np.median(tb)


def main(rounds=15):
    rows = []
    for name in CONV_LAYERS:
        _check_layer(name)
        fa, fb = _layer_step("fastnn", name)[0], _layer_step("torch", name)[0]
        rows.append((name,) + _median_pair(fa, fb, rounds))
    for name in ("mobilenet_train", "lenet_train"):
        rows.append((name,) + _median_pair(_train_step("fastnn", name),
                                           _train_step("torch", name), rounds))
    print(f"{'workload':18s} {'fastnn ms':>10s} {'torch ms':>10s} {'ratio':>7s}")
    for name, a, b in rows:
        print(f"{name:18s} {a * 1e3:10.2f} {b * 1e3:10.2f} {a / b:7.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 2:   # the libraries take their thread count from bench_train
        THREADS = sys.modules["bench_train"].THREADS = int(sys.argv[2])
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
