"""nn.utils.parametrize (register / remove / is_parametrized / cached,
right_inverse, state-dict layout), parametrizations.spectral_norm and the
legacy spectral_norm / remove_spectral_norm against PyTorch (same weights
and u / v: torch's state dict loaded into fastnn's module)."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn.nn.utils import parametrize as P
from fastnn.testing import requires_torch


class Sym(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class Scale(nn.Module):
    def forward(self, X):
        return X * 2.0

    def right_inverse(self, A):
        return A / 2.0


class Split(nn.Module):
    def forward(self, a, b):
        return a + b

    def right_inverse(self, X):
        return (X * 0.25, X * 0.75)


def test_register_forward_grad_and_remove():
    m = P.register_parametrization(nn.Linear(3, 3), "weight", Sym())
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, nn.Linear)
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight")
    assert not P.is_parametrized(m, "bias")
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    w = m.weight.detach().numpy()
    assert np.array_equal(w, w.T)
    m(fastnn.ones(2, 3)).sum().backward()
    g = m.parametrizations.weight.original.grad.numpy()
    assert np.allclose(np.tril(g, -1), 0) and np.allclose(np.diag(g), 2)
    assert P.type_before_parametrizations(m) is nn.Linear
    P.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and not P.is_parametrized(m)
    assert list(m.state_dict()) == ["bias", "weight"]
    assert isinstance(m.weight, nn.Parameter) and np.array_equal(m.weight.detach().numpy(), w)
    with pytest.raises(ValueError, match="does not have a parametrization"):
        P.remove_parametrizations(m, "weight")
    with pytest.raises(ValueError, match="parametrized element"):
        P.register_parametrization(m, "nope", Sym())


def test_right_inverse_setter_and_chain():
    m = nn.Linear(2, 2)
    orig = m.weight
    w0 = m.weight.detach().numpy().copy()
    P.register_parametrization(m, "weight", Scale())
    assert m.parametrizations.weight.original is orig      # same Parameter object
    np.testing.assert_allclose(m.weight.detach().numpy(), w0)
    np.testing.assert_allclose(orig.detach().numpy(), w0 / 2)
    m.weight = fastnn.ones(2, 2)
    np.testing.assert_allclose(orig.detach().numpy(), 0.5)
    P.register_parametrization(m, "weight", Scale())         # chained
    np.testing.assert_allclose(m.weight.detach().numpy(), 2.0)
    assert len(m.parametrizations.weight) == 2
    P.remove_parametrizations(m, "weight", leave_parametrized=False)
    np.testing.assert_allclose(m.weight.detach().numpy(), 0.5)
    # a parametrization that changes the shape needs unsafe=True
    with pytest.raises(ValueError, match="unsafe"):
        P.register_parametrization(nn.Linear(2, 3), "weight", _Transpose())
    m2 = P.register_parametrization(nn.Linear(2, 3), "weight", _Transpose(), unsafe=True)
    assert m2.weight.shape == (2, 3)


class _Transpose(nn.Module):
    def forward(self, X):
        return X.T


def test_tuple_right_inverse_original0_original1():
    m = nn.Linear(2, 2)
    w0 = m.weight.detach().numpy().copy()
    P.register_parametrization(m, "weight", Split())
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original0",
                                    "parametrizations.weight.original1"]
    np.testing.assert_allclose(m.weight.detach().numpy(), w0, rtol=1e-6)
    P.remove_parametrizations(m, "weight")
    np.testing.assert_allclose(m.weight.detach().numpy(), w0, rtol=1e-6)


def test_cached():
    m = P.register_parametrization(nn.Linear(3, 3), "weight", Sym())
    assert m.weight is not m.weight
    with P.cached():
        a = m.weight
        assert m.weight is a
    assert m.weight is not a


def test_parametrize_state_dict_matches_torch():
    torch = requires_torch()

    class TSym(torch.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    t = torch.nn.utils.parametrize.register_parametrization(torch.nn.Linear(3, 3), "weight",
                                                            TSym())
    f = P.register_parametrization(nn.Linear(3, 3), "weight", Sym())
    assert list(t.state_dict()) == list(f.state_dict())
    f.load_state_dict(t.state_dict())
    np.testing.assert_allclose(f.weight.detach().numpy(), t.weight.detach().numpy())


def _pairs(torch):
    return [(lambda: nn.Linear(5, 4), lambda: torch.nn.Linear(5, 4), (2, 5)),
            (lambda: nn.Conv2d(3, 6, 3), lambda: torch.nn.Conv2d(3, 6, 3), (2, 3, 6, 6)),
            (lambda: nn.ConvTranspose2d(3, 6, 3), lambda: torch.nn.ConvTranspose2d(3, 6, 3),
             (2, 3, 4, 4))]


@pytest.mark.parametrize("k", [0, 1, 2])
@pytest.mark.parametrize("n_iter", [1, 3])
def test_spectral_norm_parametrization_matches_torch(k, n_iter):
    torch = requires_torch()
    torch.manual_seed(10 * k + n_iter)   # (the weights and u: the same in every run)
    mk, tmk, xs = _pairs(torch)[k]
    t = torch.nn.utils.parametrizations.spectral_norm(tmk(), n_power_iterations=n_iter)
    f = nn.utils.parametrizations.spectral_norm(mk(), n_power_iterations=n_iter)
    assert list(t.state_dict()) == list(f.state_dict())
    f.load_state_dict(t.state_dict())                      # same weight, u and v
    x = np.random.default_rng(k).standard_normal(xs).astype(np.float32)
    for _ in range(3):                                     # training: u, v advance
        # (float32 sums in another order: outputs near zero differ by ~1e-6)
        np.testing.assert_allclose(f(fastnn.tensor(x)).detach().numpy(),
                                   t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    sd = t.state_dict()
    np.testing.assert_allclose(f.state_dict()["parametrizations.weight.0._u"].numpy(),
                               sd["parametrizations.weight.0._u"].numpy(), rtol=1e-5, atol=1e-6)
    f.eval()
    t.eval()
    np.testing.assert_allclose(f.weight.detach().numpy(), t.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    # largest singular value of the normalised weight is ~1 after many iterations
    s = np.linalg.svd(f.weight.detach().numpy().reshape(f.weight.shape[0], -1)
                      if k != 2 else f.weight.detach().numpy().transpose(1, 0, 2, 3)
                      .reshape(6, -1), compute_uv=False)
    assert abs(s[0] - 1) < 0.05


@pytest.mark.parametrize("k", [0, 1, 2])
def test_legacy_spectral_norm_matches_torch(k):
    torch = requires_torch()
    mk, tmk, xs = _pairs(torch)[k]
    t = torch.nn.utils.spectral_norm(tmk())
    f = nn.utils.spectral_norm(mk())
    assert list(t.state_dict()) == list(f.state_dict()) == [
        "bias", "weight_orig", "weight_u", "weight_v"]
    f.load_state_dict(t.state_dict())
    x = np.random.default_rng(k).standard_normal(xs).astype(np.float32)
    for _ in range(3):
        np.testing.assert_allclose(f(fastnn.tensor(x)).detach().numpy(),
                                   t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(f.weight_u.numpy(), t.weight_u.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(f.weight_v.numpy(), t.weight_v.numpy(), rtol=1e-5, atol=1e-6)
    # gradient reaches weight_orig through sigma
    f(fastnn.tensor(x)).sum().backward()
    t(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(f.weight_orig.grad.numpy(), t.weight_orig.grad.numpy(),
                               rtol=1e-4, atol=1e-5)
    nn.utils.remove_spectral_norm(f)
    torch.nn.utils.remove_spectral_norm(t)
    assert list(f.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(f.weight.detach().numpy(), t.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_spectral_norm_errors_and_gradcheck():
    m = nn.utils.spectral_norm(nn.Linear(3, 2))
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        nn.utils.spectral_norm(m)
    with pytest.raises(ValueError, match="not found"):
        nn.utils.remove_spectral_norm(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="no parameter or buffer"):
        nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2), name="nope")
    with pytest.raises(ValueError, match="n_power_iterations"):
        nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError):
        nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)
    lin = nn.Linear(3, 2).double()
    nn.utils.parametrizations.spectral_norm(lin).eval()
    x = fastnn.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    w = lin.parametrizations.weight.original
    assert fastnn.gradcheck(lambda a: lin(x) ** 2, (w,))
