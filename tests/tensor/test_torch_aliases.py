"""Thin torch.* names and Tensor methods added for ``import fastnn as torch``
programs: new pointwise ops (forward vs NumPy/torch, gradcheck), diag_embed,
broadcast_shapes, isin, windows, functional aliases, in-place forms."""
import math

import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

X = np.array([-0.9, -0.5, -0.1, 0.2, 0.6, 0.95])
# name: (input values, NumPy reference)
UNARY = {
    "asinh": (X * 3, np.arcsinh), "arcsinh": (X * 3, np.arcsinh),
    "acosh": (np.abs(X) * 3 + 1.2, np.arccosh), "arccosh": (np.abs(X) * 3 + 1.2, np.arccosh),
    "atanh": (X, np.arctanh), "arctanh": (X, np.arctanh),
    "exp2": (X * 4, np.exp2),
    "erfinv": (X, None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_and_gradcheck(name):
    x, ref = UNARY[name]
    y = getattr(fastnn, name)(fastnn.tensor(x))
    m = getattr(fastnn.tensor(x), name)()
    np.testing.assert_array_equal(y.numpy(), m.numpy())
    if ref is not None:
        np.testing.assert_allclose(y.numpy(), ref(x), rtol=1e-13)
    else:                           # erfinv: erf(erfinv(x)) == x
        np.testing.assert_allclose([math.erf(v) for v in y.numpy()], x, rtol=1e-13)
    t = fastnn.tensor(x, requires_grad=True)
    w = fastnn.tensor(np.linspace(-1, 2, x.size))
    assert fastnn.gradcheck(lambda a: getattr(fastnn, name)(a) * w, [t])
    assert getattr(fastnn, name)(fastnn.tensor(x.astype(np.float32))).dtype == np.float32


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch_and_inplace(name):
    torch = requires_torch()
    x, _ = UNARY[name]
    y = getattr(fastnn, name)(fastnn.tensor(x)).numpy()
    np.testing.assert_allclose(y, getattr(torch, name)(torch.tensor(x)).numpy(), rtol=1e-12)
    t = fastnn.tensor(x.copy())
    assert getattr(t, name + "_")() is t
    np.testing.assert_allclose(t.numpy(), y, rtol=1e-15)


def test_atan2(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    y = fastnn.atan2(fastnn.tensor(a), fastnn.tensor(b))
    np.testing.assert_allclose(y.numpy(), np.arctan2(a, b), rtol=1e-15)
    np.testing.assert_array_equal(fastnn.arctan2(fastnn.tensor(a), fastnn.tensor(b)).numpy(),
                                  fastnn.tensor(a).atan2(fastnn.tensor(b)).numpy())
    ta, tb = fastnn.tensor(a, requires_grad=True), fastnn.tensor(b, requires_grad=True)
    w = fastnn.tensor(rng.standard_normal((3, 4)))
    assert fastnn.gradcheck(lambda p, q: fastnn.atan2(p, q) * w, [ta, tb])
    t = fastnn.tensor(a.copy())
    t.atan2_(fastnn.tensor(b))
    np.testing.assert_allclose(t.numpy(), np.arctan2(a, b), rtol=1e-15)


@pytest.mark.parametrize("shape, offset, d1, d2", [
    ((4,), 0, -2, -1), ((2, 3), 1, -2, -1), ((2, 3), -2, 0, 2), ((2, 3, 2), 0, 1, 0)])
def test_diag_embed(shape, offset, d1, d2, rng):
    torch = requires_torch()
    x = rng.standard_normal(shape)
    y = fastnn.diag_embed(fastnn.tensor(x), offset, d1, d2)
    ty = torch.diag_embed(torch.tensor(x), offset, d1, d2)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    t = fastnn.tensor(x, requires_grad=True)
    w = fastnn.tensor(rng.standard_normal(tuple(ty.shape)))
    assert fastnn.gradcheck(lambda a: a.diag_embed(offset, d1, d2) * w, [t])


def test_diag_still_works():
    np.testing.assert_array_equal(fastnn.diag(fastnn.tensor([1.0, 2.0]), 1).numpy(),
                                  np.diag([1.0, 2.0], 1))


def test_broadcast_shapes_isin_windows():
    torch = requires_torch()
    assert fastnn.broadcast_shapes((2, 1), (3,), 1) == torch.broadcast_shapes((2, 1), (3,), 1)
    with pytest.raises(RuntimeError):
        fastnn.broadcast_shapes((2,), (3,))
    a, b = np.array([[1, 2], [3, 4]]), np.array([2, 3, 7])
    for inv in (False, True):
        np.testing.assert_array_equal(
            fastnn.isin(fastnn.tensor(a), fastnn.tensor(b), invert=inv).numpy(),
            torch.isin(torch.tensor(a), torch.tensor(b), invert=inv).numpy())
    assert fastnn.tensor(a).isin(fastnn.tensor(b)).dtype == np.bool_
    for name in ("hann_window", "hamming_window", "blackman_window", "bartlett_window"):
        for n in (0, 1, 2, 5, 8):
            for periodic in (True, False):
                ours = getattr(fastnn, name)(n, periodic, dtype=fastnn.float64)
                theirs = getattr(torch, name)(n, periodic, dtype=torch.float64)
                np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-15)
        assert getattr(fastnn, name)(4).dtype == np.float32


def test_tensor_method_aliases(rng):
    x = fastnn.tensor(rng.standard_normal((2, 3)))
    for a, b in [("greater", "gt"), ("greater_equal", "ge"), ("less", "lt"),
                 ("less_equal", "le"), ("not_equal", "ne")]:
        np.testing.assert_array_equal(getattr(x, a)(0.1).numpy(), getattr(x, b)(0.1).numpy())
    assert x.ndimension() == 2
    assert x.broadcast_to((4, 2, 3)).shape == (4, 2, 3)


CMP_INPLACE = ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_",
               "less_equal_", "not_equal_"]


@pytest.mark.parametrize("name", CMP_INPLACE)
def test_comparison_inplace_matches_torch(name):
    torch = requires_torch()
    a = np.array([[0.0, 1.0, 2.0], [3.0, 1.0, -1.0]])
    t, p = fastnn.tensor(a.copy()), torch.tensor(a.copy())
    assert getattr(t, name)(1.0) is t
    getattr(p, name)(1.0)
    np.testing.assert_array_equal(t.numpy(), p.numpy())
    assert t.dtype == np.float64


def test_logical_bitwise_inplace_match_torch():
    torch = requires_torch()
    a, b = np.array([0.0, 1.0, 2.0, 0.0]), np.array([1.0, 0.0, 3.0, 0.0])
    for name in ("logical_and_", "logical_or_", "logical_xor_"):
        t, p = fastnn.tensor(a.copy()), torch.tensor(a.copy())
        getattr(t, name)(fastnn.tensor(b))
        getattr(p, name)(torch.tensor(b))
        np.testing.assert_array_equal(t.numpy(), p.numpy())
    i, j = np.array([1, 6, 3], np.int64), np.array([3, 5, 1], np.int64)
    for name in ("bitwise_and_", "bitwise_or_", "bitwise_xor_"):
        t, p = fastnn.tensor(i.copy()), torch.tensor(i.copy())
        getattr(t, name)(fastnn.tensor(j))
        getattr(p, name)(torch.tensor(j))
        np.testing.assert_array_equal(t.numpy(), p.numpy())
    t = fastnn.tensor(i.copy())
    t.bitwise_not_()
    np.testing.assert_array_equal(t.numpy(), ~i)


INPLACE_TOP = ["abs_", "acos_", "asin_", "atan_", "asinh_", "atanh_", "ceil_", "cos_", "cosh_",
               "erf_", "erfc_", "exp_", "exp2_", "expm1_", "floor_", "frac_", "log10_", "log1p_",
               "neg_", "negative_", "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_",
               "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "fix_", "zero_"]


@pytest.mark.parametrize("name", INPLACE_TOP)
def test_toplevel_inplace_matches_torch(name):
    torch = requires_torch()
    a = np.array([0.1, 0.4, 0.7])
    t, p = fastnn.tensor(a.copy()), torch.tensor(a.copy())
    assert getattr(fastnn, name)(t) is t
    getattr(torch, name)(p)
    np.testing.assert_allclose(t.numpy(), p.numpy(), rtol=1e-14)


def test_inplace_unary_under_autograd(rng):
    x = fastnn.tensor(rng.uniform(-0.8, 0.8, 5), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal(5))
    for name in ("asin_", "atanh_", "tan_", "log2_", "sinh_"):
        def f(a, name=name):
            b = a * 1.0 + (1.0 if name == "log2_" else 0.0)
            getattr(b, name)()
            return b * w
        assert fastnn.gradcheck(f, [x])


def test_functional_aliases_match_torch(rng):
    torch = requires_torch()
    x = rng.standard_normal((2, 3, 6, 6))
    w = rng.standard_normal((4, 3, 3, 3))
    fx, tx = fastnn.tensor(x), torch.tensor(x)
    pairs = [
        lambda m, a: m.conv2d(a, m.tensor(w), None, 1, 1),
        lambda m, a: m.layer_norm(a, (6,)),
        lambda m, a: m.group_norm(a, 3),
        lambda m, a: m.dropout(a, 0.5, False),
        lambda m, a: m.max_pool2d(a, 2),
        lambda m, a: m.selu(a),
        lambda m, a: m.celu(a, 0.5),
        lambda m, a: m.threshold(a, 0.1, -1.0),
        lambda m, a: m.pixel_shuffle(a[:, :2].reshape(2, 4, 3, 6), 2),
        lambda m, a: m.rms_norm(a, (6, 6)),
        lambda m, a: m.channel_shuffle(a, 3),
        lambda m, a: m.hardshrink(a, 0.5),
        lambda m, a: m.constant_pad_nd(a, (1, 2), 0.5),
        lambda m, a: m.max_pool1d(a.reshape(2, 3, 36), 3),
        lambda m, a: m.avg_pool1d(a.reshape(2, 3, 36), 3),
        lambda m, a: m.rrelu(a),
        lambda m, a: m.relu_(a.clone()),
    ]
    for f in pairs:
        np.testing.assert_allclose(f(fastnn, fx).numpy(), f(torch, tx).numpy(), rtol=1e-10,
                                   atol=1e-12)
    for f in [lambda m, a: m.max_pool1d_with_indices(a.reshape(2, 3, 36), 3)]:
        for o, t in zip(f(fastnn, fx), f(torch, tx)):
            np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_storage_flags_and_dtype_predicates_match_torch():
    """A GCN layer's ``torch.spmm(adj, s) if adj.is_sparse else torch.mm(adj, s)``
    and the dtype predicates, for dense CPU tensors as torch answers them."""
    torch = requires_torch()
    for a in (np.ones((2, 3), np.float32), np.arange(3), np.array([True]),
              np.ones(2, np.uint8)):
        f, t = fastnn.tensor(a), torch.tensor(a)
        for flag in ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_mkldnn",
                     "is_nested", "is_cpu", "is_cuda"):
            assert getattr(f, flag) is getattr(t, flag), flag
        for pred in ("is_complex", "is_signed", "is_floating_point"):
            assert getattr(f, pred)() == getattr(t, pred)(), (pred, a.dtype)
            assert getattr(fastnn, pred)(f) == getattr(torch, pred)(t), (pred, a.dtype)
    p = fastnn.nn.Parameter(fastnn.ones(2))
    assert p.is_sparse is False and p.is_cpu is True
    a, b = fastnn.ones(2, 3), fastnn.zeros(2, 3)
    assert a.is_same_size(b) and fastnn.is_same_size(a, b) and not a.is_same_size(b.t())
    x = np.arange(12.0).reshape(3, 4)
    adj = np.eye(3) + 1
    np.testing.assert_allclose(fastnn.spmm(fastnn.tensor(adj), fastnn.tensor(x)).numpy(),
                               torch.spmm(torch.tensor(adj), torch.tensor(x)).numpy())


def test_unfold_errors_and_zero_dim_match_torch():
    torch = requires_torch()
    for args in [(0, 11, 1), (0, 2, 0), (1, 2, 1)]:
        with pytest.raises((RuntimeError, IndexError)) as want:
            torch.arange(10.0).unfold(*args)
        with pytest.raises(type(want.value)):
            fastnn.arange(10.0).unfold(*args)
    assert fastnn.tensor(3.0).unfold(0, 1, 1).shape == torch.tensor(3.0).unfold(0, 1, 1).shape
    x = fastnn.arange(6.0)
    w = x.unfold(0, 2, 2)
    assert w._base is x or np.shares_memory(w._array, x._array)      # a view, as torch's


# --- the first argument as input=, scalar-base pow, max(other=), out= ---------
INPUT_KW = {
    "sum": {}, "exp": {}, "abs": {}, "mean": {}, "max": {}, "min": {}, "argmax": {},
    "argmin": {}, "flatten": {}, "squeeze": {}, "clone": {}, "t": {}, "numel": {},
    "neg": {}, "sqrt": {}, "sigmoid": {}, "tanh": {}, "relu": {}, "sgn": {},
    "absolute": {}, "negative": {}, "log": {},
    "add": dict(other=2.0), "sub": dict(other=1.0, alpha=2), "mul": dict(other=3.0),
    "div": dict(other=2.0, rounding_mode="floor"), "true_divide": dict(other=2.0),
    "pow": dict(exponent=2), "matmul": dict(other="x"), "softmax": dict(dim=0),
    "log_softmax": dict(dim=1), "eq": dict(other=1.0), "gt": dict(other=1.0),
    "le": dict(other=1.0), "not_equal": dict(other=1.0), "greater_equal": dict(other=1.0),
    "reshape": dict(shape=(4,)), "permute": dict(dims=(1, 0)), "unsqueeze": dict(dim=0),
    "transpose": dict(dim0=0, dim1=1), "swapdims": dict(dim0=0, dim1=1),
    "swapaxes": dict(axis0=0, axis1=1), "det": {}, "logdet": {}, "inverse": {},
    "matrix_power": dict(n=2), "sum_dim": dict(dim=1, keepdim=True),
}


@pytest.mark.parametrize("name", sorted(INPUT_KW))
def test_first_argument_as_input_keyword_matches_torch(name):
    torch = requires_torch()
    a = np.array([[2.0, 0.5], [1.0, 3.0]])
    out = []
    for M in (fastnn, torch):
        x = M.tensor(a)
        kw = {k: (x if v == "x" else v) for k, v in INPUT_KW[name].items()}
        r = getattr(M, name.replace("_dim", ""))(input=x, **kw)
        out.append(r)
    f, t = out
    if isinstance(t, int):
        assert f == t
    else:
        np.testing.assert_allclose(np.asarray(f.numpy()), t.numpy(), rtol=1e-12)
        assert str(f.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]


def test_scalar_base_pow_and_max_other_match_torch():
    torch = requires_torch()
    for M in (fastnn, torch):
        e = M.tensor([1.0, 2.0])
        assert M.pow(2, e).tolist() == [2.0, 4.0]
        assert M.pow(2, M.tensor([1, 3])).tolist() == [2, 8]
        assert M.pow(2, M.tensor([1, 3])).dtype == M.int64
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    fastnn.pow(3, x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.log(3) * 3 ** np.array([1.0, 2.0]), rtol=1e-6)
    a, b = np.array([1.0, 5.0, -2.0]), np.array([3.0, 2.0, -1.0])
    for fn in ("max", "min"):
        want = getattr(torch, fn)(torch.tensor(a), other=torch.tensor(b)).numpy()
        np.testing.assert_array_equal(getattr(fastnn, fn)(fastnn.tensor(a),
                                                          other=fastnn.tensor(b)).numpy(), want)
        np.testing.assert_array_equal(getattr(fastnn.tensor(a), fn)(
            other=fastnn.tensor(b)).numpy(), want)
    with pytest.raises(TypeError):
        fastnn.max(fastnn.tensor(a), other=1.0)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "matmul", "pow", "exp", "sum"])
