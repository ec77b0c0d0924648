"""The lean paths of small training and inference steps give exactly the
results of the full paths: running statistics updated in C (bitwise the
NumPy expressions), no-graph inference of Conv2d / MaxPool2d / Flatten /
Linear, and Sequential's cached fusion plan."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import _core, nn
from fastnn.ops.normalization import batch_norm, batch_norm_relu


def _numpy_running(rm, rv, mean, var, momentum, M):
    """The NumPy expressions the compiled update replaces."""
    rm = rm.copy()
    rv = rv.copy()
    rm *= (1 - momentum)
    rm += momentum * mean.astype(rm.dtype, copy=False)
    unbiased = var.astype(np.float64) * (M / (M - 1))
    rv *= (1 - momentum)
    rv += (momentum * unbiased).astype(rv.dtype, copy=False)
    return rm, rv


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum", [0.1, 0.3, 1 / 3, 0.0, 1.0])
@pytest.mark.parametrize("relu", [False, True])
def test_running_stats_in_c_bitwise_numpy(dtype, momentum, relu):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((5, 7, 3, 4)) * 3 + 1.5).astype(dtype)
    C, M = 7, 5 * 12
    rm0 = rng.standard_normal(C).astype(dtype)
    rv0 = rng.random(C).astype(dtype) + 0.5
    # batch statistics from the kernel alone
    y = np.empty_like(x)
    mean, var, inv = (np.empty(C, dtype) for _ in range(3))
    _core.batchnorm_fwd_train(x, None, None, y, mean, var, inv, 1e-5, 1, relu)
    ref_m, ref_v = _numpy_running(rm0, rv0, mean, var, momentum, M)
    rm, rv = rm0.copy(), rv0.copy()
    fn = batch_norm_relu if relu else batch_norm
    out = fn(x, rm, rv, training=True, momentum=momentum)
    assert np.array_equal(rm, ref_m) and np.array_equal(rv, ref_v)
    assert np.array_equal(out.detach().numpy(), y)
    # the binding: one running statistic only, the other None
    rm2 = rm0.copy()
    _core.batchnorm_fwd_train(x, None, None, y, mean, var, inv, 1e-5, 2, relu, rm2, None,
                              momentum)
    assert np.array_equal(rm2, ref_m)


def test_running_stats_fallback_layouts_and_dtypes():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 3, 5)).astype(np.float32)
    # float64 running statistics with float32 input, and a strided view
    rm64, rv64 = np.zeros(3), np.ones(3)
    base = np.zeros(6, np.float32)
    rm_view = base[::2]
    rv = np.ones(3, np.float32)
    y = np.empty_like(x)
    mean, var, inv = (np.empty(3, np.float32) for _ in range(3))
    _core.batchnorm_fwd_train(x, None, None, y, mean, var, inv, 1e-5, 1)
    ref_m64, ref_v64 = _numpy_running(rm64, rv64, mean, var, 0.1, 20)
    batch_norm(x, rm64, rv64, training=True)
    assert np.array_equal(rm64, ref_m64) and np.array_equal(rv64, ref_v64)
    ref_m, ref_v = _numpy_running(np.zeros(3, np.float32), rv, mean, var, 0.1, 20)
    batch_norm(x, rm_view, rv, training=True)
    assert np.array_equal(rm_view, ref_m) and np.array_equal(rv, ref_v)
    assert np.array_equal(base[1::2], np.zeros(3, np.float32))
    # a read-only running statistic is refused, as before
    ro = np.zeros(3, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        batch_norm(x, ro, np.ones(3, np.float32), training=True)
    with pytest.raises(ValueError):
        _core.batchnorm_fwd_train(x, None, None, y, mean, var, inv, 1e-5, 1, False, ro, None,
                                  0.1)


def test_module_running_stats_torch_parity_several_steps():
    torch = fastnn.testing.requires_torch()
    rng = np.random.default_rng(5)
    fm = nn.BatchNorm2d(4, momentum=None)
    tm = torch.nn.BatchNorm2d(4, momentum=None)
    fm2 = nn.BatchNorm2d(4, momentum=0.2)
    tm2 = torch.nn.BatchNorm2d(4, momentum=0.2)
    for step in range(4):
        x = (rng.standard_normal((3, 4, 5, 5)) * 2 + step).astype(np.float32)
        fm(x), fm2(x)
        tm(torch.tensor(x)), tm2(torch.tensor(x))
    for f, t in ((fm, tm), (fm2, tm2)):
        np.testing.assert_allclose(f.running_mean.detach().numpy(), t.running_mean.numpy(), rtol=1e-6,
                                   atol=1e-6)
        np.testing.assert_allclose(f.running_var.detach().numpy(), t.running_var.numpy(), rtol=1e-6,
                                   atol=1e-6)
        assert int(f.num_batches_tracked.detach().numpy()) == int(t.num_batches_tracked) == 4


def _cnn():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(8, 6, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2, 1, 1), nn.Flatten(), nn.Linear(6 * 5 * 5, 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inference_lean_paths_equal_full_paths(dtype):
    fastnn.manual_seed(0)
    m = _cnn()
    if dtype == np.float64:
        m.double()
    m.eval()
    x = fastnn.tensor(np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(dtype))
    with fastnn.no_grad():
        lean = m(x)
    # the full paths, module by module through the functionals
    h = F.relu(F.conv2d(x, m[0].weight, m[0].bias, padding=1))
    h = F.relu(F.batch_norm(h, m[1].running_mean, m[1].running_var, m[1].weight, m[1].bias))
    h = F.max_pool2d(h, 2)
    h = F.relu(F.conv2d(h, m[4].weight, m[4].bias, padding=1))
    h = F.max_pool2d(h, 2, 1, 1)
    h = F.linear(h.flatten(1), m[8].weight, m[8].bias)
    assert lean.grad_fn is None and not lean.requires_grad
    assert lean.dtype == dtype and np.array_equal(lean.detach().numpy(), h.detach().numpy())
    # grad mode on with parameters requiring grad: the graph is recorded
    y = m(x)
    assert y.grad_fn is not None and np.array_equal(y.detach().numpy(), h.detach().numpy())
    y.sum().backward()
    assert m[0].weight.grad is not None


def test_inference_lean_paths_fall_back_and_raise():
    m = nn.Conv2d(3, 4, 3, padding=1).eval()
    with fastnn.no_grad():
        # unbatched input, ndarray input, 'same' padding: the full path
        assert m(fastnn.ones(3, 5, 5)).shape == (4, 5, 5)
        assert m(np.ones((1, 3, 5, 5), np.float32)).shape == (1, 4, 5, 5)
        assert nn.Conv2d(3, 4, 3, padding="same")(fastnn.ones(1, 3, 5, 5)).shape == (1, 4, 5, 5)
        with pytest.raises(fastnn.ShapeError):
            m(fastnn.ones(1, 2, 5, 5))
        with pytest.raises(TypeError):
            m(fastnn.ones(1, 3, 5, 5, dtype="float64"))
        with pytest.raises(fastnn.ShapeError):
            nn.Conv2d(3, 4, 7)(fastnn.ones(1, 3, 4, 4))
        p = nn.MaxPool2d(2)
        assert p(fastnn.ones(3, 4, 4)).shape == (3, 2, 2)
        with pytest.raises(fastnn.ShapeError):
            p(fastnn.ones(1, 1, 1, 1))
        p.padding = 2   # more than half the kernel: the full path's error
        with pytest.raises(ValueError):
            p(fastnn.ones(1, 1, 4, 4))
        with pytest.raises(fastnn.ShapeError):
            nn.Linear(4, 2)(fastnn.ones(3, 5))
        f = nn.Flatten()
        assert f(fastnn.ones(2, 3, 4)).shape == (2, 12)
        assert nn.Flatten(0)(fastnn.ones(2, 3)).shape == (6,)
    # max pool with indices keeps returning them
    y, idx = nn.MaxPool2d(2, return_indices=True)(fastnn.ones(1, 1, 4, 4))
    assert idx.shape == (1, 1, 2, 2) and idx.dtype == np.int64


def test_sequential_plan_follows_changes():
    x = fastnn.randn(2, 3, 6, 6)
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.BatchNorm2d(4), nn.ReLU())
    y = seq(x)
    assert "BatchNormReLU" in repr(y.grad_fn)
    # replacing a module, adding a hook attribute, or replacing a forward
    # after the plan was made: honoured on the next call
    seq[3] = nn.Identity()
    y = seq(x)
    assert "BatchNormReLU" not in repr(y.grad_fn) and (y.detach().numpy() < 0).any()
    seq[3] = nn.ReLU()
    assert "BatchNormReLU" in repr(seq(x).grad_fn)
    seq[2].__dict__["_forward_hooks"] = {0: lambda *a: None}
    assert "BatchNormReLU" not in repr(seq(x).grad_fn)
    del seq[2].__dict__["_forward_hooks"]
    assert "BatchNormReLU" in repr(seq(x).grad_fn)
    seq[3].forward = lambda t: F.relu(t) + 1.0
    assert (seq(x).detach().numpy() >= 1).all()
    seq.append(nn.Flatten())
    assert seq(x).ndim == 2
