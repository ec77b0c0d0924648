"""The implicit reparameterisation gradient of standard gamma draws and the
incomplete gamma function behind Gamma.cdf: against a finite difference of
the CDF, against PyTorch's ``_standard_gamma_grad`` and ``gammainc``, and
end to end through ``Gamma.rsample``."""
import math

import numpy as np
import pytest

import fastnn
import fastnn.distributions as D
from fastnn.distributions._gamma_math import gammainc_np, standard_gamma_grad
from fastnn.ops.special_math import lgamma_np
from fastnn.testing import requires_torch


def _quantiles(alpha, q):
    """x with P(alpha, x) = q, by bisection on gammainc."""
    a, q = np.broadcast_arrays(alpha, q)
    lo, hi = np.zeros(a.shape), a * 10 + 50
    for _ in range(80):
        mid = (lo + hi) / 2
        below = gammainc_np(a, mid) < q
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return a, (lo + hi) / 2


def _grid():
    alpha = np.exp(np.linspace(math.log(0.05), math.log(200.0), 40))[:, None]
    return _quantiles(alpha, np.linspace(0.02, 0.98, 25)[None, :])


def test_matches_finite_difference_of_the_cdf():
    """dx/dalpha = -(dP/dalpha) / p at fixed x: the three approximation regions
    (small x, large alpha, rational) hold 5e-4 relative accuracy between the
    2% and 98% quantiles for alpha in [0.05, 200], as PyTorch states for its own."""
    a, x = _grid()
    h = 1e-5 * a
    dp = (gammainc_np(a + h, x) - gammainc_np(a - h, x)) / (2 * h)
    density = np.exp((a - 1) * np.log(x) - x - lgamma_np(a))
    exact = -dp / density
    got = standard_gamma_grad(a, x)
    rel = np.abs(got - exact) / np.abs(exact)
    assert rel.max() < 5e-4, (rel.max(), a.flat[rel.argmax()], x.flat[rel.argmax()])
    assert (x < 0.8).any() and ((x >= 0.8) & (a > 8)).any() and ((x >= 0.8) & (a <= 8)).any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch_standard_gamma_grad(dtype):
    torch = requires_torch()
    r = np.random.default_rng(0)
    a = np.exp(r.uniform(-3, 5.5, 5000))
    x = np.exp(r.uniform(-8, 3, 5000)) * a
    a = np.concatenate([a, [9.0, 9.0, 20.0, 0.5]])      # the saddle point's middle band
    x = np.concatenate([x, [9.0, 8.5, 21.0, 1e-30]])
    a, x = a.astype(dtype), x.astype(dtype)
    got = standard_gamma_grad(a, x).astype(dtype)
    want = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-11 if dtype == np.float64 else 2e-6)


def test_rsample_backward_is_the_implicit_gradient():
    c = fastnn.tensor([0.2, 1.0, 3.0, 12.0], dtype=fastnn.float64, requires_grad=True)
    rate = fastnn.tensor([1.0, 2.0, 0.5, 1.5], dtype=fastnn.float64, requires_grad=True)
    fastnn.manual_seed(4)
    x = D.Gamma(c, rate).rsample((3,))
    w = np.random.default_rng(1).normal(size=(3, 4))
    (x * fastnn.tensor(w)).sum().backward()
    g = (x * rate).detach().numpy()                       # the standard gamma draws
    want_c = (w * standard_gamma_grad(c.detach().numpy(), g) / rate.detach().numpy()).sum(0)
    np.testing.assert_allclose(c.grad.numpy(), want_c, rtol=1e-12)
    np.testing.assert_allclose(rate.grad.numpy(), (-w * x.detach().numpy()
                                                   / rate.detach().numpy()).sum(0), rtol=1e-12)
    fastnn.manual_seed(4)
    np.testing.assert_array_equal(D.Gamma(c, rate).sample((3,)).numpy(), x.detach().numpy())


def test_gammainc_values():
    torch = requires_torch()
    r = np.random.default_rng(2)
    a = np.exp(r.uniform(-3, 5, 4000))
    x = np.exp(r.uniform(-8, 2, 4000)) * a
    got = gammainc_np(a, x)
    want = torch.special.gammainc(torch.tensor(a), torch.tensor(x)).numpy()
    # PyTorch's own asymptotic series is good to about 5e-10 for a in [20, 50]
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-9)
    # exact values: P(1, x) = 1 - e^-x, P(1/2, x) = erf(sqrt(x))
    xs = np.array([1e-8, 0.1, 1.0, 3.0, 30.0])
    np.testing.assert_allclose(gammainc_np(1.0, xs), -np.expm1(-xs), rtol=1e-13)
    np.testing.assert_allclose(gammainc_np(0.5, xs), [math.erf(math.sqrt(v)) for v in xs],
                               rtol=1e-13)
    inf, nan = np.inf, np.nan
    a = [2.0, 2.0, 2.0, -1.0, 2.0, nan, 0.0, 0.0, 0.0, inf, inf]
    x = [0.0, inf, -1.0, 1.0, nan, 1.0, 0.0, inf, 2.0, 1.0, inf]
    want = torch.special.gammainc(torch.tensor(a), torch.tensor(x)).numpy()
    np.testing.assert_array_equal(gammainc_np(a, x), want)
    assert 0.0 < gammainc_np(5000.0, 5050.0) < 1.0 and gammainc_np(1e-3, 1e-5) > 0.98
