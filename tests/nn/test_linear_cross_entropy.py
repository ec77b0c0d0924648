"""F.linear_cross_entropy (PyTorch 2.13): the loss of a linear layer's
logits, its values and gradients against PyTorch."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F

rng = np.random.default_rng(0)
X, W, B = (rng.standard_normal(s) for s in [(6, 4), (5, 4), (5,)])
T = np.array([0, 1, 4, 2, -100, 3])
CW = rng.uniform(0.5, 2.0, 5)


@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"},
                                {"label_smoothing": 0.1}, {"ignore_index": 3},
                                {"bias": True, "weight": True}, {"ignore_index": None}])
def test_linear_cross_entropy_matches_torch(kw):
    torch = pytest.importorskip("torch")
    res = []
    for lib, f in ((fastnn, F), (torch, torch.nn.functional)):
        x = lib.tensor(X, requires_grad=True)
        w = lib.tensor(W, requires_grad=True)
        args = dict(kw)
        b = lib.tensor(B, requires_grad=True) if args.pop("bias", False) else None
        if args.pop("weight", False):
            args["weight"] = lib.tensor(CW)
        # (-100 is a label out of range once another ignore_index is given)
        t = T if args.get("ignore_index", None) in (None, -100) else np.abs(T) % 5
        loss = f.linear_cross_entropy(x, w, lib.tensor(t), linear_bias=b, **args)
        loss.sum().backward()
        res.append([np.array(loss.detach().numpy()), np.array(x.grad.numpy()),
                    np.array(w.grad.numpy())] + ([] if b is None else [np.array(b.grad.numpy())]))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_linear_cross_entropy_bad_label_is_an_index_error():
    with pytest.raises(IndexError, match="out of bounds"):
        F.linear_cross_entropy(fastnn.tensor(X), fastnn.tensor(W), fastnn.tensor(T),
                               ignore_index=3)
