"""``nn.utils.prune`` against PyTorch's: the pruning tutorial's calls
(l1_unstructured, ln_structured, iterative pruning, global_unstructured,
custom_from_mask, remove), masks, state-dict keys, outputs and gradients
from the same weights."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

RNG = np.random.default_rng(3)


def _prune(M):
    import importlib
    return importlib.import_module(M.__name__ + ".nn.utils.prune")


def _pair():
    torch = requires_torch()
    mods = {}
    w, b = RNG.normal(size=(6, 2, 3, 3)), RNG.normal(size=6)
    for M in (torch, fastnn):
        m = M.nn.Conv2d(2, 6, 3).double()
        with M.no_grad():
            m.weight.copy_(M.tensor(w))
            m.bias.copy_(M.tensor(b))
        mods[M.__name__] = (M, m)
    return mods


def _check_same(mods, x0):
    res = {}
    for name, (M, m) in mods.items():
        x = M.tensor(x0)
        m.zero_grad()
        y = m(x)
        (y ** 2).sum().backward()
        res[name] = (y.detach().numpy(), {k: v.detach().numpy() for k, v in
                                          m.state_dict().items()},
                     {k: p.grad.numpy() for k, p in m.named_parameters()})
    a, b = res["fastnn"], res["torch"]
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=1e-12)
    assert list(a[1]) == list(b[1])
    for k in a[1]:
        np.testing.assert_allclose(a[1][k], b[1][k], rtol=1e-12, atol=1e-12)
    assert list(a[2]) == list(b[2])
    for k in a[2]:
        np.testing.assert_allclose(a[2][k], b[2][k], rtol=1e-12, atol=1e-12)


def test_tutorial_sequence_matches_torch():
    mods = _pair()
    x0 = RNG.normal(size=(2, 2, 5, 5))
    for name, (M, m) in mods.items():
        P = _prune(M)
        P.l1_unstructured(m, name="bias", amount=3)
        P.ln_structured(m, name="weight", amount=0.5, n=2, dim=0)
    _check_same(mods, x0)
    for name, (M, m) in mods.items():
        P = _prune(M)
        assert P.is_pruned(m)
        assert sorted(k for k, _ in m.named_buffers()) == ["bias_mask", "weight_mask"]
        P.l1_unstructured(m, name="weight", amount=0.3)       # iterative: a container
        hooks = [h for h in m._forward_pre_hooks.values()]
        assert any(isinstance(h, P.PruningContainer) and len(h) == 2 for h in hooks)
    _check_same(mods, x0)
    for name, (M, m) in mods.items():
        _prune(M).remove(m, "weight")
        assert not hasattr(m, "weight_orig") and "weight" in dict(m.named_parameters())
    _check_same(mods, x0)


def test_global_unstructured_and_custom_mask_match_torch():
    torch = requires_torch()
    w1, w2 = RNG.normal(size=(5, 4)), RNG.normal(size=(3, 5))
    mask = (RNG.random((3, 5)) > 0.5).astype(np.float64)
    out = {}
    for M in (torch, fastnn):
        net = M.nn.Sequential(M.nn.Linear(4, 5), M.nn.ReLU(), M.nn.Linear(5, 3)).double()
        with M.no_grad():
            net[0].weight.copy_(M.tensor(w1))
            net[2].weight.copy_(M.tensor(w2))
            net[0].bias.zero_()
            net[2].bias.zero_()
        P = _prune(M)
        P.custom_from_mask(net[2], "weight", M.tensor(mask))
        P.global_unstructured([(net[0], "weight"), (net[2], "weight")],
                              pruning_method=P.L1Unstructured, amount=0.4)
        out[M.__name__] = [net[0].weight_mask.numpy(), net[2].weight_mask.numpy(),
                           net(M.ones(2, 4, dtype=M.float64)).detach().numpy()]
    for a, b in zip(out["fastnn"], out["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    alive = 20 + mask.sum()           # the custom mask pruned some already
    assert out["fastnn"][0].sum() + out["fastnn"][1].sum() == alive - round(0.4 * alive)


def test_random_pruning_counts_and_errors():
    P = fastnn.nn.utils.prune
    m = fastnn.nn.Linear(10, 10)
    P.random_unstructured(m, "weight", amount=0.25)
    assert int((m.weight_mask.numpy() == 0).sum()) == 25
    m2 = fastnn.nn.Linear(10, 10)          # (a vector cannot be pruned structurally)
    P.random_structured(m2, "weight", amount=2, dim=0)
    assert int((m2.weight_mask.numpy() == 0).sum()) == 20
    assert int((m2.weight_mask.numpy().sum(1) == 0).sum()) == 2
    np.testing.assert_array_equal(m.weight.detach().numpy(),
                                  (m.weight_orig * m.weight_mask).detach().numpy())
    with pytest.raises(ValueError, match="amount"):
        P.l1_unstructured(fastnn.nn.Linear(2, 2), "weight", amount=1.5)
    with pytest.raises(ValueError, match="smaller than the number"):
        P.l1_unstructured(fastnn.nn.Linear(2, 2), "weight", amount=5)
    with pytest.raises(ValueError, match="has to be pruned"):
        P.remove(fastnn.nn.Linear(2, 2), "weight")
    assert not P.is_pruned(fastnn.nn.Linear(2, 2))


def test_custom_method_gets_and_returns_tensors_like_torch():
    # the tutorial's custom method: compute_mask receives Tensors (t and
    # default_mask) and returns one, so torch-style tensor code runs
    # unchanged: directly, inside a PruningContainer (iterative pruning,
    # where it sees only the entries still kept), through .prune() and as
    # global_unstructured's method
    torch = requires_torch()
    masks = {}
    for M in (torch, fastnn):
        P = _prune(M)

        class FooBar(P.BasePruningMethod):
            PRUNING_TYPE = "unstructured"

            def compute_mask(self, t, default_mask):
                assert isinstance(t, M.Tensor) and isinstance(default_mask, M.Tensor)
                mask = default_mask.clone()
                mask.view(-1)[::2] = 0
                return mask

        lin = M.nn.Linear(4, 5).double()
        with M.no_grad():
            lin.weight.copy_(M.tensor(np.arange(20.0).reshape(5, 4) * 1.1 - 7.3))
            lin.bias.copy_(M.tensor(np.arange(5.0) - 2))
        FooBar.apply(lin, "bias")
        P.l1_unstructured(lin, "weight", amount=0.25)
        FooBar.apply(lin, "weight")               # in a container: kept entries only
        other = M.nn.Linear(3, 2).double()
        P.global_unstructured([(other, "weight"), (other, "bias")], pruning_method=FooBar)
        direct = FooBar().prune(M.ones(2, 3, dtype=M.float64))
        masks[M.__name__] = [lin.bias_mask, lin.weight_mask, other.weight_mask,
                             other.bias_mask, direct]
    for a, b in zip(masks["fastnn"], masks["torch"]):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("how", ["random_structured", "ln_structured"])
def test_structured_pruning_of_a_vector_raises_and_leaves_the_module_like_torch(how):
    torch = requires_torch()
    for M in (torch, fastnn):
        P = _prune(M)
        lin = M.nn.Linear(4, 2)
        kw = dict(amount=1, dim=0) if how == "random_structured" else dict(amount=1, n=2, dim=0)
        with pytest.raises(ValueError, match="multidimensional tensors. Found tensor of shape"):
            getattr(P, how)(lin, "bias", **kw)
        assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
        assert list(lin.named_buffers()) == [] and not P.is_pruned(lin)
        assert lin(M.ones(3, 4)).shape == (3, 2)
