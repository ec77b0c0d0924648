"""nn.ParameterList / nn.ParameterDict: registration, state-dict keys,
list / dict protocol, repr, optimiser use, PyTorch parity of the keys."""
from collections import OrderedDict

import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
from fastnn.testing import requires_torch


class Holder(nn.Module):
    def __init__(self):
        super().__init__()
        self.pl = nn.ParameterList([nn.Parameter(fastnn.zeros(3, 4)), fastnn.ones(5)])
        self.pd = nn.ParameterDict({"w": fastnn.ones(2), "b": nn.Parameter(fastnn.zeros(1))})


def test_parameter_list_registration_and_protocol():
    pl = nn.ParameterList([nn.Parameter(fastnn.zeros(3, 4)), fastnn.ones(5)])
    assert len(pl) == 2 and isinstance(pl[1], nn.Parameter) and pl[1].requires_grad
    assert list(pl.state_dict()) == ["0", "1"]
    assert [tuple(p.shape) for p in pl] == [(3, 4), (5,)]
    assert pl[-1] is pl[1]
    pl.append(fastnn.zeros(2)).extend([fastnn.zeros(1), fastnn.zeros(6)])
    pl += [fastnn.zeros(7)]
    assert len(pl) == 6 and list(pl.state_dict()) == [str(i) for i in range(6)]
    assert len(list(pl.parameters())) == 6
    sub = pl[1:3]
    assert isinstance(sub, nn.ParameterList) and sub[0] is pl[1]
    new = nn.Parameter(fastnn.ones(9))
    pl[0] = new
    assert pl[0] is new and pl.state_dict()["0"].shape == (9,)
    with pytest.raises(IndexError):
        pl[6]
    with pytest.raises(TypeError):
        pl.extend(3)
    with pytest.raises(RuntimeError):
        pl(1)


def test_parameter_list_repr():
    pl = nn.ParameterList([nn.Parameter(fastnn.zeros(3, 4)),
                           fastnn.zeros(5, dtype=fastnn.float64)])
    assert repr(pl) == ("ParameterList(\n"
                        "    (0): Parameter containing: [torch.float32 of size 3x4]\n"
                        "    (1): Parameter containing: [torch.float64 of size 5]\n)")
    assert repr(nn.ParameterList()) == "ParameterList()"


def test_parameter_dict_protocol():
    pd = nn.ParameterDict({"w": fastnn.ones(2), "b": nn.Parameter(fastnn.zeros(1))})
    assert list(pd.keys()) == ["b", "w"]                   # a plain dict: sorted keys
    assert list(pd.state_dict()) == ["b", "w"]
    assert isinstance(pd["w"], nn.Parameter) and "w" in pd and len(pd) == 2
    pd.update(OrderedDict([("z", fastnn.zeros(3)), ("a", fastnn.zeros(4))]))   # order kept
    assert list(pd) == ["b", "w", "z", "a"]
    pd["c"] = fastnn.zeros(1)
    assert [k for k, _ in pd.items()] == ["b", "w", "z", "a", "c"]
    assert [tuple(v.shape) for v in pd.values()] == [(1,), (2,), (3,), (4,), (1,)]
    assert tuple(pd.pop("z").shape) == (3,) and "z" not in pd
    del pd["a"]
    assert list(pd.state_dict()) == ["b", "w", "c"]
    assert pd.get("missing") is None
    assert pd.setdefault("d", fastnn.ones(2)) is pd["d"]
    pd.update([("e", fastnn.ones(1))])
    assert len(list(pd.parameters())) == 5
    with pytest.raises(KeyError):
        pd["missing"]
    with pytest.raises(ValueError):
        pd.update([("x",)])
    with pytest.raises(TypeError):
        pd[1] = fastnn.ones(1)
    pd.clear()
    assert len(pd) == 0 and list(pd.state_dict()) == []


def test_parameter_dict_repr():
    pd = nn.ParameterDict({"b": fastnn.zeros(2), "a": fastnn.zeros(1, 3)})
    # PyTorch's ParameterDict names the legacy type (ParameterList the dtype)
    assert repr(pd) == ("ParameterDict(\n"
                        "    (a): Parameter containing: [torch.FloatTensor of size 1x3]\n"
                        "    (b): Parameter containing: [torch.FloatTensor of size 2]\n)")


def test_nested_keys_load_and_optimise():
    m = Holder()
    assert list(m.state_dict()) == ["pl.0", "pl.1", "pd.b", "pd.w"]
    m2 = Holder()
    sd = {k: v + 1 for k, v in m.state_dict().items()}
    m2.load_state_dict(sd)
    np.testing.assert_array_equal(m2.pl[0].detach().numpy(), np.ones((3, 4)))
    opt = fastnn.optim.SGD(m.parameters(), lr=0.5)
    loss = m.pl[0].sum() + m.pd["w"].sum()
    loss.backward()
    opt.step()
    np.testing.assert_allclose(m.pd["w"].detach().numpy(), [0.5, 0.5])


def test_keys_match_torch():
    torch = requires_torch()
    tl = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(3, 4)), torch.ones(5)])
    td = torch.nn.ParameterDict({"w": torch.ones(2), "b": torch.zeros(1)})
    m = Holder()
    assert list(m.pl.state_dict()) == list(tl.state_dict())
    assert list(m.pd.state_dict()) == list(td.state_dict())
    assert repr(m.pl).replace("fastnn", "torch") == repr(tl)


def test_parameter_container_reprs_as_torch():
    torch = pytest.importorskip("torch")
    import fastnn

    def reprs(M):
        nn = M.nn
        m = nn.Module()
        m.one = nn.ParameterList([nn.Parameter(M.ones(2))])
        m.two = nn.ParameterList([nn.Parameter(M.ones(2)), nn.Parameter(M.ones(3, 1))])
        m.d1 = nn.ParameterDict({"x": nn.Parameter(M.ones(2, 3, dtype=M.float64))})
        m.d2 = nn.ParameterDict({"a": nn.Parameter(M.ones(1)), "b": nn.Parameter(M.ones(1))})
        return [repr(m), repr(nn.ParameterList()), repr(nn.ParameterDict()), repr(m.one),
                repr(m.d1)]
    assert reprs(fastnn) == reprs(torch)
