"""clamp / clip / clamp_ bounds as PyTorch's overloads take them: two Tensors
or two numbers (a 0-d Tensor counts as a number); a Tensor with dims next to
a number is a TypeError."""
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _bound(L, b):
    if b == "0d":
        return L.tensor(0.5)
    return L.tensor(b) if isinstance(b, list) else b


def _call(L, how, lo, hi):
    x = L.tensor([-1.0, 0.5, 3.0])
    lo, hi = _bound(L, lo), _bound(L, hi)
    try:
        if how == "function":
            r = L.clamp(x, lo, hi)
        elif how == "clip":
            r = L.clip(x, lo, hi)
        elif how == "method":
            r = x.clamp(lo, hi)
        elif how == "keywords":
            r = x.clamp(min=lo, max=hi)
        else:
            r = x.clamp_(lo, hi)
    except Exception as e:          # noqa: BLE001 (the type is what is compared)
        return type(e).__name__
    return r.tolist()


@pytest.mark.parametrize("how", ["function", "clip", "method", "keywords", "inplace"])
@pytest.mark.parametrize("lo,hi", [([0.0, 0.0, 0.0], 2.0), (0.0, [1.0, 1.0, 1.0]),
                                   ([0.0, 0.0, 0.0], None), ([0.0, 0.0, 0.0], [2.0, 2.0, 2.0]),
                                   (0.0, 2.0), ("0d", 2.0), (1, "0d"), ("0d", [2.0, 2.0, 2.0])],
                         ids=["tensor-number", "number-tensor", "tensor-none", "tensors",
                              "numbers", "0d-number", "int-0d", "0d-tensor"])
def test_clamp_bound_kinds_match_torch(how, lo, hi):
    assert _call(fastnn, how, lo, hi) == _call(torch, how, lo, hi)


def test_clamp_mixed_bounds_message_names_the_combination():
    with pytest.raises(TypeError, match=r"clamp\(\) received an invalid combination of "
                                        r"arguments - got \(Tensor, Tensor, float\)"):
        fastnn.clamp(fastnn.ones(3), fastnn.zeros(3), 2.0)
