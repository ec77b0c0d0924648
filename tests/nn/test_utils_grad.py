"""nn.utils additions against PyTorch: get_total_norm, clip_grads_with_norm_,
clip_grad_norm_ returning a Tensor (Tensor or ndarray gradients),
parameters_to_vector / vector_to_parameters round trips."""
import math

import numpy as np
import pytest

import fastnn
from fastnn.nn import utils as U
from fastnn.testing import requires_torch


def _params(torch=None, dtype=np.float64):
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,), (2, 2, 3)]
    ws = [rng.standard_normal(s).astype(dtype) for s in shapes]
    gs = [rng.standard_normal(s).astype(dtype) * 3 for s in shapes]
    if torch is None:
        ps = [fastnn.nn.Parameter(w.copy()) for w in ws]
        for p, g in zip(ps, gs):
            p.grad = fastnn.tensor(g.copy())
    else:
        ps = [torch.nn.Parameter(torch.tensor(w.copy())) for w in ws]
        for p, g in zip(ps, gs):
            p.grad = torch.tensor(g.copy())
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_total_norm_and_clip_equal_torch(norm_type, dtype):
    torch = requires_torch()
    ps, tps = _params(dtype=dtype), _params(torch, dtype)
    tol = dict(rtol=1e-12) if dtype == np.float64 else dict(rtol=1e-5)
    tn = U.get_total_norm([p.grad for p in ps], norm_type)
    ttn = torch.nn.utils.get_total_norm([p.grad for p in tps], norm_type)
    assert isinstance(tn, fastnn.Tensor) and tn.dtype == dtype
    np.testing.assert_allclose(float(tn), float(ttn), **tol)
    U.clip_grads_with_norm_(ps, 1.5, tn)
    torch.nn.utils.clip_grads_with_norm_(tps, 1.5, ttn)
    for p, q in zip(ps, tps):
        np.testing.assert_allclose(np.asarray(p.grad), q.grad.numpy(), **tol)
    ps, tps = _params(dtype=dtype), _params(torch, dtype)
    t1 = U.clip_grad_norm_(ps, 0.3, norm_type, foreach=True)
    t2 = torch.nn.utils.clip_grad_norm_(tps, 0.3, norm_type)
    np.testing.assert_allclose(float(t1), float(t2), **tol)
    for p, q in zip(ps, tps):
        np.testing.assert_allclose(np.asarray(p.grad), q.grad.numpy(), **tol)


def test_nonfinite_and_empty():
    ps = _params()
    ps[0].grad = fastnn.tensor(np.full((3, 4), np.inf))
    with pytest.raises(RuntimeError, match="non-finite"):
        U.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert float(U.get_total_norm([])) == 0.0
    assert float(U.clip_grad_norm_([fastnn.nn.Parameter(np.ones(2))], 1.0)) == 0.0
    with pytest.raises(ValueError, match="norm_type"):
        U.get_total_norm([np.ones(2)], "two")


def test_vector_round_trip_equals_torch():
    torch = requires_torch()
    m, tm = fastnn.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(m.weight.detach().numpy()))
        tm.bias.copy_(torch.tensor(m.bias.detach().numpy()))
    v = U.parameters_to_vector(m.parameters())
    tv = torch.nn.utils.parameters_to_vector(tm.parameters())
    assert v.requires_grad == tv.requires_grad
    np.testing.assert_array_equal(v.detach().numpy(), tv.detach().numpy())
    new = np.arange(8, dtype=np.float32)
    U.vector_to_parameters(fastnn.tensor(new), m.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), tm.parameters())
    np.testing.assert_array_equal(m.weight.detach().numpy(), tm.weight.detach().numpy())
    np.testing.assert_array_equal(m.bias.detach().numpy(), tm.bias.detach().numpy())
    with pytest.raises(ValueError, match="elements"):
        U.vector_to_parameters(fastnn.zeros(7), m.parameters())


def test_clip_grad_value_with_tensor_grads():
    torch = requires_torch()
    ps, tps = _params(), _params(torch)
    U.clip_grad_value_(ps, 0.7)
    torch.nn.utils.clip_grad_value_(tps, 0.7)
    for p, q in zip(ps, tps):
        np.testing.assert_array_equal(np.asarray(p.grad), q.grad.numpy())


def test_clip_grad_norm_infinite_grad_silent_as_torch():
    """An infinite gradient: total norm inf, the gradients scaled by 0 (the
    inf entry NaN) as PyTorch, without a NumPy RuntimeWarning (a program run
    with -W error must not fail where PyTorch's does not)."""
    import warnings
    torch = pytest.importorskip("torch")
    g = np.array([np.inf, 1.0, -2.0])
    tp = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    tp.grad = torch.tensor(g)
    tn = torch.nn.utils.clip_grad_norm_([tp], 1.0)
    fp = fastnn.nn.Parameter(fastnn.ones(3, dtype=fastnn.float64))
    fp.grad = fastnn.tensor(g)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn = U.clip_grad_norm_([fp], 1.0)
    assert float(fn) == float(tn) == math.inf
    np.testing.assert_array_equal(fp.grad.numpy(), tp.grad.numpy())
