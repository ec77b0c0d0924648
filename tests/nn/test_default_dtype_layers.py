"""Layers and training under set_default_dtype(float64), compared with PyTorch.

Each model is built in both libraries after the default is set, torch's
initial weights are copied into fastnn's, and forward values, gradients and
a few optimiser steps must agree to ~1e-10.  The fixture restores float32
(for fastnn and torch) whatever happens, since tests of a worker share it.
"""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-10, atol=1e-12)


def _copy(ours, theirs):
    """theirs' state dict into ours (as fastnn tensors of the same dtypes)."""
    sd = {k: fastnn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(sd)


def _all_f64(m):
    for name, t in list(m.named_parameters()) + list(m.named_buffers()):
        if "num_batches" in name:
            assert t.dtype == fastnn.int64, name
        else:
            assert t.dtype == fastnn.float64, (name, t.dtype)


_LAYERS = [
    ("Linear", lambda m: m.Linear(4, 3), (2, 4)),
    ("Bilinear", lambda m: m.Bilinear(4, 4, 3), None),
    ("Conv1d", lambda m: m.Conv1d(2, 3, 3), (2, 2, 8)),
    ("Conv2d", lambda m: m.Conv2d(2, 3, 3, padding=1), (2, 2, 6, 6)),
    ("Conv3d", lambda m: m.Conv3d(2, 3, 2), (1, 2, 4, 4, 4)),
    ("ConvTranspose2d", lambda m: m.ConvTranspose2d(2, 3, 3, stride=2), (2, 2, 4, 4)),
    ("BatchNorm1d", lambda m: m.BatchNorm1d(3), (4, 3)),
    ("BatchNorm2d", lambda m: m.BatchNorm2d(3), (2, 3, 4, 4)),
    ("LayerNorm", lambda m: m.LayerNorm(4), (2, 4)),
    ("GroupNorm", lambda m: m.GroupNorm(2, 4), (2, 4, 3)),
    ("InstanceNorm2d", lambda m: m.InstanceNorm2d(3, affine=True), (2, 3, 4, 4)),
    ("RMSNorm", lambda m: m.RMSNorm(4), (2, 4)),
    ("PReLU", lambda m: m.PReLU(), (2, 3)),
    ("RNN", lambda m: m.RNN(4, 5, num_layers=2), (3, 2, 4)),
    ("LSTM", lambda m: m.LSTM(4, 5, bidirectional=True), (3, 2, 4)),
    ("GRU", lambda m: m.GRU(4, 5, batch_first=True), (2, 3, 4)),
    ("LSTMCell", lambda m: m.LSTMCell(4, 5), (2, 4)),
    ("GRUCell", lambda m: m.GRUCell(4, 5), (2, 4)),
    ("MultiheadAttention", lambda m: m.MultiheadAttention(4, 2), "mha"),
    ("TransformerEncoderLayer",
     lambda m: m.TransformerEncoderLayer(4, 2, 8, dropout=0.0), (3, 2, 4)),
    ("TransformerDecoderLayer",
     lambda m: m.TransformerDecoderLayer(4, 2, 8, dropout=0.0), "dec"),
]


@pytest.mark.parametrize("name,make,shape", _LAYERS, ids=[n for n, _, _ in _LAYERS])
def test_layer_float64_matches_torch(f64, name, make, shape):
    tm = make(torch.nn)
    fm = make(nn)
    _all_f64(fm)
    for (n, p), (tn, tp) in zip(fm.named_parameters(), tm.named_parameters()):
        assert n == tn and str(p.dtype) == str(tp.dtype)
    _copy(fm, tm)
    rng = np.random.default_rng(0)
    if shape == "mha":
        arrays = [rng.standard_normal((3, 2, 4))] * 3
    elif shape == "dec" or shape is None:
        arrays = [rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 2, 4))]
        if shape is None:
            arrays = [a[0] for a in arrays]
    else:
        arrays = [rng.standard_normal(shape)]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    fx = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    tout, fout = tm(*tx), fm(*fx)
    if isinstance(tout, tuple):
        tout, fout = tout[0], fout[0]
    assert fout.dtype == fastnn.float64
    np.testing.assert_allclose(fout.detach().numpy(), tout.detach().numpy(), **TOL)
    w = rng.standard_normal(tuple(tout.shape))
    (tout * torch.tensor(w)).sum().backward()
    (fout * fastnn.tensor(w)).sum().backward()
    for a, b in zip(fx, tx):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TOL)
    for (n, p), (_, tp) in zip(fm.named_parameters(), tm.named_parameters()):
        assert p.grad.dtype == fastnn.float64, n
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), err_msg=n, **TOL)


