"""set_default_dtype / get_default_dtype, compared with PyTorch's.

Every test that changes the default restores float32 in a fixture's
finally (tests of one worker share the process), for fastnn and torch both.
"""
import warnings

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _same_dtype(a, b):
    assert str(a.dtype) == str(b.dtype), (a.dtype, b.dtype)


def test_default_is_float32_and_restores():
    assert fastnn.get_default_dtype() is fastnn.float32
    fastnn.set_default_dtype(fastnn.float64)
    try:
        assert fastnn.get_default_dtype() is fastnn.float64
        assert fastnn.zeros(2).dtype == fastnn.float64
    finally:
        fastnn.set_default_dtype(fastnn.float32)
    assert fastnn.get_default_dtype() is fastnn.float32
    assert fastnn.zeros(2).dtype == fastnn.float32
    assert fastnn.tensor([1.5]).dtype == fastnn.float32
    assert (fastnn.tensor([1, 2]) * 1.5).dtype == fastnn.float32


@pytest.mark.parametrize("name", ["int64", "int32", "bool", "uint8"])
def test_non_floating_dtypes_raise_as_torch(name):
    with pytest.raises(TypeError) as theirs:
        torch.set_default_dtype(getattr(torch, name))
    with pytest.raises(TypeError) as ours:
        fastnn.set_default_dtype(getattr(fastnn, name if name != "bool" else "bool_"))
    assert str(ours.value) == str(theirs.value)
    assert fastnn.get_default_dtype() is fastnn.float32


@pytest.mark.parametrize("bad", ["float64", float, None, 3])
def test_non_dtype_objects_raise_as_torch(bad):
    with pytest.raises(TypeError) as theirs:
        torch.set_default_dtype(bad)
    with pytest.raises(TypeError) as ours:
        fastnn.set_default_dtype(bad)
    assert str(ours.value) == str(theirs.value)
    assert fastnn.get_default_dtype() is fastnn.float32


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_half_dtypes_are_a_clear_type_error(name):
    with pytest.raises(TypeError, match="float32 or float64"):
        fastnn.set_default_dtype(getattr(fastnn, name))
    assert fastnn.get_default_dtype() is fastnn.float32


def test_numpy_dtype_accepted():
    fastnn.set_default_dtype(np.dtype(np.float64))
    try:
        assert fastnn.get_default_dtype() is fastnn.float64
    finally:
        fastnn.set_default_dtype(fastnn.float32)


_FACTORIES = [
    ("zeros", lambda m: m.zeros(2, 3)),
    ("ones", lambda m: m.ones(2)),
    ("empty", lambda m: m.empty(2)),
    ("full float", lambda m: m.full((2,), 1.5)),
    ("full int", lambda m: m.full((2,), 1)),
    ("full bool", lambda m: m.full((2,), True)),
    ("rand", lambda m: m.rand(3)),
    ("randn", lambda m: m.randn(3)),
    ("randint", lambda m: m.randint(0, 5, (3,))),
    ("arange float", lambda m: m.arange(0.0, 2.0, 0.5)),
    ("arange int", lambda m: m.arange(4)),
    ("linspace", lambda m: m.linspace(0, 1, 5)),
    ("logspace", lambda m: m.logspace(0, 1, 3)),
    ("eye", lambda m: m.eye(3)),
    ("scalar_tensor", lambda m: m.scalar_tensor(2)),
    ("empty_strided", lambda m: m.empty_strided((2, 2), (2, 1))),
    ("normal", lambda m: m.normal(0.0, 1.0, (3,))),
    ("tensor float", lambda m: m.tensor(1.5)),
    ("tensor floats", lambda m: m.tensor([[1.5, 2], [3, 4]])),
    ("tensor ints", lambda m: m.tensor([1, 2])),
    ("tensor bools", lambda m: m.tensor([True])),
    ("tensor empty", lambda m: m.tensor([])),
    ("tensor np.float32", lambda m: m.tensor(np.float32(1.5))),
    ("tensor [np.float32]", lambda m: m.tensor([np.float32(1.5)])),
    ("tensor f32 array", lambda m: m.tensor(np.ones(2, np.float32))),
    ("tensor dtype=", lambda m: m.tensor([1.5], dtype=m.float32)),
    ("as_tensor floats", lambda m: m.as_tensor([1.5, 2.0])),
    ("from_numpy f32", lambda m: m.from_numpy(np.ones(2, np.float32))),
    ("Tensor legacy", lambda m: m.Tensor([1, 2])),
    ("Tensor sizes", lambda m: m.Tensor(2, 3)),
    ("FloatTensor", lambda m: m.FloatTensor([1, 2])),
    ("zeros_like f32", lambda m: m.zeros_like(m.ones(2, dtype=m.float32))),
    ("rand_like f32", lambda m: m.rand_like(m.ones(2, dtype=m.float32))),
    ("ones_like", lambda m: m.ones_like(m.ones(2))),
    ("new_zeros", lambda m: m.ones(2, dtype=m.float32).new_zeros(3)),
    ("float()", lambda m: m.tensor([1, 2]).float()),
    ("dtype=float", lambda m: m.zeros(2, dtype=float)),
    ("to(float)", lambda m: m.ones(2, dtype=m.float32).to(float)),
    ("dtype=int", lambda m: m.zeros(2, dtype=int)),
]


