"""log10 and log2 of float32 tensors are rounded once, as PyTorch's: exact
powers give exact results (log10(100) == 2, so a PSNR of 10*log10(1/mse) is
the same number) and a spread of inputs agrees with torch bit for bit."""
import numpy as np
import pytest

import fastnn


@pytest.mark.parametrize("name, x, want", [("log10", 100.0, 2.0), ("log10", 1e-3, -3.0),
                                           ("log10", 1e6, 6.0), ("log2", 8.0, 3.0)])
def test_exact_powers_give_exact_logs(name, x, want):
    got = getattr(fastnn, name)(fastnn.tensor([x]))
    assert got.dtype == fastnn.float32
    assert got.item() == want


def test_psnr_of_a_power_of_ten_is_exact():
    mse = fastnn.nn.functional.mse_loss(fastnn.zeros(4), fastnn.full((4,), 0.1))
    assert (10 * fastnn.log10(1 / mse)).item() == pytest.approx(20.0, abs=2e-6)
    assert fastnn.log10(fastnn.tensor(100.0)).item() == 2.0


@pytest.mark.parametrize("name", ["log10", "log2"])
def test_float32_logs_match_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(0.01, 100, 4000), 10.0 ** np.arange(-6, 7),
                        2.0 ** np.arange(-30, 30)]).astype(np.float32)
    want = getattr(torch, name)(torch.from_numpy(x)).numpy()
    got = getattr(fastnn, name)(fastnn.from_numpy(x.copy())).numpy()
    assert got.dtype == np.float32
    # torch's own kernels are off by an ulp on a handful of inputs
    assert (got != want).mean() < 2e-3
    np.testing.assert_allclose(got, want, rtol=2e-7)
    t = fastnn.from_numpy(x.copy())
    np.testing.assert_array_equal(getattr(t, name)().numpy(), got)


def test_float64_and_special_values_unchanged():
    x = np.array([100.0, 0.0, -1.0, np.inf, np.nan])
    got = fastnn.log10(fastnn.from_numpy(x)).numpy()
    assert got.dtype == np.float64
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(got, np.log10(x))
    y = fastnn.log2(fastnn.tensor([0.0, -1.0, float("inf")])).numpy()
    assert y[0] == -np.inf and np.isnan(y[1]) and y[2] == np.inf


def test_log10_gradient():
    x = fastnn.tensor([3.0, 100.0], requires_grad=True)
    fastnn.log10(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / (np.array([3.0, 100.0]) * np.log(10)), rtol=1e-6)
