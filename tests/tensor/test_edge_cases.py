"""Edge shapes for the non-elementwise ops (0-d, empty, size-1 dims)
against PyTorch: both give the same values and gradients, or both raise."""
import numpy as np
import pytest

import fastnn
from fastnn.testing import requires_torch

from ._table import assert_close, flat_outputs, to_np

CASES = [
    ("sum_0d", lambda m, x: x.sum(), ()),
    ("sum_dim_0d", lambda m, x: x.sum(0), ()),
    ("sum_empty", lambda m, x: x.sum(), (0,)),
    ("sum_empty_dim", lambda m, x: x.sum(1), (0, 3)),
    ("mean_empty_dim", lambda m, x: x.mean(0), (2, 0)),
    ("std_0d", lambda m, x: x.std(correction=0), ()),
    ("var_size1", lambda m, x: x.var(dim=1, correction=0), (3, 1)),
    ("norm_0d", lambda m, x: x.norm(), ()),
    ("norm_empty", lambda m, x: x.norm(), (0,)),
    ("norm_empty_dim", lambda m, x: x.norm(dim=0), (0, 2)),
    ("prod_empty", lambda m, x: x.prod(), (0,)),
    ("prod_0d", lambda m, x: x.prod(0), ()),
    ("cumsum_0d", lambda m, x: x.cumsum(0), ()),
    ("cumsum_empty", lambda m, x: x.cumsum(1), (2, 0)),
    ("cumprod_size1", lambda m, x: x.cumprod(0), (1, 3)),
    ("logsumexp_empty", lambda m, x: x.logsumexp(0), (0, 2)),
    ("logsumexp_0d", lambda m, x: x.logsumexp(0), ()),
    ("amax_size1", lambda m, x: x.amax(0), (1, 3)),
    ("amax_empty", lambda m, x: x.amax(1), (0, 2)),
    ("max_empty", lambda m, x: x.max(), (0,)),
    ("max_dim_0d", lambda m, x: x.max(0), ()),
    ("argmax_empty", lambda m, x: x.argmax(), (0,)),
    ("gather_0d", lambda m, x: x.gather(0, m.tensor(0)), ()),
    ("gather_empty_index", lambda m, x: x.gather(1, m.zeros(2, 0, dtype=m.int64)), (2, 3)),
    ("index_select_empty", lambda m, x: x.index_select(0, m.zeros(0, dtype=m.int64)), (2, 3)),
    ("masked_select_none", lambda m, x: x.masked_select(x > 100), (2, 3)),
    ("sort_0d", lambda m, x: x.sort(), ()),
    ("sort_empty", lambda m, x: x.sort(), (0,)),
    ("topk_k0", lambda m, x: x.topk(0), (4,)),
    ("topk_0d", lambda m, x: x.topk(1), ()),
    ("split_empty", lambda m, x: x.split(2), (0, 3)),
    ("chunk_more_than_size", lambda m, x: x.chunk(5), (3, 2)),
    ("unbind_size1", lambda m, x: x.unbind(1), (3, 1)),
    ("flip_0d", lambda m, x: x.flip(0), ()),
    ("roll_empty", lambda m, x: x.roll(1, 0), (0, 2)),
    ("tril_empty", lambda m, x: x.tril(), (0, 3)),
    ("repeat_zero", lambda m, x: x.repeat(0, 2), (2, 3)),
    ("repeat_0d", lambda m, x: x.repeat(3), ()),
    ("einsum_empty", lambda m, x: m.einsum("ij->j", x), (0, 3)),
    ("mm_empty_k", lambda m, x: x.t().mm(x), (0, 3)),
    ("clamp_0d", lambda m, x: x.clamp(-0.1, 0.1), ()),
    ("where_0d", lambda m, x: m.where(x > 0, x, -x), ()),
    ("narrow_empty", lambda m, x: x.narrow(0, 1, 0), (3, 2)),
    ("diagonal_nonsquare", lambda m, x: x.diagonal(-1), (4, 2)),
    ("take_along_empty", lambda m, x: m.take_along_dim(x, m.zeros(0, 2, dtype=m.int64), 0),
     (3, 2)),
]


