"""cumsum, cumprod and logcumsumexp of float32 tensors accumulate in double
and round each result once, as PyTorch's CPU kernels do at every length:
the results are PyTorch's bit for bit (a diffusion model's alphas_cumprod
over 1000 steps included)."""
import numpy as np
import pytest

import fastnn


@pytest.mark.parametrize("fn", ["cumsum", "cumprod", "logcumsumexp"])
@pytest.mark.parametrize("n", [3, 10, 64, 65, 1000])
@pytest.mark.parametrize("dim", [0, 1])
def test_float32_scans_match_torch_bitwise(fn, n, dim):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(n)
    x = rng.uniform(0.9, 1.1, (7, n)).astype(np.float32)
    if dim == 0:
        x = np.ascontiguousarray(x.T)
    want = getattr(torch, fn)(torch.from_numpy(x), dim).numpy()
    got = getattr(fastnn, fn)(fastnn.from_numpy(x.copy()), dim).numpy()
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    meth = getattr(fastnn.from_numpy(x.copy()), fn)(dim).numpy()
    np.testing.assert_array_equal(meth, want)


def test_ddpm_schedule_matches_torch():
    torch = pytest.importorskip("torch")
    betas_t = torch.linspace(1e-4, 0.02, 1000)
    want = torch.cumprod(1.0 - betas_t, dim=0).numpy()
    betas = fastnn.from_numpy(betas_t.numpy().copy())
    got = fastnn.cumprod(1.0 - betas, dim=0).numpy()
    np.testing.assert_array_equal(got, want)


def test_exact_double_rounding_without_torch():
    x = np.full(10, 0.1, np.float32)
    got = fastnn.cumsum(fastnn.from_numpy(x), 0).numpy()
    np.testing.assert_array_equal(got, np.cumsum(x.astype(np.float64)).astype(np.float32))
    a = np.linspace(0.98, 0.9999, 1000).astype(np.float32)
    got = fastnn.cumprod(fastnn.from_numpy(a), 0).numpy()
    np.testing.assert_array_equal(got, np.cumprod(a.astype(np.float64)).astype(np.float32))


def test_dtypes_and_gradients_kept():
    assert fastnn.cumprod(fastnn.tensor([1, 2, 3]), 0).tolist() == [1, 2, 6]
    assert fastnn.cumprod(fastnn.tensor([1, 2, 3]), 0).dtype == fastnn.int64
    d = fastnn.tensor([1.0, 2.0, 3.0], dtype=fastnn.float64)
    assert fastnn.cumprod(d, 0).dtype == fastnn.float64
    x = fastnn.tensor([0.5, 2.0, 0.0, 4.0], requires_grad=True)
    fastnn.cumprod(x, 0).sum().backward()
    # d/dx_k sum_j prod_{i<=j} x_i, exact with the zero
    np.testing.assert_allclose(x.grad.numpy(), [1 + 2, 0.5, 0.5 * 2 + 0.5 * 2 * 4, 0.0])
    y = fastnn.tensor([0.1, -0.3, 2.0], requires_grad=True)
    fastnn.logcumsumexp(y, 0).sum().backward()
    e = np.exp([0.1, -0.3, 2.0])
    c = np.cumsum(e)
    np.testing.assert_allclose(y.grad.numpy(), e * np.array([1 / c[0] + 1 / c[1] + 1 / c[2],
                                                              1 / c[1] + 1 / c[2], 1 / c[2]]),
                               rtol=1e-6)
