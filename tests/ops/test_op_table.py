"""The op table: every basic Tensor op's forward against NumPy, its
backward by gradcheck (float64, random upstream gradient), float32 agreement,
broadcasting, non-contiguous inputs, thread-count invariance and PyTorch
parity where torch is importable."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

rng0 = np.random.default_rng(0)


def pos(shape):
    return rng0.uniform(0.5, 2.0, shape)


def anyv(shape):
    return rng0.standard_normal(shape)


# name: (fastnn fn, numpy fn, torch fn, input makers)
OPS = {
    "add": (lambda a, b: a + b, np.add, lambda a, b: a + b, [anyv, anyv]),
    "sub": (lambda a, b: a - b, np.subtract, lambda a, b: a - b, [anyv, anyv]),
    "mul": (lambda a, b: a * b, np.multiply, lambda a, b: a * b, [anyv, anyv]),
    "div": (lambda a, b: a / b, np.divide, lambda a, b: a / b, [anyv, pos]),
    "pow": (lambda a, b: a ** b, np.power, lambda a, b: a ** b, [pos, anyv]),
    "neg": (lambda a: -a, np.negative, lambda a: -a, [anyv]),
    "exp": (lambda a: a.exp(), np.exp, lambda a: a.exp(), [anyv]),
    "log": (lambda a: a.log(), np.log, lambda a: a.log(), [pos]),
    "abs": (lambda a: a.abs(), np.abs, lambda a: a.abs(), [anyv]),
    "sqrt": (lambda a: a.sqrt(), np.sqrt, lambda a: a.sqrt(), [pos]),
    "relu": (lambda a: a.relu(), lambda a: np.maximum(a, 0), lambda a: a.relu(), [anyv]),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), lambda a: a.sigmoid(), [anyv]),
    "tanh": (lambda a: a.tanh(), np.tanh, lambda a: a.tanh(), [anyv]),
    "sum": (lambda a: a.sum(), np.sum, lambda a: a.sum(), [anyv]),
    "sum_dim": (lambda a: a.sum(dim=1), lambda a: a.sum(axis=1), lambda a: a.sum(dim=1), [anyv]),
    "sum_keep": (lambda a: a.sum(dim=-1, keepdim=True), lambda a: a.sum(-1, keepdims=True),
                 lambda a: a.sum(dim=-1, keepdim=True), [anyv]),
    "mean": (lambda a: a.mean(), np.mean, lambda a: a.mean(), [anyv]),
    "mean_dim": (lambda a: a.mean(dim=0), lambda a: a.mean(axis=0), lambda a: a.mean(dim=0), [anyv]),
    "max": (lambda a: a.max(), np.max, lambda a: a.max(), [anyv]),
    "max_dim": (lambda a: a.max(dim=1)[0], lambda a: a.max(axis=1), lambda a: a.max(dim=1)[0], [anyv]),
    "min_dim": (lambda a: a.min(dim=0).values, lambda a: a.min(axis=0),
                lambda a: a.min(dim=0).values, [anyv]),
    "matmul": (lambda a, b: a @ b, np.matmul, lambda a, b: a @ b, [anyv, anyv]),
    "transpose": (lambda a: a.transpose(0, 1), lambda a: a.swapaxes(0, 1),
                  lambda a: a.transpose(0, 1), [anyv]),
    "T": (lambda a: a.T, lambda a: a.T, lambda a: a.T, [anyv]),
    "reshape": (lambda a: a.reshape(-1), lambda a: a.reshape(-1), lambda a: a.reshape(-1), [anyv]),
    "flatten": (lambda a: a.flatten(), lambda a: a.reshape(-1), lambda a: a.flatten(), [anyv]),
    "getitem": (lambda a: a[1:, ::2], lambda a: a[1:, ::2], lambda a: a[1:, ::2], [anyv]),
}

SHAPES = {"matmul": [(4, 3), (3, 5)]}
DEFAULT_SHAPE = (4, 5)


def _inputs(name, dtype=np.float64, seed=0):
    global rng0
    rng0 = np.random.default_rng(seed)
    makers = OPS[name][3]
    shapes = SHAPES.get(name, [DEFAULT_SHAPE] * len(makers))
    return [m(s).astype(dtype) for m, s in zip(makers, shapes)]


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy(name, dtype):
    fn, ref = OPS[name][0], OPS[name][1]
    arrs = _inputs(name, dtype)
    out = fn(*[fastnn.tensor(a) for a in arrs])
    expect = ref(*[a.astype(np.float64) for a in arrs])
    assert out.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.numpy(), expect, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_random_upstream(name):
    fn = OPS[name][0]
    xs = [fastnn.tensor(a, requires_grad=True) for a in _inputs(name)]
    out_shape = fn(*xs).shape
    up = fastnn.tensor(np.random.default_rng(5).standard_normal(out_shape))
    assert fastnn.gradcheck(lambda *t: (fn(*t) * up).sum(), xs)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow"])
@pytest.mark.parametrize("sa,sb", [((4, 5), (5,)), ((4, 1), (1, 5)), ((3, 4, 5), (4, 1)),
                                   ((5,), (2, 3, 5)), ((4, 5), ())])
def test_broadcast_gradients_reduce_to_input_shape(name, sa, sb):
    fn, ref = OPS[name][0], OPS[name][1]
    r = np.random.default_rng(1)
    a = fastnn.tensor(r.uniform(0.5, 2, sa), requires_grad=True)
    b = fastnn.tensor(r.uniform(0.5, 2, sb), requires_grad=True)
    out = fn(a, b)
    np.testing.assert_allclose(out.detach().numpy(), ref(a.detach().numpy(), b.detach().numpy()), rtol=1e-12)
    up = fastnn.tensor(r.standard_normal(out.shape))
    assert fastnn.gradcheck(lambda x, y: (fn(x, y) * up).sum(), [a, b])
    assert a.grad is None or a.grad.shape == sa


def test_scalar_operands_both_sides():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = (2 * x + 1 - x / 4) ** 2 + 3 / x - (1 - x)
    y.sum().backward()
    xd = np.array([1.0, 2.0])
    expect = 2 * (1.75 * xd + 1) * 1.75 - 3 / xd ** 2 + 1
    np.testing.assert_allclose(x.grad, expect, rtol=1e-6)


def test_non_contiguous_inputs():
    base = np.random.default_rng(2).standard_normal((6, 8))
    a = fastnn.tensor(base.T)          # F-ordered copy of a transpose
    v = fastnn.from_numpy(base)[:, ::2]  # strided view
    assert not v.detach().numpy().flags.c_contiguous
    np.testing.assert_allclose(v.relu().numpy(), np.maximum(base[:, ::2], 0))
    np.testing.assert_allclose((a.T @ a).numpy(), base @ base.T, rtol=1e-12)
    t = fastnn.from_numpy(base).T      # transposed view goes to gemm as a flag
    np.testing.assert_allclose((t @ fastnn.from_numpy(base)).numpy(), base.T @ base, rtol=1e-12)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "add", "mul", "sum", "matmul"])
def test_thread_count_invariance(name):
    fn = OPS[name][0]
    r = np.random.default_rng(3)
    shape = (300, 300)
    arrs = [r.standard_normal(shape).astype(np.float32) for _ in OPS[name][3]]
    res = []
    for n in (1, 2, 2):
        fastnn.set_num_threads(n)
        xs = [fastnn.tensor(a, requires_grad=True) for a in arrs]
        out = fn(*xs)
        out.backward(np.ones(out.shape, np.float32))
        res.append((out.detach().numpy(), [x.grad for x in xs]))
    (o1, g1), (o2, g2), (o3, g3) = res
    assert np.array_equal(o2, o3) and all(np.array_equal(p, q) for p, q in zip(g2, g3))
    np.testing.assert_allclose(o1, o2, rtol=1e-5, atol=1e-3)
    for p, q in zip(g1, g2):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", sorted(OPS))
def test_torch_parity(name):
    torch = requires_torch()
    fn, tfn = OPS[name][0], OPS[name][2]
    arrs = _inputs(name, np.float32, seed=4)
    xs = [fastnn.tensor(a, requires_grad=True) for a in arrs]
    ts = [torch.tensor(a, requires_grad=True) for a in arrs]
    out, tout = fn(*xs), tfn(*ts)
    np.testing.assert_allclose(out.numpy() if not out.requires_grad else out.detach().numpy(),
                               tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    up = np.random.default_rng(6).standard_normal(out.shape).astype(np.float32)
    out.backward(up)
    tout.backward(torch.tensor(up))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_comparisons_give_bool_without_grad():
    x = fastnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    assert (x == x).numpy().all() and not (x != x).numpy().any()
    assert ((x <= 2) & 1).tolist() if False else (x <= 2).tolist() == [True, True, False]


def test_cat_stack_and_views_backward():
    a = fastnn.tensor(np.arange(6.0).reshape(2, 3), dtype="float64", requires_grad=True)
    b = fastnn.tensor(np.ones((1, 3)), dtype="float64", requires_grad=True)
    assert fastnn.gradcheck(lambda x, y: (fastnn.cat([x, y], 0) ** 2).sum(), [a, b])
    assert fastnn.gradcheck(lambda x: (fastnn.stack([x, x * 2], dim=1) ** 2).sum(), [a])
    assert fastnn.gradcheck(lambda x: (x.unsqueeze(0).permute(2, 0, 1).squeeze(1) ** 3).sum(), [a])
    assert fastnn.cat([a, b]).shape == (3, 3) and fastnn.stack([a, a]).shape == (2, 2, 3)


def test_everyday_methods():
    x = fastnn.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert x.size() == (2, 3) and x.size(1) == 3 and x.numel() == 6
    assert x.argmax(dim=1).tolist() == [1, 0] and x.argmax().item() == 3
    assert x.view(3, 2).shape == (3, 2) and x.view(-1).shape == (6,)
    assert x.long().dtype == np.int64 and x.double().dtype == np.float64
    c = x.clone()
    c.data[0, 0] = 9
    assert x.detach().numpy()[0, 0] == 1
    y = fastnn.zeros(2).requires_grad_()
    assert y.requires_grad
    assert fastnn.tensor([1, 2]).dtype == np.int64
    assert fastnn.tensor([1.5]).dtype == np.float32
    assert fastnn.tensor(np.ones(2)).dtype == np.float64
    assert fastnn.Tensor(np.ones(2, np.float16)).dtype == np.float32
