"""TransformerEncoderLayer / TransformerEncoder (and the decoder side and
nn.Transformer) against PyTorch from the same weights: values and gradients
for post- and pre-norm, relu and gelu, batch_first, bias=False, masks and
causal; state-dict keys; module paths."""
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.nn as fnn


def _enc(torch, H, kw, fkw=None, bf=False, dtype=np.float64, n=2):
    fkw = fkw or {}
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tl = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=bf, **kw)
        tm = torch.nn.TransformerEncoder(tl, n, enable_nested_tensor=False).to(tdt)
    fm = H.load(tm, fnn.TransformerEncoder(
        fnn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=bf, **kw), n), dtype)
    r = np.random.default_rng(0)
    x = r.standard_normal((3, 5, 16) if bf else (5, 3, 16)).astype(dtype)
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    ta = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in fkw.items()}
    fa = {k: fastnn.tensor(v) if isinstance(v, np.ndarray) else v for k, v in fkw.items()}
    a, b = tm(tx, **ta), fm(fx, **fa)
    H.close(a, b, dtype)
    g = r.standard_normal(a.shape).astype(dtype)
    (a * torch.tensor(g)).sum().backward()
    (b * fastnn.tensor(g)).sum().backward()
    H.close(tx.grad, fx.grad, dtype)
    H.grads(tm, fm, dtype)


@pytest.mark.parametrize("kw", [{}, {"norm_first": True}, {"activation": "gelu"},
                                {"bias": False}, {"layer_norm_eps": 1e-3}])
@pytest.mark.parametrize("bf", [False, True])
def test_encoder_matches_torch(torch, H, kw, bf):
    _enc(torch, H, kw, bf=bf)


def test_encoder_masks_and_float32(torch, H):
    kpm = np.zeros((3, 5), bool)
    kpm[2, 2:] = True
    causal = np.triu(np.full((5, 5), -np.inf), 1)
    _enc(torch, H, {}, {"src_key_padding_mask": kpm}, bf=True)
    _enc(torch, H, {}, {"mask": causal})
    _enc(torch, H, {}, {"mask": causal, "is_causal": True, "src_key_padding_mask": kpm})
    _enc(torch, H, {"activation": "gelu"}, bf=True, dtype=np.float32)


def test_callable_activation_and_final_norm(torch, H):
    tl = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0,
                                          activation=torch.nn.functional.tanh)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = torch.nn.TransformerEncoder(tl, 1, norm=torch.nn.LayerNorm(16)).double()
    fl = fnn.TransformerEncoderLayer(16, 4, 32, dropout=0.0,
                                     activation=fastnn.nn.functional.tanh)
    from fastnn.nn.modules.transformer import LayerNorm
    fm = H.load(tm, fnn.TransformerEncoder(fl, 1, norm=LayerNorm(16)), np.float64)
    x = np.random.default_rng(1).standard_normal((4, 2, 16))
    H.close(tm(torch.tensor(x)), fm(fastnn.tensor(x)), np.float64)


def test_transformer_encoder_decoder_matches_torch(torch, H):
    tm = torch.nn.Transformer(16, 4, 2, 2, 32, dropout=0.0, batch_first=True).double()
    fm = H.load(tm, fnn.Transformer(16, 4, 2, 2, 32, dropout=0.0, batch_first=True),
                np.float64)
    r = np.random.default_rng(2)
    s, t = r.standard_normal((2, 6, 16)), r.standard_normal((2, 4, 16))
    ts, tt = torch.tensor(s, requires_grad=True), torch.tensor(t, requires_grad=True)
    fs, ft = fastnn.tensor(s, requires_grad=True), fastnn.tensor(t, requires_grad=True)
    mt = torch.nn.Transformer.generate_square_subsequent_mask(4).double()
    mf = fnn.Transformer.generate_square_subsequent_mask(4, dtype=np.float64)
    assert np.array_equal(mt.numpy(), mf.numpy())
    a, b = tm(ts, tt, tgt_mask=mt), fm(fs, ft, tgt_mask=mf)
    H.close(a, b, np.float64)
    (a ** 2).sum().backward()
    (b ** 2).sum().backward()
    H.close(ts.grad, fs.grad, np.float64)
    H.close(tt.grad, ft.grad, np.float64)
    H.grads(tm, fm, np.float64)


