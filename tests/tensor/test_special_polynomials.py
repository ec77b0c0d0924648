"""torch.special's orthogonal polynomials, erfcx, spherical_bessel_j0 and
modified_bessel_i0/i1 (missing before), against PyTorch: values, dtypes,
degrees given as numbers or tensors (truncated, negative -> 0), no
gradient for the polynomials, gradients for erfcx and spherical_bessel_j0."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

POLYS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
         "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
         "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p"]


@pytest.mark.parametrize("name", POLYS)
def test_polynomials_match_torch(name):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-1.2, 1.2, 100), [0.0, 1.0, -1.0, 0.5, 2.0, -3.0]])
    x = x.astype(np.float32)
    ns = rng.integers(-2, 12, x.shape)
    for n in (0, 1, 3, 7, 11, 2.7, -1, ns):
        nt = torch.from_numpy(n) if isinstance(n, np.ndarray) else n
        nf = fastnn.from_numpy(n.copy()) if isinstance(n, np.ndarray) else n
        want = getattr(torch.special, name)(torch.from_numpy(x), nt)
        got = getattr(fastnn.special, name)(fastnn.from_numpy(x.copy()), nf)
        assert got.dtype == fastnn.float32 and got.shape == tuple(want.shape)
        w = want.numpy()
        np.testing.assert_allclose(got.numpy(), w, rtol=1e-5, atol=1e-5 * np.abs(w).max())
    x64 = fastnn.tensor([0.3, -0.7], dtype=fastnn.float64, requires_grad=True)
    out = getattr(fastnn.special, name)(x64, 4)
    assert out.dtype == fastnn.float64 and not out.requires_grad     # as PyTorch: no gradient
    want = getattr(torch.special, name)(torch.tensor([0.3, -0.7], dtype=torch.float64), 4)
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-12)


def test_known_values_and_bad_input():
    sp = fastnn.special
    assert sp.chebyshev_polynomial_t(fastnn.tensor([0.5]), 3).item() == pytest.approx(-1.0)
    assert sp.legendre_polynomial_p(fastnn.tensor([0.5]), 2).item() == pytest.approx(-0.125)
    assert sp.hermite_polynomial_h(fastnn.tensor([1.0]), 3).item() == pytest.approx(-4.0)
    assert sp.laguerre_polynomial_l(fastnn.tensor([-2.0]), 3).item() == pytest.approx(86 / 6)
    assert sp.chebyshev_polynomial_t(fastnn.tensor([0.5]), fastnn.tensor([-1])).item() == 0.0
    assert sp.legendre_polynomial_p(fastnn.tensor([1, 2]), 2).dtype == fastnn.float32
    with pytest.raises(TypeError):
        sp.legendre_polynomial_p(fastnn.tensor([0.5]), "two")


def test_erfcx_and_spherical_bessel_j0_match_torch():
    x = np.array([0.0, 1e-3, 0.04, 0.5, 3.0, 10.0, 25.9, 26.1, 30.0, 1e3, -0.5, -3.0, -10.0],
                 np.float32)
    finite = x[np.abs(x) < 20]            # (the Bessel I's overflow float32 past ~88)
    for name, xs in (("erfcx", x), ("spherical_bessel_j0", x), ("modified_bessel_i0", finite),
                     ("modified_bessel_i1", finite)):
        want = getattr(torch.special, name)(torch.from_numpy(xs)).numpy()
        with np.errstate(over="ignore"):
            got = getattr(fastnn.special, name)(fastnn.from_numpy(xs.copy())).numpy()
        np.testing.assert_allclose(got, want, rtol=3e-6, atol=1e-30)
    a = fastnn.tensor([0.0, 0.02, 0.5, 3.0, 27.0, -2.0], dtype=fastnn.float64, requires_grad=True)
    assert fastnn.gradcheck(fastnn.special.erfcx, (a,))
    assert fastnn.gradcheck(fastnn.special.spherical_bessel_j0, (a,))
    b = torch.tensor([0.5, 3.0, -2.0], dtype=torch.float64, requires_grad=True)
    torch.special.erfcx(b).sum().backward()
    c = fastnn.tensor([0.5, 3.0, -2.0], dtype=fastnn.float64, requires_grad=True)
    fastnn.special.erfcx(c).sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), b.grad.numpy(), rtol=1e-10)
