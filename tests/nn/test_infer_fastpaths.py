"""The inference fast paths: eval batch norm with nothing to record
(the no-graph branch of ops.normalization.batch_norm in eval mode), the
fused BN+ReLU of Sequential on it, and the small-batch Linear/Conv2d
forwards.  Same numbers as the full (recording) path, bitwise; the full
path still taken when something requires grad or the input is unusual."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import nn
from fastnn.ops.normalization import _bn_eval_untracked as batch_norm_infer


def _bn(C, dim=2, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    m = nn.BatchNorm2d(C) if dim == 2 else nn.BatchNorm1d(C)
    m.running_mean.data[...] = rng.standard_normal(C)
    m.running_var.data[...] = rng.uniform(0.5, 2.0, C)
    m.weight.data[...] = rng.standard_normal(C)
    m.bias.data[...] = rng.standard_normal(C)
    if dtype == np.float64:
        m = m.double()
    m.eval()
    return m


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 8, 5, 5), (3, 4, 7, 2), (2, 6)])
def test_bn_eval_no_grad_matches_recording_path(dtype, shape):
    m = _bn(shape[1], 2 if len(shape) == 4 else 1, dtype)
    x = fastnn.tensor(np.random.default_rng(1).standard_normal(shape).astype(dtype))
    want = m(x)                       # recording path (weight requires grad)
    assert want.requires_grad
    with fastnn.no_grad():
        got = m(x)
    assert not got.requires_grad and got.grad_fn is None
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    xn = x.detach().numpy().astype(np.float64)
    sh = (1, -1) + (1,) * (len(shape) - 2)
    ref = ((xn - m.running_mean.detach().numpy().reshape(sh)) /
           np.sqrt(m.running_var.detach().numpy().reshape(sh) + m.eps) * m.weight.detach().numpy().reshape(sh)
           + m.bias.detach().numpy().reshape(sh))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got.detach().numpy(), ref, rtol=tol, atol=tol)


def test_bn_eval_records_when_grad_needed():
    m = _bn(4)
    x = fastnn.tensor(np.random.default_rng(2).standard_normal((2, 4, 3, 3)).astype(np.float32),
                      requires_grad=True)
    y = m(x)
    assert y.grad_fn is not None
    y.sum().backward()
    assert x.grad is not None and m.weight.grad is not None
    # frozen parameters, plain input: nothing to record even with grad mode on
    for p in m.parameters():
        p.requires_grad_(False)
    y2 = m(fastnn.tensor(x.detach().numpy()))
    assert y2.grad_fn is None
    np.testing.assert_array_equal(y2.detach().numpy(), y.detach().numpy())


def test_bn_infer_declines_unusual_inputs():
    m = _bn(4)
    rm, rv, w, b = m.running_mean, m.running_var, m.weight, m.bias
    x = np.random.default_rng(3).standard_normal((2, 4, 3, 3)).astype(np.float32)
    with fastnn.no_grad():
        assert batch_norm_infer(fastnn.tensor(x), rm, rv, w, b, 1e-5) is not None
        # non-contiguous, other dtype, wrong channel count, no running stats
        xt = fastnn.tensor(x.transpose(0, 1, 3, 2))
        assert batch_norm_infer(xt, rm, rv, w, b, 1e-5) is None
        assert batch_norm_infer(fastnn.tensor(x.astype(np.float64)), rm, rv, w, b, 1e-5) is None
        assert batch_norm_infer(fastnn.tensor(x[:, :3]), rm, rv, w, b, 1e-5) is None
        assert batch_norm_infer(fastnn.tensor(x), None, rv, w, b, 1e-5) is None
        # the module then takes the full path: same numbers as a contiguous copy
        got = m(xt)
        want = m(fastnn.tensor(np.ascontiguousarray(xt.detach().numpy())))
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        with pytest.raises(ValueError):          # wrong channels: the full path's error
            m(fastnn.tensor(x[:, :3]))


def test_sequential_bn_relu_eval_no_grad():
    rng = np.random.default_rng(4)
    fastnn.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 5))
    net[1].running_mean.data[...] = rng.standard_normal(8)
    net[1].running_var.data[...] = rng.uniform(0.5, 2.0, 8)
    net.eval()
    x = fastnn.tensor(rng.standard_normal((1, 3, 8, 8)).astype(np.float32))
    want = net(x).detach().numpy()
    with fastnn.no_grad():
        got = net(x).detach().numpy()
        step = x
        for i, m in enumerate(net):
            step = m(step)                 # unfused, module by module
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(step.detach().numpy(), want, rtol=1e-6, atol=1e-6)


def test_linear_batch1_matches_numpy():
    fastnn.manual_seed(1)
    lin = nn.Linear(4096, 10)
    x = np.random.default_rng(5).standard_normal((1, 4096)).astype(np.float32)
    with fastnn.no_grad():
        y = lin(fastnn.tensor(x)).detach().numpy()
    ref = x.astype(np.float64) @ lin.weight.detach().numpy().T.astype(np.float64) + lin.bias.detach().numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-4)
    old = fastnn.get_num_threads()
    fastnn.set_num_threads(1)
    try:
        with fastnn.no_grad():
            y1 = lin(fastnn.tensor(x)).detach().numpy()
    finally:
        fastnn.set_num_threads(old)
    np.testing.assert_array_equal(y1, y)


# ---- no-graph inference of Conv2d / MaxPool2d / Flatten / Linear
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
