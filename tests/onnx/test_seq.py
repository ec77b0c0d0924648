"""Sequence layers: LSTM / GRU / RNN as ONNX's LSTM / GRU / RNN (PyTorch's
gate order converted), Embedding as Gather, attention as MatMul / Softmax;
ONNX Runtime matches fastnn at two batch sizes, the import matches too.
Skipped where this fastnn has no sequence layers yet."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as nn
import fastnn.nn.functional as F

from ._util import Fn, check, op_types, randn

pytestmark = pytest.mark.skipif(not hasattr(nn, "LSTM"),
                                reason="fastnn has no sequence layers (nn.LSTM) yet")


def _seq(t=5, f=6):
    return lambda b: [randn(b, t, f)]


class Last(nn.Module):
    """rnn -> linear on every step, plus the final state."""

    def __init__(self, rnn, width):
        super().__init__()
        self.rnn = rnn
        self.fc = nn.Linear(width, 3)

    def forward(self, x):
        y, h = self.rnn(x)
        h = h[0] if isinstance(h, tuple) else h
        return self.fc(y), h


@pytest.mark.parametrize("kind,kw,width", [
    ("LSTM", dict(num_layers=2, batch_first=True), 8),
    ("LSTM", dict(bidirectional=True, batch_first=True), 16),
    ("GRU", dict(num_layers=2, batch_first=True, bidirectional=True), 16),
    ("GRU", dict(batch_first=True, bias=False), 8),
    ("RNN", dict(batch_first=True, nonlinearity="relu"), 8),
    ("RNN", dict(num_layers=2, batch_first=True), 8),
])
def test_recurrent(kind, kw, width):
    fastnn.manual_seed(0)
    proto = check(Last(getattr(nn, kind)(6, 8, **kw), width), _seq())
    assert kind in op_types(proto)


def test_lstm_time_major_with_initial_state():
    fastnn.manual_seed(1)
    lstm = nn.LSTM(4, 5, num_layers=2)

    def f(s, x, h0, c0):      # inputs batch first, the LSTM time major
        y, (h, c) = s.lstm(x.permute(1, 0, 2), (h0.permute(1, 0, 2), c0.permute(1, 0, 2)))
        return y, h, c

    model = Fn(f, lstm=lstm)
    check(model, lambda b: [randn(b, 7, 4), randn(b, 2, 5, seed=2), randn(b, 2, 5, seed=3)])


def test_embedding_lstm_classifier():
    fastnn.manual_seed(2)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(20, 6)
            self.lstm = nn.LSTM(6, 8, batch_first=True)
            self.fc = nn.Linear(8, 4)

        def forward(self, ids):
            y, _ = self.lstm(self.emb(ids))
            return self.fc(y[:, -1])

    ids = lambda b: [np.random.default_rng(b).integers(0, 20, (b, 7)).astype(np.int64)]
    proto = check(Net(), ids)
    assert "Gather" in op_types(proto)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [False, True])
def test_multihead_self_attention(batch_first, need_weights):
    fastnn.manual_seed(3)
    mha = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    model = Fn(lambda s, x: s.mha(x, x, x, need_weights=need_weights), mha=mha)
    if batch_first:
        check(model, _seq(5, 8))
    else:
        check(model, lambda b: [randn(5, b, 8)], batches=(2, 2))


def test_attention_with_mask_and_cross_attention():
    fastnn.manual_seed(4)
    mha = nn.MultiheadAttention(8, 4, batch_first=True, kdim=6, vdim=6)
    mask = fastnn.tensor(np.triu(np.full((5, 7), -1e9, np.float32), 1))

    def f(s, q, kv):
        return s.mha(q, kv, kv, attn_mask=mask, need_weights=False)[0]

    check(Fn(f, mha=mha), lambda b: [randn(b, 5, 8), randn(b, 7, 6, seed=5)])


def test_sdpa_causal():
    def f(s, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    check(Fn(f), lambda b: [randn(b, 2, 5, 4), randn(b, 2, 5, 4, seed=1),
                            randn(b, 2, 5, 4, seed=2)])


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder(norm_first):
    fastnn.manual_seed(5)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1,
                                       batch_first=True, norm_first=norm_first)
    model = nn.TransformerEncoder(layer, num_layers=2)
    check(model, _seq(5, 8), atol=2e-5)
