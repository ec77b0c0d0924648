"""torch.multinomial / bernoulli / normal / poisson, the legacy tensor types,
Variable, constants, print options and the float32 matmul precision."""
import math

import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

from ._table import raises_like_torch


# ------------------------------------------------------------------ multinomial
def test_multinomial_shapes_dtype_and_distinct():
    fastnn.manual_seed(0)
    w = fastnn.rand(5, 7) + 0.01
    for repl in (False, True):
        out = fastnn.multinomial(w, 4, replacement=repl)
        assert out.shape == (5, 4) and out.dtype == fastnn.int64
        assert int(out.min()) >= 0 and int(out.max()) < 7
        assert w.multinomial(3, repl).shape == (5, 3)
    one_d = fastnn.multinomial(w[0], 7)
    assert one_d.shape == (7,) and sorted(one_d.tolist()) == list(range(7))
    rows = fastnn.multinomial(w, 7).numpy()
    assert all(len(set(r)) == 7 for r in rows)
    # zero weights are never drawn while positive ones remain
    z = fastnn.tensor([[0.0, 3.0, 0.0, 1.0]] * 50)
    assert set(np.unique(fastnn.multinomial(z, 2).numpy())) == {1, 3}
    assert set(np.unique(fastnn.multinomial(z, 20, True).numpy())) <= {1, 3}
    # more draws than positive weights: the rest are zero-weight categories (as torch)
    assert sorted(fastnn.multinomial(fastnn.tensor([1.0, 0, 2]), 3).tolist()) == [0, 1, 2]


@pytest.mark.parametrize("repl", [True, False])
def test_multinomial_frequencies(repl):
    fastnn.manual_seed(3)
    p = np.array([0.1, 0.0, 0.2, 0.3, 0.4])
    w = fastnn.tensor(p * 7.0)                    # not normalised
    n = 40000
    if repl:
        draws = fastnn.multinomial(w, n, replacement=True).numpy()
        assert draws.shape == (n,)
    else:                                          # first draw of 40000 rows at once
        draws = fastnn.multinomial(w.expand(n, 5).contiguous(), 1).numpy()[:, 0]
    freq = np.bincount(draws, minlength=5) / n
    se = np.sqrt(p * (1 - p) / n)
    assert freq[1] == 0
    assert np.all(np.abs(freq - p) <= 5 * se + 1e-12), (freq, p)


def test_multinomial_without_replacement_second_draw():
    # P(second = j | first = i) = p_j / (1 - p_i): check the marginal of the second draw
    fastnn.manual_seed(5)
    p = np.array([0.5, 0.3, 0.2])
    n = 40000
    out = fastnn.multinomial(fastnn.tensor(np.tile(p, (n, 1))), 2).numpy()
    want = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(3) if i != j)
                     for j in range(3)])
    freq = np.bincount(out[:, 1], minlength=3) / n
    assert np.all(np.abs(freq - want) <= 5 * np.sqrt(want * (1 - want) / n))
    assert np.all(out[:, 0] != out[:, 1])


def test_multinomial_seeding():
    w = fastnn.rand(3, 100)
    fastnn.manual_seed(11)
    a = fastnn.multinomial(w, 5)
    fastnn.manual_seed(11)
    b = fastnn.multinomial(w, 5)
    assert np.array_equal(a.numpy(), b.numpy())
    g1, g2 = fastnn.Generator().manual_seed(2), fastnn.Generator().manual_seed(2)
    c = fastnn.multinomial(w, 50, True, generator=g1)
    d = w.multinomial(50, True, generator=g2)
    assert np.array_equal(c.numpy(), d.numpy())
    assert not np.array_equal(c.numpy(), fastnn.multinomial(w, 50, True, generator=g1).numpy())


def test_multinomial_word_language_model_generate():
    fastnn.manual_seed(0)
    output = fastnn.randn(1, 1, 10000)
    word_weights = output.squeeze().div(1.0).exp()
    word_idx = fastnn.multinomial(word_weights, 1)[0]
    assert word_idx.dtype == fastnn.int64 and word_idx.shape == ()
    assert 0 <= int(word_idx) < 10000
    big = fastnn.zeros(10000)
    big[1234] = 1.0
    assert int(fastnn.multinomial(big, 1)[0]) == 1234