@pytest.mark.parametrize("name,make", [f for f in _FACTORIES if "float" in f[0]],
                         ids=[n for n, _ in _FACTORIES if "float" in n])
def test_float_cases_at_the_float32_default_as_torch(name, make):
    _same_dtype(make(fastnn), make(torch))


@pytest.mark.parametrize("name,make", _FACTORIES, ids=[n for n, _ in _FACTORIES])
def test_factories_follow_default_as_torch(f64, name, make):
    ours, theirs = make(fastnn), make(torch)
    _same_dtype(ours, theirs)


_PROMOTIONS = [
    ("int * float", lambda m: m.tensor([1, 2]) * 1.5),
    ("float + int tensor", lambda m: 2.5 + m.tensor([1, 2])),
    ("int / int", lambda m: m.tensor([1, 2]) / m.tensor([2, 2])),
    ("int true_divide", lambda m: m.tensor([1, 2]).true_divide(2)),
    ("int sqrt", lambda m: m.tensor([1, 4]).sqrt()),
    ("int exp", lambda m: m.tensor([0, 1]).exp()),
    ("int sigmoid", lambda m: m.tensor([0, 1]).sigmoid()),
    ("int atan2", lambda m: m.atan2(m.tensor([1, 2]), m.tensor([2, 1]))),
    ("int logsumexp", lambda m: m.logsumexp(m.tensor([1, 2]), 0)),
    ("int mean float()", lambda m: m.tensor([1, 2]).float().mean()),
    ("bool * float", lambda m: m.tensor([True, False]) * 0.5),
    ("f32 * py float", lambda m: m.ones(2, dtype=m.float32) * 1.5),
    ("f32 * 0-d default", lambda m: m.ones(2, dtype=m.float32) * m.tensor(2.0)),
    ("f32 + f64 tensor", lambda m: m.ones(2, dtype=m.float32) + m.ones(2, dtype=m.float64)),
    ("int * int", lambda m: m.tensor([1, 2]) * 3),
    ("int sum", lambda m: m.tensor([1, 2]).sum()),
]


@pytest.mark.parametrize("name,make", _PROMOTIONS, ids=[n for n, _ in _PROMOTIONS])
def test_scalar_promotion_uses_default_as_torch(f64, name, make):
    ours, theirs = make(fastnn), make(torch)
    _same_dtype(ours, theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15)


def test_values_are_float64_precise(f64):
    # 0.1 in float64 is not 0.1 in float32: the data is not squeezed through float32
    t = fastnn.tensor([0.1, 1 / 3])
    assert t.numpy().tolist() == [0.1, 1 / 3]
    assert fastnn.arange(0.0, 1.0, 0.1).numpy().tolist() == \
        torch.arange(0.0, 1.0, 0.1).numpy().tolist()
    assert fastnn.linspace(0, 1, 7).numpy().tolist() == torch.linspace(0, 1, 7).numpy().tolist()
    assert fastnn.full((2,), 0.1).numpy().tolist() == [0.1, 0.1]


def test_repr_hides_the_default_dtype_as_torch(f64):
    assert repr(fastnn.tensor([1.5, 2.0])) == repr(torch.tensor([1.5, 2.0]))
    assert repr(fastnn.tensor([1.5], dtype=fastnn.float32)) == \
        repr(torch.tensor([1.5], dtype=torch.float32))


def test_autograd_in_float64_default(f64):
    x = fastnn.tensor([0.1, 0.2, 0.3], requires_grad=True)
    tx = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)
    (x.exp() * x).sum().backward()
    (tx.exp() * tx).sum().backward()
    _same_dtype(x.grad, tx.grad)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("arg", ["DoubleTensor", "torch.DoubleTensor", "FloatTensor",
                                 "LongTensor", "torch.float64"])
def test_set_default_tensor_type_as_torch(arg):
    def run(m):
        a = arg if arg.startswith("torch.") else getattr(m, arg)
        if arg == "torch.float64":
            a = m.float64
        try:
            with warnings.catch_warnings():         # (torch warns once per process)
                warnings.simplefilter("ignore")
                m.set_default_tensor_type(a)
            return str(m.get_default_dtype()), str(m.zeros(1).dtype)
        except TypeError as e:
            return str(e)
        finally:
            m.set_default_dtype(m.float32)
    assert run(fastnn) == run(torch)
    assert fastnn.get_default_dtype() is fastnn.float32


def test_set_default_tensor_type_warns_deprecated():
    try:
        with pytest.warns(UserWarning, match="set_default_tensor_type.* is deprecated"):
            fastnn.set_default_tensor_type(fastnn.DoubleTensor)
        assert fastnn.get_default_dtype() is fastnn.float64
    finally:
        fastnn.set_default_dtype(fastnn.float32)


def test_finfo_without_argument_is_the_default_dtype(f64):
    assert fastnn.finfo().eps == torch.finfo().eps == np.finfo(np.float64).eps
    assert fastnn.finfo().dtype == torch.finfo().dtype