def test_out_writes_into_the_given_tensor(name):
    torch = requires_torch()
    a = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    res = []
    for M in (fastnn, torch):
        x, y = M.tensor(a), M.tensor(a[::-1].copy())
        args = {"exp": (x,), "sum": (x, 0), "pow": (x, 2)}.get(name, (x, y))
        o = M.empty(0) if name == "sum" else M.zeros(2, 2)
        r = getattr(M, name)(*args, out=o)
        assert r is o
        res.append(o.numpy().copy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-6)


def test_out_rules_match_torch():
    torch = requires_torch()
    for M in (fastnn, torch):
        a, b = M.tensor([1.0, 2.0]), M.tensor([3.0, 4.0])
        o = M.empty(0)                                     # an empty out is resized
        assert M.add(a, b, out=o) is o and o.tolist() == [4.0, 6.0]
        o = M.empty(2, dtype=M.float64)                    # a wider dtype takes it
        M.mul(a, b, out=o)
        assert o.dtype == M.float64 and o.tolist() == [3.0, 8.0]
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            M.add(a, b, out=M.empty(2, dtype=M.int64))
        w = M.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            M.add(w, b, out=M.empty(2))
        with M.no_grad():
            M.add(w, b, alpha=2, out=o)
        assert o.tolist() == [7.0, 9.0]
        with pytest.warns(UserWarning, match="was resized"):
            M.sub(a, b, out=M.empty(3))
        v = M.empty(2)
        i = M.empty(2, dtype=M.int64)
        r = M.max(M.tensor([[1.0, 5.0], [4.0, 2.0]]), 1, out=(v, i))
        assert r.values is v and r.indices is i and v.tolist() == [5.0, 4.0]