ERRORS = [
    ("neg_norepl", lambda t: t.multinomial(t.tensor([1.0, -1.0]), 1)),
    ("neg_repl", lambda t: t.multinomial(t.tensor([1.0, -1.0]), 2, True)),
    ("inf_repl", lambda t: t.multinomial(t.tensor([1.0, math.inf]), 2, True)),
    ("nan_repl", lambda t: t.multinomial(t.tensor([1.0, math.nan]), 2, True)),
    ("nan_norepl", lambda t: t.multinomial(t.tensor([1.0, math.nan]), 1)),
    ("zero_sum", lambda t: t.multinomial(t.tensor([0.0, 0.0]), 1)),
    ("zero_row", lambda t: t.multinomial(t.tensor([[0.0, 0.0], [1.0, 1.0]]), 2, True)),
    ("n0", lambda t: t.multinomial(t.tensor([1.0, 2.0]), 0)),
    ("nneg", lambda t: t.multinomial(t.tensor([1.0, 2.0]), -1, True)),
    ("too_many", lambda t: t.multinomial(t.tensor([1.0, 2.0]), 3)),
    ("int_input", lambda t: t.multinomial(t.tensor([1, 2]), 1)),
    ("0d", lambda t: t.multinomial(t.tensor(1.0), 1)),
    ("3d", lambda t: t.multinomial(t.ones(2, 2, 2), 1)),
    ("float_n", lambda t: t.multinomial(t.tensor([1.0, 2.0]), 2.0)),
]


@pytest.mark.parametrize("name,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_multinomial_errors_match_torch(name, call):
    torch = requires_torch()
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(fastnn)
    assert str(ours.value).split("(")[0].strip() in str(theirs.value)


def test_multinomial_empty_batch():
    assert fastnn.multinomial(fastnn.ones(0, 3), 2).shape == (0, 2)


# ------------------------------------------------------- bernoulli / normal / poisson
def test_bernoulli():
    fastnn.manual_seed(1)
    p = fastnn.full((200, 200), 0.3)
    b = fastnn.bernoulli(p)
    assert b.dtype == fastnn.float32 and b.shape == (200, 200)
    assert set(np.unique(b.numpy())) <= {0.0, 1.0}
    assert abs(b.numpy().mean() - 0.3) < 5 * math.sqrt(0.21 / 40000)
    assert fastnn.bernoulli(fastnn.tensor([0.0, 1.0], dtype=fastnn.float64)).tolist() == [0, 1]
    assert fastnn.bernoulli(fastnn.tensor([0.0, 1.0], dtype=fastnn.float64)).dtype == \
        fastnn.float64
    q = fastnn.zeros(40000).bernoulli(0.75)
    assert abs(q.numpy().mean() - 0.75) < 5 * math.sqrt(0.1875 / 40000)
    assert fastnn.bernoulli(fastnn.ones(3), p=0.0).tolist() == [0, 0, 0]
    g = fastnn.Generator().manual_seed(4)
    x = fastnn.bernoulli(p, generator=g)
    assert np.array_equal(x.numpy(), fastnn.bernoulli(p, generator=g.manual_seed(4)).numpy())


@pytest.mark.parametrize("call", [
    lambda t: t.bernoulli(t.tensor([0.0, 1.5])),
    lambda t: t.bernoulli(t.tensor([0.0, -0.5])),
    lambda t: t.bernoulli(t.tensor([0.0, math.nan])),
    lambda t: t.bernoulli(t.tensor([0, 1])),
    lambda t: t.bernoulli(t.tensor([0.0, 1.0]), 1.5),
    lambda t: t.poisson(t.tensor([1.0, -2.0])),
    lambda t: t.poisson(t.tensor([1.0, math.nan])),
    lambda t: t.poisson(t.tensor([1, 2])),
    lambda t: t.normal(0.0, -1.0, (2,)),
    lambda t: t.normal(t.zeros(2), -1.0),
    lambda t: t.normal(t.zeros(2), t.tensor([1.0, -1.0])),
    lambda t: t.normal(t.zeros(2), t.tensor([1.0, math.nan])),
    lambda t: t.normal(t.zeros(2), t.ones(3)),
    lambda t: t.normal(t.zeros(2, dtype=t.int64), 1.0),
    lambda t: t.normal(0.0, 1.0),
])
def test_sampling_errors_match_torch(call):
    raises_like_torch(call)


def test_normal_overloads_and_moments():
    torch = requires_torch()
    cases = [lambda t: t.normal(t.zeros(2, 1), t.ones(3)),
             lambda t: t.normal(t.zeros(2, 1), 1.0),
             lambda t: t.normal(0.0, t.ones(3)),
             lambda t: t.normal(0.0, 1.0, (2, 3)),
             lambda t: t.normal(0.0, 1.0, size=(4,), dtype=t.float64),
             lambda t: t.normal(t.zeros(2, dtype=t.float64), t.ones(2)),
             lambda t: t.normal(mean=t.zeros(2), std=2.0)]
    for c in cases:
        ours, theirs = c(fastnn), c(torch)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype)
    fastnn.manual_seed(0)
    x = fastnn.normal(fastnn.full((200, 200), 3.0), fastnn.full((200, 1), 2.0)).numpy()
    assert abs(x.mean() - 3.0) < 5 * 2 / 200 and abs(x.std() - 2.0) < 0.05
    y = fastnn.normal(-1.0, 0.5, (40000,)).numpy()
    assert abs(y.mean() + 1.0) < 5 * 0.5 / 200 and abs(y.std() - 0.5) < 0.02


