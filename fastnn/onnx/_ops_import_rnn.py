"""Import entries for ONNX's LSTM, GRU and RNN, unrolled over time with
fastnn ops (matrix products and activations), so the imported sequence
model runs and trains: the input projection for every step at once, then
one step at a time the recurrent product, the gates and the state.

ONNX orders the gates (i, o, f, c) for LSTM and (z, r, h) for GRU, with
input and recurrent biases concatenated; ``layout`` 0 is (seq, batch,
features), 1 is (batch, seq, features).
"""
import numpy as np

import fastnn
from .._tensor import Tensor
from ..nn import functional as F
from ._ops_import import arr, attr
from ._registry import imports
from .errors import OnnxImportError

_ACT = {"Sigmoid": F.sigmoid, "Tanh": F.tanh, "Relu": F.relu}


def _acts(node, defaults):
    names = attr(node, "activations") or defaults
    try:
        return [_ACT[n] for n in names]
    except KeyError:
        raise OnnxImportError(f"fastnn.onnx: {node.op_type} activations {names} are not "
                              "supported (Sigmoid, Tanh, Relu are)") from None


def _setup(node, x, seq_lens):
    if attr(node, "clip") is not None:
        raise OnnxImportError(f"fastnn.onnx: {node.op_type} with clip is not supported")
    layout = attr(node, "layout", 0)
    if layout:
        x = x.permute(1, 0, 2)
    if seq_lens is not None:
        lens = arr(seq_lens)
        if lens.size and not np.all(lens == x.shape[0]):
            raise OnnxImportError(f"fastnn.onnx: {node.op_type} with sequences of different "
                                  "lengths (sequence_lens) is not supported")
    direction = attr(node, "direction", "forward")
    dirs = {"forward": [False], "reverse": [True], "bidirectional": [False, True]}.get(
        direction)
    if dirs is None:
        raise OnnxImportError(f"fastnn.onnx: {node.op_type} direction {direction!r}")
    return x, layout, dirs


def _state(s, d, B, H, dt):
    if s is None:
        return Tensor._wrap(np.zeros((B, H), dt))
    return s[d]


def _finish(node, ys, hs, cs, layout):
    """Y (seq, dirs, batch, H), Y_h (dirs, batch, H) [, Y_c] in the node's layout."""
    Y = fastnn.stack([fastnn.stack(y, 0) for y in ys], 1)
    Yh = fastnn.stack(hs, 0)
    outs = [Y, Yh]
    if cs is not None:
        outs.append(fastnn.stack(cs, 0))
    if layout:
        outs = [Y.permute(2, 0, 1, 3)] + [o.permute(1, 0, 2) for o in outs[1:]]
    return tuple(outs[:len(node.outputs)])


def _run(node, x, W, R, B, seq_lens, h0, c0, ngates, step):
    """Shared driver: per direction, the input projection at once, then steps."""
    x, layout, dirs = _setup(node, x, seq_lens)
    T, N = x.shape[0], x.shape[1]
    H = attr(node, "hidden_size") or R.shape[-1]
    if W.shape[1] != ngates * H:
        raise OnnxImportError(f"fastnn.onnx: {node.op_type} weight of shape {tuple(W.shape)} "
                              f"for hidden_size {H}")
    if layout:
        h0 = None if h0 is None else h0.permute(1, 0, 2)
        c0 = None if c0 is None else c0.permute(1, 0, 2)
    ys, hs, cs = [], [], []
    for d, rev in enumerate(dirs):
        xw = x @ W[d].t()
        if B is not None:
            xw = xw + B[d][:ngates * H]
        rb = B[d][ngates * H:] if B is not None else None
        h = _state(h0, d, N, H, x.dtype)
        c = _state(c0, d, N, H, x.dtype) if ngates == 4 else None
        out = [None] * T
        for t in (range(T - 1, -1, -1) if rev else range(T)):
            h, c = step(xw[t], h, c, R[d], rb, H)
            out[t] = h
        ys.append(out)
        hs.append(h)
        cs.append(c)
    return _finish(node, ys, hs, cs if ngates == 4 else None, layout)


@imports("LSTM")
def _lstm(m, node, x, W, R, B=None, seq_lens=None, h0=None, c0=None, P=None):
    if P is not None or attr(node, "input_forget", 0):
        raise OnnxImportError("fastnn.onnx: LSTM with peepholes or input_forget is not "
                              "supported")
    f, g, hfn = _acts(node, ["Sigmoid", "Tanh", "Tanh"])[:3]

    def step(xw, h, c, Rd, rb, H):
        z = xw + h @ Rd.t()
        if rb is not None:
            z = z + rb
        i, o, fg, cc = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        c = f(fg) * c + f(i) * g(cc)
        return f(o) * hfn(c), c
    return _run(node, x, W, R, B, seq_lens, h0, c0, 4, step)


@imports("GRU")
def _gru(m, node, x, W, R, B=None, seq_lens=None, h0=None):
    f, g = _acts(node, ["Sigmoid", "Tanh"])[:2]
    lbr = attr(node, "linear_before_reset", 0)

    def step(xw, h, c, Rd, rb, H):
        hr = h @ Rd[:2 * H].t()
        if rb is not None:
            hr = hr + rb[:2 * H]
        z = f(xw[:, :H] + hr[:, :H])
        r = f(xw[:, H:2 * H] + hr[:, H:])
        Rh = Rd[2 * H:].t()
        if lbr:
            hh = h @ Rh
            if rb is not None:
                hh = hh + rb[2 * H:]
            n = g(xw[:, 2 * H:] + r * hh)
        else:
            hh = (r * h) @ Rh
            if rb is not None:
                hh = hh + rb[2 * H:]
            n = g(xw[:, 2 * H:] + hh)
        return (1.0 - z) * n + z * h, None
    return _run(node, x, W, R, B, seq_lens, h0, None, 3, step)


@imports("RNN")
def _rnn(m, node, x, W, R, B=None, seq_lens=None, h0=None):
    (f,) = _acts(node, ["Tanh"])[:1]

    def step(xw, h, c, Rd, rb, H):
        z = xw + h @ Rd.t()
        return f(z + rb if rb is not None else z), None
    return _run(node, x, W, R, B, seq_lens, h0, None, 1, step)