def test_torch_level_wrappers_keep_the_positional_path_fast():
    """The torch.<op> forms stay one frame over the method: the positional call
    costs about what the method call does."""
    import timeit
    x = fastnn.ones(4)
    f = min(timeit.repeat(lambda: fastnn.sum(x), number=2000, repeat=5))
    m = min(timeit.repeat(lambda: x.sum(), number=2000, repeat=5))
    assert f < 2 * m + 1e-3


def _foreach_script(M):
    """The _foreach_* calls EMA and optimiser code make, in place and out of place."""
    xs = [M.ones(2), M.ones(3) * 2]
    ys = [M.ones(2) * 3, M.tensor([1.0, -2.0, 0.5])]
    log = [[float(v) for v in M._foreach_norm(xs)], [float(v) for v in M._foreach_norm(xs, 1)]]
    assert M._foreach_add_(xs, ys, alpha=2) is not None
    M._foreach_add_(xs, 1)
    M._foreach_add_(xs, [1, 2])
    M._foreach_add_(xs, M.tensor(1.0), alpha=2)
    log.append([x.tolist() for x in xs])
    M._foreach_sub_(xs, ys, alpha=2)
    M._foreach_sub_(xs, 0.5)
    M._foreach_mul_(xs, 2)
    M._foreach_mul_(xs, [1, 2])
    M._foreach_mul_(xs, ys)
    M._foreach_mul_(xs, M.tensor(0.5))
    log.append([x.tolist() for x in xs])
    M._foreach_lerp_(xs, ys, 0.25)
    M._foreach_lerp_(xs, ys, [M.tensor(0.5), M.ones(3)])
    log.append([x.tolist() for x in xs])
    M._foreach_addcmul_(xs, ys, ys, value=2)
    M._foreach_addcmul_(xs, ys, ys, [1, 2])
    M._foreach_addcmul_(xs, ys, ys, M.tensor([1.0, 3.0]))
    M._foreach_div_(xs, 2)
    log.append([x.tolist() for x in xs])
    log.append([x.tolist() for x in M._foreach_add(xs, 1)] + [x.tolist() for x in
                                                              M._foreach_mul(ys, 2)])
    log.append([x.tolist() for x in M._foreach_lerp(xs, ys, 0.5)])
    M._foreach_copy_(xs, ys)
    log.append([x.tolist() for x in xs])
    M._foreach_zero_(xs)
    log.append([x.tolist() for x in xs])
    return log


def test_foreach_functions_match_torch():
    torch = requires_torch()
    assert _foreach_script(fastnn) == _foreach_script(torch)
    with pytest.raises(RuntimeError, match="same number of tensors"):
        fastnn._foreach_add_([fastnn.ones(2)], [fastnn.ones(2)] * 2)


def test_foreach_ema_update_under_no_grad():
    """The EMA idiom: lerp the averaged copies towards the model's parameters."""
    m = fastnn.nn.Linear(3, 2)
    ema = [p.detach().clone() for p in m.parameters()]
    with fastnn.no_grad():
        fastnn._foreach_mul_(list(m.parameters()), 0.0)
        fastnn._foreach_lerp_(ema, list(m.parameters()), 0.5)
    for e, p in zip(ema, m.parameters()):
        assert p.abs().sum().item() == 0.0 and not e.requires_grad
    norms = fastnn._foreach_norm(ema)
    assert isinstance(norms, tuple) and all(n.ndim == 0 for n in norms)
