"""Op tests: F.leaky_relu and nn.LeakyReLU."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.testing import reference as R
from fastnn.testing import requires_torch, run_python


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(dtype):
    x = np.random.default_rng(0).standard_normal((4, 5, 6)).astype(dtype)
    y = F.leaky_relu(x, 0.3)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), R.leaky_relu(x, 0.3), rtol=1e-6)
    np.testing.assert_allclose(fastnn.nn.LeakyReLU()(x).numpy(), R.leaky_relu(x, 0.01), rtol=1e-6)


def test_gradcheck_and_noncontiguous():
    rng = np.random.default_rng(1)
    x = fastnn.tensor(rng.standard_normal((5, 6)), dtype=np.float64, requires_grad=True)
    Rg = rng.standard_normal((5, 6))
    assert fastnn.gradcheck(lambda a: (F.leaky_relu(a, 0.2) * Rg).sum(), [x])
    xt = fastnn.Tensor(rng.standard_normal((6, 5)).T, requires_grad=True)  # non-contiguous
    (F.leaky_relu(xt, 0.2) * Rg).sum().backward()
    np.testing.assert_allclose(xt.grad, R.leaky_relu_grad(xt.detach().numpy(), Rg, 0.2))


def test_torch_parity():
    torch = requires_torch()
    x = np.random.default_rng(2).standard_normal((3, 7)).astype(np.float32)
    g = np.random.default_rng(3).standard_normal((3, 7)).astype(np.float32)
    a = fastnn.tensor(x, requires_grad=True)
    F.leaky_relu(a, 0.05).backward(g)
    b = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.leaky_relu(b, 0.05)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(F.leaky_relu(x, 0.05).numpy(), yt.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-6)


def test_threads_and_nan():
    x = np.random.default_rng(4).standard_normal(70000).astype(np.float32)
    x[5] = np.nan
    fastnn.set_num_threads(1)
    a = F.leaky_relu(x).numpy()
    fastnn.set_num_threads(2)
    np.testing.assert_array_equal(a, F.leaky_relu(x).numpy())
    assert np.isnan(a[5])


def test_bad_input_in_subprocess():
    r = run_python(
        "import numpy as np, fastnn, fastnn.nn.functional as F\n"
        "for bad in (lambda: F.leaky_relu(np.arange(3), 0.1),\n"
        "            lambda: F.leaky_relu(np.zeros(3, np.float32), 'a')):\n"
        "    try:\n        bad()\n    except TypeError as e:\n        print('TypeError', e)\n"
        "try:\n    fastnn.nn.LeakyReLU('x')\nexcept ValueError as e:\n    print('ValueError', e)\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("TypeError") == 2 and "ValueError" in r.stdout
    assert "leaky_relu" in r.stdout