def test_normal_gradient_is_reparameterised():
    m = fastnn.zeros(4, requires_grad=True)
    s = fastnn.full((4,), 2.0, requires_grad=True)
    y = fastnn.normal(m, s)
    y.sum().backward()
    assert np.allclose(m.grad.numpy(), 1.0)
    assert np.allclose(s.grad.numpy(), y.detach().numpy() / 2.0)
    assert not fastnn.normal(fastnn.zeros(2), 1.0).requires_grad


def test_poisson():
    fastnn.manual_seed(2)
    r = fastnn.full((40000,), 4.0)
    x = fastnn.poisson(r)
    assert x.dtype == fastnn.float32 and x.shape == (40000,)
    a = x.numpy()
    assert np.all(a == np.round(a)) and abs(a.mean() - 4.0) < 5 * 2 / 200
    assert abs(a.var() - 4.0) < 0.2
    assert fastnn.poisson(fastnn.zeros(3, dtype=fastnn.float64)).dtype == fastnn.float64
    g = fastnn.Generator().manual_seed(9)
    assert np.array_equal(fastnn.poisson(r[:10], g).numpy(),
                          fastnn.poisson(r[:10], fastnn.Generator().manual_seed(9)).numpy())


# ------------------------------------------------------------------ legacy types
LEGACY = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ShortTensor",
          "CharTensor", "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_constructors_match_torch(name):
    torch = requires_torch()
    ours, theirs = getattr(fastnn, name), getattr(torch, name)
    for args in [([1, 0],), (np.array([1, 2]),), (2, 3), ((2, 3),), ()]:
        a, b = ours(*args), theirs(*args)
        assert tuple(a.shape) == tuple(b.shape), args
        assert str(a.dtype) == str(b.dtype)
        if not (len(args) == 2):              # the (2, 3) form is uninitialised in torch
            assert a.tolist() == b.tolist()
        assert a.type() == b.type() == "torch." + name
        assert isinstance(a, ours) and isinstance(a, fastnn.Tensor)
    assert ours(fastnn.Size([2, 1])).shape == (2, 1)
    x = fastnn.tensor([1.5, -2.0])
    assert x.type(ours).dtype == ours.dtype == x.type("torch." + name).dtype
    assert str(x.type(ours).dtype) == str(torch.tensor([1.5]).type(theirs).dtype)
    other = "FloatTensor" if name != "FloatTensor" else "LongTensor"
    assert not isinstance(getattr(fastnn, other)([1]), ours)
    assert issubclass(ours, fastnn.Tensor)


def test_legacy_details():
    assert fastnn.LongTensor([1.5, 2]).tolist() == [1, 2]
    t = fastnn.ones(2)
    assert fastnn.FloatTensor(t) is t
    with pytest.raises(TypeError):
        fastnn.FloatTensor(fastnn.ones(2, dtype=fastnn.int64))
    with pytest.raises(ValueError, match="invalid type"):
        t.type("foo")
    with pytest.raises(RuntimeError):
        t.type("torch.cuda.FloatTensor")
    assert type(fastnn.FloatTensor([1])) is fastnn.Tensor
    assert fastnn.ones(2).long().type() == "torch.LongTensor"


