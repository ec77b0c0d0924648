"""The fused batch norm + ReLU op (fastnn.ops.normalization.batch_norm_relu)
and its use by nn.Sequential: bitwise the unfused path, and PyTorch's numbers."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.ops.normalization import batch_norm_relu
from fastnn.testing import requires_torch


def _arr(t):
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


def _run(fused, x, w, b, R, training, rm, rv):
    xt = fastnn.tensor(x, requires_grad=True)
    wt = fastnn.tensor(w, requires_grad=True)
    bt = fastnn.tensor(b, requires_grad=True)
    if fused:
        y = batch_norm_relu(xt, rm, rv, wt, bt, training, 0.2, 1e-5)
    else:
        y = F.relu(F.batch_norm(xt, rm, rv, wt, bt, training, 0.2, 1e-5))
    (y * fastnn.tensor(R)).sum().backward()
    return [_arr(y), np.asarray(xt.grad), np.asarray(wt.grad), np.asarray(bt.grad), rm, rv]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 3, 4, 5), (5, 2, 9, 9)])
@pytest.mark.parametrize("training", [True, False])
def test_functional_bitwise_as_unfused(dtype, shape, training):
    rng = np.random.default_rng(len(shape))
    C = shape[1]
    x = (rng.standard_normal(shape) + 0.2).astype(dtype)
    w, b = rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype)
    R = rng.standard_normal(shape).astype(dtype)
    res = [_run(f, x, w, b, R, training, np.full(C, 0.1, dtype), np.full(C, 1.5, dtype))
           for f in (False, True)]
    for a, c, name in zip(res[0], res[1], ("y", "dx", "dw", "db", "running_mean", "var")):
        assert a.dtype == c.dtype and np.array_equal(a, c, equal_nan=True), name
    assert (res[1][0] >= 0).all() and (res[1][0] == 0).any()


def test_gradcheck_float64():
    rng = np.random.default_rng(1)
    x = fastnn.tensor(rng.standard_normal((3, 2, 3, 3)) + 0.3, requires_grad=True)
    w = fastnn.tensor(rng.standard_normal(2) + 1.5, requires_grad=True)
    b = fastnn.tensor(rng.standard_normal(2), requires_grad=True)
    R = fastnn.tensor(rng.standard_normal((3, 2, 3, 3)))
    assert fastnn.gradcheck(
        lambda x, w, b: (batch_norm_relu(x, None, None, w, b, training=True) * R).sum(),
        [x, w, b])


def _net(bn_cls, C, relu_cls=nn.ReLU):
    return nn.Sequential(bn_cls(C, momentum=0.3), relu_cls(), nn.Identity())


@pytest.mark.parametrize("bn_cls,shape", [(nn.BatchNorm2d, (4, 3, 6, 6)),
                                          (nn.BatchNorm1d, (8, 5)), (nn.BatchNorm1d, (4, 3, 7))])
def test_sequential_fuses_and_matches_modules_one_by_one(bn_cls, shape):
    rng = np.random.default_rng(2)
    C = shape[1]
    seq = _net(bn_cls, C)
    ref = _net(bn_cls, C)
    w, b = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
    for m in (seq, ref):
        m[0].weight.data[...] = w
        m[0].bias.data[...] = b
    for step in range(3):
        for mode in ("train", "eval"):
            for m in (seq, ref):
                m.train(mode == "train")
                m.zero_grad()
            x = (rng.standard_normal(shape) + step).astype(np.float32)
            R = rng.standard_normal(shape).astype(np.float32)
            xs = fastnn.tensor(x, requires_grad=True)
            xr = fastnn.tensor(x, requires_grad=True)
            ys = seq(xs)
            assert "BatchNormReLU" in repr(ys.grad_fn)
            yr = xr
            for mod in ref:           # module by module: the unfused path
                yr = mod(yr)
            assert "BatchNormReLU" not in repr(yr.grad_fn)
            (ys * fastnn.tensor(R)).sum().backward()
            (yr * fastnn.tensor(R)).sum().backward()
            assert np.array_equal(_arr(ys), _arr(yr))
            assert np.array_equal(xs.grad, xr.grad)
            assert np.array_equal(seq[0].weight.grad, ref[0].weight.grad)
            assert np.array_equal(seq[0].bias.grad, ref[0].bias.grad)
            for k, v in ref.state_dict().items():
                assert np.array_equal(_arr(seq.state_dict()[k]), _arr(v)), k
    with fastnn.no_grad():
        seq.eval()
        ref.eval()
        x = rng.standard_normal(shape).astype(np.float32)
        assert np.array_equal(_arr(seq(x)), _arr(ref[1](ref[0](x))))


def test_not_fused_when_forward_replaced_or_subclassed():
    class MyReLU(nn.ReLU):
        def forward(self, x):
            return F.relu(x) * 2

    x = fastnn.randn(4, 3, 5, 5)
    seq = nn.Sequential(nn.BatchNorm2d(3), MyReLU())
    y = seq(x)
    assert "BatchNormReLU" not in repr(y.grad_fn)
    np.testing.assert_array_equal(_arr(y), 2 * _arr(F.relu(nn.BatchNorm2d(3)(x))))
    seq = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU())
    seq[1].forward = lambda t: F.relu(t) + 1.0
    y = seq(x)
    assert (_arr(y) >= 1).all()
    # the ReLU stays a visible module
    seq = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU())
    assert [type(m).__name__ for m in seq] == ["BatchNorm2d", "ReLU"]
    assert len(list(seq.parameters())) == 2


def test_torch_parity_sequential_several_steps():
    torch = requires_torch()
    rng = np.random.default_rng(7)
    shape = (6, 4, 5, 5)
    fm = nn.Sequential(nn.BatchNorm2d(4, momentum=0.3), nn.ReLU())
    tm = torch.nn.Sequential(torch.nn.BatchNorm2d(4, momentum=0.3), torch.nn.ReLU())
    w, b = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    with torch.no_grad():
        tm[0].weight.copy_(torch.tensor(w))
        tm[0].bias.copy_(torch.tensor(b))
    fm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    for step in range(3):
        x = (rng.standard_normal(shape) * 2 + step).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        fm.zero_grad()
        tm.zero_grad()
        fy, ty = fm(fx), tm(tx)
        fy.backward(g)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(_arr(fy), ty.detach().numpy(), rtol=1e-4, atol=2e-5)
        np.testing.assert_allclose(fx.grad, tx.grad.numpy(), rtol=1e-3, atol=2e-5)
        np.testing.assert_allclose(fm[0].weight.grad, tm[0].weight.grad.numpy(), rtol=1e-4,
                                   atol=1e-4)
        np.testing.assert_allclose(fm[0].bias.grad, tm[0].bias.grad.numpy(), rtol=1e-4,
                                   atol=1e-4)
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(_arr(fm.state_dict()[k]), v.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=k)
    fm.eval()
    tm.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(_arr(fm(x)), tm(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-5)


def test_thread_invariance():
    x = fastnn.randn(8, 4, 40, 40)
    out = []
    before = fastnn.get_num_threads()
    for nt in (1, 2):
        fastnn.set_num_threads(nt)
        try:
            seq = nn.Sequential(nn.BatchNorm2d(4), nn.ReLU())
            xt = fastnn.tensor(_arr(x), requires_grad=True)
            y = seq(xt)
            y.sum().backward()
            out.append((_arr(y), np.asarray(xt.grad)))
        finally:
            fastnn.set_num_threads(before)
    assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])
