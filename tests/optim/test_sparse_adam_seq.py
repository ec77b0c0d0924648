"""optim.SparseAdam against torch.optim.SparseAdam on sparse embedding
gradients (a skip-gram step with negative sampling): values, untouched
rows, state, maximize, hyper-parameter errors."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch


def _skipgram_run(lib, steps=5, **kw):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((12, 4)).astype(np.float32)
    u = lib.nn.Embedding(12, 4, sparse=True)
    v = lib.nn.Embedding(12, 4, sparse=True)
    with lib.no_grad():
        u.weight.copy_(lib.from_numpy(w))
        v.weight.copy_(lib.from_numpy(w[::-1].copy()))
    opt = lib.optim.SparseAdam(list(u.parameters()) + list(v.parameters()), lr=0.05, **kw)
    losses = []
    for _ in range(steps):
        pu, pv = lib.from_numpy(rng.integers(0, 8, 5)), lib.from_numpy(rng.integers(0, 8, 5))
        nv = lib.from_numpy(rng.integers(0, 8, (5, 3)))
        eu = u(pu)
        pos = -lib.nn.functional.logsigmoid((eu * v(pv)).sum(1).clamp(-10, 10))
        neg = lib.bmm(v(nv), eu.unsqueeze(2)).squeeze(2).clamp(-10, 10)
        loss = (pos - lib.nn.functional.logsigmoid(-neg).sum(1)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, u.weight.detach().numpy().copy(), opt


@pytest.mark.parametrize("kw", [{}, {"maximize": True}, {"betas": (0.5, 0.9), "eps": 1e-3}])
def test_sparse_adam_matches_torch(kw):
    # fastnn had no optim.SparseAdam (the word2vec tutorials' optimiser)
    torch = requires_torch()
    tl, tw, topt = _skipgram_run(torch, **kw)
    fl, fw, fopt = _skipgram_run(fastnn, **kw)
    np.testing.assert_allclose(fl, tl, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fw, tw, rtol=1e-5, atol=1e-6)
    ts, fs = topt.state_dict()["state"][0], fopt.state_dict()["state"][0]
    assert sorted(ts) == sorted(fs) and fs["step"] == ts["step"] == 5
    np.testing.assert_allclose(fs["exp_avg_sq"].numpy(), ts["exp_avg_sq"].numpy(), rtol=1e-5,
                               atol=1e-8)
    # rows 8..11 are never looked up: unchanged, as PyTorch's lazy update
    np.testing.assert_array_equal(fw[8:], tw[8:])


def test_sparse_adam_bad_hyper_parameters():
    w = fastnn.nn.Parameter(fastnn.zeros(3, 2))
    for kw in ({"lr": 0.0}, {"eps": 0.0}, {"betas": (1.0, 0.9)}):
        with pytest.raises(ValueError):
            fastnn.optim.SparseAdam([w], **kw)