def test_embedding_float64(f64):
    tm, fm = torch.nn.Embedding(10, 4), nn.Embedding(10, 4)
    _all_f64(fm)
    _copy(fm, tm)
    idx = [[1, 2], [3, 1]]
    tout, fout = tm(torch.tensor(idx)), fm(fastnn.tensor(idx))
    np.testing.assert_allclose(fout.detach().numpy(), tout.detach().numpy(), **TOL)
    tout.pow(2).sum().backward()
    fout.pow(2).sum().backward()
    np.testing.assert_allclose(fm.weight.grad.numpy(), tm.weight.grad.numpy(), **TOL)


def _train(m, mod, lib, opt_cls, x, y, steps, **opt_kw):
    model = m
    opt = getattr(lib.optim, opt_cls)(model.parameters(), **opt_kw)
    loss_fn = mod.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _mlp(mod):
    return mod.Sequential(mod.Linear(6, 16), mod.Tanh(), mod.Linear(16, 16), mod.ReLU(),
                          mod.Linear(16, 3))


def _cnn(mod):
    # (no bias before the batch norm: its gradient is rounding noise, which
    # Adam's normalisation would amplify into different-but-valid steps)
    return mod.Sequential(mod.Conv2d(1, 4, 3, padding=1, bias=False), mod.BatchNorm2d(4),
                          mod.ReLU(),
                          mod.MaxPool2d(2), mod.Conv2d(4, 6, 3), mod.ReLU(), mod.Flatten(),
                          mod.Linear(6 * 2 * 2, 3))


@pytest.mark.parametrize("arch,shape,opt,kw", [
    ("mlp", (32, 6), "SGD", dict(lr=0.1, momentum=0.9)),
    ("mlp", (32, 6), "Adam", dict(lr=1e-2)),
    ("cnn", (8, 1, 8, 8), "SGD", dict(lr=0.05, momentum=0.9, weight_decay=1e-4)),
    ("cnn", (8, 1, 8, 8), "AdamW", dict(lr=1e-2)),
])
def test_training_loop_float64_matches_torch(f64, arch, shape, opt, kw):
    build = _mlp if arch == "mlp" else _cnn
    torch.manual_seed(0)
    tm, fm = build(torch.nn), build(nn)
    _all_f64(fm)
    _copy(fm, tm)
    rng = np.random.default_rng(1)
    xa = rng.standard_normal(shape)
    ya = rng.integers(0, 3, shape[0])
    tl = _train(tm, torch.nn, torch, opt, torch.tensor(xa), torch.tensor(ya), 8, **kw)
    fl = _train(fm, nn, fastnn, opt, fastnn.tensor(xa), fastnn.tensor(ya), 8, **kw)
    np.testing.assert_allclose(fl, tl, **TOL)
    for (n, p), (_, tp) in zip(fm.state_dict().items(), tm.state_dict().items()):
        assert str(p.dtype) == str(tp.dtype), n
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), err_msg=n, **TOL)


def test_optimizer_scalars_follow_default(f64):
    for cls in ("Adam", "NAdam", "ASGD"):
        tp = torch.nn.Parameter(torch.ones(2))
        fp = nn.Parameter(fastnn.ones(2))
        to, fo = getattr(torch.optim, cls)([tp]), getattr(fastnn.optim, cls)([fp])
        for p, o in ((tp, to), (fp, fo)):
            p.sum().backward()
            o.step()
        ts, fs = to.state[tp], fo.state[fp]
        assert list(fs) == list(ts)
        for k in ts:
            assert str(fs[k].dtype) == str(ts[k].dtype), (cls, k)
            np.testing.assert_allclose(np.asarray(fs[k].numpy()), ts[k].numpy(), **TOL)


