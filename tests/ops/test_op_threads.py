"""The op table's thread-count axis: every layer op, forward and backward, on
inputs above the kernels' serial cut-off (FNN_SERIAL_CUTOFF = 65536
elements), gives bitwise the same outputs and gradients with 1 and 2
threads — and the 2-thread run really took a parallel path (the kernels'
region counters moved), so the comparison is not serial against serial.
tests/test_parallel_coverage.py checks that these tests (and the other
thread tests) drive every parallel region of csrc/."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import _core

pytestmark = pytest.mark.skipif(not _core.openmp_enabled(), reason="serial build")

R = np.random.default_rng(0)


def _x(*shape, lo=None):
    a = R.standard_normal(shape)
    return np.abs(a) + lo if lo is not None else a


def _labels(n, c):
    return fastnn.tensor(R.integers(0, c, n))


# name: (input arrays, fn(*tensors) -> output Tensor or tuple); every float
# input requires grad and the backward runs with a fixed random upstream grad
TABLE = {
    "relu": ([_x(70001)], lambda x: x.relu()),
    "leaky_relu": ([_x(70001)], lambda x: F.leaky_relu(x, 0.2)),
    "gelu_silu_elu": ([_x(70001)], lambda x: F.gelu(x) + F.silu(x) + F.elu(x)),
    "prelu": ([_x(4, 8, 50, 50), np.full(8, 0.25)], lambda x, w: F.prelu(x, w)),
    "add_mul": ([_x(70001), _x(70001)], lambda a, b: a * b + a),
    "sum_all": ([_x(300000)], lambda x: x.sum()),
    "softmax": ([_x(700, 128)], lambda x: F.softmax(x, dim=1)),
    "log_softmax_dim0": ([_x(128, 700)], lambda x: F.log_softmax(x, dim=0)),
    "cross_entropy": ([_x(2000, 100)], lambda x: F.cross_entropy(x, _T["ce"], reduction="sum")),
    "cross_entropy_weighted": ([_x(2000, 100)], lambda x: F.cross_entropy(
        x, _T["ce"], weight=fastnn.ones(100), label_smoothing=0.1)),
    "bce_with_logits": ([_x(70001), np.clip(_x(70001), 0, 1)],
                        lambda x, y: F.binary_cross_entropy_with_logits(x, y.detach())),
    "batch_norm_train": ([_x(4, 9, 64, 64), _x(9), _x(9)], lambda x, g, b: F.batch_norm(
        x, fastnn.zeros(9, dtype=x.dtype), fastnn.ones(9, dtype=x.dtype), g, b, training=True)),
    "batch_norm_eval": ([_x(8, 9, 64, 64), _x(9), _x(9)], lambda x, g, b: F.batch_norm(
        x, fastnn.zeros(9, dtype=x.dtype), fastnn.ones(9, dtype=x.dtype), g, b, training=False)),
    "layer_norm": ([_x(600, 2048), _x(2048), _x(2048)],
                   lambda x, g, b: F.layer_norm(x, (2048,), g, b)),
    "group_norm": ([_x(4, 32, 32, 32), _x(32), _x(32)], lambda x, g, b: F.group_norm(x, 8, g, b)),
    "max_pool": ([_x(2, 9, 64, 64)], lambda x: F.max_pool2d(x, 2)),
    "max_pool_indices_unpool": ([_x(4, 9, 96, 96)], lambda x: F.max_unpool2d(
        *F.max_pool2d(x, 2, return_indices=True), 2)),
    "avg_pool": ([_x(2, 9, 64, 64)], lambda x: F.avg_pool2d(x, 3, 2, 1)),
    "adaptive_avg_pool": ([_x(2, 9, 64, 64)], lambda x: F.adaptive_avg_pool2d(x, (5, 7))),
    "adaptive_max_pool": ([_x(2, 9, 64, 64)], lambda x: F.adaptive_max_pool2d(x, (5, 7))),
    "interpolate_bilinear": ([_x(2, 9, 64, 64)], lambda x: F.interpolate(
        x, scale_factor=2, mode="bilinear", align_corners=False)),
    "interpolate_nearest": ([_x(2, 9, 64, 64)], lambda x: F.interpolate(x, scale_factor=2)),
    "conv2d_winograd": ([_x(4, 16, 32, 32), _x(16, 16, 3, 3), _x(16)],
                        lambda x, w, b: F.conv2d(x, w, b, padding=1)),
    "conv2d_igemm_5x5": ([_x(4, 8, 32, 32), _x(16, 8, 5, 5), _x(16)],
                         lambda x, w, b: F.conv2d(x, w, b, padding=2)),
    "conv2d_stride2_dilated": ([_x(4, 8, 48, 48), _x(16, 8, 3, 3), _x(16)],
                               lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=2,
                                                        dilation=2)),
    "conv2d_stride2_batch1": ([_x(1, 16, 96, 96), _x(16, 16, 3, 3), _x(16)],
                              lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1)),
    "conv2d_grouped": ([_x(4, 32, 24, 24), _x(32, 8, 3, 3), _x(32)],
                       lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=4)),
    "conv2d_depthwise": ([_x(4, 32, 32, 32), _x(32, 1, 3, 3), _x(32)],
                         lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=32)),
    "conv_transpose2d": ([_x(4, 16, 16, 16), _x(16, 8, 4, 4), _x(8)],
                         lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1)),
    "embedding": ([_x(1000, 128)], lambda w: F.embedding(_T["emb"], w)),
    "embedding_bag": ([_x(1000, 128)], lambda w: F.embedding_bag(_T["emb"], w, _T["off"],
                                                                 mode="mean")),
    "conv1d": ([_x(8, 16, 1024), _x(16, 16, 5), _x(16)],
               lambda x, w, b: F.conv1d(x, w, b, padding=2)),
}
_T = {"ce": _labels(2000, 100), "emb": _labels(2000, 1000),
      "off": fastnn.tensor(np.arange(0, 2000, 10))}
# reductions whose partial sums follow the thread split: bitwise repeatable
# at one thread count, equal to rounding across counts (ARCHITECTURE.md)
SPLIT_SUMS = {"sum_all"}


def _run(name, dtype, nt):
    arrays, fn = TABLE[name]
    fastnn.set_num_threads(nt)
    xs = [fastnn.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    out = fn(*xs)
    outs = out if isinstance(out, tuple) else (out,)
    y = outs[0]
    g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(fastnn.tensor(g))
    return [o.detach().numpy().copy() for o in outs] + [x.grad.numpy().copy() for x in xs
                                                         if x.grad is not None]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(TABLE))
def test_thread_counts_agree_bitwise_and_run_in_parallel(name, dtype):
    one = _run(name, dtype, 1)
    before = _core.parallel_regions()
    two = _run(name, dtype, 2)
    ran = [k for k, v in _core.parallel_regions().items() if v > before.get(k, 0)]
    assert ran, f"{name}: no kernel region ran with 2 threads (input below the cut-off?)"
    assert len(one) == len(two)
    if name in SPLIT_SUMS:
        again = _run(name, dtype, 2)
        for a, b, c in zip(one, two, again):
            assert np.array_equal(b, c)
            np.testing.assert_allclose(a, b, rtol=1e-5 if dtype == np.float32 else 1e-12)
        return
    for a, b in zip(one, two):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def test_axpy_and_optimizer_kernels_threads_bitwise():
    """Kernels reached from the optimisers and the engine rather than an F op."""
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal(70001).astype(dtype)
        res = []
        for nt in (1, 2):
            before = sum(_core.parallel_regions().values())
            y = np.ones_like(x)
            _core.axpy(0.5, x, y, nt)
            res.append(y)
            assert (sum(_core.parallel_regions().values()) > before) == (nt == 2)
        assert np.array_equal(res[0], res[1])


def test_no_grad_max_pool_values_path_threads_bitwise():
    """Under no_grad the max pool computes values only (no argmax)."""
    x = fastnn.tensor(_x(4, 9, 96, 96).astype(np.float32))
    res = []
    for nt in (1, 2):
        fastnn.set_num_threads(nt)
        before = sum(_core.parallel_regions().values())
        with fastnn.no_grad():
            res.append(F.max_pool2d(x, 2).numpy().copy())
        assert (sum(_core.parallel_regions().values()) > before) == (nt == 2)
    assert np.array_equal(res[0], res[1])
