"""default_collate / default_convert against torch.utils.data's: the same
structure (container types, namedtuples, lists for tuples), dtypes, shapes
and values, and the same errors."""
import collections

import numpy as np
import pytest

import fastnn
from fastnn.utils.data import default_collate, default_convert
from fastnn.utils.data._utils.collate import collate, default_collate_fn_map

Point = collections.namedtuple("Point", ["x", "y"])


def _samples(rng):
    f32 = rng.normal(size=(2, 3)).astype(np.float32)
    return {
        "tensors": [fastnn.tensor(f32[0]), fastnn.tensor(f32[1])],
        "arrays": [f32[0], f32[1]],
        "uint8": [np.arange(4, dtype=np.uint8), np.arange(4, 8, dtype=np.uint8)],
        "int32": [np.arange(3, dtype=np.int32)] * 2,
        "f64": [rng.normal(size=(2, 2)), rng.normal(size=(2, 2))],
        "0d": [np.array(1.5), np.array(2.5)],
        "np_scalars": [np.float32(0.5), np.float32(1.5)],
        "np_int_scalars": [np.int32(3), np.int32(4)],
        "ints": [3, 4],
        "floats": [0.1, 2.0],
        "bools": [True, False],
        "mixed_int_float": [1, 2.5],
        "strings": ["a", "b"],
        "tuples": [(f32[0], 1, "a"), (f32[1], 2, "b")],
        "lists": [[1, 2.0], [3, 4.0]],
        "dicts": [{"img": f32[0], "label": 1, "meta": {"id": "x"}},
                  {"img": f32[1], "label": 0, "meta": {"id": "y"}}],
        "ordered": [collections.OrderedDict(b=1, a=2.0), collections.OrderedDict(b=3, a=4.0)],
        "namedtuples": [Point(np.zeros(2, np.float32), 1), Point(np.ones(2, np.float32), 2)],
        "nested": [[(1, {"k": np.zeros(1)})], [(2, {"k": np.ones(1)})]],
    }


def _to_torch(x, torch):
    if isinstance(x, fastnn.Tensor):
        return torch.from_numpy(x.numpy().copy())
    if isinstance(x, dict):
        return type(x)((k, _to_torch(v, torch)) for k, v in x.items())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(_to_torch(v, torch) for v in x))
    if isinstance(x, (list, tuple)):
        return type(x)(_to_torch(v, torch) for v in x)
    return x


def _same(ours, theirs, torch, where):
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, fastnn.Tensor), where
        assert str(ours.dtype) == str(theirs.dtype), where
        assert tuple(ours.shape) == tuple(theirs.shape), where
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=where)
        return
    assert type(ours) is type(theirs), (where, type(ours), type(theirs))
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), where
        for k in theirs:
            _same(ours[k], theirs[k], torch, f"{where}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _same(a, b, torch, f"{where}[{i}]")
    else:
        assert ours == theirs, where


@pytest.mark.parametrize("case", list(_samples(np.random.default_rng(0))))
def test_default_collate_matches_torch(case):
    torch = fastnn.testing.requires_torch()
    from torch.utils.data import default_collate as torch_collate
    batch = _samples(np.random.default_rng(0))[case]
    ours = default_collate(batch)
    theirs = torch_collate(_to_torch(batch, torch))
    _same(ours, theirs, torch, case)


@pytest.mark.parametrize("case", ["arrays", "np_scalars", "ints", "tuples", "dicts",
                                  "namedtuples", "strings"])
def test_default_convert_matches_torch(case):
    torch = fastnn.testing.requires_torch()
    from torch.utils.data import default_convert as torch_convert
    sample = _samples(np.random.default_rng(0))[case][0]
    _same(default_convert(sample), torch_convert(_to_torch(sample, torch)), torch, case)


def test_errors_match_torch():
    torch = fastnn.testing.requires_torch()
    from torch.utils.data import default_collate as torch_collate
    cases = [
        [np.zeros(3, np.float32), np.zeros(2, np.float32)],
        [[1, 2], [1]],
        [object()],
        [np.array(["a"])],
    ]
    for batch in cases:
        with pytest.raises(Exception) as theirs:
            torch_collate(batch)
        with pytest.raises(type(theirs.value)) as ours:
            default_collate(batch)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([fastnn.zeros(3), fastnn.zeros(2)])


def test_batches_are_tensors_and_do_not_alias_samples():
    a = np.zeros(3, np.float32)
    out = default_collate([a, a])
    assert isinstance(out, fastnn.Tensor) and out.shape == (2, 3)
    out.numpy()[...] = 1
    assert a.sum() == 0


def test_custom_collate_fn_map():
    def tensor_as_list(batch, *, collate_fn_map=None):
        return [t.tolist() for t in batch]
    fmap = dict(default_collate_fn_map)
    fmap[fastnn.Tensor] = tensor_as_list
    out = collate([(fastnn.tensor([1.0]), 2), (fastnn.tensor([3.0]), 4)], collate_fn_map=fmap)
    assert out[0] == [[1.0], [3.0]] and out[1].tolist() == [2, 4]


def test_tensors_requiring_grad_keep_the_graph():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    out = default_collate([x, x * 2])
    out.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [3.0, 3.0])
