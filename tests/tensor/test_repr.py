"""Tensors print as PyTorch prints them (the dtype's name aside)."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

CASES = [[1.5, 2.25], [1.0, 2.0, 3.0], [0.0, 0.0], [1e-5, 1.0], [1e9, 1.0],
         [float("nan"), 1.5], [float("inf"), 2.0], [-0.0, 1.0], [[1.123, -22.5], [3.0, 4.0]],
         [100.0, 1e5], [123456.7, 2.0], [-1.5e-5, 3.2], 3.0, 2.5, [[0.5]], [1, 2, 3],
         [[1, -20], [3, 4]], [True, False], [], 7]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_repr_matches_torch(case, dtype):
    torch = requires_torch()
    c = CASES[case]
    if dtype and np.asarray(c).dtype.kind not in "f":
        pytest.skip("float64 only for float data")
    a = repr(fastnn.tensor(c, dtype=getattr(fastnn, dtype) if dtype else None))
    b = repr(torch.tensor(c, dtype=getattr(torch, dtype) if dtype else None))
    assert a.replace("fastnn.", "torch.") == b


def test_repr_with_grad_and_options():
    torch = requires_torch()
    for opts in ({"precision": 2}, {"sci_mode": True}, {"sci_mode": False},
                 {"profile": "short"}):
        try:
            fastnn.set_printoptions(**opts)
            torch.set_printoptions(**opts)
            for c in ([1.23456, 2.0], [1e-8, 2e5], [[3.0, -1.0], [0.5, 2.0]]):
                assert repr(fastnn.tensor(c)) == repr(torch.tensor(c))
        finally:
            fastnn.set_printoptions(profile="default")
            torch.set_printoptions(profile="default")
    x = fastnn.tensor([1.5], requires_grad=True)
    assert repr(x) == "tensor([1.5000], requires_grad=True)"


def test_bool_empty_and_summarised_reprs_match_torch():
    # True alone is not padded to False's width; an empty tensor of more than
    # one dim gives its size; a summarised row has two spaces before "..."
    torch = requires_torch()

    def reprs(M):
        return [repr(M.tensor([True])), repr(M.tensor([[True], [True]])),
                repr(M.tensor([True, False])), repr(M.ones(2000) > 0),
                repr(M.zeros(2, 0)), repr(M.zeros(0, 3, dtype=M.long)),
                repr(M.zeros(1, 0, dtype=M.bool)), repr(M.zeros(0, dtype=M.bool)),
                repr(M.zeros(2, 0, requires_grad=True)), repr(M.zeros(0)),
                repr(M.arange(3000)), repr(M.arange(3000.0).view(60, 50) / 7),
                repr(M.arange(1200).view(2, 600)), repr(M.arange(1200.0).view(3, 400) * 1.5),
                repr(M.arange(1200.0).view(400, 3))]
    assert reprs(fastnn) == reprs(torch)
