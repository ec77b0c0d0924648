"""Module.forward takes PyTorch's parameter names, so keyword calls and
forward hooks with kwargs see the same names."""
import inspect

import pytest

import fastnn

torch = pytest.importorskip("torch")

_SKIP = {"Module", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "RNNBase",
         "RNNCellBase", "AdaptiveLogSoftmaxWithLoss"}


def test_forward_parameter_names_match_torch():
    bad = []
    for name in dir(torch.nn):
        tc, fc = getattr(torch.nn, name), getattr(fastnn.nn, name, None)
        if (name in _SKIP or not isinstance(tc, type) or not issubclass(tc, torch.nn.Module)
                or not isinstance(fc, type)):
            continue
        try:
            want = list(inspect.signature(tc.forward).parameters)[1:]
            got = list(inspect.signature(fc.forward).parameters)[1:]
        except (TypeError, ValueError):
            continue
        if want != got:
            bad.append((name, want, got))
    assert bad == []


def test_forward_hook_with_kwargs_sees_input():
    seen = []
    lin = fastnn.nn.Linear(2, 1)
    lin.register_forward_hook(lambda m, a, k, o: seen.append(sorted(k)), with_kwargs=True)
    lin(input=fastnn.ones(1, 2))
    assert seen == [["input"]]