def _run(lib, fn, arr):
    x = lib.tensor(arr, requires_grad=True)
    try:
        outs = flat_outputs(fn(lib, x))
    except Exception as e:
        return type(e).__mro__, None, None
    vals = [to_np(o) for o in outs]
    live = [o for o in outs if getattr(o, "requires_grad", False)]
    if live:
        total = sum(((o * 1.5).sum() for o in live[1:]), (live[0] * 1.5).sum())
        total.backward()
    return None, vals, None if x.grad is None else to_np(x.grad)


@pytest.mark.parametrize("name,fn,shape", CASES, ids=[c[0] for c in CASES])
def test_edge_case_matches_torch(name, fn, shape):
    torch = requires_torch()
    arr = np.random.default_rng(0).standard_normal(shape)
    ferr, fv, fg = _run(fastnn, fn, arr)
    terr, tv, tg = _run(torch, fn, arr)
    if terr is not None or ferr is not None:
        assert terr is not None and ferr is not None, \
            f"{name}: torch raised {terr and terr[0]}, fastnn {ferr and ferr[0]}"
        shared = {RuntimeError, IndexError, ValueError, TypeError} & set(terr) & set(ferr)
        assert shared, f"{name}: torch raised {terr[0]}, fastnn {ferr[0]}"
        return
    assert len(fv) == len(tv)
    for a, b in zip(fv, tv):
        assert_close(a, b, np.float64, what=name)
    if tg is not None or fg is not None:
        assert_close(fg if fg is not None else np.zeros_like(tg),
                     tg if tg is not None else np.zeros_like(fg), np.float64, what=name + " grad")


def test_unique_matches_torch():
    torch = requires_torch()
    a = np.array([[3, 1, 2], [1, 3, 3]])
    f = fastnn.unique(fastnn.tensor(a), return_inverse=True, return_counts=True)
    t = torch.unique(torch.tensor(a), return_inverse=True, return_counts=True)
    for x, y in zip(f, t):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    f = fastnn.tensor(a).unique(dim=1)
    np.testing.assert_array_equal(f.numpy(), torch.tensor(a).unique(dim=1).numpy())


def test_float_of_a_tensor_requiring_grad_warns_once_like_torch():
    # PyTorch warns (once per process) when float() drops a graph with grad
    # mode on; int(), .item(), detached tensors and no_grad do not warn
    # (each run in a fresh interpreter, in a temporary directory: the source
    # tree, unbuilt when fastnn is installed with pip, must not shadow it)
    from fastnn.testing import run_python
    code = (
        "import warnings, {m} as M\n"
        "x = M.tensor(1.5, requires_grad=True)\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    float(x.detach()); int(x); x.item()\n"
        "    with M.no_grad():\n"
        "        float(x)\n"
        "    float(x); float(x * 2)\n"
        "print(len(w), w[0].category.__name__ if w else '', str(w[0].message)[:40] if w else '')\n")
    outs = []
    for m in ("torch", "fastnn"):
        if m == "torch":
            pytest.importorskip("torch")
        r = run_python(code.format(m=m))
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout.strip())
    assert outs[0] == outs[1] == "1 UserWarning Converting a tensor with requires_grad=T"


def test_to_dense_of_a_dense_tensor_as_torch():
    """``p.grad.to_dense()`` (code written for nn.Embedding(sparse=True)): a
    strided tensor is returned itself, or converted with ``dtype``."""
    torch = pytest.importorskip("torch")
    for lib in (fastnn, torch):
        x = lib.ones(2, 3, requires_grad=True)
        assert x.to_dense() is x
        y = (x * 2).to_dense(lib.float64)
        assert y.dtype == lib.float64 and y.requires_grad
        y.sum().backward()
        assert x.grad.tolist() == [[2.0] * 3] * 2
    emb = fastnn.nn.Embedding(5, 3, sparse=True)
    emb(fastnn.tensor([1, 1])).sum().backward()
    assert emb.weight.grad.to_dense().sum().item() == 6.0
