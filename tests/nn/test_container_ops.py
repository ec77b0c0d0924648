"""The container methods PyTorch programs use (Sequential / ModuleList
insert, extend, pop, del, +, +=, *; ModuleDict pop, update, del, in),
layers built from NumPy scalars, and softmax's positional dtype."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn.testing import requires_torch


def _names(c):
    return [type(m).__name__ for m in c]


def _script(M):
    n = M.nn
    out = []
    s = n.Sequential(n.ReLU(), n.Linear(2, 2))
    s.insert(0, n.Tanh())
    out += [_names(s), list(s._modules)]
    s.insert(-1, n.Sigmoid())
    out.append(_names(s))
    del s[1]
    out += [_names(s), list(s._modules)]
    out += [type(s.pop(0)).__name__, list(s._modules)]
    out.append(_names(s + n.Sequential(n.ReLU())))
    s += n.Sequential(n.Tanh())
    out.append(_names(s))
    s.extend([n.ReLU()])
    out += [len(s), len(n.Sequential(n.ReLU()) * 3), len(2 * n.Sequential(n.ReLU()))]
    m = n.ModuleList([n.ReLU()])
    m += [n.Tanh()]
    out.append(_names(m))
    m.insert(1, n.Sigmoid())
    out.append(_names(m))
    del m[0]
    out += [list(m._modules), type(m.pop(0)).__name__]
    m[0] = n.ReLU()
    out += [_names(m), _names(m + n.ModuleList([n.Tanh()]))]
    d = n.ModuleDict({"a": n.ReLU(), "b": n.Tanh()})
    out.append("a" in d)
    del d["a"]
    out.append(list(d.keys()))
    d.update({"c": n.ReLU()})
    out += [list(d.keys()), type(d.pop("b")).__name__]
    d.clear()
    out.append(len(d))
    return out


def test_container_methods_match_torch():
    torch = requires_torch()
    assert _script(fastnn) == _script(torch)


def test_container_methods_without_torch():
    s = nn.Sequential(nn.ReLU(), nn.Linear(2, 2))
    s.insert(1, nn.Tanh())
    assert _names(s) == ["ReLU", "Tanh", "Linear"] and list(s._modules) == ["0", "1", "2"]
    del s[0]
    assert _names(s) == ["Tanh", "Linear"] and list(s._modules) == ["0", "1"]
    with pytest.raises(IndexError):
        s.insert(5, nn.ReLU())
    with pytest.raises(TypeError):
        s.insert(0, "relu")
    with pytest.raises(ValueError):
        s * 0
    assert len(list(s.parameters())) == 2


def test_layers_take_numpy_scalars():
    lin = nn.Linear(np.prod((1, 28, 28)), np.int32(16))
    assert (lin.in_features, lin.out_features) == (784, 16)
    assert type(lin.in_features) is int
    assert nn.MaxPool2d(np.int64(2))(fastnn.ones(1, 1, 4, 4)).shape == (1, 1, 2, 2)
    assert nn.AvgPool2d(np.int64(2))(fastnn.ones(1, 1, 4, 4)).shape == (1, 1, 2, 2)
    assert nn.Dropout(np.float32(0.5)).p == 0.5
    conv = nn.Conv2d(np.int64(3), np.int64(8), (np.int64(3), 3), padding=np.int64(1))
    assert conv(fastnn.ones(1, 3, 5, 5)).shape == (1, 8, 5, 5)
    assert nn.BatchNorm2d(np.int64(4)).num_features == 4
    assert nn.LSTMCell(np.int64(3), np.int64(4))(fastnn.ones(2, 3))[0].shape == (2, 4)
    assert nn.Softmax(dim=np.int64(1))(fastnn.ones(2, 2)).numpy().tolist() == [[0.5] * 2] * 2
    assert nn.Embedding(np.int64(10), np.int64(3)).weight.shape == (10, 3)


def test_softmax_positional_dtype():
    F = fastnn.nn.functional
    x = fastnn.ones(2, 3)
    for y in (F.softmax(x, 1, 3, fastnn.float64), F.log_softmax(x, 1, 3, fastnn.float64),
              F.softmin(x, 1, 3, fastnn.float64), fastnn.softmax(x, 1, fastnn.float64),
              fastnn.log_softmax(x, 1, fastnn.float64), F.softmax(x, 1, dtype=fastnn.float64)):
        assert y.dtype == fastnn.float64
    assert F.softmax(x, 1, 3).dtype == fastnn.float32
    np.testing.assert_allclose(F.softmax(x, 1, 3, fastnn.float64).numpy(), 1 / 3)