def test_dropout_train_vs_eval_and_paths():
    fastnn.manual_seed(0)
    enc = fnn.TransformerEncoder(fnn.TransformerEncoderLayer(8, 2, 16, dropout=0.3), 2)
    x = fastnn.randn(4, 2, 8)
    assert not np.array_equal(enc(x).detach().numpy(), enc(x).detach().numpy())
    enc.eval()
    assert np.array_equal(enc(x).detach().numpy(), enc(x).detach().numpy())
    from fastnn.nn.modules.transformer import TransformerEncoder, TransformerEncoderLayer
    assert TransformerEncoder is fnn.TransformerEncoder
    assert TransformerEncoderLayer is fnn.TransformerEncoderLayer
    assert enc.layers[0] is not enc.layers[1]
    with pytest.raises(RuntimeError, match="relu/gelu"):
        fnn.TransformerEncoderLayer(8, 2, activation="swish")


def test_gradcheck_encoder_layer():
    fastnn.manual_seed(0)
    layer = fnn.TransformerEncoderLayer(8, 2, 12, dropout=0.0, activation="gelu",
                                        norm_first=True).double()
    x = fastnn.randn(3, 2, 8, dtype="float64", requires_grad=True)
    mask = fnn.Transformer.generate_square_subsequent_mask(3, dtype=np.float64)
    assert fastnn.gradcheck(lambda x, *ps: layer(x, src_mask=mask),
                            [x] + list(layer.parameters()))


def _padded_encoders(torch, H, layer_kw=None, enc_kw=None, norm=False):
    layer_kw = {"dropout": 0.0, "batch_first": True, **(layer_kw or {})}
    enc_kw = enc_kw or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(16, 4, 32, **layer_kw),
                                         2, torch.nn.LayerNorm(16) if norm else None, **enc_kw)
        fm = fnn.TransformerEncoder(fnn.TransformerEncoderLayer(16, 4, 32, **layer_kw), 2,
                                    fnn.LayerNorm(16) if norm else None, **enc_kw)
    H.load(tm, fm, np.float32)
    for p in tm.parameters():              # a non-zero norm bias: norm(0) shows
        p.data.add_(0.01)
    H.load(tm, fm, np.float32)
    return tm.eval(), fm.eval()


@pytest.mark.parametrize("norm", [False, True])
def test_encoder_eval_fast_path_zeroes_padding(torch, H, norm):
    # PyTorch's inference fast path (eval, no grad, batch_first, a padding
    # mask with the padding at the end): each sequence runs alone as a
    # nested tensor and the padded positions come back as zeros (the final
    # norm's bias after a norm), not as the values of the masked layers
    tm, fm = _padded_encoders(torch, H, norm=norm)
    x = np.random.default_rng(1).standard_normal((3, 5, 16)).astype(np.float32)
    kpm = np.zeros((3, 5), bool)
    kpm[1, 3:] = True
    kpm[2, 1:] = True
    with torch.no_grad(), fastnn.no_grad():
        a = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
        b = fm(fastnn.tensor(x), src_key_padding_mask=fastnn.tensor(kpm))
    H.close(a, b, np.float32)
    want = tm.norm.bias.detach().numpy() if norm else np.zeros(16, np.float32)
    np.testing.assert_allclose(b.numpy()[1, 3:], np.broadcast_to(want, (2, 16)), atol=1e-6)
    # a float mask (-inf at the padding) takes the same path
    fk = np.where(kpm, -np.inf, 0.0).astype(np.float32)
    with torch.no_grad(), fastnn.no_grad():
        a = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(fk))
        b = fm(fastnn.tensor(x), src_key_padding_mask=fastnn.tensor(fk))
    H.close(a, b, np.float32)


@pytest.mark.parametrize("case", ["grad", "train", "not_left_aligned", "mask", "seq_first",
                                  "norm_first", "odd_heads", "disabled", "no_mask_check"])
