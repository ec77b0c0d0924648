"""Op and module tests: F.batch_norm, BatchNorm1d, BatchNorm2d."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.testing import reference as R
from fastnn.testing import requires_torch, run_python

TOL = {np.float32: dict(rtol=1e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    C = shape[1]
    return ((rng.standard_normal(shape) * 1.5 + 0.3).astype(dtype),
            rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 3, 4, 5), (1, 2, 3, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_forward_and_running_stats(dtype, shape, training):
    x, w, b = _data(shape, dtype)
    C = shape[1]
    rm = np.linspace(-0.5, 0.5, C).astype(dtype)
    rv = np.linspace(0.5, 1.5, C).astype(dtype)
    ref, rm2, rv2 = R.batch_norm(x, rm, rv, w, b, training, 0.2, 1e-5)
    y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.2, eps=1e-5)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), ref, **TOL[dtype])
    np.testing.assert_allclose(rm, rm2, **TOL[dtype])      # updated in place
    np.testing.assert_allclose(rv, rv2, **TOL[dtype])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 3, 2)])
def test_gradcheck(training, shape):
    x, w, b = _data(shape, np.float64, 1)
    C = shape[1]
    Rg = np.random.default_rng(2).standard_normal(shape)
    xt, wt, bt = (fastnn.tensor(a, requires_grad=True) for a in (x, w, b))
    rm, rv = np.zeros(C), np.ones(C) * 1.3

    def f(a, ww, bb):
        return (F.batch_norm(a, rm, rv, ww, bb, training=training, momentum=0.0) * Rg).sum()
    assert fastnn.gradcheck(f, [xt, wt, bt])
    x2 = fastnn.tensor(x, requires_grad=True)        # no affine parameters
    assert fastnn.gradcheck(lambda a: (F.batch_norm(a, rm, rv, training=training,
                                                    momentum=0.0) * Rg).sum(), [x2])


def test_torch_parity_modules_several_steps():
    torch = requires_torch()
    rng = np.random.default_rng(3)
    for fcls, tcls, shape in ((fastnn.nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 5)),
                              (fastnn.nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 6)),
                              (fastnn.nn.BatchNorm1d, torch.nn.BatchNorm1d, (4, 6, 7))):
        C = shape[1]
        fm, tm = fcls(C, momentum=0.3), tcls(C, momentum=0.3)
        w, b = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(w))
            tm.bias.copy_(torch.tensor(b))
        fm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
        for step in range(4):
            x = (rng.standard_normal(shape) * 2 + step).astype(np.float32)
            g = rng.standard_normal(shape).astype(np.float32)
            fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            fm.zero_grad()
            tm.zero_grad()
            fy, ty = fm(fx), tm(tx)
            fy.backward(g)
            ty.backward(torch.tensor(g))
            np.testing.assert_allclose(fy.detach().numpy(), ty.detach().numpy(), rtol=1e-4,
                                       atol=2e-5)
            np.testing.assert_allclose(fx.grad, tx.grad.numpy(), rtol=1e-3, atol=2e-5)
            np.testing.assert_allclose(fm.weight.grad, tm.weight.grad.numpy(), rtol=1e-4,
                                       atol=1e-4)
            np.testing.assert_allclose(fm.bias.grad, tm.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
        sd_f, sd_t = fm.state_dict(), tm.state_dict()
        assert list(sd_f) == list(sd_t)
        for k in sd_t:
            np.testing.assert_allclose(np.asarray(sd_f[k].numpy()), sd_t[k].numpy(), rtol=1e-5,
                                       atol=1e-6, err_msg=k)
        fm.eval()
        tm.eval()
        x = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_allclose(fm(x).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-5, atol=1e-5)


def test_module_buffers_and_options():
    bn = fastnn.nn.BatchNorm2d(3)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 4)).astype(np.float32)
    bn(x)
    bn(x)
    assert int(bn.num_batches_tracked.item()) == 2
    before = bn.running_mean.numpy().copy()
    bn.eval()
    bn(x)
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)
    nb = fastnn.nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(nb.state_dict()) == [] and nb.weight is None
    y = nb.eval()(x[:, :, 0, 0]).numpy()           # batch statistics even in eval
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    cma = fastnn.nn.BatchNorm1d(3, momentum=None)   # cumulative moving average
    a, b = x[:, :, 0, 0], x[:, :, 1, 1]
    cma(a)
    cma(b)
    np.testing.assert_allclose(cma.running_mean.numpy(), (a.mean(0) + b.mean(0)) / 2, rtol=1e-5)


def test_thread_invariance():
    x, w, b = _data((8, 5, 12, 12), np.float32, 5)
    out = []
    for n in (1, 2):
        fastnn.set_num_threads(n)
        rm, rv = np.zeros(5, np.float32), np.ones(5, np.float32)
        xt = fastnn.tensor(x, requires_grad=True)
        wt = fastnn.tensor(w, requires_grad=True)
        y = F.batch_norm(xt, rm, rv, wt, b, training=True)
        y.backward(np.ones_like(x) * np.arange(12, dtype=np.float32))
        out.append((y.detach().numpy(), rm, rv, xt.grad, wt.grad))
    for a, c in zip(*out):
        np.testing.assert_array_equal(a, c)


def test_nan_propagates_within_channel():
    x, w, b = _data((3, 2, 2, 2), np.float32, 6)
    x[0, 1, 0, 0] = np.nan
    y = F.batch_norm(x, None, None, w, b, training=True).numpy()
    assert np.isnan(y[:, 1]).all() and np.isfinite(y[:, 0]).all()


BAD = r'''
import numpy as np, fastnn, fastnn.nn.functional as F
def check(exc, fn):
    try:
        fn()
    except exc as e:
        print("OK", exc.__name__, e)
    else:
        print("MISSING", exc.__name__)
x4 = np.zeros((2, 3, 4, 4), np.float32)
check(fastnn.ShapeError, lambda: fastnn.nn.BatchNorm2d(3)(np.zeros((2, 3, 4), np.float32)))
check(fastnn.ShapeError, lambda: fastnn.nn.BatchNorm1d(3)(x4))
check(fastnn.ShapeError, lambda: fastnn.nn.BatchNorm2d(4)(x4))
check(fastnn.ShapeError, lambda: F.batch_norm(x4, np.zeros(2, np.float32), np.ones(3, np.float32)))
check(fastnn.ShapeError, lambda: F.batch_norm(x4, np.zeros(3, np.float32), np.ones(3, np.float32),
                                              weight=np.ones(5, np.float32)))
check(fastnn.ShapeError, lambda: F.batch_norm(np.zeros(3, np.float32), None, None, training=True))
check(ValueError, lambda: F.batch_norm(np.zeros((1, 3), np.float32), None, None, training=True))
check(ValueError, lambda: F.batch_norm(x4, None, None, training=False))
check(ValueError, lambda: fastnn.nn.BatchNorm2d(0))
check(ValueError, lambda: fastnn.nn.BatchNorm2d(3, momentum=2.0))
check(TypeError, lambda: F.batch_norm(x4.astype(np.int64), None, None, training=True))
'''


def test_bad_input_in_subprocess():
    r = run_python(BAD)
    assert r.returncode == 0, r.stderr
    assert "MISSING" not in r.stdout, r.stdout
    assert r.stdout.count("OK") == 11
    assert "running_mean must have shape (3,)" in r.stdout
    assert "more than 1 value per channel" in r.stdout


def test_noncontiguous_input():
    x = np.random.default_rng(10).standard_normal((3, 4, 5, 6)).astype(np.float32)
    xv = x.transpose(0, 1, 3, 2)          # non-contiguous view
    rm, rv = np.zeros(4, np.float32), np.ones(4, np.float32)
    ref, _, _ = R.batch_norm(np.ascontiguousarray(xv), rm, rv, training=True)
    np.testing.assert_allclose(F.batch_norm(xv, rm.copy(), rv.copy(), training=True).numpy(), ref,
                               rtol=1e-4, atol=2e-5)