def test_variable():
    from fastnn.autograd import Variable
    a = fastnn.ones(2)
    v = Variable(a, requires_grad=True)
    assert v is not a and v.requires_grad and v.is_leaf and not a.requires_grad
    assert np.shares_memory(v._array, a._array)
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]
    w = Variable(a, volatile=True)
    assert not w.requires_grad and isinstance(w, Variable) and isinstance(a, Variable)
    c = (v * 2)
    assert Variable(c).grad_fn is None and not Variable(c).requires_grad
    with pytest.raises(TypeError, match="Variable data has to be a tensor"):
        Variable([1, 2])


def test_constants_match_torch():
    torch = requires_torch()
    for n in ("pi", "e", "inf"):
        assert getattr(fastnn, n) == getattr(torch, n)
    assert math.isnan(fastnn.nan) and fastnn.newaxis is None is torch.newaxis
    assert fastnn.ones(3)[:, fastnn.newaxis].shape == (3, 1)


# ---------------------------------------------------------------- print options
def test_set_printoptions_changes_and_restores_repr():
    x = fastnn.tensor([1.23456, 2.0])
    before = repr(x)
    try:
        fastnn.set_printoptions(precision=2)
        assert repr(x) == "tensor([1.23, 2.00])"
        fastnn.set_printoptions(threshold=5)
        r = repr(fastnn.arange(10.0))
        assert "..." in r and "5." not in r
        fastnn.set_printoptions(profile="full")
        assert "..." not in repr(fastnn.arange(2000.0))
        fastnn.set_printoptions(profile="default", sci_mode=True)
        assert "e+00" in repr(x)
        fastnn.set_printoptions(sci_mode=False)
        assert repr(fastnn.tensor([1e-8, 2e5])) == "tensor([     0.0000, 200000.0000])"
        fastnn.set_printoptions(profile="short")
        assert repr(x) == "tensor([1.23, 2.00])"
        fastnn.set_printoptions(linewidth=20, profile="default")
        assert len(repr(fastnn.arange(30.0)).splitlines()) > 3
    finally:
        fastnn.set_printoptions(profile="default")
    assert repr(x) == before
    assert "..." in repr(fastnn.arange(2000.0))


# ---------------------------------------------------------------- matmul precision
def test_float32_matmul_precision():
    torch = requires_torch()
    assert fastnn.get_float32_matmul_precision() == "highest"
    a = fastnn.randn(8, 8)
    ref = a.numpy() @ a.numpy()
    try:
        for p in ("medium", "high", "highest"):
            fastnn.set_float32_matmul_precision(p)
            assert fastnn.get_float32_matmul_precision() == p
            assert np.allclose((a @ a).numpy(), ref, rtol=1e-5, atol=1e-5)
        fastnn.set_float32_matmul_precision("high")
        with pytest.warns(UserWarning, match="no effect"):
            fastnn.set_float32_matmul_precision("low")
        assert fastnn.get_float32_matmul_precision() == "high"
        with pytest.raises(RuntimeError, match="expects a str"):
            torch.set_float32_matmul_precision(3)
        with pytest.raises(RuntimeError, match="expects a str"):
            fastnn.set_float32_matmul_precision(3)
    finally:
        fastnn.set_float32_matmul_precision("highest")


