"""F.unfold / F.fold and nn.Unfold / nn.Fold: values and gradients against
PyTorch (float64 and float32, batched and unbatched, every geometry
argument), gradcheck, adjointness, 1 vs 2 threads (bitwise), errors."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F
from fastnn.testing import requires_torch

TOL = {np.float64: dict(rtol=1e-12, atol=1e-13), np.float32: dict(rtol=1e-6, atol=1e-6)}

GEOMS = [
    ((2, 3, 5, 5), dict(kernel_size=2)),
    ((2, 3, 7, 6), dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 2), stride=(2, 3))),
    ((1, 2, 6, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((3, 1, 4, 4), dict(kernel_size=(1, 4), dilation=2, padding=(0, 3))),
    ((2, 2, 3, 3), dict(kernel_size=3)),
    ((2, 3, 5, 5), dict(kernel_size=(2, 2), stride=3)),  # pixels skipped by every block
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kw", GEOMS)
@pytest.mark.parametrize("batched", [True, False])
def test_unfold_fold_match_torch(shape, kw, dtype, batched):
    torch = requires_torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    if not batched:
        x = x[0]
    xf = fastnn.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yf, yt = F.unfold(xf, **kw), torch.nn.functional.unfold(xt, **kw)
    np.testing.assert_allclose(yf.detach().numpy(), yt.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(yt.shape).astype(dtype)
    yf.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xf.grad.numpy(), xt.grad.numpy(), **TOL[dtype])
    # fold of a random column matrix onto the same image size
    c = rng.standard_normal(yt.shape).astype(dtype)
    cf = fastnn.tensor(c, requires_grad=True)
    ct = torch.tensor(c, requires_grad=True)
    size = shape[2:]
    zf, zt = F.fold(cf, size, **kw), torch.nn.functional.fold(ct, size, **kw)
    assert zf.shape == tuple(zt.shape) and zf.dtype == np.dtype(dtype)
    np.testing.assert_allclose(zf.detach().numpy(), zt.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(zt.shape).astype(dtype)
    zf.backward(g)
    zt.backward(torch.tensor(g))
    np.testing.assert_allclose(cf.grad.numpy(), ct.grad.numpy(), **TOL[dtype])


def test_fold_is_the_adjoint_of_unfold():
    rng = np.random.default_rng(1)
    kw = dict(kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=(2, 1))
    x = rng.standard_normal((2, 3, 7, 8))
    u = F.unfold(fastnn.tensor(x), **kw).numpy()
    c = rng.standard_normal(u.shape)
    v = F.fold(fastnn.tensor(c), (7, 8), **kw).numpy()
    assert np.isclose((u * c).sum(), (x * v).sum(), rtol=1e-12)
    assert F.fold(fastnn.ones(1, 4, 4), (3, 3), 2).numpy()[0, 0].tolist() == [
        [1, 2, 1], [2, 4, 2], [1, 2, 1]]


def test_fold_unfold_gradcheck():
    rng = np.random.default_rng(2)
    kw = dict(kernel_size=2, dilation=(1, 2), padding=(1, 0), stride=(1, 2))
    x = fastnn.tensor(rng.standard_normal((2, 2, 4, 5)), requires_grad=True)
    assert fastnn.gradcheck(lambda a: F.unfold(a, **kw) * F.unfold(a, **kw), (x,))
    L = F.unfold(x, **kw).shape[2]
    c = fastnn.tensor(rng.standard_normal((2, 8, L)), requires_grad=True)
    assert fastnn.gradcheck(lambda a: F.fold(a, (4, 5), **kw) ** 2, (c,))


def test_empty_batch():
    assert F.unfold(fastnn.zeros(0, 3, 5, 5), 2).shape == (0, 12, 16)
    assert F.fold(fastnn.zeros(0, 12, 16), (5, 5), 2).shape == (0, 3, 5, 5)


def test_fold_thread_invariance():
    rng = np.random.default_rng(3)
    c = rng.standard_normal((4, 16 * 9, 30 * 30)).astype(np.float32)
    out = []
    for n in (1, 2):
        fastnn.set_num_threads(n)
        out.append(F.fold(fastnn.tensor(c), (32, 32), 3).numpy())
    assert np.array_equal(out[0], out[1])


def test_modules_repr_and_forward():
    torch = requires_torch()
    for kw in [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=2, padding=1, stride=(1, 2))]:
        assert repr(nn.Unfold(**kw)) == repr(torch.nn.Unfold(**kw))
        assert repr(nn.Fold((5, 6), **kw)) == repr(torch.nn.Fold((5, 6), **kw))
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 6)).astype(np.float32)
    u = nn.Unfold(3, padding=1)(fastnn.tensor(x))
    np.testing.assert_allclose(u.numpy(), torch.nn.Unfold(3, padding=1)(torch.tensor(x)).numpy())
    back = nn.Fold((6, 6), 3, padding=1)(u)
    np.testing.assert_allclose(back.numpy(),
                               torch.nn.Fold((6, 6), 3, padding=1)(torch.tensor(u.numpy())).numpy())
    assert list(nn.Unfold(2).state_dict()) == []


@pytest.mark.parametrize("fn,exc,match", [
    (lambda: F.unfold(fastnn.zeros(2, 3, 5, 5), 6), ValueError, "sliding blocks"),
    (lambda: F.unfold(fastnn.zeros(5, 5), 2), ValueError, "3D or 4D"),
    (lambda: F.unfold(fastnn.zeros(1, 1, 2, 5, 5), 2), ValueError, "3D or 4D"),
    (lambda: F.unfold(fastnn.zeros(2, 3, 5, 5), (2, 2, 2)), ValueError, "kernel_size"),
    (lambda: F.unfold(fastnn.zeros(2, 3, 5, 5), 0), ValueError, "kernel size"),
    (lambda: F.unfold(fastnn.zeros(2, 3, 5, 5), 2, stride=0), ValueError, "stride"),
    (lambda: F.unfold(fastnn.zeros(2, 3, 5, 5), 2, dilation=0), ValueError, "dilation"),
    (lambda: F.unfold(fastnn.zeros(2, 3, 5, 5), 2, padding=-1), ValueError, "padding"),
    (lambda: F.unfold(fastnn.zeros(2, 3, 5, 5, dtype=fastnn.int64), 2), TypeError, "float"),
    (lambda: F.fold(fastnn.zeros(2, 12, 16), (5, 5), 3), ValueError, "divisible"),
    (lambda: F.fold(fastnn.zeros(2, 12, 16), (6, 5), 2), ValueError, "5 \\* 4 = 20"),
    (lambda: F.fold(fastnn.zeros(2, 12, 16), (1, 1), 2), ValueError, "sliding blocks"),
    (lambda: F.fold(fastnn.zeros(16), (5, 5), 2), ValueError, "2D or 3D"),
    (lambda: F.fold(fastnn.zeros(2, 3, 4, 5), (5, 5), 2), ValueError, "2D or 3D"),
])
def test_errors(fn, exc, match):
    with pytest.raises(exc, match=match):
        fn()


def test_shape_errors_are_shape_errors():
    with pytest.raises(fastnn.ShapeError):
        F.fold(fastnn.zeros(2, 12, 16), (6, 5), 2)
    with pytest.raises(RuntimeError):
        F.unfold(fastnn.zeros(2, 3, 5, 5), 6)
