"""Optimizer introspection compared with torch.optim: state_dict() holds the
live state by reference, and the groups' keys come in torch's order."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

RULES = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam",
         "RAdam", "ASGD", "Rprop", "Adafactor"]


def _stepped(m, name):
    p = m.nn.Parameter(m.ones(3))
    q = m.nn.Parameter(m.ones(2))
    kw = dict(momentum=0.9) if name == "SGD" else {}
    opt = getattr(m.optim, name)([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1, **kw)
    for _ in range(2):
        p.grad = m.ones(3)
        q.grad = m.ones(2)
        opt.step()
    return p, opt


@pytest.mark.parametrize("name", RULES)
def test_state_dict_by_reference_and_group_key_order(name):
    got, want = [], []
    for m, out in ((fastnn, got), (torch, want)):
        p, opt = _stepped(m, name)
        sd = opt.state_dict()
        out.append(sd["state"][0] is opt.state[p])
        out.append([(k, v is opt.state[p][k]) for k, v in sd["state"][0].items()])
        out.append([list(g) for g in sd["param_groups"]])
        out.append(sd["param_groups"][0] is opt.param_groups[0])
        out.append([g["params"] for g in sd["param_groups"]])
    assert got == want


def test_state_dict_sees_later_steps_like_torch():
    p, opt = _stepped(fastnn, "Adam")
    sd = opt.state_dict()
    before = sd["state"][0]["exp_avg"].numpy().copy()
    step = float(sd["state"][0]["step"])
    p.grad = fastnn.ones(3)
    opt.step()
    assert float(sd["state"][0]["step"]) == step + 1
    assert not np.array_equal(sd["state"][0]["exp_avg"].numpy(), before)