# ------------------------------------------------- the Tensor(...) constructor
TENSOR_CTOR = [
    ("list", lambda m: m.Tensor([1, 2])),
    ("nested", lambda m: m.Tensor([[1, 2], [3, 4]])),
    ("tuple", lambda m: m.Tensor((2, 3))),
    ("bools", lambda m: m.Tensor([True, False])),
    ("f64_array", lambda m: m.Tensor(np.array([1.0, 2.0]))),
    ("i64_array", lambda m: m.Tensor(np.array([1, 2]))),
    ("0d_array", lambda m: m.Tensor(np.array(3.0))),
    ("empty", lambda m: m.Tensor()),
    ("empty_list", lambda m: m.Tensor([])),
    ("tensor_items", lambda m: m.Tensor([m.tensor(1), m.tensor(2.5)])),
    ("keyword", lambda m: m.Tensor(data=[1, 2])),
    ("device", lambda m: m.Tensor([1, 2], device="cpu")),
]
TENSOR_SHAPES = [
    ("sizes", lambda m: m.Tensor(2, 3)),
    ("one_size", lambda m: m.Tensor(3)),
    ("zero", lambda m: m.Tensor(0)),
    ("np_int", lambda m: m.Tensor(np.int64(2))),
    ("Size", lambda m: m.Tensor(m.Size([2, 3]))),
]
TENSOR_BAD = [
    ("float", lambda m: m.Tensor(2.5)),
    ("np_float", lambda m: m.Tensor(np.float64(2.0))),
    ("bool", lambda m: m.Tensor(True)),
    ("negative", lambda m: m.Tensor(-1)),
    ("negative2", lambda m: m.Tensor(2, -1)),
    ("mixed", lambda m: m.Tensor(2, 2.0)),
]


@pytest.mark.parametrize("name,make", TENSOR_CTOR, ids=[c[0] for c in TENSOR_CTOR])
def test_tensor_constructor_data_is_float32_as_torch(name, make):
    torch = requires_torch()
    ours, theirs = make(fastnn), make(torch)
    assert ours.dtype == fastnn.float32 == np.float32
    assert str(theirs.dtype) == "torch.float32"
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name,make", TENSOR_SHAPES, ids=[c[0] for c in TENSOR_SHAPES])
def test_tensor_constructor_sizes_as_torch(name, make):
    torch = requires_torch()
    ours, theirs = make(fastnn), make(torch)
    assert ours.dtype == np.float32 and ours.shape == tuple(theirs.shape)
    assert not ours.requires_grad and ours.is_leaf


@pytest.mark.parametrize("name,make", TENSOR_BAD, ids=[c[0] for c in TENSOR_BAD])
def test_tensor_constructor_rejects_as_torch(name, make):
    raises_like_torch(make)


def test_tensor_constructor_hard_expectations():
    assert fastnn.Tensor([1, 2]).dtype == np.float32
    assert fastnn.Tensor(2, 3).shape == (2, 3) and fastnn.Tensor(3).shape == (3,)
    assert fastnn.Tensor(np.array([1.0, 2.0])).dtype == np.float32
    e = fastnn.Tensor()
    assert e.shape == (0,) and e.dtype == np.float32
    # a float32 ndarray is shared (PyTorch too); another dtype is converted
    a = np.ones(2, np.float32)
    fastnn.Tensor(a)[0] = 5
    assert a[0] == 5
    # Tensor(t) is an alias of t: its dtype, memory and graph
    t = fastnn.tensor([1, 2])
    u = fastnn.Tensor(t)
    assert u.dtype == np.int64 and u is not t
    u[0] = 7
    assert t.tolist() == [7, 2] and t._version == u._version
    w = fastnn.ones(2, requires_grad=True)
    v = fastnn.Tensor(w)
    assert v.requires_grad and v.grad_fn is not None
    (v * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]
    # fastnn's own keywords still work
    assert fastnn.Tensor([1.0], requires_grad=True).requires_grad
    assert fastnn.Tensor([1.0], dtype=fastnn.float64).dtype == np.float64


def test_library_keeps_dtypes_without_the_constructor():
    # what fastnn made with Tensor(array) keeps its dtype: parameters, buffers
    p = fastnn.nn.Parameter(fastnn.ones(2, dtype=fastnn.float64))
    assert p.dtype == np.float64 and p.requires_grad
    bn = fastnn.nn.BatchNorm1d(3)
    assert bn.num_batches_tracked.dtype == np.int64
    m = fastnn.nn.Module()
    m.register_buffer("idx", np.arange(3))
    assert m.idx.dtype == np.int64
    assert fastnn.nn.utils.parameters_to_vector(
        [fastnn.nn.Parameter(fastnn.ones(2, dtype=fastnn.float64))]).dtype == np.float64
    assert (fastnn.ones(2) + [1, 2]).dtype == np.float32
    assert fastnn.nn.UninitializedBuffer(dtype=fastnn.float64).dtype == np.float64
