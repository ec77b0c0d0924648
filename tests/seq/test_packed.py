"""Packed sequences (pad_sequence, pack_padded_sequence, pad_packed_sequence,
pack_sequence) against PyTorch, and LSTM/GRU/RNN on packed input of unequal
lengths (sorted and unsorted): outputs, h_n from each sequence's last step,
and gradients to the padded input and the initial states."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as fnn

try:  # the lead exposes it as fastnn.nn.utils.rnn (PyTorch's path)
    from fastnn.nn.utils import rnn as U
except ImportError:
    from fastnn.nn import _rnn_utils as U


def test_pad_sequence_matches_torch(torch):
    r = np.random.default_rng(0)
    seqs = [r.standard_normal((n, 3)) for n in (4, 1, 6)]
    for bf in (False, True):
        for side in ("right", "left"):
            tt = [torch.tensor(s, requires_grad=True) for s in seqs]
            ft = [fastnn.tensor(s, requires_grad=True) for s in seqs]
            a = torch.nn.utils.rnn.pad_sequence(tt, batch_first=bf, padding_value=-1.5,
                                                padding_side=side)
            b = U.pad_sequence(ft, batch_first=bf, padding_value=-1.5, padding_side=side)
            assert np.array_equal(a.detach().numpy(), b.detach().numpy())
            g = r.standard_normal(a.shape)
            (a * torch.tensor(g)).sum().backward()
            (b * fastnn.tensor(g)).sum().backward()
            for x, y in zip(tt, ft):
                assert np.array_equal(x.grad.numpy(), y.grad.numpy())


@pytest.mark.parametrize("enforce", [True, False])
@pytest.mark.parametrize("bf", [False, True])
def test_pack_and_pad_round_trip(torch, enforce, bf):
    lengths = [5, 3, 3, 1] if enforce else [3, 5, 1, 3]
    r = np.random.default_rng(1)
    x = r.standard_normal((4, 6, 2) if bf else (6, 4, 2))
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    pt = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=bf,
                                                 enforce_sorted=enforce)
    pf = U.pack_padded_sequence(fx, lengths, batch_first=bf, enforce_sorted=enforce)
    assert isinstance(pf, U.PackedSequence)
    assert np.array_equal(pt.data.detach().numpy(), pf.data.detach().numpy())
    assert np.array_equal(pt.batch_sizes.numpy(), pf.batch_sizes.numpy())
    if enforce:
        assert pf.sorted_indices is None and pf.unsorted_indices is None
    else:
        assert np.array_equal(pt.sorted_indices.numpy(), pf.sorted_indices.numpy())
        assert np.array_equal(pt.unsorted_indices.numpy(), pf.unsorted_indices.numpy())
    at, lt = torch.nn.utils.rnn.pad_packed_sequence(pt, batch_first=bf, padding_value=9.0,
                                                    total_length=7)
    af, lf = U.pad_packed_sequence(pf, batch_first=bf, padding_value=9.0, total_length=7)
    assert np.array_equal(at.detach().numpy(), af.detach().numpy())
    assert np.array_equal(lt.numpy(), lf.numpy())
    g = r.standard_normal(at.shape)
    (at * torch.tensor(g)).sum().backward()
    (af * fastnn.tensor(g)).sum().backward()
    assert np.array_equal(tx.grad.numpy(), fx.grad.numpy())


def test_pack_sequence_and_unpack(torch):
    r = np.random.default_rng(2)
    seqs = [r.standard_normal((n, 2)) for n in (2, 5, 3)]
    pt = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    pf = U.pack_sequence([fastnn.tensor(s) for s in seqs], enforce_sorted=False)
    assert np.array_equal(pt.data.numpy(), pf.data.numpy())
    back = U.unpack_sequence(pf)
    for s, b in zip(seqs, back):
        assert np.array_equal(s, b.numpy())


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("enforce", [True, False])
@pytest.mark.parametrize("bidir", [False, True])
def test_rnn_on_packed_input_matches_torch(torch, H, kind, enforce, bidir):
    tm = getattr(torch.nn, kind)(3, 5, num_layers=2, bidirectional=bidir).double()
    fm = H.load(tm, getattr(fnn, kind)(3, 5, num_layers=2, bidirectional=bidir), np.float64)
    lengths = [6, 4, 4, 2, 1] if enforce else [2, 6, 1, 4, 4]
    r = np.random.default_rng(3)
    x = r.standard_normal((6, 5, 3))
    D = 2 if bidir else 1
    h0 = r.standard_normal((2 * D, 5, 5))
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    th, fh = torch.tensor(h0, requires_grad=True), fastnn.tensor(h0, requires_grad=True)
    pt = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, enforce_sorted=enforce)
    pf = U.pack_padded_sequence(fx, lengths, enforce_sorted=enforce)
    hxt, hxf = ((th, th * 0.5), (fh, fh * 0.5)) if kind == "LSTM" else (th, fh)
    ot, st = tm(pt, hxt)
    of, sf = fm(pf, hxf)
    assert isinstance(of, U.PackedSequence)
    H.close(ot.data, of.data, np.float64)
    st = st if isinstance(st, tuple) else (st,)
    sf = sf if isinstance(sf, tuple) else (sf,)
    for a, b in zip(st, sf):
        H.close(a, b, np.float64)
    yt, _ = torch.nn.utils.rnn.pad_packed_sequence(ot)
    yf, _ = U.pad_packed_sequence(of)
    H.close(yt, yf, np.float64)
    g = r.standard_normal(yt.shape)
    ((yt * torch.tensor(g)).sum() + sum((a ** 2).sum() for a in st)).backward()
    ((yf * fastnn.tensor(g)).sum() + sum((a ** 2).sum() for a in sf)).backward()
    H.close(tx.grad, fx.grad, np.float64)
    H.close(th.grad, fh.grad, np.float64)
    H.grads(tm, fm, np.float64)


def test_packing_errors():
    x = fastnn.randn(4, 3, 2)
    with pytest.raises(ValueError, match="sorted in decreasing order"):
        U.pack_padded_sequence(x, [1, 3, 2])
    with pytest.raises(ValueError, match="greater than 0"):
        U.pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(ValueError, match="batch_size"):
        U.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match="exceeds"):
        U.pack_padded_sequence(x, [5, 2, 1])
    p = U.pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match="total_length"):
        U.pad_packed_sequence(p, total_length=3)
    with pytest.raises(ValueError, match="padding_side"):
        U.pad_sequence([x[0]], padding_side="middle")


def test_pack_padded_float_lengths_as_torch():
    """Lengths from a float mask (``mask.sum(1)``) are accepted, as PyTorch
    converts them to int64; the packing equals the integer-lengths one."""
    torch = pytest.importorskip("torch")
    x = np.arange(24, dtype=np.float32).reshape(3, 4, 2)        # (B, T, F)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], np.float32)
    tp = torch.nn.utils.rnn.pack_padded_sequence(
        torch.tensor(x), torch.tensor(mask).sum(1), batch_first=True, enforce_sorted=False)
    fp = U.pack_padded_sequence(
        fastnn.tensor(x), fastnn.tensor(mask).sum(1), batch_first=True, enforce_sorted=False)
    assert fp.batch_sizes.tolist() == tp.batch_sizes.tolist() == [3, 2, 1, 1]
    assert fp.sorted_indices.tolist() == tp.sorted_indices.tolist()
    np.testing.assert_array_equal(fp.data.numpy(), tp.data.numpy())
    out, lens = U.pad_packed_sequence(fp, batch_first=True)
    assert lens.tolist() == [2, 4, 1]


@pytest.mark.parametrize("case", ["lengths_2d", "not_packed", "not_iterable", "bad_side"])
def test_rnn_utils_bad_arguments_raise_as_torch(case):
    # the exception types PyTorch raises (fastnn's: also the TypeError /
    # ValueError it raised before), with a message instead of an unpacking
    # error for a Tensor given to pad_packed_sequence
    from fastnn.testing import requires_torch
    torch = requires_torch()

    def make(lib):
        import importlib
        R = importlib.import_module(lib.__name__ + ".nn.utils.rnn")
        x = lib.zeros(3, 4, 2)
        {"lengths_2d": lambda: R.pack_padded_sequence(x, lib.tensor([[4, 3, 2]]),
                                                      batch_first=True),
         "not_packed": lambda: R.pad_packed_sequence(x),
         "not_iterable": lambda: R.pad_sequence(5),
         "bad_side": lambda: R.pad_sequence([lib.ones(2)], padding_side="middle")}[case]()
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value)):
        make(fastnn)
    if case == "not_packed":
        with pytest.raises(TypeError, match="expected a PackedSequence"):
            make(fastnn)


def test_sdpa_dtype_errors_and_embedding_bag_repr_as_torch():
    from fastnn.testing import requires_torch
    torch = requires_torch()
    for make in (lambda lib: lib.nn.functional.scaled_dot_product_attention(
                     lib.zeros(2, 3), lib.zeros(2, 3, dtype=lib.float64), lib.zeros(2, 3)),
                 lambda lib: lib.nn.functional.scaled_dot_product_attention(
                     lib.tensor([[1, 2]]), lib.tensor([[1, 2]]), lib.tensor([[1, 2]]))):
        with pytest.raises(RuntimeError):
            make(torch)
        with pytest.raises(RuntimeError):
            make(fastnn)
    for kw in ({}, {"mode": "sum", "padding_idx": 1, "max_norm": 1.0}):
        assert repr(fastnn.nn.EmbeddingBag(3, 2, **kw)) == repr(torch.nn.EmbeddingBag(3, 2, **kw))


@pytest.mark.parametrize("mode,kw,sort", [("LSTM", {}, True),
                                          ("GRU", {"bidirectional": True, "num_layers": 2}, False),
                                          ("LSTM", {"bidirectional": True, "proj_size": 2}, False),
                                          ("RNN", {}, False)])
def test_packed_double_backward_matches_torch(mode, kw, sort):
    # a gradient penalty through pack_padded_sequence -> RNN -> pad_packed_sequence
    # (and pad_sequence): NotImplementedError before
    from fastnn.testing import requires_torch
    torch = requires_torch()
    import importlib
    tm = getattr(torch.nn, mode)(3, 4, **kw).double()
    fm = getattr(fnn, mode)(3, 4, **kw)
    fm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    fm = fm.double()
    r = np.random.default_rng(5)
    seqs = [r.standard_normal((n, 3)) for n in ((5, 3, 2) if sort else (3, 5, 2))]
    D, HO = (2 if kw.get("bidirectional") else 1), kw.get("proj_size", 4)
    h0 = r.standard_normal((kw.get("num_layers", 1) * D, 3, HO))
    grads = []
    for lib, m in ((torch, tm), (fastnn, fm)):
        R = importlib.import_module(lib.__name__ + ".nn.utils.rnn")
        xs = [lib.tensor(s, requires_grad=True) for s in seqs]
        ht = lib.tensor(h0, requires_grad=True)
        x = R.pad_sequence(xs, batch_first=True)
        pk = R.pack_padded_sequence(x, [len(s) for s in seqs], batch_first=True,
                                    enforce_sorted=sort)
        hx = (ht, lib.zeros(h0.shape[0], 3, 4, dtype=lib.float64)) if mode == "LSTM" else ht
        out, h = m(pk, hx)
        h = h[0] if mode == "LSTM" else h
        y, _ = R.pad_packed_sequence(out, batch_first=True)
        g = lib.autograd.grad(y.pow(2).sum() + (h * h).sum(), xs + [ht], create_graph=True)
        sum(gi.pow(2).sum() for gi in g).backward()
        grads.append([t.grad for t in xs + [ht]] + [p.grad for p in m.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-9, atol=1e-10)
