"""dtypes print as PyTorch's ('torch.float32'), so programs that compare or
split the text run unchanged, and still stand in for NumPy's dtypes."""
import copy
import pickle

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")
NAMES = ["float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool", "float",
         "double", "long", "int", "short", "half", "float16"]


@pytest.mark.parametrize("name", NAMES)
def test_dtype_str_repr_and_queries_are_torchs(name):
    ours, theirs = getattr(fastnn, name), getattr(torch, name)
    assert str(ours) == str(theirs) and repr(ours) == repr(theirs)
    assert f"{ours}" == f"{theirs}"
    assert str(ours).split(".")[-1] == str(theirs).split(".")[-1]
    for q in ("is_floating_point", "is_complex", "is_signed", "itemsize"):
        assert getattr(ours, q) == getattr(theirs, q), q
    assert isinstance(ours, fastnn.dtype)


def test_tensor_dtype_text_and_numpy_interop():
    x = fastnn.ones(2)
    assert str(x.dtype) == "torch.float32" and x.dtype == fastnn.float32
    assert x.dtype == np.float32 and x.dtype == np.dtype("float32") and np.float32 == x.dtype
    assert x.dtype != fastnn.float64 and x.dtype != None  # noqa: E711
    assert np.zeros(2, dtype=x.dtype).dtype == np.float32
    assert np.arange(3).astype(fastnn.int32).dtype == np.int32
    assert {np.dtype(np.float32): 1}[x.dtype] == 1 and {fastnn.float32: 2}[np.dtype("f4")] == 2
    assert x.dtype.kind == "f" and x.dtype.type is np.float32
    assert pickle.loads(pickle.dumps(fastnn.int64)) is fastnn.int64
    assert copy.deepcopy(fastnn.bool) is fastnn.bool
    assert fastnn.zeros(2, dtype=fastnn.int64).dtype is fastnn.int64
    with pytest.raises(TypeError):
        fastnn.dtype("float32")


def test_tensor_repr_with_dtype_is_torchs():
    for dt in ("float64", "int32", "int16", "uint8"):
        a = [[1, 2], [3, 4]]
        assert repr(fastnn.tensor(a, dtype=getattr(fastnn, dt))) == \
            repr(torch.tensor(a, dtype=getattr(torch, dt)))


def test_saved_dtype_comes_back_a_fastnn_dtype(tmp_path):
    fastnn.save({"d": fastnn.float64, "n": np.dtype(np.int32)}, tmp_path / "d")
    back = fastnn.load(tmp_path / "d")
    assert str(back["d"]) == "torch.float64" and back["n"] == fastnn.int32
    assert isinstance(back["n"], fastnn.dtype)


def test_parameter_list_repr_names_the_dtype_as_torch():
    assert "[torch.float64 of size 2]" in repr(
        fastnn.nn.ParameterList([fastnn.nn.Parameter(fastnn.zeros(2, dtype=fastnn.float64))]))


def test_bfloat16_is_a_dtype_for_autocast_only():
    assert isinstance(fastnn.bfloat16, fastnn.dtype) and isinstance(torch.bfloat16, torch.dtype)
    assert str(fastnn.bfloat16) == str(torch.bfloat16)
    assert fastnn.bfloat16 != fastnn.float16 and fastnn.float32 != fastnn.bfloat16
    assert pickle.loads(pickle.dumps(fastnn.bfloat16)) is fastnn.bfloat16
    with fastnn.autocast("cpu", dtype=fastnn.bfloat16):
        assert fastnn.get_autocast_dtype("cpu") is fastnn.bfloat16
    with pytest.raises(TypeError):
        fastnn.zeros(2, dtype=fastnn.bfloat16)
