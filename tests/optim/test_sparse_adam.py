"""optim.SparseAdam against torch.optim.SparseAdam on Embedding(sparse=True)
tables (a recommender with a padding row, so some looked-up rows get an
exactly-zero gradient): the lazily updated rows, moments, step counts and a
state_dict round trip; the argument errors."""
import copy

import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch


def _run(lib, kw, steps=6, reload_at=None):
    class Rec(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.user = lib.nn.Embedding(20, 4, sparse=True)
            self.item = lib.nn.Embedding(30, 4, sparse=True, padding_idx=0)
            self.out = lib.nn.Linear(4, 1)

        def forward(self, u, i):
            return self.out(self.user(u) * self.item(i)).squeeze(1)
    m = Rec()
    rng = np.random.default_rng(5)
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(lib.tensor((rng.standard_normal(tuple(p.shape)) * 0.3).astype(np.float32)))
        m.item.weight[0] = 0.0
    tables = list(m.user.parameters()) + list(m.item.parameters())
    so = lib.optim.SparseAdam(tables, **kw)
    do = lib.optim.Adam(m.out.parameters(), lr=0.01)
    data = np.random.default_rng(6)
    losses = []
    for step in range(steps):
        if step == reload_at:
            sd = copy.deepcopy(so.state_dict())
            so = lib.optim.SparseAdam(tables, **kw)
            so.load_state_dict(sd)
        u = lib.tensor(data.integers(0, 20, 8))
        i = lib.tensor(np.where(np.arange(8) < 2, 0, data.integers(0, 30, 8)))   # padding items
        r = lib.tensor(data.standard_normal(8).astype(np.float32))
        so.zero_grad()
        do.zero_grad()
        loss = lib.nn.functional.mse_loss(m(u, i), r)
        loss.backward()
        so.step()
        do.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy().copy() for p in m.parameters()], so.state_dict()


@pytest.mark.parametrize("kw", [dict(lr=0.05), dict(lr=0.1, betas=(0.5, 0.9), eps=1e-4,
                                                    maximize=True)])
def test_sparse_adam_matches_torch(kw):
    torch = requires_torch()
    fl, fp, fs = _run(fastnn, kw)
    tl, tp, ts = _run(torch, kw)
    np.testing.assert_allclose(fl, tl, rtol=1e-5)
    for a, b in zip(fp, tp):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for k in ts["state"]:
        assert fs["state"][k]["step"] == ts["state"][k]["step"]
        assert type(fs["state"][k]["step"]) is int
        for key in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_allclose(fs["state"][k][key].numpy(), ts["state"][k][key].numpy(),
                                       rtol=1e-5, atol=1e-7)
    assert fs["param_groups"] == ts["param_groups"]


def test_sparse_adam_round_trip_and_untouched_rows():
    a = _run(fastnn, dict(lr=0.05))[1]
    b = _run(fastnn, dict(lr=0.05), reload_at=3)[1]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    emb = fastnn.nn.Embedding(6, 2, sparse=True)
    before = emb.weight.detach().numpy().copy()
    opt = fastnn.optim.SparseAdam(emb.parameters(), lr=0.1)
    (emb(fastnn.tensor([1, 4])) * 0).sum().backward()        # zero gradients, rows noted
    opt.step()
    after = emb.weight.detach().numpy()
    np.testing.assert_array_equal(after, before)              # zero moments: no move
    assert opt.state[emb.weight]["step"] == 1
    assert "_sparse_rows" not in emb.weight.__dict__


def test_sparse_adam_argument_errors():
    params = fastnn.nn.Embedding(2, 2, sparse=True).parameters
    for bad, msg in ((dict(lr=0.0), "learning rate"), (dict(eps=0.0), "epsilon"),
                     (dict(betas=(1.0, 0.9)), "index 0"), (dict(betas=(0.9, -0.1)), "index 1")):
        with pytest.raises(ValueError, match=msg):
            fastnn.optim.SparseAdam(params(), **bad)


@pytest.mark.parametrize("how", ["optimizer", "module", "module_zeros"])
def test_zero_grad_forgets_the_looked_up_rows(how):
    """A backward whose gradient is then dropped (``zero_grad``) leaves no
    rows behind: PyTorch's sparse gradient (and its indices) is gone, so the
    next step touches only the rows of the next backward."""
    emb = fastnn.nn.Embedding(6, 2, sparse=True)
    opt = fastnn.optim.SparseAdam(emb.parameters(), lr=0.1)
    emb(fastnn.tensor([1, 2])).sum().backward()
    opt.step()                                    # rows 1, 2 now have moments
    emb(fastnn.tensor([1])).sum().backward()
    {"optimizer": opt.zero_grad, "module": emb.zero_grad,
     "module_zeros": lambda: emb.zero_grad(set_to_none=False)}[how]()
    before = emb.weight.detach().numpy().copy()
    emb(fastnn.tensor([3])).sum().backward()
    opt.step()
    moved = np.any(emb.weight.detach().numpy() != before, axis=1)
    assert moved.tolist() == [False, False, False, True, False, False]


def test_dense_gradient_is_refused_as_torch():
    """A gradient that no sparse=True lookup made is what PyTorch calls a
    dense gradient: SparseAdam's step raises its RuntimeError (and leaves
    the parameter alone)."""
    lin = fastnn.nn.Linear(3, 2)
    before = lin.weight.detach().numpy().copy()
    opt = fastnn.optim.SparseAdam([lin.weight])
    lin(fastnn.ones(4, 3)).sum().backward()
    with pytest.raises(RuntimeError, match="dense gradients"):
        opt.step()
    np.testing.assert_array_equal(lin.weight.detach().numpy(), before)
    torch = pytest.importorskip("torch")
    tl = torch.nn.Linear(3, 2)
    topt = torch.optim.SparseAdam([tl.weight])
    tl(torch.ones(4, 3)).sum().backward()
    with pytest.raises(RuntimeError, match="dense gradients"):
        topt.step()
