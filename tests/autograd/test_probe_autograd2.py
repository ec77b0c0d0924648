"""Autograd and introspection details compared with PyTorch: node classes,
node names, inference mode, optimizer state dicts, dtype comparisons."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _pair(fn):
    """fn(module, a, b) for torch and fastnn, on the same leaves."""
    rng = np.random.default_rng(0)
    A = (rng.random((3, 4)) + 0.5).astype(np.float32)
    B = (rng.random((3, 4)) + 0.5).astype(np.float32)
    out = []
    for m in (torch, fastnn):
        a = m.tensor(A, requires_grad=True)
        b = m.tensor(B, requires_grad=True)
        out.append(fn(m, a, b))
    return out


def test_grad_fn_type_name_is_the_node_name():
    for fn in (lambda m, a, b: a * b, lambda m, a, b: a.sum(1), lambda m, a, b: (a @ b.t()),
               lambda m, a, b: a.relu(), lambda m, a, b: a.exp()):
        ty, fy = _pair(fn)
        assert type(fy.grad_fn).__name__ == type(ty.grad_fn).__name__
        assert type(fy.grad_fn).__name__ == fy.grad_fn.name()
        assert repr(fy.grad_fn).startswith(f"<{type(ty.grad_fn).__name__} object at 0x")
    ty, fy = _pair(lambda m, a, b: a * b)
    assert fy.grad_fn is fy.grad_fn
    assert type(fy.grad_fn) is type(((fy + 1) * 2).grad_fn.next_functions[0][0].next_functions[0][0])


def test_next_functions_match_torch():
    ty, fy = _pair(lambda m, a, b: (a * 2 + b.detach()).relu())
    def walk(node):
        if node is None:
            return None
        return (type(node).__name__, node.name() if hasattr(node, "name") else None,
                tuple((walk(n), i) for n, i in node.next_functions))

    assert walk(fy.grad_fn) == walk(ty.grad_fn)
    x = fastnn.ones(2, requires_grad=True)
    y = x * x
    acc = y.grad_fn.next_functions[0][0]
    assert type(acc).__name__ == "AccumulateGrad" and acc.variable is x
    assert y.grad_fn.next_functions[1][0] is acc
