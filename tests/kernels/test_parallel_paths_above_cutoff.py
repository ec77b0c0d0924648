"""Sizes above the kernels' serial cut-off (FNN_SERIAL_CUTOFF = 65536
elements), so that two threads really split the work: the results are
bitwise those of one thread (the sizes the older tests used, 40000-50000,
now run serially)."""
import numpy as np
import pytest

from fastnn import _core

N = 70001


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_and_activation_threads_bitwise(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(N).astype(dtype)
    g = rng.standard_normal(N).astype(dtype)
    outs = []
    for nt in (1, 2):
        outs.append([
            _core.relu_fwd(x, np.empty_like(x), nt),
            _core.relu_bwd(x, g, np.empty_like(x), nt),
            _core.leaky_relu_fwd(x, np.empty_like(x), 0.2, nt),
            _core.leaky_relu_bwd(x, g, np.empty_like(x), 0.2, nt),
            _core.add(x, g, np.empty_like(x), nt),
            _core.mul(x, g, np.empty_like(x), nt),
        ])
    for a, b in zip(*outs):
        assert np.array_equal(a, b)
    assert np.array_equal(outs[0][4], x + g)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_optimizer_steps_threads_bitwise(dtype):
    rng = np.random.default_rng(1)
    sizes = [N, 5, 31]
    p0 = [rng.standard_normal(s).astype(dtype) for s in sizes]
    gs = [rng.standard_normal(s).astype(dtype) for s in sizes]
    res = []
    for nt in (1, 2):
        p = [a.copy() for a in p0]
        m = [np.zeros_like(a) for a in p0]
        v = [np.zeros_like(a) for a in p0]
        b = [np.empty_like(a) for a in p0]
        q = [a.copy() for a in p0]
        for t in (1, 2):
            _core.adam_step(p, gs, m, v, float(t), lr=0.01, n_threads=nt)
            _core.sgd_step(q, gs, b, 0.1, momentum=0.9, init_buf=(t == 1), n_threads=nt)
        res.append(p + m + v + q + b)
    for a, c in zip(*res):
        assert np.array_equal(a, c)


def test_max_pool_and_batch_norm_threads_bitwise():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 9, 64, 64)).astype(np.float32)   # 73728 elements
    outs = []
    for nt in (1, 2):
        y = np.empty((2, 9, 32, 32), np.float32)
        idx = np.empty(y.shape, np.int64)
        _core.max_pool2d_fwd(x, y, idx, 2, 2, 2, 2, 0, 0, nt)
        dx = _core.max_pool2d_bwd(y, idx, np.empty_like(x), 2, 2, 2, 2, 0, 0, nt)
        bn = np.empty_like(x)
        st = [np.empty(9, np.float32) for _ in range(3)]
        _core.batchnorm_fwd_train(x, None, None, bn, *st, 1e-5, nt)
        outs.append([y, idx, dx, bn] + st)
    for a, b in zip(*outs):
        assert np.array_equal(a, b)
