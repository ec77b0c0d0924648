"""nn.RNN / LSTM / GRU and their cells against PyTorch from the same
weights: outputs, final states and every gradient, in float64 and float32,
for every option (layers, bidirectional, proj_size, batch_first, bias,
initial states, unbatched input); state-dict keys; dropout; gradcheck."""
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.nn as fnn

CASES = [
    ("LSTM", {}), ("GRU", {}), ("RNN", {}), ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {"proj_size": 3}),
]


def _run(torch, H, kind, kw, dtype, bidir, bf, layers=2, bias=True, states=True):
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    tm = getattr(torch.nn, kind)(5, 7, num_layers=layers, bidirectional=bidir,
                                 batch_first=bf, bias=bias, **kw).to(tdt)
    fm = H.load(tm, getattr(fnn, kind)(5, 7, num_layers=layers, bidirectional=bidir,
                                       batch_first=bf, bias=bias, **kw), dtype)
    r = np.random.default_rng(1)
    x = r.standard_normal((4, 6, 5) if bf else (6, 4, 5)).astype(dtype)
    D = 2 if bidir else 1
    HO = kw.get("proj_size", 7) or 7
    hx_t = hx_f = None
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    hs = []
    if states:
        h0 = r.standard_normal((layers * D, 4, HO)).astype(dtype)
        c0 = r.standard_normal((layers * D, 4, 7)).astype(dtype)
        hs = [(torch.tensor(h0, requires_grad=True), fastnn.tensor(h0, requires_grad=True))]
        if kind == "LSTM":
            hs.append((torch.tensor(c0, requires_grad=True), fastnn.tensor(c0, requires_grad=True)))
            hx_t, hx_f = (hs[0][0], hs[1][0]), (hs[0][1], hs[1][1])
        else:
            hx_t, hx_f = hs[0]
    yt, st = tm(tx, hx_t)
    yf, sf = fm(fx, hx_f)
    st = st if isinstance(st, tuple) else (st,)
    sf = sf if isinstance(sf, tuple) else (sf,)
    H.close(yt, yf, dtype)
    for a, b in zip(st, sf):
        H.close(a, b, dtype)
    g = r.standard_normal(yt.shape).astype(dtype)
    lt = (yt * torch.tensor(g)).sum() + sum(((a * a) * (i + 2)).sum() for i, a in enumerate(st))
    lf = (yf * fastnn.tensor(g)).sum() + sum(((a * a) * (i + 2)).sum() for i, a in enumerate(sf))
    lt.backward()
    lf.backward()
    H.close(tx.grad, fx.grad, dtype)
    for a, b in hs:
        H.close(a.grad, b.grad, dtype)
    H.grads(tm, fm, dtype)


@pytest.mark.parametrize("kind,kw", CASES)
@pytest.mark.parametrize("bidir", [False, True])
@pytest.mark.parametrize("bf", [False, True])
def test_stack_matches_torch_float64(torch, H, kind, kw, bidir, bf):
    _run(torch, H, kind, kw, np.float64, bidir, bf)


@pytest.mark.parametrize("kind,kw", CASES)
def test_stack_matches_torch_float32(torch, H, kind, kw):
    _run(torch, H, kind, kw, np.float32, True, True)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_no_bias_no_states_one_layer(torch, H, kind):
    _run(torch, H, kind, {}, np.float64, False, False, layers=1, bias=False, states=False)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_unbatched_input(torch, H, kind):
    tm = getattr(torch.nn, kind)(5, 7, num_layers=2, bidirectional=True).double()
    fm = H.load(tm, getattr(fnn, kind)(5, 7, num_layers=2, bidirectional=True), np.float64)
    x = np.random.default_rng(2).standard_normal((6, 5))
    yt, st = tm(torch.tensor(x))
    yf, sf = fm(fastnn.tensor(x))
    assert tuple(yf.shape) == (6, 14)
    H.close(yt, yf, np.float64)
    st = st if isinstance(st, tuple) else (st,)
    sf = sf if isinstance(sf, tuple) else (sf,)
    for a, b in zip(st, sf):
        assert tuple(b.shape) == (4, 7)
        H.close(a, b, np.float64)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_state_dict_keys_and_shapes_and_load_both_ways(torch, kind):
    kw = {"proj_size": 3} if kind == "LSTM" else {}
    tm = getattr(torch.nn, kind)(5, 7, num_layers=2, bidirectional=True, **kw)
    fm = getattr(fnn, kind)(5, 7, num_layers=2, bidirectional=True, **kw)
    ts, fs = tm.state_dict(), fm.state_dict()
    assert [(k, tuple(v.shape)) for k, v in ts.items()] == \
        [(k, tuple(v.shape)) for k, v in fs.items()]
    assert "weight_hh_l1_reverse" in fs
    # fastnn -> torch
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in fs.items()})
    for k, v in tm.state_dict().items():
        assert np.array_equal(v.numpy(), fs[k].numpy())
    # default init: uniform in +-1/sqrt(hidden)
    for p in fm.parameters():
        assert np.abs(p.detach().numpy()).max() <= 1 / np.sqrt(7) + 1e-7