def test_encoder_fast_path_conditions_as_torch(torch, H, case):
    # where PyTorch takes the fast path and where not (then the padded
    # positions keep the layers' values), fastnn does the same
    layer_kw = {"seq_first": {"batch_first": False}, "norm_first": {"norm_first": True}}
    tm, fm = _padded_encoders(torch, H, layer_kw.get(case),
                              {"mask_check": False} if case == "no_mask_check" else None)
    if case == "odd_heads":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tm = torch.nn.TransformerEncoder(
                torch.nn.TransformerEncoderLayer(15, 3, 8, 0.0, batch_first=True), 1).eval()
            fm = H.load(tm, fnn.TransformerEncoder(
                fnn.TransformerEncoderLayer(15, 3, 8, 0.0, batch_first=True), 1), np.float32)
            fm.eval()
    if case == "train":
        tm.train()
        fm.train()
    E = 15 if case == "odd_heads" else 16
    x = np.random.default_rng(2).standard_normal((3, 5, E)).astype(np.float32)
    kpm = np.zeros((3, 5), bool)
    kpm[1, 3:] = True
    if case in ("not_left_aligned", "no_mask_check"):
        kpm[0, 1] = True
    kw_t, kw_f = {}, {}
    if case == "mask":
        m = np.triu(np.full((5, 5), -np.inf, np.float32), 1)
        kw_t, kw_f = {"mask": torch.tensor(m)}, {"mask": fastnn.tensor(m)}
    tx, fx = torch.tensor(x), fastnn.tensor(x)
    if case == "seq_first":
        tx, fx = tx.transpose(0, 1), fx.transpose(0, 1)
    tk, fk = torch.tensor(kpm), fastnn.tensor(kpm)
    if case == "disabled":
        torch.backends.mha.set_fastpath_enabled(False)
        fastnn.backends.mha.set_fastpath_enabled(False)
    try:
        if case == "grad":
            a = tm(tx, src_key_padding_mask=tk, **kw_t)
            b = fm(fx, src_key_padding_mask=fk, **kw_f)
        else:
            with torch.no_grad(), fastnn.no_grad():
                a = tm(tx, src_key_padding_mask=tk, **kw_t)
                b = fm(fx, src_key_padding_mask=fk, **kw_f)
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
        fastnn.backends.mha.set_fastpath_enabled(True)
    H.close(a, b, np.float32)


def test_encoder_warns_when_nested_tensor_cannot_be_used(torch):
    for kw in ({"batch_first": False}, {"batch_first": True, "norm_first": True}):
        with pytest.warns(UserWarning, match="enable_nested_tensor is True"):
            fm = fnn.TransformerEncoder(fnn.TransformerEncoderLayer(16, 4, 32, **kw), 1)
        assert fm.use_nested_tensor is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fm = fnn.TransformerEncoder(fnn.TransformerEncoderLayer(16, 4, 32, batch_first=True), 1)
        assert fm.use_nested_tensor is True
        assert fm.layers[0].activation_relu_or_gelu == 1


def test_private_helpers_other_code_imports(torch):
    # DETR-style and conformer code imports these from PyTorch's module
    from fastnn.nn.modules.transformer import (LayerNorm, MultiheadAttention, _get_activation_fn,
                                               _get_clones, _get_seq_len)
    layers = _get_clones(fnn.Linear(3, 3), 2)
    assert isinstance(layers, fnn.ModuleList) and len(layers) == 2
    assert layers[0].weight is not layers[1].weight
    np.testing.assert_array_equal(layers[0].weight.detach().numpy(),
                                  layers[1].weight.detach().numpy())
    assert _get_activation_fn("gelu") is fastnn.nn.functional.gelu
    with pytest.raises(RuntimeError, match="relu/gelu"):
        _get_activation_fn("tanh")
    with pytest.raises(RuntimeError):
        torch.nn.modules.transformer._get_activation_fn("tanh")
    assert _get_seq_len(fastnn.zeros(2, 5, 4), True) == 5
    assert _get_seq_len(fastnn.zeros(5, 2, 4), False) == 5
    assert LayerNorm is fnn.LayerNorm and MultiheadAttention is fnn.MultiheadAttention
