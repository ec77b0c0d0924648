"""fastnn.nn.utils: gradient clipping, the max-norm constraint, and
parameters <-> vector; against the NumPy reference and PyTorch."""
import math

import numpy as np
import pytest

import fastnn
from fastnn.nn import utils as U
from fastnn.testing import reference as R


def _params(dtype=np.float64, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    ps = [fastnn.nn.Parameter(rng.standard_normal(s).astype(dtype)) for s in [(4, 3), (4,), (2, 4)]]
    for p in ps:
        p.grad = (rng.standard_normal(p.shape) * scale).astype(dtype)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_reference(norm_type, max_norm):
    ps = _params()
    grads = [p.grad.numpy().copy() for p in ps]
    total = U.clip_grad_norm_(ps, max_norm, norm_type)
    nt = float(norm_type)
    want, want_total = R.clip_grad_norm(grads, max_norm, nt)
    assert float(total) == pytest.approx(want_total, rel=1e-12)
    for p, w in zip(ps, want):
        np.testing.assert_allclose(p.grad, w, rtol=1e-12)
    if max_norm < want_total:
        assert float(U.clip_grad_norm_(ps, max_norm * 2, nt)) == pytest.approx(max_norm, rel=1e-5)


def test_clip_grad_norm_float32_in_place_and_edge_cases():
    ps = _params(np.float32)
    g0 = ps[0].grad
    total = U.clip_grad_norm_(ps, 1.0)
    assert ps[0].grad is g0 and g0.dtype == np.float32
    assert isinstance(total, fastnn.Tensor) and total.dtype == np.float32
    assert float(total) > 1.0
    # a parameter with no gradient is ignored; none at all gives 0
    q = fastnn.nn.Parameter(np.ones(2))
    assert float(U.clip_grad_norm_([q], 1.0)) == 0.0
    single = _params()[0]
    assert float(U.clip_grad_norm_(single, 1e9)) == pytest.approx(np.linalg.norm(single.grad))
    bad = _params()
    bad[0].grad[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        U.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_equals_torch(norm_type):
    torch = fastnn.testing.requires_torch()
    ps = _params()
    tps = [torch.nn.Parameter(torch.from_numpy(p.detach().numpy().copy())) for p in ps]
    for p, t in zip(ps, tps):
        t.grad = torch.from_numpy(p.grad.numpy().copy())
    total = U.clip_grad_norm_(ps, 0.7, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, 0.7, norm_type)
    assert float(total) == pytest.approx(float(ttotal), rel=1e-12)
    for p, t in zip(ps, tps):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_value():
    ps = _params()
    want = [np.clip(p.grad, -0.5, 0.5) for p in ps]
    U.clip_grad_value_(ps, 0.5)
    for p, w in zip(ps, want):
        np.testing.assert_array_equal(p.grad, w)
    # a negative clip_value clamps with min > max: every gradient becomes it
    # (PyTorch's clamp(min=-v, max=v); this raised ValueError)
    U.clip_grad_value_(ps, -1.0)
    for p in ps:
        assert np.all(np.asarray(p.grad) == -1.0)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_norm_is_renorm(dim, dtype):
    rng = np.random.default_rng(5)
    shape = (6, 4, 3)
    scale = np.array([0.05, 1.0, 3.0, 0.1, 2.0, 0.02][:shape[dim]])
    bshape = [1, 1, 1]
    bshape[dim] = shape[dim]
    w = fastnn.nn.Parameter((rng.standard_normal(shape) * scale.reshape(bshape)).astype(dtype))
    arr = w.detach().numpy()
    before = arr.copy()
    U.max_norm_([w], 1.0, dim=dim)
    assert w.detach().numpy() is arr and arr.dtype == dtype
    tol = dict(rtol=1e-6) if dtype == np.float32 else dict(rtol=1e-13)
    np.testing.assert_allclose(arr, R.renorm(before, 1.0, dim), **tol)
    axes = tuple(i for i in range(3) if i != dim % 3)
    norms = np.sqrt((arr.astype(np.float64) ** 2).sum(axis=axes))
    assert np.all(norms <= 1.0 + 1e-6)
    small = np.sqrt((before.astype(np.float64) ** 2).sum(axis=axes)) <= 1.0
    assert small.any() and (~small).any()   # the case has slices on both sides
    np.testing.assert_array_equal(np.compress(small, arr, axis=dim % 3),
                                  np.compress(small, before, axis=dim % 3))


def test_max_norm_equals_torch_renorm():
    torch = fastnn.testing.requires_torch()
    rng = np.random.default_rng(2)
    a = rng.standard_normal((5, 7)) * 2
    w = fastnn.nn.Parameter(a.copy())
    U.max_norm_(w, 2.0, dim=0)
    np.testing.assert_allclose(w.detach().numpy(), torch.renorm(torch.from_numpy(a), 2, 0, 2.0).numpy(),
                               rtol=1e-12)


def test_max_norm_errors():
    with pytest.raises(ValueError, match="max_norm"):
        U.max_norm_([fastnn.nn.Parameter(np.ones(2))], -1.0)
    with pytest.raises(IndexError, match="dim"):
        U.max_norm_([fastnn.nn.Parameter(np.ones((2, 2)))], 1.0, dim=2)


def test_parameters_to_vector_round_trip():
    m = fastnn.nn.Linear(3, 2)
    ps = list(m.parameters())
    v = U.parameters_to_vector(ps)
    assert v.shape == (8,)
    w = m.weight.detach().numpy()
    U.vector_to_parameters(v * 2, ps)
    assert m.weight.detach().numpy() is w
    np.testing.assert_allclose(U.parameters_to_vector(ps).detach().numpy(), v.detach().numpy() * 2)
    with pytest.raises(ValueError, match="elements"):
        U.vector_to_parameters(np.zeros(7), ps)