@pytest.mark.parametrize("cell", ["LSTMCell", "GRUCell", "RNNCell"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cells_match_torch(torch, H, cell, dtype):
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    tm = getattr(torch.nn, cell)(5, 7).to(tdt)
    fm = H.load(tm, getattr(fnn, cell)(5, 7), dtype)
    r = np.random.default_rng(3)
    x = r.standard_normal((3, 5)).astype(dtype)
    h = r.standard_normal((3, 7)).astype(dtype)
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    th, fh = torch.tensor(h, requires_grad=True), fastnn.tensor(h, requires_grad=True)
    if cell == "LSTMCell":
        a, b = tm(tx, (th, th * 2)), fm(fx, (fh, fh * 2))
        H.close(a[0], b[0], dtype)
        H.close(a[1], b[1], dtype)
        ((a[0] ** 2).sum() + a[1].sum()).backward()
        ((b[0] ** 2).sum() + b[1].sum()).backward()
    else:
        a, b = tm(tx, th), fm(fx, fh)
        H.close(a, b, dtype)
        (a ** 2).sum().backward()
        (b ** 2).sum().backward()
    H.close(tx.grad, fx.grad, dtype)
    H.close(th.grad, fh.grad, dtype)
    H.grads(tm, fm, dtype)
    # unbatched, no state
    a, b = tm(tx[0]), fm(fx[0])
    a, b = (a[0], b[0]) if cell == "LSTMCell" else (a, b)
    assert tuple(b.shape) == (7,)
    H.close(a, b, dtype)


@pytest.mark.parametrize("cell", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_step_equals_the_layer_step_and_gradchecks(cell):
    # A cell runs the layer's kernels on a one-step sequence: the same bits as
    # a one-layer stack over one step from the same weights and state, and its
    # gradients (unbatched, a missing c, an unused c') pass gradcheck.
    layer = {"LSTMCell": fnn.LSTM, "GRUCell": fnn.GRU, "RNNCell": fnn.RNN}[cell]
    fastnn.manual_seed(1)
    cm, lm = getattr(fnn, cell)(5, 6), layer(5, 6)
    lm.load_state_dict({k + "_l0": v for k, v in cm.state_dict().items()})
    x, h = fastnn.randn(3, 5), fastnn.randn(3, 6)
    lstm = cell == "LSTMCell"
    c = fastnn.randn(3, 6)
    got = cm(x, (h, c)) if lstm else cm(x, h)
    want = lm(x.unsqueeze(0), (h.unsqueeze(0), c.unsqueeze(0)) if lstm else h.unsqueeze(0))[1]
    if lstm:
        np.testing.assert_array_equal(got[0].detach().numpy(), want[0][0].detach().numpy())
        np.testing.assert_array_equal(got[1].detach().numpy(), want[1][0].detach().numpy())
    else:
        np.testing.assert_array_equal(got.detach().numpy(), want[0].detach().numpy())
    cm = cm.double()
    ws = list(cm.parameters())
    xd = fastnn.randn(5, dtype=fastnn.float64, requires_grad=True)
    hd = fastnn.randn(6, dtype=fastnn.float64, requires_grad=True)

    def f(xx, hh, *_):
        out = cm(xx, (hh, None)) if lstm else cm(xx, hh)
        return (out[0] if lstm else out).sin().sum()   # c' unused
    assert fastnn.gradcheck(f, (xd, hd, *ws))
    assert tuple(cm(fastnn.zeros(0, 5, dtype=fastnn.float64))[0].shape
                 if lstm else cm(fastnn.zeros(0, 5, dtype=fastnn.float64)).shape) == (0, 6)
    with pytest.raises(TypeError, match="dtype"):
        cm(xd.detach(), (hd.float(), hd.float()) if lstm else hd.float())


def test_dropout_between_layers_train_vs_eval():
    fastnn.manual_seed(0)
    m = fnn.LSTM(5, 8, num_layers=3, dropout=0.5)
    x = fastnn.randn(6, 2, 5)
    a = m(x)[0].detach().numpy()
    b = m(x)[0].detach().numpy()
    assert not np.array_equal(a, b)          # fresh masks each call in training
    m.eval()
    c = m(x)[0].detach().numpy()
    d = m(x)[0].detach().numpy()
    assert np.array_equal(c, d)
    m0 = fnn.LSTM(5, 8, num_layers=3, dropout=0.0)
    m0.load_state_dict(m.state_dict())
    assert np.array_equal(m0(x)[0].detach().numpy(), c)


def test_dropout_warning_and_flatten_parameters():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m = fnn.GRU(3, 4, dropout=0.2)
    assert any("num_layers greater than 1" in str(x.message) for x in w)
    assert m.flatten_parameters() is None
    assert len(m.all_weights) == 1 and len(m.all_weights[0]) == 4
    assert repr(m) == "GRU(3, 4, dropout=0.2)"


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_gradcheck_small(kind):
    fastnn.manual_seed(0)
    kw = {"proj_size": 2} if kind == "LSTM" else {}
    m = getattr(fnn, kind)(3, 4, num_layers=2, bidirectional=True, **kw).double()
    x = fastnn.randn(4, 2, 3, dtype="float64", requires_grad=True)
    g = fastnn.randn(4, 2, 2 * (2 if kw else 4), dtype="float64")

    def f(x, *ps):
        return (m(x)[0] * g).sum()
    assert fastnn.gradcheck(f, [x] + list(m.parameters()))


def test_module_paths_resolve():
    from fastnn.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: F401
    assert LSTM is fnn.LSTM and GRUCell is fnn.GRUCell


@pytest.mark.parametrize("kind,kw", [("LSTM", {}), ("GRU", {}), ("RNN", {}),
                                     ("LSTM", {"proj_size": 130})])
@pytest.mark.parametrize("nt", [1, 2])
@pytest.mark.parametrize("batch", [6, 40])
def test_blocked_forward_matches_torch(torch, H, kind, kw, nt, batch):
    """Hidden sizes of several unit blocks (and projection blocks) at a small
    batch, one block at a larger one, on one and two threads, packed input of
    unequal lengths."""
    fastnn.set_num_threads(nt)
    tm = getattr(torch.nn, kind)(6, 200, bidirectional=True, **kw).double()
    fm = H.load(tm, getattr(fnn, kind)(6, 200, bidirectional=True, **kw), np.float64)
    r = np.random.default_rng(4)
    x = r.standard_normal((5, batch, 6))
    lengths = r.integers(1, 6, batch)
    lengths[0] = 5
    from fastnn.nn import _rnn_utils as U
    pt = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x, requires_grad=True), lengths,
                                                 enforce_sorted=False)
    xf = fastnn.tensor(x, requires_grad=True)
    pf = U.pack_padded_sequence(xf, lengths, enforce_sorted=False)
    ot, st = tm(pt)
    of, sf = fm(pf)
    # (ties among the lengths may be ordered differently by torch.sort: compare
    # the padded outputs, which do not depend on that order)
    yt = torch.nn.utils.rnn.pad_packed_sequence(ot)[0]
    yf = U.pad_packed_sequence(of)[0]
    H.close(yt, yf, np.float64)
    st = st if isinstance(st, tuple) else (st,)
    sf = sf if isinstance(sf, tuple) else (sf,)
    for a, b in zip(st, sf):
        H.close(a, b, np.float64)
    ((yt ** 2).sum() + (st[0] ** 2).sum()).backward()
    ((yf ** 2).sum() + (sf[0] ** 2).sum()).backward()
    H.grads(tm, fm, np.float64)


@pytest.mark.parametrize("name", ["GRU", "RNN"])
def test_proj_size_keyword_of_gru_and_rnn_as_torch(torch, name):
    # PyTorch's GRU and RNN refuse a proj_size keyword with a ValueError
    # (fastnn raised TypeError for the unknown keyword)
    for lib in (torch, fastnn):
        for size in (0, 2):
            with pytest.raises(ValueError, match="only supported for LSTM"):
                getattr(lib.nn, name)(4, 5, proj_size=size)


def _weight_drop(lib, module, name, scale):
    """AWD-LSTM's WeightDrop: the Parameter removed, a _raw copy registered
    and a plain tensor computed from it set before each forward."""
    w = getattr(module, name)
    del module._parameters[name]
    module.register_parameter(name + "_raw", lib.nn.Parameter(w.data))
    setattr(module, name, getattr(module, name + "_raw") * scale)


@pytest.mark.parametrize("kind", ["LSTM", "GRUCell", "weight_norm"])
def test_weights_replaced_by_tensors_or_parametrized_are_used(torch, H, kind):
    # PyTorch's recurrent layers read their weights as attributes at each
    # call, so a weight set as a plain tensor (WeightDrop) or computed by a
    # parametrization is the one used (fastnn raised KeyError: 'weight_hh_l0')
    name = "weight_hh" if kind == "GRUCell" else "weight_hh_l0"
    tm = torch.nn.GRUCell(3, 4) if kind == "GRUCell" else torch.nn.LSTM(3, 4, 1)
    fm = H.load(tm, (fnn.GRUCell(3, 4) if kind == "GRUCell" else fnn.LSTM(3, 4, 1)), np.float32)
    mods = []
    for lib, m in ((torch, tm), (fastnn, fm)):
        if kind == "weight_norm":
            m = lib.nn.utils.parametrizations.weight_norm(m, name=name)
        else:
            _weight_drop(lib, m, name, 0.5)
        mods.append(m)
    x = np.random.default_rng(0).standard_normal((2, 3) if kind == "GRUCell" else (5, 2, 3))
    x = x.astype(np.float32)
    outs = []
    for lib, m in zip((torch, fastnn), mods):
        if kind == "GRUCell":
            y = m(lib.tensor(x), lib.full((2, 4), 0.5))
        else:
            y = m(lib.tensor(x))[0]
        y.pow(2).sum().backward()
        outs.append(y)
    H.close(outs[0], outs[1], np.float32)
    H.grads(mods[0], mods[1], np.float32)
    if kind != "weight_norm":
        assert np.abs(getattr(mods[1], name + "_raw").grad.numpy()).sum() > 0


@pytest.mark.parametrize("kw", [{"proj_size": 2},
                                {"proj_size": 2, "bidirectional": True, "num_layers": 2,
                                 "batch_first": True}])
def test_lstm_proj_size_double_backward_matches_torch(torch, H, kw):
    # a gradient penalty through an LSTM with proj_size (NotImplementedError before)
    tm = torch.nn.LSTM(3, 4, **kw).double()
    fm = H.load(tm, fnn.LSTM(3, 4, **kw), np.float64)
    D = 2 if kw.get("bidirectional") else 1
    r = np.random.default_rng(4)
    x = r.standard_normal((2, 5, 3))
    B = 2 if kw.get("batch_first") else 5
    h0 = r.standard_normal((kw.get("num_layers", 1) * D, B, 2))
    grads = []
    for lib, m in ((torch, tm), (fastnn, fm)):
        xt, ht = lib.tensor(x, requires_grad=True), lib.tensor(h0, requires_grad=True)
        y, (h, c) = m(xt, (ht, lib.zeros(h0.shape[0], B, 4, dtype=lib.float64)))
        g = lib.autograd.grad(y.pow(2).sum() + h.sum() + c.pow(2).sum(), (xt, ht),
                              create_graph=True)
        sum(gi.pow(2).sum() for gi in g).backward()
        grads.append([xt.grad, ht.grad] + [p.grad for p in m.parameters()])
    for a, b in zip(*grads):
        H.close(a, b, np.float64)
