"""One and two threads give bitwise the same recurrent layers (sizes above the
serial cut-off, so the gate passes, the GEMMs and the bias sums really split);
bad shapes, hidden-state sizes, masks and arguments give clear Python errors
(fuzzed), never a crash."""
import numpy as np
import pytest

import fastnn
import fastnn.nn as fnn
import fastnn.nn.functional as F
from fastnn import _core
from fastnn._errors import ShapeError


@pytest.mark.parametrize("mode", [0, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rnn_layer_threads_bitwise(mode, dtype):
    r = np.random.default_rng(0)
    T, B, I, H = 5, 64, 48, 256          # B * 4H = 65536: rows shared out
    G = H * (1, 1, 4, 3)[mode]
    x = r.standard_normal((T * B, I)).astype(dtype)
    w_ih = (0.1 * r.standard_normal((G, I))).astype(dtype)
    w_hh = (0.1 * r.standard_normal((G, H))).astype(dtype)
    b_ih, b_hh = (0.1 * r.standard_normal((2, G))).astype(dtype)
    h0 = r.standard_normal((B, H)).astype(dtype)
    bs = np.array([B, B, B - 3, 40, 7], np.int64)
    N = int(bs.sum())
    x = x[:N]
    dy = r.standard_normal((N, 2 * H)).astype(dtype)
    res = []
    for nt in (1, 2):
        y = np.zeros((N, 2 * H), dtype)
        hn, cn = np.empty((B, H), dtype), np.empty((B, H), dtype)
        sv = np.empty(_core.rnn_saved_len(mode, I, H, 0, bs), dtype)
        _core.rnn_fwd(mode, True, x, w_ih, w_hh, b_ih, b_hh, None, h0, h0, y, H, hn, cn, sv,
                      bs, nt)
        outs = [np.empty((N, I), dtype), np.empty_like(w_ih), np.empty_like(w_hh),
                np.empty(G, dtype), np.empty(G, dtype)]
        dh0, dc0 = np.empty((B, H), dtype), np.empty((B, H), dtype)
        _core.rnn_bwd(mode, True, x, w_ih, w_hh, None, sv, dy, H, hn, cn, outs[0], False,
                      *outs[1:], None, dh0, dc0, bs, nt)
        res.append([y, hn, cn if mode == 2 else hn, sv] + outs + [dh0])
    for a, b in zip(*res):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("batch", [4, 64])   # unit blocks on a team; one threaded GEMM
def test_lstm_module_threads_bitwise(batch):
    fastnn.manual_seed(0)
    m = fnn.LSTM(32, 256, num_layers=2, bidirectional=True, batch_first=True)
    x = fastnn.randn(batch, 6, 32, requires_grad=True)
    res = []
    for nt in (1, 2, 3):      # (batch 4: 4, 2 and 3 unit blocks of the hidden units)
        fastnn.set_num_threads(nt)
        m.zero_grad()
        x.grad = None
        y, _ = m(x)
        (y * y).sum().backward()
        res.append([y.detach().numpy().copy(), x.grad.numpy().copy()]
                   + [p.grad.numpy().copy() for p in m.parameters()])
    for other in res[1:]:
        for a, b in zip(res[0], other):
            assert np.array_equal(a, b)


ERRORS = (ValueError, RuntimeError, TypeError, IndexError)


def test_rnn_bad_inputs_raise_clearly():
    m = fnn.LSTM(4, 6, num_layers=2)
    with pytest.raises(ShapeError, match="input_size"):
        m(fastnn.randn(5, 3, 5))
    with pytest.raises(ShapeError, match="2D or 3D"):
        m(fastnn.randn(2, 5, 3, 4))
    with pytest.raises(ShapeError, match="Expected hidden size"):
        m(fastnn.randn(5, 3, 4), (fastnn.randn(2, 3, 7), fastnn.randn(2, 3, 6)))
    with pytest.raises(ShapeError, match="Expected hidden size"):
        m(fastnn.randn(5, 3, 4), (fastnn.randn(2, 3, 6), fastnn.randn(1, 3, 6)))
    with pytest.raises(ShapeError, match="should also be 3-D"):
        m(fastnn.randn(5, 3, 4), (fastnn.randn(2, 6), fastnn.randn(2, 6)))
    with pytest.raises(ShapeError, match="should also be 2-D"):
        m(fastnn.randn(5, 4), (fastnn.randn(2, 1, 6), fastnn.randn(2, 1, 6)))
    with pytest.raises(ShapeError, match="larger than 0"):
        m(fastnn.randn(0, 3, 4))
    with pytest.raises(TypeError):
        m(fastnn.randn(5, 3, 4).double())
    with pytest.raises(TypeError, match="tuple"):
        m(fastnn.randn(5, 3, 4), fastnn.randn(2, 3, 6))
    g = fnn.GRU(4, 6)
    with pytest.raises(ShapeError, match="Expected hidden size"):
        g(fastnn.randn(5, 3, 4), fastnn.randn(1, 2, 6))
    c = fnn.GRUCell(4, 6)
    with pytest.raises(ShapeError, match="batch size"):
        c(fastnn.randn(3, 4), fastnn.randn(2, 6))
    with pytest.raises(ShapeError, match="hidden_size"):
        c(fastnn.randn(3, 4), fastnn.randn(3, 5))
    with pytest.raises(ShapeError, match="1D or 2D"):
        c(fastnn.randn(1, 3, 4))


def test_rnn_bad_hyper_parameters():
    with pytest.raises(ValueError, match="dropout"):
        fnn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        fnn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        fnn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(ValueError, match="nonlinearity"):
        fnn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="num_layers"):
        fnn.GRU(3, 4, num_layers=0)
    with pytest.raises(TypeError, match="hidden_size"):
        fnn.GRU(3, 4.0)


def test_kernel_bindings_reject_bad_arrays():
    x = np.zeros((6, 3), np.float32)
    w_ih, w_hh = np.zeros((8, 3), np.float32), np.zeros((8, 2), np.float32)
    y, hn = np.zeros((6, 2), np.float32), np.zeros((2, 2), np.float32)
    bs = np.array([2, 2, 2], np.int64)
    with pytest.raises(ValueError, match="non-increasing"):
        _core.rnn_fwd(2, False, x, w_ih, w_hh, None, None, None, None, None, y, 0, hn,
                      np.zeros((2, 2), np.float32), None, np.array([2, 3, 1], np.int64), 1)
    with pytest.raises(ValueError, match="rows"):
        _core.rnn_fwd(2, False, x[:5], w_ih, w_hh, None, None, None, None, None, y, 0, hn,
                      np.zeros((2, 2), np.float32), None, bs, 1)
    with pytest.raises(TypeError):
        _core.rnn_fwd(2, False, x, w_ih.astype(np.float64), w_hh, None, None, None, None, None,
                      y, 0, hn, np.zeros((2, 2), np.float32), None, bs, 1)
    with pytest.raises(ValueError, match="column offset"):
        _core.rnn_fwd(2, False, x, w_ih, w_hh, None, None, None, None, None, y, 1, hn,
                      np.zeros((2, 2), np.float32), None, bs, 1)
    q = np.zeros((2, 3, 4), np.float32)
    geo = dict(nb=2, hq=1, hkv=1, L=3, S=3, E=4, Ev=4, q=(0, 12, 0, 4), k=(0, 12, 0, 4),
               v=(0, 12, 0, 4), o=(4, 12, 0, 4), scale=1.0, causal=0, safe=1)
    with pytest.raises(ValueError, match="run past"):
        _core.attn_fwd(q, q, q, np.zeros_like(q), geo)


def test_fuzzed_shapes_never_crash():
    r = np.random.default_rng(1)
    m = fnn.GRU(4, 5, num_layers=2, bidirectional=True)
    mha = fnn.MultiheadAttention(8, 2)
    for _ in range(60):
        nd = int(r.integers(1, 5))
        shape = tuple(int(s) for s in r.integers(0, 6, nd))
        x = fastnn.randn(*shape)
        try:
            m(x)
        except ERRORS:
            pass
        try:
            F.scaled_dot_product_attention(x, x, x,
                                           attn_mask=fastnn.randn(*shape[-2:]) if nd > 1
                                           else None)
        except ERRORS:
            pass
        q = fastnn.randn(5, 3, 8)
        try:
            mha(q, q, q, attn_mask=fastnn.zeros(*shape) > 0)
        except ERRORS:
            pass
        try:
            mha(q, q, q, key_padding_mask=fastnn.zeros(*shape) > 0)
        except ERRORS:
            pass
        try:
            F.embedding(fastnn.tensor(r.integers(-3, 12, shape)), fastnn.randn(10, 3))
        except ERRORS:
            pass


@pytest.mark.parametrize("case", ["stack_input_f64", "stack_input_int", "double_model",
                                  "stack_h_f64", "cell_input_f64", "cell_input_int",
                                  "cell_h_f64"])
def test_rnn_dtype_mismatches_raise_as_torch(case):
    # PyTorch: a stack's input of another dtype than its weights is a
    # ValueError; a hidden state's or a cell's mismatch a RuntimeError.
    # fastnn's errors are those and TypeErrors
    from fastnn.testing import requires_torch
    torch = requires_torch()

    def make(lib):
        f64, i64 = lib.float64, lib.long
        {"stack_input_f64": lambda: lib.nn.LSTM(2, 3)(lib.zeros(5, 4, 2, dtype=f64)),
         "stack_input_int": lambda: lib.nn.GRU(2, 3)(lib.zeros(5, 4, 2, dtype=i64)),
         "double_model": lambda: lib.nn.GRU(2, 3).double()(lib.zeros(5, 4, 2)),
         "stack_h_f64": lambda: lib.nn.GRU(2, 3)(lib.zeros(5, 4, 2), lib.zeros(1, 4, 3, dtype=f64)),
         "cell_input_f64": lambda: lib.nn.GRUCell(2, 3)(lib.zeros(4, 2, dtype=f64)),
         "cell_input_int": lambda: lib.nn.LSTMCell(2, 3)(lib.zeros(4, 2, dtype=i64)),
         "cell_h_f64": lambda: lib.nn.RNNCell(2, 3)(lib.zeros(4, 2), lib.zeros(4, 3, dtype=f64)),
         }[case]()
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value)):
        make(fastnn)
    with pytest.raises(TypeError):
        make(fastnn)
