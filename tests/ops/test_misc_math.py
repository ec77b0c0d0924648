"""Op tests: kron, cross/linalg.cross, diagflat, rsub, absolute, fill,
scatter_reduce(_), index_put, sum_to_size, Tensor.new and the in-place
methods (squeeze_, unsqueeze_, t_, transpose_, swapaxes_, cumprod_,
floor_divide_, addmm_, addmv_) against PyTorch, with gradients."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch


def _grads_match(ffn, tfn, *arrays, atol=1e-12):
    torch = requires_torch()
    fa = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    ta = [torch.tensor(a, requires_grad=True) for a in arrays]
    r, s = ffn(*fa), tfn(*ta)
    np.testing.assert_allclose(r.detach().numpy(), s.detach().numpy(), atol=atol)
    assert tuple(r.shape) == tuple(s.shape)
    g = np.random.default_rng(9).standard_normal(tuple(s.shape))
    r.backward(fastnn.tensor(g))
    s.backward(torch.tensor(g))
    for a, b in zip(fa, ta):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol)


def test_kron_cross_diagflat():
    torch = requires_torch()
    rng = np.random.default_rng(0)
    for sa, sb in (((2, 3), (3, 1, 2)), ((4,), (2,)), ((2, 2), (2, 2))):
        _grads_match(fastnn.kron, torch.kron, rng.standard_normal(sa), rng.standard_normal(sb))
    a, b = rng.standard_normal((4, 3, 2)), rng.standard_normal((1, 3, 2))
    _grads_match(lambda x, y: fastnn.cross(x, y, dim=1), lambda x, y: torch.cross(x, y, dim=1),
                 a, b)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    _grads_match(fastnn.linalg.cross, torch.linalg.cross, a, b)
    _grads_match(lambda x, y: x.cross(y, -1), lambda x, y: x.cross(y, -1), a, b)
    with pytest.warns(UserWarning):
        r = fastnn.cross(fastnn.tensor(a), fastnn.tensor(b))
    np.testing.assert_allclose(r.numpy(), np.cross(a, b))
    with pytest.raises(RuntimeError):
        fastnn.linalg.cross(fastnn.randn(4, 2), fastnn.randn(4, 2))
    m = rng.standard_normal((2, 2))
    for off in (0, 1, -2):
        _grads_match(lambda x: fastnn.diagflat(x, off), lambda x: torch.diagflat(x, off), m)
    _grads_match(lambda x: x.diagflat(), lambda x: x.diagflat(), m)


def test_rsub_absolute_fill_sum_to_size_new():
    torch = requires_torch()
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    _grads_match(lambda a, b: fastnn.rsub(a, b, alpha=2), lambda a, b: torch.rsub(a, b, alpha=2),
                 x, y)
    np.testing.assert_allclose(fastnn.rsub(fastnn.tensor(x), 3).numpy(),
                               torch.rsub(torch.tensor(x), 3).numpy())
    _grads_match(fastnn.absolute, torch.absolute, x)
    r = fastnn.fill(fastnn.tensor(x), 2.5)
    np.testing.assert_array_equal(r.numpy(), torch.fill(torch.tensor(x), 2.5).numpy())
    for size in ((1, 4), (4,), (3, 1), (3, 4), (1, 1)):
        _grads_match(lambda a: a.sum_to_size(*size), lambda a: a.sum_to_size(*size), x)
    assert fastnn.tensor(x).sum_to_size((4,)).shape == (4,)
    with pytest.raises(RuntimeError):
        fastnn.tensor(x).sum_to_size(2, 1, 4)
    t = fastnn.tensor(x)
    assert t.new().shape == (0,) and t.new(2, 3).shape == (2, 3)
    assert t.new([1, 2]).dtype == t.dtype and t.new([1, 2]).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_torch(reduce, include_self):
    torch = requires_torch()
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = np.round(rng.standard_normal((4, 5))) + 0.5       # ties for amax/amin
        src = np.round(rng.standard_normal((3, 5))) + 0.5
        idx = rng.integers(0, 4, (3, 5))
        idx[:, 0] = 1
        for dim in (0, -2):
            _grads_match(
                lambda a, s: fastnn.scatter_reduce(a, dim, fastnn.tensor(idx), s, reduce,
                                                   include_self=include_self),
                lambda a, s: torch.scatter_reduce(a, dim, torch.tensor(idx), s, reduce,
                                                  include_self=include_self), x, src)
    xi = rng.integers(0, 9, (4, 5))
    si = rng.integers(0, 9, (3, 5))
    r = fastnn.tensor(xi).scatter_reduce(0, fastnn.tensor(idx), fastnn.tensor(si), reduce,
                                         include_self=include_self)
    s = torch.tensor(xi).scatter_reduce(0, torch.tensor(idx), torch.tensor(si), reduce,
                                        include_self=include_self)
    np.testing.assert_array_equal(r.numpy(), s.numpy())
    y = fastnn.tensor(x)
    y.scatter_reduce_(0, fastnn.tensor(idx), fastnn.tensor(src), reduce,
                      include_self=include_self)
    np.testing.assert_allclose(y.numpy(), torch.tensor(x).scatter_reduce_(
        0, torch.tensor(idx), torch.tensor(src), reduce, include_self=include_self).numpy())


def test_scatter_reduce_gradcheck_and_errors():
    rng = np.random.default_rng(3)
    x = fastnn.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    s = fastnn.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    idx = fastnn.tensor(rng.integers(0, 4, (5, 3)))
    for reduce in ("sum", "mean", "amax", "amin", "prod"):
        assert fastnn.gradcheck(lambda a, b: fastnn.scatter_reduce(a, 0, idx, b, reduce), [x, s])
    with pytest.raises(RuntimeError):
        fastnn.scatter_reduce(x, 0, idx, s, "max")
    with pytest.raises(RuntimeError):
        fastnn.scatter_reduce(x, 0, fastnn.tensor([[9, 0, 0]]), s, "sum")
    with pytest.raises(RuntimeError):
        fastnn.scatter_reduce(x, 0, idx, s.float(), "sum")
    z = fastnn.tensor([0.0, 2.0], requires_grad=True)
    out = fastnn.scatter_reduce(z, 0, fastnn.tensor([0]), fastnn.tensor([3.0]), "prod")
    with pytest.raises(NotImplementedError):
        out.sum().backward()


def test_index_put_functions():
    torch = requires_torch()
    x = np.zeros((3, 4))
    i = (np.array([0, 2, 0]), np.array([1, 3, 1]))
    v = np.array([1.0, 2.0, 3.0])
    for acc in (False, True):
        r = fastnn.index_put(fastnn.tensor(x), tuple(fastnn.tensor(a) for a in i),
                             fastnn.tensor(v), acc)
        s = torch.index_put(torch.tensor(x), tuple(torch.tensor(a) for a in i),
                            torch.tensor(v), acc)
        np.testing.assert_allclose(r.numpy(), s.numpy())
    t = fastnn.tensor(x)
    fastnn.index_put_(t, tuple(fastnn.tensor(a) for a in i), fastnn.tensor(v), True)
    assert t[0, 1].item() == 4.0


def test_inplace_shape_and_math_methods():
    torch = requires_torch()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 1, 3))
    for name, args in (("squeeze_", ()), ("squeeze_", (1,)), ("unsqueeze_", (-1,)),
                       ("transpose_", (0, 2)), ("swapaxes_", (0, 1)), ("swapdims_", (2, 1))):
        a, b = fastnn.tensor(x), torch.tensor(x)
        ra, rb = getattr(a, name)(*args), getattr(b, name)(*args)
        assert ra is a and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    m = fastnn.tensor(rng.standard_normal((2, 3)))
    m.t_()
    assert m.shape == (3, 2)
    w = fastnn.tensor(rng.standard_normal(3), requires_grad=True)
    with pytest.raises(RuntimeError):
        w.unsqueeze_(0)
    h = w * 2.0
    h.unsqueeze_(0)
    h.t_()
    assert h.shape == (3, 1)
    (h * fastnn.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0, 6.0])
    # cumprod_, floor_divide_, addmm_, addmv_ against torch (values and gradients)
    y = rng.uniform(0.5, 2, (3, 4))
    _grads_match(lambda a: (a * 1.0).cumprod_(1), lambda a: (a * 1.0).cumprod_(1), y)
    np.testing.assert_array_equal(fastnn.tensor([5.0, -7.0]).floor_divide_(2).numpy(),
                                  torch.tensor([5.0, -7.0]).floor_divide_(2).numpy())
    c, m1, m2 = rng.standard_normal((3, 2)), rng.standard_normal((3, 4)), \
        rng.standard_normal((4, 2))
    _grads_match(lambda a, p, q: (a * 1.0).addmm_(p, q, beta=0.5, alpha=2.0),
                 lambda a, p, q: (a * 1.0).addmm_(p, q, beta=0.5, alpha=2.0), c, m1, m2)
    _grads_match(lambda a, p, q: (a * 1.0).addmv_(p, q, alpha=3.0),
                 lambda a, p, q: (a * 1.0).addmv_(p, q, alpha=3.0), c[:, 0], m1, m2[:, 0])
    np.testing.assert_array_equal(fastnn.tensor([1, 1, 3]).bincount().numpy(), [0, 2, 0, 1])
