"""Op tests: F.softmax / F.log_softmax (any dim) and their modules."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.testing import reference as R
from fastnn.testing import requires_torch, run_python

TOL = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-14)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn,ref", [(F.softmax, R.softmax), (F.log_softmax, R.log_softmax)])
@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_forward_any_dim(dtype, fn, ref, dim):
    x = (3 * np.random.default_rng(dim + 5).standard_normal((3, 4, 5))).astype(dtype)
    y = fn(x, dim)
    assert y.dtype == dtype and y.shape == x.shape
    np.testing.assert_allclose(y.numpy(), ref(x, dim), **TOL[dtype])


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
@pytest.mark.parametrize("dim", [0, 1, 3])
def test_gradcheck(fn, dim):
    rng = np.random.default_rng(dim)
    x = fastnn.tensor(rng.standard_normal((2, 3, 2, 4)), dtype=np.float64, requires_grad=True)
    Rg = rng.standard_normal((2, 3, 2, 4))
    assert fastnn.gradcheck(lambda a: (fn(a, dim) * Rg).sum(), [x])


def test_noncontiguous_input_and_modules():
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32).T
    np.testing.assert_allclose(F.softmax(x, 1).numpy(), R.softmax(x, 1), **TOL[np.float32])
    np.testing.assert_allclose(fastnn.nn.Softmax(dim=0)(x).numpy(), R.softmax(x, 0),
                               **TOL[np.float32])
    np.testing.assert_allclose(fastnn.nn.LogSoftmax(dim=1)(x).numpy(), R.log_softmax(x, 1),
                               **TOL[np.float32])
    # PyTorch's legacy implicit dim: 1 for 2-D input (with its deprecation warning)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = fastnn.nn.Softmax()(x)
    np.testing.assert_allclose(y.numpy(), R.softmax(x, 1), **TOL[np.float32])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_implicit_dim_warns_and_matches_torch(name, shape):
    # PyTorch warns when dim is omitted (a program under -W error fails there);
    # fastnn picked the same legacy dim but said nothing.
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float32)
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been "
                                         "deprecated"):
        y = getattr(F, name)(fastnn.tensor(x))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        yt = getattr(torch.nn.functional, name)(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-5, atol=1e-6)


def test_torch_parity():
    torch = requires_torch()
    rng = np.random.default_rng(3)
    x = (5 * rng.standard_normal((4, 6, 3))).astype(np.float32)
    g = rng.standard_normal((4, 6, 3)).astype(np.float32)
    for name in ("softmax", "log_softmax"):
        for dim in (0, 1, 2):
            a = fastnn.tensor(x, requires_grad=True)
            y = getattr(F, name)(a, dim)
            y.backward(g)
            b = torch.tensor(x, requires_grad=True)
            yt = getattr(torch.nn.functional, name)(b, dim)
            yt.backward(torch.tensor(g))
            np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5,
                                       atol=1e-6)
            np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_large_logits_and_nan():
    x = np.array([[1e4, 0.0, -1e4], [np.nan, 1.0, 2.0]], np.float32)
    y = F.softmax(x, 1).numpy()
    assert np.isfinite(y[0]).all() and np.isnan(y[1]).all()
    ly = F.log_softmax(x, 1).numpy()
    np.testing.assert_allclose(ly[0], [0.0, -1e4, -2e4])


def test_thread_invariance():
    x = np.random.default_rng(9).standard_normal((256, 300)).astype(np.float32)
    fastnn.set_num_threads(1)
    a = F.log_softmax(x, 0).numpy()
    fastnn.set_num_threads(2)
    np.testing.assert_array_equal(a, F.log_softmax(x, 0).numpy())


def test_bad_input_in_subprocess():
    r = run_python(
        "import numpy as np, fastnn.nn.functional as F\n"
        "try:\n    F.softmax(np.zeros((2, 3), np.float32), 2)\n"
        "except IndexError as e:\n    print('IndexError', e)\n"
        "try:\n    F.log_softmax(np.zeros(3, np.int64), 0)\n"
        "except TypeError as e:\n    print('TypeError', e)\n")
    assert r.returncode == 0, r.stderr
    assert "IndexError softmax: dim 2" in r.stdout and "TypeError log_softmax" in r.stdout
