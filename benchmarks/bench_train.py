"""Whole training and inference steps (PERF.md: mlp_train, cnn_train,
cnn_train_b8, cnn_infer_b1, cnn_infer_b64): fastnn against PyTorch (when
installed) with the same model, loss, optimiser and batch, 2 threads.
Correctness (finite, decreasing loss) is asserted outside the timed region."""
import os
import resource

import numpy as np
import pytest

import fastnn
from workloads import MODELS

THREADS = int(os.environ.get("FASTNN_BENCH_THREADS", "2"))   # PERF.md: 2 threads


def _lib(name):
    if name == "fastnn":
        fastnn.set_num_threads(THREADS)
        return fastnn
    torch = pytest.importorskip("torch")
    torch.set_num_threads(THREADS)
    return torch


def _mlp(lib):
    return MODELS["mlp"](lib.nn)


def _cnn(lib):
    return MODELS["cnn"](lib.nn)


def _step_fn(lib, model, opt, x, y):
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _data(lib, shape, n_classes=10, seed=0):
    r = np.random.default_rng(seed)
    x = r.standard_normal(shape).astype(np.float32)
    y = r.integers(0, n_classes, shape[0]).astype(np.int64)
    return lib.tensor(x), lib.tensor(y)


def _train_case(benchmark, libname, model_fn, opt_name, batch, in_shape):
    lib = _lib(libname)
    lib.manual_seed(0)
    model = model_fn(lib)
    if opt_name == "adam":
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = _data(lib, (batch,) + in_shape)
    step = _step_fn(lib, model, opt, x, y)
    first = float(step().item())
    for _ in range(10):
        last = float(step().item())
    # the loss stays finite and the step changes it (the answer itself is
    # checked against PyTorch in tests/nn/test_torch_cnn_parity.py)
    assert np.isfinite(first) and np.isfinite(last) and last != first
    benchmark.extra_info["images_per_step"] = batch
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        step()
    # page faults per step: fresh large allocations that the system maps in
    # again every step (fastnn's buffer cache should keep this near 0)
    benchmark.extra_info["minor_faults_per_step"] = (
        resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / 5
    benchmark(step)
    if benchmark.stats is not None:              # None under --benchmark-disable
        benchmark.extra_info["images_per_s"] = batch / benchmark.stats.stats.median


@pytest.mark.parametrize("lib", ["fastnn", "torch"])
def test_mlp_train(benchmark, lib):
    benchmark.group = "mlp_train"
    _train_case(benchmark, lib, _mlp, "adam", 128, (784,))


@pytest.mark.parametrize("lib", ["fastnn", "torch"])
def test_cnn_train(benchmark, lib):
    benchmark.group = "cnn_train"
    _train_case(benchmark, lib, _cnn, "sgd", 64, (3, 32, 32))


@pytest.mark.parametrize("lib", ["fastnn", "torch"])
def test_cnn_train_b8(benchmark, lib):
    benchmark.group = "cnn_train_b8"
    _train_case(benchmark, lib, _cnn, "sgd", 8, (3, 32, 32))


@pytest.mark.parametrize("batch", [1, 64])
@pytest.mark.parametrize("lib", ["fastnn", "torch"])
def test_cnn_infer(benchmark, lib, batch):
    benchmark.group = f"cnn_infer_b{batch}"
    L = _lib(lib)
    L.manual_seed(0)
    model = _cnn(L).eval()
    x, _ = _data(L, (batch, 3, 32, 32))

    def run():
        with L.no_grad():
            return model(x)
    out = run()
    assert out.shape == (batch, 10) and np.all(np.isfinite(np.asarray(out.detach() if lib == "torch" else out.data)))
    benchmark(run)
