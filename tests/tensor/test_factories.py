"""Factories against PyTorch: values, dtypes, shapes, the keyword
arguments (dtype, device, requires_grad, generator), seeding and errors."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

from ._table import raises_like_torch


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("args", [(5,), (1, 4), (0, 1, 0.1), (0, 0.3, 0.1), (1, 2.5, 0.5),
                                  (-1, 1, 0.3), (10, 0, -3), (0.5, 7), (0, 1, 1 / 3),
                                  (3, 3), (-2.5, 2.5, 0.7), (1e-3, 1, 0.0999)])
def test_arange_matches_torch(args):
    torch = requires_torch()
    a, t = fastnn.arange(*args), torch.arange(*args)
    assert str(a.dtype) == str(t.dtype)
    np.testing.assert_array_equal(_np(a), t.numpy())


@pytest.mark.parametrize("dtype,args", [("float32", (0, 5, 0.5)), ("float64", (0, 5, 0.5)),
                                        ("int64", (0, 9, 2)), ("int32", (5,)),
                                        ("float64", (1, 4))])
def test_arange_dtypes(dtype, args):
    torch = requires_torch()
    a = fastnn.arange(*args, dtype=getattr(fastnn, dtype))
    t = torch.arange(*args, dtype=getattr(torch, dtype))
    np.testing.assert_array_equal(_np(a), t.numpy())
    assert a.dtype == getattr(fastnn, dtype)


@pytest.mark.parametrize("args", [(0, 1, 7), (-3, 5, 11), (1, 0, 4), (2, 2, 3), (0, 1, 1),
                                  (0, 1, 0), (0.1, 0.7, 100), (-1e3, 1e3, 33)])
@pytest.mark.parametrize("dtype", [None, "float64", "int64"])
def test_linspace_matches_torch(args, dtype):
    torch = requires_torch()
    a = fastnn.linspace(*args, dtype=None if dtype is None else getattr(fastnn, dtype))
    t = torch.linspace(*args, dtype=None if dtype is None else getattr(torch, dtype))
    assert str(a.dtype) == str(t.dtype)
    np.testing.assert_array_equal(_np(a), t.numpy())


@pytest.mark.parametrize("args,kw", [((0, 2, 5), {}), ((-1, 1, 4), {"base": 2.0}),
                                     ((0, 3, 1), {}), ((1, 0, 6), {"dtype": "float64"})])
def test_logspace_matches_torch(args, kw):
    torch = requires_torch()
    a = fastnn.logspace(*args, **{k: getattr(fastnn, v) if k == "dtype" else v
                                  for k, v in kw.items()})
    t = torch.logspace(*args, **{k: getattr(torch, v) if k == "dtype" else v
                                 for k, v in kw.items()})
    np.testing.assert_allclose(_np(a), t.numpy(), rtol=1e-6)
    assert str(a.dtype) == str(t.dtype)


def test_eye_full_empty_like_match_torch():
    torch = requires_torch()
    for fa, ta in [((3,), (3,)), ((2, 4), (2, 4)), ((0,), (0,))]:
        np.testing.assert_array_equal(_np(fastnn.eye(*fa)), torch.eye(*ta).numpy())
    for v in (7, 2.5, True):
        a, t = fastnn.full((2, 3), v), torch.full((2, 3), v)
        assert str(a.dtype) == str(t.dtype)
        np.testing.assert_array_equal(_np(a), t.numpy())
    x = fastnn.tensor([[1, 2], [3, 4]], dtype=fastnn.int32)
    for f in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
        kw = {"dtype": fastnn.float64} if f in ("rand_like", "randn_like") else {}
        y = getattr(fastnn, f)(x, **kw)
        assert y.shape == (2, 2) and y.dtype == (np.float64 if kw else np.int32)
    y = fastnn.full_like(x, 7)
    assert y.dtype == np.int32 and y.tolist() == [[7, 7], [7, 7]]
    y = fastnn.randint_like(x, 5)
    assert y.dtype == np.int32 and 0 <= y.min().item() and y.max().item() < 5
    y = fastnn.randint_like(x, 3, 6)
    assert 3 <= y.min().item() and y.max().item() < 6


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_shape_forms_and_keywords(name):
    f = getattr(fastnn, name)
    for shape in [(2, 3), ((2, 3),), ([2, 3],), (fastnn.Size([2, 3]),)]:
        t = f(*shape)
        assert t.shape == (2, 3) and t.dtype == np.float32
    t = f(4, dtype=fastnn.float64, device="cpu", requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf
    assert f(0, 3).shape == (0, 3) and f().shape == ()
    t = f(2, device=fastnn.device("cpu"))
    assert t.device == fastnn.device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        f(2, device="cuda")
    with pytest.raises(RuntimeError, match="negative dimension"):
        f(2, -1)
    with pytest.raises(TypeError):
        f(2.5)


def test_requires_grad_needs_a_float_dtype():
    with pytest.raises(RuntimeError, match="floating point"):
        fastnn.zeros(2, dtype=fastnn.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        fastnn.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError):
        fastnn.rand(3, dtype=fastnn.int64)


def test_random_factories_follow_manual_seed_and_generator():
    for f, args in [(fastnn.rand, (5,)), (fastnn.randn, (5,)), (fastnn.randint, (0, 9, (5,))),
                    (fastnn.randperm, (7,))]:
        fastnn.manual_seed(42)
        a = f(*args)
        fastnn.manual_seed(42)
        b = f(*args)
        assert np.array_equal(a.numpy(), b.numpy())
        c = f(*args)
        assert not np.array_equal(a.numpy(), c.numpy())

    def Gen(seed):
        return fastnn.Generator().manual_seed(seed)

    a = fastnn.randn(4, generator=Gen(1))
    b = fastnn.randn(4, generator=Gen(1))
    assert np.array_equal(a.numpy(), b.numpy())
    assert np.array_equal(fastnn.randperm(6, generator=Gen(3)).numpy(),
                          fastnn.randperm(6, generator=Gen(3)).numpy())


def test_random_factory_ranges_and_dtypes():
    fastnn.manual_seed(0)
    r = fastnn.rand(10000)
    assert r.dtype == np.float32 and 0 <= r.min().item() and r.max().item() < 1
    n = fastnn.randn(10000, dtype=fastnn.float64)
    assert n.dtype == np.float64 and abs(n.mean().item()) < 0.05
    i = fastnn.randint(3, 7, (1000,))
    assert i.dtype == np.int64 and set(np.unique(i.numpy())) == {3, 4, 5, 6}
    i = fastnn.randint(4, size=(2, 2), dtype=fastnn.int32)
    assert i.dtype == np.int32 and i.shape == (2, 2)
    i = fastnn.randint(high=4, size=(3,), low=2)
    assert set(np.unique(i.numpy())) <= {2, 3}
    p = fastnn.randperm(10)
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(10))
    with pytest.raises(RuntimeError, match="from"):
        fastnn.randint(5, 5, (2,))


def test_tensor_and_as_tensor():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    t = fastnn.tensor(a)
    assert t.dtype == np.int32 and not np.shares_memory(t.numpy(), a)
    s = fastnn.as_tensor(a)
    assert np.shares_memory(s.numpy(), a)
    assert fastnn.as_tensor(s) is s
    assert fastnn.as_tensor(a, dtype=fastnn.float32).dtype == np.float32
    assert fastnn.tensor([]).shape == (0,) and fastnn.tensor([]).dtype == np.float32
    assert fastnn.tensor(3).shape == () and fastnn.tensor(3).dtype == np.int64
    assert fastnn.tensor([True, False]).dtype == np.bool_
    assert fastnn.tensor([1.5], dtype=fastnn.float64, requires_grad=True).requires_grad
    assert fastnn.tensor([fastnn.tensor(1.0), fastnn.tensor(2.0)]).tolist() == [1.0, 2.0]
    assert fastnn.scalar_tensor(2).dtype == np.float32
    with pytest.raises(TypeError):
        fastnn.tensor(["a"])
    with pytest.raises(RuntimeError, match="CPU only"):
        fastnn.tensor([1.0], device="cuda:0")


def test_new_tensor_methods():
    x = fastnn.ones(2, dtype=fastnn.float64)
    assert x.new_zeros(3).dtype == np.float64 and x.new_zeros(3).shape == (3,)
    assert x.new_ones((2, 2)).sum().item() == 4
    assert x.new_full((2,), 3).tolist() == [3.0, 3.0]
    assert x.new_empty(0).shape == (0,)
    assert x.new_tensor([1, 2]).dtype == np.float64


def test_arange_errors():
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        fastnn.arange(0, 1, 0)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        fastnn.arange(0, 5, -1)
    with pytest.raises(RuntimeError, match="non-negative"):
        fastnn.linspace(0, 1, -1)


# ------------------------------------------------ tensor(): dtype inference
INFER = [
    ("np_f64_items", lambda m: m.tensor([np.float64(1.0), np.float64(2.0)])),
    ("f64_0d_tensors", lambda m: m.tensor([m.tensor(1.0, dtype=m.float64),
                                           m.tensor(2.0, dtype=m.float64)])),
    ("np_int32", lambda m: m.tensor([np.int32(1)])),
    ("np_int16_pair", lambda m: m.tensor([np.int16(1), np.int16(2)])),
    ("np_int16_and_int", lambda m: m.tensor([np.int16(1), 2])),
    ("int_and_np_f64", lambda m: m.tensor([1, np.float64(2.0)])),
    ("np_f32_and_float", lambda m: m.tensor([np.float32(1.0), 2.0])),
    ("f64_arrays", lambda m: m.tensor([np.array([1.0, 2.0]), np.array([3.0, 4.0])])),
    ("u8_and_i8", lambda m: m.tensor([np.uint8(1), np.int8(1)])),
    ("bool_and_int", lambda m: m.tensor([True, 2])),
    ("int32_tensors", lambda m: m.tensor([m.tensor(1, dtype=m.int32),
                                          m.tensor(2, dtype=m.int32)])),
    ("one_element_tensors", lambda m: m.tensor([m.ones(1), m.ones(1)])),
    ("f64_1elem_tensor", lambda m: m.tensor([m.tensor([1.0], dtype=m.float64)])),
    ("nested_empty", lambda m: m.tensor([[], []])),
    ("range", lambda m: m.tensor(range(3))),
    ("float_to_int", lambda m: m.tensor([1.7, -2.2], dtype=m.int64)),
    ("as_tensor_list", lambda m: m.as_tensor([np.float64(1.0)])),
]


@pytest.mark.parametrize("name,make", INFER, ids=[c[0] for c in INFER])
def test_tensor_dtype_inference_matches_torch(name, make):
    torch = requires_torch()
    ours, theirs = make(fastnn), make(torch)
    assert str(ours.dtype) == str(theirs.dtype)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_tensor_dtype_inference_hard_expectations():
    assert fastnn.tensor([np.float64(1.0), np.float64(2.0)]).dtype == np.float64
    assert fastnn.tensor([np.int32(1)]).dtype == np.int32
    assert fastnn.tensor([np.array([1.0, 2.0])]).dtype == np.float64
    assert fastnn.tensor([1.0, 2.0]).dtype == np.float32 and fastnn.tensor([1]).dtype == np.int64
    # a Tensor inside a list is read as one value (PyTorch's rule)
    assert fastnn.tensor([fastnn.ones(1), fastnn.ones(1)]).shape == (2,)
    with pytest.raises(ValueError, match="only one element tensors"):
        fastnn.tensor([fastnn.ones(2), fastnn.ones(2)])
    # the unsigned types fastnn lacks hold their values as int64
    assert fastnn.tensor(np.array([7], np.uint32)).tolist() == [7]


@pytest.mark.parametrize("make", [lambda m: m.full(3, 1.0),
                                  lambda m: m.from_numpy(np.arange(3.0)[::-1]),
                                  lambda m: m.tensor([m.ones(2), m.ones(2)])])
def test_factories_reject_as_torch(make):
    raises_like_torch(make)


def test_factories_reject_hard_expectations():
    with pytest.raises(TypeError, match="must be tuple of ints"):
        fastnn.full(3, 1.0)
    assert fastnn.full((3,), 1.0).shape == (3,) and fastnn.full([2], 1).shape == (2,)
    with pytest.raises(ValueError, match="negative"):
        fastnn.from_numpy(np.arange(3.0)[::-1])
    assert fastnn.from_numpy(np.arange(6.0).reshape(2, 3)[:, ::2]).shape == (2, 2)
