"""dtype names, PyTorch's type promotion, integer/bool data tensors, and
bad arguments raising PyTorch's exception types."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

NAMES = ["float32", "float", "float64", "double", "int64", "long", "int32", "int", "int16",
         "short", "int8", "uint8", "bool"]


@pytest.mark.parametrize("name", NAMES)
def test_dtype_names_are_torchs(name):
    torch = requires_torch()
    ours, theirs = getattr(fastnn, name), getattr(torch, name)
    assert str(ours) == str(theirs)
    t = fastnn.zeros(2, dtype=ours)
    assert t.dtype == ours and fastnn.ones(2).to(ours).dtype == ours
    assert t.type() == str(torch.zeros(2, dtype=theirs).type())


def test_dtype_conversion_methods():
    x = fastnn.tensor([1.7, -2.2])
    assert x.int().dtype == fastnn.int == np.int32
    assert x.long().dtype == fastnn.long and x.long().tolist() == [1, -2]
    assert x.bool().dtype == fastnn.bool and x.byte().dtype == fastnn.uint8
    assert x.short().dtype == fastnn.int16 and x.char().dtype == fastnn.int8
    assert x.double().dtype == fastnn.float64 and x.double().float().dtype == fastnn.float32
    assert x.to(fastnn.float64).dtype == np.float64
    assert x.to("cpu") is x and x.to(fastnn.device("cpu")) is x
    assert x.to("cpu", fastnn.float64).dtype == np.float64
    assert x.to(device="cpu", dtype=fastnn.int64).dtype == np.int64
    assert x.to(fastnn.tensor([1])).dtype == np.int64
    assert x.type(fastnn.float64).dtype == np.float64
    assert x.type("torch.DoubleTensor").dtype == np.float64
    assert x.type_as(fastnn.tensor([1], dtype=fastnn.int32)).dtype == np.int32
    with pytest.raises(RuntimeError, match="CPU only"):
        x.to("cuda")
    with pytest.raises(TypeError):
        x.to(np.complex64)


@pytest.mark.parametrize("dt", ["uint8", "int32", "int16", "int8", "bool"])
def test_integer_data_tensors(dt):
    a = fastnn.tensor([[1, 0, 3], [4, 5, 0]], dtype=getattr(fastnn, dt))
    assert a.dtype == np.dtype(dt if dt != "bool" else np.bool_)
    assert (a == a).all().item() and a.sum().dtype == np.int64
    assert a.float().dtype == np.float32 and a.long().dtype == np.int64
    assert a[0].shape == (3,) and a.reshape(-1).shape == (6,) and a.t().shape == (3, 2)
    assert a.flip(0).dtype == a.dtype and fastnn.cat([a, a]).dtype == a.dtype
    assert a.argmax().dtype == np.int64 and a.max().dtype == a.dtype
    with pytest.raises(RuntimeError, match="floating point"):
        a.requires_grad_()
    x = fastnn.randn(3, 5, requires_grad=True)
    if dt not in ("bool", "uint8"):        # (a uint8 index is a mask, as a bool one)
        idx = fastnn.tensor([2, 0], dtype=getattr(fastnn, dt))
        y = x[idx]
        y.sum().backward()
        assert x.grad.numpy()[[0, 2]].sum() == 10
        assert x.index_select(1, idx).shape == (3, 2)


PAIRS = [("int64", 1.5), ("int32", 2), ("uint8", -1), ("bool", 1), ("bool", 2.5),
         ("float32", 2), ("float32", 1.5), ("int64", "float32"), ("int32", "int64"),
         ("uint8", "int8"), ("float32", "float64"), ("bool", "uint8"), ("bool", "float64"),
         ("int64", "0d:float64"), ("float32", "0d:float64"), ("0d:float64", "int64"),
         ("0d:int64", "0d:float32"), ("int16", "0d:int64"), ("uint8", "0d:int8")]


def _operand(lib, spec):
    if not isinstance(spec, str):
        return spec
    if spec.startswith("0d:"):
        return lib.tensor(3, dtype=getattr(lib, spec[3:]))
    return lib.tensor([3, 1, 2], dtype=getattr(lib, spec))


@pytest.mark.parametrize("a,b", PAIRS, ids=str)
@pytest.mark.parametrize("op", ["add", "mul", "sub", "div", "where", "maximum", "clamp", "eq",
                                "remainder", "pow"])
def test_promotion_matches_torch(op, a, b):
    torch = requires_torch()
    if op in ("maximum",) and not isinstance(b, str):
        pytest.skip("maximum takes two tensors")
    if op == "sub" and (a == "bool" and b in (1, "uint8") or a == b == "bool"):
        pytest.skip("torch refuses bool subtraction")
    if op == "clamp" and a == "bool":
        pytest.skip("torch clamp is not defined for bool")
    if op == "pow" and (a in ("bool",) or b == -1):
        pytest.skip("pow of bool / negative integer power")
    res = []
    for lib in (fastnn, torch):
        x, y = _operand(lib, a), _operand(lib, b)
        f = {"add": lambda: x + y, "mul": lambda: x * y, "sub": lambda: x - y,
             "div": lambda: x / y, "eq": lambda: x == y, "remainder": lambda: x % y,
             "pow": lambda: x ** y,
             "where": lambda: lib.where(lib.tensor([True, False, True]), x, y),
             "maximum": lambda: lib.maximum(x, y),
             "clamp": lambda: lib.clamp(x, min=y)}[op]
        try:
            out = f()
        except Exception as e:                 # both must refuse alike
            res.append(type(e).__name__)
            continue
        res.append((str(out.dtype).replace("torch.", ""), out.tolist()))
    assert res[0] == res[1] or (isinstance(res[0], tuple) and res[0][0] == res[1][0] and
                                np.allclose(res[0][1], res[1][1], equal_nan=True)), res


def test_comparisons_give_bool_and_arg_reductions_int64():
    x = fastnn.tensor([[1.0, 3.0], [2.0, 0.0]], requires_grad=True)
    for m in (x > 1, x >= 1, x < 1, x <= 1, x == 1, x != 1, x.isnan(), x.isfinite(),
              fastnn.isclose(x, x), fastnn.logical_and(x > 0, x < 3)):
        assert m.dtype == np.bool_ and not m.requires_grad
    for i in (x.argmax(), x.argmin(1), x.max(1).indices, x.sort().indices, x.topk(1).indices,
              x.argsort(), fastnn.nonzero(x)):
        assert i.dtype == np.int64
    assert fastnn.equal(x, x.detach().clone()) and not fastnn.equal(x, x[:1])
    assert fastnn.allclose(x, x + 1e-9) and not fastnn.allclose(x, x + 1)


def test_bool_operators():
    a = fastnn.tensor([True, False, True])
    b = fastnn.tensor([True, True, False])
    assert (a & b).tolist() == [True, False, False] and (a | b).tolist() == [True, True, True]
    assert (a ^ b).tolist() == [False, True, True] and (~a).tolist() == [False, True, False]
    i = fastnn.tensor([6, 3])
    assert (i & 2).tolist() == [2, 2] and (~i).tolist() == [-7, -4]
    with pytest.raises(RuntimeError):
        fastnn.tensor([1.0]) & fastnn.tensor([1.0])
    assert (fastnn.tensor([7, -7]) // 2).tolist() == [3, -4]
    assert (fastnn.tensor([7, -7]) % 3).tolist() == [1, 2]


def test_finfo_iinfo():
    assert fastnn.finfo(fastnn.float32).eps == np.finfo(np.float32).eps
    assert fastnn.iinfo(fastnn.int64).max == 2 ** 63 - 1


# ----------------------------------------------------------- bad arguments
X = np.arange(12.0).reshape(3, 4)
DIM_OPS = [
    lambda x: x.sum(2), lambda x: x.mean(-3), lambda x: x.max(dim=5), lambda x: x.std(dim=2),
    lambda x: x.norm(dim=3), lambda x: x.prod(2), lambda x: x.cumsum(2), lambda x: x.cumprod(-3),
    lambda x: x.logsumexp(2), lambda x: x.any(2), lambda x: x.argmax(2), lambda x: x.amax(2),
    lambda x: x.softmax(2), lambda x: x.gather(2, fastnn.tensor([[0]])),
    lambda x: x.index_select(2, fastnn.tensor([0])), lambda x: x.sort(2), lambda x: x.topk(1, 2),
    lambda x: x.chunk(2, 2), lambda x: x.split(1, -3), lambda x: x.unbind(2),
    lambda x: x.narrow(2, 0, 1), lambda x: x.select(2, 0), lambda x: x.flip(2),
    lambda x: x.roll(1, 2), lambda x: x.movedim(2, 0), lambda x: x.diagonal(0, 0, 2),
    lambda x: fastnn.cat([x, x], 2), lambda x: x.unsqueeze(3), lambda x: x.transpose(0, 2),
    lambda x: x.repeat_interleave(2, dim=2), lambda x: x.var(2), lambda x: x.argsort(2),
    lambda x: x.kthvalue(1, 2), lambda x: x.take_along_dim(fastnn.tensor([[0]]), 2),
]


@pytest.mark.parametrize("k", range(len(DIM_OPS)))
def test_dim_out_of_range_is_index_error(k):
    with pytest.raises(IndexError):
        DIM_OPS[k](fastnn.tensor(X))


SHAPE_OPS = [
    lambda x: x + fastnn.ones(5), lambda x: x * fastnn.ones(2, 4), lambda x: x.mm(x),
    lambda x: fastnn.bmm(x, x), lambda x: x.mv(fastnn.ones(3)), lambda x: fastnn.dot(x[0], x[1, :3]),
    lambda x: fastnn.where(x > 1, x, fastnn.ones(2)), lambda x: x.masked_fill(fastnn.ones(2) > 0, 1.0),
    lambda x: x.masked_select(fastnn.ones(5) > 0), lambda x: x.reshape(5, 5),
    lambda x: x.expand(2, 5), lambda x: x.split([1, 1]), lambda x: x.gather(1, fastnn.tensor([[9]])),
    lambda x: x.scatter(1, fastnn.tensor([[0, 1]]), fastnn.ones(1, 1)),
    lambda x: x.index_select(0, fastnn.tensor([3])), lambda x: x.narrow(1, 3, 2),
    lambda x: x.topk(5), lambda x: fastnn.einsum("ij,jk->ik", x, x),
    lambda x: fastnn.einsum("ijk->i", x), lambda x: fastnn.einsum("ij,ij", x),
    lambda x: fastnn.cat([x, fastnn.ones(2, 3)]), lambda x: fastnn.stack([x, x.t()]),
    lambda x: x.repeat(2), lambda x: x.tril() if x.ndim < 2 else fastnn.ones(3).tril(),
    lambda x: x.clamp(), lambda x: x.take(fastnn.tensor([12])),
    lambda x: x.copy_(fastnn.ones(5)), lambda x: x.chunk(0),
]


@pytest.mark.parametrize("k", range(len(SHAPE_OPS)))
def test_bad_shapes_and_values_raise_runtime_error(k):
    with pytest.raises(RuntimeError):
        SHAPE_OPS[k](fastnn.tensor(X))


TYPE_OPS = [
    lambda x: x.gather(1, fastnn.tensor([[0.0]])), lambda x: x.index_select(0, fastnn.tensor([0.5])),
    lambda x: x.masked_fill(x, 1.0), lambda x: fastnn.where(x, x, x),
    lambda x: x.scatter_add(1, fastnn.tensor([[0]]), fastnn.ones(1, 1, dtype=fastnn.float32)),
    lambda x: fastnn.einsum("ij,ij->", x, x.float()), lambda x: fastnn.dot(x[0], x[1].float()),
    lambda x: x.long().std(), lambda x: x.long().norm(), lambda x: x.take(fastnn.tensor([1.0])),
]


@pytest.mark.parametrize("k", range(len(TYPE_OPS)))
def test_wrong_dtypes_raise_runtime_error(k):
    with pytest.raises(RuntimeError):
        TYPE_OPS[k](fastnn.tensor(X))


def test_messages_name_the_problem():
    x = fastnn.tensor(X)
    with pytest.raises(RuntimeError, match="index 9 is out of bounds for dimension 1 with size 4"):
        x.gather(1, fastnn.tensor([[9]]))
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        x.mm(x)
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum"):
        x.split([1, 1])
    with pytest.raises(RuntimeError, match="only supports boolean masks"):
        x.masked_fill(x, 0.0)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(7)
    with pytest.raises(IndexError, match="out of range"):
        x.select(0, 3)
    with pytest.raises(TypeError, match="must be Tensor"):
        fastnn.maximum(x, 1.0)


def test_numpy_functions_on_tensors():
    """numpy.sum(t) and friends call the Tensor's methods with NumPy's
    keywords (axis=, out=, keepdims=), which PyTorch accepts too."""
    t = fastnn.tensor([[1.0, 2.0], [3.0, 5.0]])
    a = t.numpy()
    assert np.all(t > 0).item() and not np.any(t > 9).item()
    for f in (np.sum, np.mean, np.max, np.min, np.prod, np.std, np.var, np.argmax, np.argmin):
        np.testing.assert_allclose(f(t).item(), f(a), rtol=1e-6)
    np.testing.assert_allclose(np.mean(t, axis=0).numpy(), a.mean(axis=0))
    np.testing.assert_allclose(np.sum(t, axis=1, keepdims=True).numpy(),
                               a.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(np.var(t, ddof=1).item(), a.var(ddof=1), rtol=1e-6)
    np.testing.assert_allclose(np.cumsum(t, axis=0).numpy(), a.cumsum(axis=0))
    np.testing.assert_allclose(np.clip(t, 1.5, 4).numpy(), np.clip(a, 1.5, 4))
    np.testing.assert_allclose(np.round(t / 3, 2).numpy(), np.round(a / 3, 2), rtol=1e-6)
    out = fastnn.empty(2)
    assert t.sum(dim=0, out=out) is out and out.tolist() == [4.0, 7.0]


def test_default_device_and_dtype_settings():
    # programs set these at the top (the char-RNN tutorial: set_default_device)
    fastnn.set_default_device("cpu")
    fastnn.set_default_device(fastnn.device("cpu"))
    fastnn.set_default_device(None)
    assert fastnn.get_default_device() == fastnn.device("cpu")
    assert fastnn.zeros(2).device == fastnn.get_default_device()
    with pytest.raises(RuntimeError, match="CPU only"):
        fastnn.set_default_device("cuda")
    fastnn.set_default_dtype(fastnn.float32)
    assert fastnn.get_default_dtype() == fastnn.float32
    with pytest.raises(TypeError, match="floating-point"):
        fastnn.set_default_dtype(fastnn.int64)
    fastnn.set_default_dtype(fastnn.float64)   # as PyTorch (see tests/tensor/test_default_dtype.py)
    try:
        assert fastnn.get_default_dtype() == fastnn.float64
    finally:
        fastnn.set_default_dtype(fastnn.float32)


# ---------------------------------------- PyTorch parity: views, cat, indexing, ...
def _same(make):
    """make(fastnn) and make(torch) agree: equal values, dtypes and shapes, or
    both raise the same exception type."""
    torch = requires_torch()
    import warnings
    res = []
    for m in (fastnn, torch):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res.append(make(m))
        except Exception as e:      # noqa: BLE001 - the type is compared below
            res.append(e)
    ours, theirs = res
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), (ours, theirs)
        return
    assert not isinstance(ours, Exception), ours
    if isinstance(theirs, torch.Tensor):
        assert str(ours.dtype) == str(theirs.dtype)
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    else:
        assert type(ours).__name__ == type(theirs).__name__ and ours == theirs


PARITY = {
    # view(dtype) reinterprets the bits
    "view_f32_as_i32": lambda m: m.tensor([1.0, -2.5]).view(m.int32),
    "view_f32_as_f64": lambda m: m.ones(4).view(m.float64),
    "view_f32_as_f64_odd": lambda m: m.ones(3).view(m.float64),
    "view_f64_as_f32": lambda m: m.ones(2, dtype=m.float64).view(m.float32),
    "view_f32_as_u8": lambda m: m.ones(2, 3).view(m.uint8),
    "view_i16_as_i8": lambda m: m.ones(3, dtype=m.int16).view(m.int8),
    "view_t_as_i32": lambda m: m.ones(2, 3).t().view(m.int32),
    "view_t_as_f64": lambda m: m.ones(2, 3).t().view(m.float64),
    "view_0d_as_f64": lambda m: m.tensor(1.0).view(m.float64),
    "view_offset_as_f64": lambda m: m.ones(4)[1:3].view(m.float64),
    "view_u8_as_f32": lambda m: m.ones(4, dtype=m.uint8).view(m.float32),
    # view(shape) of a non-contiguous tensor
    "view_t_flat": lambda m: m.arange(6.0).view(2, 3).t().view(-1),
    "view_t_split": lambda m: m.arange(6.0).view(2, 3).t().view(3, 1, 2),
    "view_slice_flat": lambda m: m.arange(6.0).view(2, 3)[:, :2].view(4),
    "view_permute_split": lambda m: m.arange(24.0).view(2, 3, 4).permute(0, 2, 1).view(
        2, 2, 2, 3),
    "view_as_t": lambda m: m.arange(6.0).view(2, 3).t().view_as(m.ones(6)),
    "reshape_t_flat": lambda m: m.arange(6.0).view(2, 3).t().reshape(-1),
    "reshape_minus2": lambda m: m.zeros(4).reshape(-2, 2),
    "view_minus2": lambda m: m.zeros(4).view(-2, 2),
    "reshape_two_inferred": lambda m: m.zeros(4).reshape(-1, -1),
    # cat / stack promote as PyTorch, and skip 1-D empty inputs
    "cat_int_float": lambda m: m.cat([m.tensor([1]), m.tensor([2.5])]),
    "stack_int_float": lambda m: m.stack([m.tensor([1]), m.tensor([2.5])]),
    "stack_0d": lambda m: m.stack([m.tensor(1, dtype=m.int32), m.tensor(2.0)]),
    "cat_u8_i8": lambda m: m.cat([m.tensor([1], dtype=m.uint8), m.tensor([2], dtype=m.int8)]),
    "hstack_int_float": lambda m: m.hstack([m.tensor([1]), m.tensor([2.5])]),
    "cat_skip_empty": lambda m: m.cat([m.zeros(0), m.ones(2, 2)]),
    "cat_skip_empty_last": lambda m: m.cat([m.ones(2, 2), m.zeros(0, dtype=m.float64)]),
    "cat_skip_empty_dim1": lambda m: m.cat([m.zeros(0), m.ones(2, 2), m.zeros(0)], 1),
    "cat_all_empty": lambda m: m.cat([m.zeros(0)], 1),
    "cat_0d": lambda m: m.cat([m.tensor(1.0), m.tensor(1.0)]),
    # indexing: a list holding sequences / Tensors / slices is a tuple
    "list_of_tensors": lambda m: m.arange(6).view(2, 3)[[m.tensor([0, 1]), m.tensor([2, 0])]],
    "list_of_lists": lambda m: m.arange(12).view(3, 4)[[[0, 1], [1, 2]]],
    "list_of_ints": lambda m: m.arange(12).view(3, 4)[[0, 2]],
    "list_int_slice": lambda m: m.arange(12).view(3, 4)[[0, slice(None)]],
    "list_none": lambda m: m.arange(12).view(3, 4)[[None, 1]],
    "list_0d_tensor": lambda m: m.arange(12).view(3, 4)[[m.tensor(1), 2]],
    "list_ellipsis": lambda m: m.arange(12).view(3, 4)[[..., 1]],
    "list_bools": lambda m: m.arange(12).view(3, 4)[[True, False, True]],
    "long_list": lambda m: m.arange(40)[list(range(32))],
    "uint8_mask": lambda m: m.arange(3)[m.tensor([1, 0, 1], dtype=m.uint8)],
    "uint8_mask_2d": lambda m: m.arange(6).view(2, 3)[m.tensor([[1, 0, 1], [0, 0, 1]],
                                                               dtype=m.uint8)],
    "negative_step": lambda m: m.arange(4)[::-1],
    "negative_step_2d": lambda m: m.arange(12).view(3, 4)[:, ::-2],
    "positive_step": lambda m: m.arange(12).view(3, 4)[1:, ::2],
    # reductions over an empty dim list reduce everything
    "sum_empty_dims": lambda m: m.ones(2, 3).sum(dim=()),
    "sum_empty_dims_keepdim": lambda m: m.ones(2, 3).sum(dim=[], keepdim=True),
    "mean_empty_dims": lambda m: m.mean(m.ones(2, 3), ()),
    # integer powers, integer division by zero, bool maths
    "int_pow_negative_tensor": lambda m: m.tensor([0, 1, -1, 2, -2, 3]) ** m.tensor(
        [-1, -1, -1, -1, -1, -2]),
    "scalar_pow_negative_tensor": lambda m: 2 ** m.tensor([-1, -2, 0, 1]),
    "minus1_pow": lambda m: (-1) ** m.tensor([-3, -2]),
    "pow_fn_scalar_base": lambda m: m.pow(2, m.tensor([-1])),
    "int8_pow": lambda m: m.tensor([2], dtype=m.int8) ** m.tensor([-1], dtype=m.int8),
    "int_pow_negative_scalar": lambda m: m.tensor([2]) ** -1,
    "bool_pow_true": lambda m: m.tensor([True, False]) ** True,
    "bool_pow_false": lambda m: m.tensor([True, False]).pow(False),
    "bool_pow_bool_tensor": lambda m: m.tensor([True, False]) ** m.tensor(True),
    "bool_pow_2": lambda m: m.tensor([True, False]) ** 2,
    "remainder_by_zero": lambda m: m.tensor([5]) % m.tensor([0]),
    "remainder_by_zero_scalar": lambda m: m.tensor([5]) % 0,
    "rremainder_by_zero": lambda m: 5 % m.tensor([0]),
    "fmod_by_zero": lambda m: m.fmod(m.tensor([5], dtype=m.int8), 0),
    "float_remainder_by_zero": lambda m: m.tensor([5.0]) % m.tensor([0.0]),
    "div_floor_by_zero": lambda m: m.tensor([5]).div(0, rounding_mode="floor"),
    "bool_sign": lambda m: m.tensor([True, False]).sign(),
    "bool_sign_inplace": lambda m: m.tensor([True, False]).sign_(),
    "bool_square": lambda m: m.square(m.tensor([True, False])),
    # comparisons with None, Size arithmetic
    "eq_none": lambda m: m.ones(2) == None,      # noqa: E711
    "ne_none": lambda m: m.ones(2) != None,      # noqa: E711
    "size_plus_tuple": lambda m: tuple(m.Size([2]) + (3,)),
    # matrix products of two dtypes raise
    "matmul_long_float": lambda m: m.ones(1, 2, dtype=m.long) @ m.ones(2, 1),
    "matmul_float_double": lambda m: m.ones(1, 2) @ m.ones(2, 1, dtype=m.float64),
    "matmul_fn": lambda m: m.matmul(m.ones(2, 1, 2), m.ones(2, dtype=m.float64)),
    "dot_dtypes": lambda m: m.ones(2, dtype=m.int32) @ m.ones(2, dtype=m.int64),
    "matmul_same": lambda m: m.ones(1, 2, dtype=m.long) @ m.ones(2, 1, dtype=m.long),
}


@pytest.mark.parametrize("name", list(PARITY))
def test_parity_with_torch(name):
    _same(PARITY[name])


def test_views_hard_expectations():
    assert fastnn.tensor([1.0]).view(fastnn.int32).tolist() == [1065353216]
    with pytest.raises(RuntimeError, match="divisible by 2"):
        fastnn.ones(3).view(fastnn.float64)
    x = fastnn.ones(3)
    v = x.view(fastnn.int32)
    v[0] = 0
    assert x[0].item() == 0 and x._version == v._version == 1
    with pytest.raises(RuntimeError, match="Use .reshape"):
        fastnn.arange(6.0).view(2, 3).t().view(-1)
    x = fastnn.arange(6.0).view(2, 3)
    y = x.t().view(3, 1, 2)                 # splitting a dim: still a view
    y[0, 0, 0] = 100
    assert x[0, 0].item() == 100
    with pytest.raises(RuntimeError, match="invalid shape dimension -2"):
        fastnn.zeros(4).reshape(-2, 2)


def test_cat_and_indexing_hard_expectations():
    assert fastnn.cat([fastnn.tensor([1]), fastnn.tensor([2.5])]).dtype == np.float32
    assert fastnn.cat([fastnn.zeros(0), fastnn.ones(2, 2)]).shape == (2, 2)
    a, b = fastnn.ones(2, 2, requires_grad=True), fastnn.zeros(0, requires_grad=True)
    fastnn.cat([b, a]).sum().backward()
    assert a.grad.tolist() == [[1.0, 1.0]] * 2 and b.grad.shape == (0,)
    x = fastnn.arange(6).view(2, 3)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        assert x[[fastnn.tensor([0, 1]), fastnn.tensor([2, 0])]].tolist() == [2, 3]
    assert fastnn.arange(12).view(3, 4)[[0, 2]].shape == (2, 4)
    with pytest.warns(UserWarning, match="uint8"):
        assert fastnn.arange(3)[fastnn.tensor([1, 0, 1], dtype=fastnn.uint8)].tolist() == [0, 2]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        fastnn.arange(4)[::-1]
    y = fastnn.arange(12).view(3, 4)
    with pytest.warns(UserWarning):
        y[[[0, 1], [1, 2]]] = -1
    assert y[0, 1].item() == -1 and y[1, 2].item() == -1 and y[0, 0].item() == 0
    with pytest.raises(ValueError, match="step must be greater than zero"):
        y[::-1] = 0


def test_maths_hard_expectations():
    assert (2 ** fastnn.tensor([-1])).tolist() == [0]
    assert (fastnn.tensor([1, -1, -1]) ** fastnn.tensor([-1, -1, -2])).tolist() == [1, -1, 1]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fastnn.tensor([5]) % fastnn.tensor([0])
    s = fastnn.tensor([True]).sign()
    assert s.dtype == np.bool_ and s.tolist() == [True]
    assert fastnn.tensor([True, False]).square().dtype == np.int64
    assert (fastnn.tensor([True, False]) ** True).dtype == np.bool_
    assert fastnn.ones(2, 3).sum(dim=()).item() == 6.0
    assert (fastnn.ones(2) == None) is False and (fastnn.ones(2) != None) is True  # noqa: E711


def test_size_arithmetic_keeps_size():
    torch = requires_torch()
    for ours, theirs in [(fastnn.Size([2]) + (3,), torch.Size([2]) + (3,)),
                         (fastnn.Size([2]) + fastnn.Size([3]), None),
                         ((3,) + fastnn.Size([2]), (3,) + torch.Size([2])),
                         (fastnn.Size([2]) * 2, torch.Size([2]) * 2),
                         (2 * fastnn.Size([2]), 2 * torch.Size([2]))]:
        assert type(ours) is fastnn.Size
        if theirs is not None:
            assert isinstance(theirs, torch.Size) and tuple(ours) == tuple(theirs)
    with pytest.raises(TypeError):
        fastnn.Size([2]) + [3]


def test_matmul_dtype_mismatch_message():
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but "
                                           "got: long int != float"):
        fastnn.ones(1, 2, dtype=fastnn.long) @ fastnn.ones(2, 1)
    with pytest.raises(RuntimeError, match="float != double"):
        fastnn.ones(1, 2) @ fastnn.ones(2, 1, dtype=fastnn.float64)