def test_layers_after_restore_are_float32(f64):
    fastnn.set_default_dtype(fastnn.float32)
    lin, bn = nn.Linear(2, 2), nn.BatchNorm1d(2)
    assert lin.weight.dtype == fastnn.float32 and bn.running_mean.dtype == fastnn.float32
    assert nn.Parameter().dtype == fastnn.float32


def test_misc_module_defaults_as_torch(f64):
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(3)
    fmask = nn.Transformer.generate_square_subsequent_mask(3)
    assert str(fmask.dtype) == str(tmask.dtype)
    assert str(nn.Parameter().dtype) == str(torch.nn.Parameter().dtype)
    tp, fp = torch.nn.Parameter(torch.ones(2)), nn.Parameter(fastnn.ones(2))
    tp.sum().backward()
    fp.sum().backward()
    tn = torch.nn.utils.clip_grad_norm_([tp], 1.0)
    fn_ = nn.utils.clip_grad_norm_([fp], 1.0)
    assert str(fn_.dtype) == str(tn.dtype)
    np.testing.assert_allclose(fn_.item(), tn.item(), **TOL)


_F32_UNDER_F64 = [
    ("Linear", lambda m: m.Linear(4, 3, dtype=fastnn.float32 if m is nn else torch.float32),
     (2, 4)),
    ("Conv2d.float()", lambda m: m.Conv2d(2, 3, 3).float(), (1, 2, 5, 5)),
    ("BatchNorm2d.float()", lambda m: m.BatchNorm2d(2).float(), (2, 2, 3, 3)),
    ("LSTM.float()", lambda m: m.LSTM(4, 5).float(), (3, 2, 4)),
    ("TransformerEncoderLayer.float()",
     lambda m: m.TransformerEncoderLayer(4, 2, 8, dropout=0.0).float(), (3, 2, 4)),
]


@pytest.mark.parametrize("name,make,shape", _F32_UNDER_F64, ids=[n for n, _, _ in _F32_UNDER_F64])
def test_float32_modules_stay_float32_under_float64_default(f64, name, make, shape):
    tm, fm = make(torch.nn), make(nn)
    _copy(fm, tm)
    a = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    tx, fx = torch.tensor(a, requires_grad=True), fastnn.tensor(a, requires_grad=True)
    tout, fout = tm(tx), fm(fx)
    if isinstance(tout, tuple):
        tout, fout = tout[0], fout[0]
    assert str(fout.dtype) == str(tout.dtype) == "torch.float32"
    # (a Python float in the graph must not promote float32 to the float64 default)
    (tout * 0.5).sum().backward()
    (fout * 0.5).sum().backward()
    assert fx.grad.dtype == fastnn.float32
    np.testing.assert_allclose(fout.detach().numpy(), tout.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (n, p), (_, tp) in zip(fm.named_parameters(), tm.named_parameters()):
        assert p.grad.dtype == fastnn.float32, n


def test_summary_runs_a_float64_model(f64):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 2))
    lines = []
    assert fastnn.summary(model, (1, 4, 4), print_fn=lines.append) == 20 + 18
    assert any("Linear" in s for s in lines)


@pytest.mark.parametrize("opt,kw", [
    ("RMSprop", dict(lr=1e-2, momentum=0.5)), ("Adagrad", dict(lr=0.1)),
    ("Adadelta", dict(lr=1.0)), ("Adamax", dict(lr=1e-2)), ("NAdam", dict(lr=1e-2)),
    ("RAdam", dict(lr=1e-2)), ("ASGD", dict(lr=1e-2)), ("Rprop", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=1e-3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
])
def test_optimizers_float64_default_match_torch(f64, opt, kw):
    torch.manual_seed(1)
    tm, fm = _mlp(torch.nn), _mlp(nn)
    _copy(fm, tm)
    rng = np.random.default_rng(3)
    xa, ya = rng.standard_normal((16, 6)), rng.integers(0, 3, 16)
    tl = _train(tm, torch.nn, torch, opt, torch.tensor(xa), torch.tensor(ya), 6, **kw)
    fl = _train(fm, nn, fastnn, opt, fastnn.tensor(xa), fastnn.tensor(ya), 6, **kw)
    np.testing.assert_allclose(fl, tl, **TOL)
    for (n, p), (_, tp) in zip(fm.named_parameters(), tm.named_parameters()):
        assert p.dtype == fastnn.float64
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), err_msg=n, **TOL)
