"""Recurrent layers (Elman RNN, LSTM, GRU) over the compiled core
(``csrc/rnn.c``).

One layer -- both directions, every time step -- is one autograd node,
``RNNLayerFn``: the forward runs the whole sequence in C (the input
projection of all steps as one GEMM, then per step the recurrent GEMM and one
fused gate pass) and saves the gate activations; the backward runs through
time in C and forms the weight gradients as whole-sequence GEMMs.  A stack of
layers is a chain of these nodes with dropout between them
(``rnn``, PyTorch's ``_VF.lstm`` / ``_VF.gru`` / ``_VF.rnn_tanh``).

Inside a node the sequence is time-major and packed as PyTorch's
``PackedSequence``: step t has ``batch_sizes[t]`` rows.  A padded batch is
the case of equal batch sizes; a ``batch_first`` input is transposed on the
way in (and its gradient on the way out) by the node itself.
"""
import numpy as np

from .. import _core
from .._errors import DTypeError, ShapeError
from ..autograd.function import Function
from ._util import c_contig, nthreads, rows
from .activation import _t
from .dropout import dropout

MODES = {"RNN_TANH": 0, "RNN_RELU": 1, "LSTM": 2, "GRU": 3}
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_NAMES = {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}


class _Geometry:
    """What one layer node needs besides its arrays (not differentiable)."""
    __slots__ = ("mode", "code", "layer", "D", "H", "HO", "T", "B", "batch_sizes", "packed",
                 "sorted", "unsorted", "bf_in", "bf_out", "h0_shape", "c0_shape", "saved_len")


class RNNLayerFn(Function):
    """One layer (one or two directions) over the whole sequence.

    Arguments: x, h0, c0 (the whole stack's initial states, (L*D, B, HO) and
    (L*D, B, H), or None), then per direction w_ih, w_hh, b_ih, b_hh, w_hr
    (forward direction, then reverse; None where absent), then the geometry.
    Outputs: y (the layer's output, in the input's layout), h_n (D, B, HO)
    and c_n (D, B, H) (LSTM; else None), batch in the caller's order."""
    raw = True
    _keep_args = True     # (the initial states, for the differentiable backward)

    @staticmethod
    def forward(ctx, x, h0, c0, *rest):
        geo = rest[-1]
        w = [c_contig(a) if a is not None else None for a in rest[:-1]]
        x2 = _to_rows(x, geo.bf_in)
        dt, D, HO, H, B = x2.dtype, geo.D, geo.HO, geo.H, geo.B
        N = x2.shape[0]
        train = any(ctx.needs_input_grad)
        y = np.empty((N, D * HO), dt)
        hn = np.empty((D, B, HO), dt)
        cn = np.empty((D, B, H), dt) if geo.code == 2 else None
        saved = []
        for d in range(D):
            wi, wh, bi, bh, wr = w[5 * d:5 * d + 5]
            sv = np.empty(geo.saved_len, dt) if train else None
            _core.rnn_fwd(geo.code, d == 1, x2, wi, wh, bi, bh, wr, _state0(h0, geo, d),
                          _state0(c0, geo, d), y, d * HO, hn[d],
                          cn[d] if cn is not None else None, sv, geo.batch_sizes, nthreads())
            saved.append(sv)
        if train:
            ctx.save_for_backward(x2, *w)
            ctx.acts = saved
            ctx.geo = geo
        if geo.unsorted is not None:
            hn = np.ascontiguousarray(hn[:, geo.unsorted])
            cn = np.ascontiguousarray(cn[:, geo.unsorted]) if cn is not None else None
        return _from_rows(y, geo, geo.bf_out), hn, cn

    @staticmethod
    def backward(ctx, gy, ghn, gcn):
        x2, *w = ctx.saved_tensors
        geo = ctx.geo
        need = ctx.needs_input_grad
        dt, D, HO = x2.dtype, geo.D, geo.HO
        gy = _to_rows(gy.astype(dt, copy=False), geo.bf_out and not geo.packed)
        ghn = _sorted_state(ghn, geo, dt)
        gcn = _sorted_state(gcn, geo, dt) if geo.code == 2 else None
        dx = np.empty_like(x2) if need[0] else None
        dh0 = np.zeros(geo.h0_shape, dt) if need[1] else None
        dc0 = np.zeros(geo.c0_shape, dt) if need[2] else None
        grads = [None] * len(w)
        for d in range(D):
            k = 5 * d
            wi, wh, bi, bh, wr = w[k:k + 5]
            outs = [np.empty(a.shape, dt) if (a is not None and need[3 + k + i]) else None
                    for i, a in enumerate((wi, wh, bi, bh, wr))]
            dh0d = np.empty((geo.B, HO), dt) if dh0 is not None else None
            dc0d = np.empty((geo.B, geo.H), dt) if dc0 is not None else None
            _core.rnn_bwd(geo.code, d == 1, x2, wi, wh, wr, ctx.acts[d], gy, d * HO, ghn[d],
                          gcn[d] if gcn is not None else None, dx, d > 0, *outs, dh0d, dc0d,
                          geo.batch_sizes, nthreads())
            grads[k:k + 5] = outs
            _put_state(dh0, dh0d, geo, d)
            _put_state(dc0, dc0d, geo, d)
        if dx is not None:
            dx = _from_rows(dx, geo, geo.bf_in)
        return (dx, dh0, dc0, *grads, None)


def _to_rows(a, batch_first):
    """The (N, F) time-major rows of a (T, B, F) (or (B, T, F)) array."""
    if batch_first:
        a = a.transpose(1, 0, 2)
    return rows(np.ascontiguousarray(a))


def _from_rows(a, geo, batch_first):
    """(N, F) time-major rows back in the layer's layout."""
    if geo.packed:
        return a
    a = a.reshape(geo.T, geo.B, -1)
    return np.ascontiguousarray(a.transpose(1, 0, 2)) if batch_first else a


def _state0(s, geo, d):
    """Direction d's initial state of this layer, batch in sorted order."""
    if s is None:
        return None
    s = s[geo.layer * geo.D + d]
    if geo.sorted is not None:
        s = s[geo.sorted]
    return np.ascontiguousarray(s)


def _sorted_state(g, geo, dt):
    g = g.astype(dt, copy=False)
    if geo.sorted is not None:
        g = g[:, geo.sorted]
    return np.ascontiguousarray(g)


def _put_state(full, part, geo, d):
    if full is None:
        return
    row = full[geo.layer * geo.D + d]
    if geo.sorted is not None:
        row[geo.sorted] = part
    else:
        row[...] = part


class RNNInputDTypeError(TypeError, ValueError):
    """A recurrent stack's input of another dtype than its weights: a
    ValueError as PyTorch raises, and a TypeError."""


def _validate(mode, x, hx, input_size, hidden_size, num_layers, D, proj_size, batch_first,
              batch_sizes, w_dtype=None):
    """Checks the input and states of a stack; returns (T, B, unbatched)."""
    name = _NAMES[mode]
    HO = proj_size if proj_size > 0 else hidden_size
    if batch_sizes is not None:
        if x.ndim != 2:
            raise ShapeError(f"{name}: packed input data must be 2-D (sum(lengths), "
                             f"input_size), got {x.ndim}-D")
        T, B, unbatched = len(batch_sizes), int(batch_sizes[0]) if len(batch_sizes) else 0, False
    else:
        if x.ndim not in (2, 3):
            raise ShapeError(f"{name}: Expected input to be 2D or 3D, got {x.ndim}D tensor "
                             "instead")
        unbatched = x.ndim == 2
        if unbatched:
            T, B = x.shape[0], 1
        else:
            T, B = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
    if x.shape[-1] != input_size:
        raise ShapeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                         f"{input_size}, got {x.shape[-1]}")
    if w_dtype is not None and x.dtype != w_dtype:
        raise RNNInputDTypeError(f"{name}: RNN input dtype ({x.dtype}) does not match weight "
                                 f"dtype ({w_dtype}). Convert input: input.to({w_dtype}), or "
                                 f"convert the model: model.to({x.dtype})")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: input must be float32 or float64, got {x.dtype}")
    if T == 0:
        raise ShapeError(f"{name}: Expected sequence length to be larger than 0 in RNN")
    states = (("hx[0]", HO), ("hx[1]", hidden_size)) if mode == "LSTM" else (("hx", HO),)
    for s, (sname, width) in zip(hx, states):
        if s is None:
            continue
        if unbatched and s.ndim != 2:
            raise ShapeError(f"{name}: For unbatched 2-D input, {sname} should also be 2-D "
                             f"but got {s.ndim}-D tensor")
        if not unbatched and s.ndim != 3:
            raise ShapeError(f"{name}: For batched 3-D input, {sname} should also be 3-D "
                             f"but got {s.ndim}-D tensor")
        want = (num_layers * D, B, width) if not unbatched else (num_layers * D, width)
        if tuple(s.shape) != want:
            raise ShapeError(f"{name}: Expected hidden size {want}, got {list(s.shape)}")
        if s.dtype != x.dtype:
            raise DTypeError(f"{name}: hidden state dtype {s.dtype} must match the input "
                             f"dtype {x.dtype}")
    return T, B, unbatched


def rnn(mode, input, hx, weights, num_layers, dropout_p=0.0, training=False,
        bidirectional=False, batch_first=False, proj_size=0, batch_sizes=None,
        sorted_indices=None, unsorted_indices=None):
    """A stack of recurrent layers (PyTorch's ``_VF.lstm`` and friends).

    Parameters
    ----------
    mode : 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'
    input : Tensor
        (T, B, I), (B, T, I) with ``batch_first``, (T, I) unbatched, or the
        (N, I) data of a packed sequence with ``batch_sizes``.
    hx : tuple
        (h0,) or (h0, c0) for LSTM; each a Tensor or None (zeros).
    weights : list
        Per layer and direction, [w_ih, w_hh, b_ih, b_hh, w_hr] (None where
        absent), in PyTorch's parameter order.
    batch_sizes, sorted_indices, unsorted_indices : int64 ndarrays, optional
        A packed sequence's step sizes and batch permutation.

    Returns
    -------
    (output, h_n, c_n) with c_n None unless LSTM.
    """
    x = _t(input)
    D = 2 if bidirectional else 1
    w_ih0 = weights[0][0]
    hidden = weights[0][1].shape[0] // GATES[mode]
    hx = tuple(_t(h) for h in hx) + (None,) * (2 - len(hx))
    packed = batch_sizes is not None
    T, B, unbatched = _validate(mode, x, [h if h is None else h._array for h in hx],
                                w_ih0.shape[1], hidden, num_layers, D, proj_size, batch_first,
                                batch_sizes, _t(w_ih0)._array.dtype)
    h0, c0 = hx
    if unbatched:
        x = x.reshape(T, 1, x.shape[-1])
        h0 = h0.reshape(h0.shape[0], 1, h0.shape[1]) if h0 is not None else None
        c0 = c0.reshape(c0.shape[0], 1, c0.shape[1]) if c0 is not None else None
    if B == 0:
        return _empty(mode, x, T, D, hidden, proj_size, num_layers, batch_first, unbatched)
    bs = (np.ascontiguousarray(batch_sizes, dtype=np.int64) if packed
          else np.full(T, B, np.int64))
    hs, cs = [], []
    for layer in range(num_layers):
        geo = _geometry(mode, layer, D, hidden, proj_size, T, B, bs, packed, sorted_indices,
                        unsorted_indices, batch_first and not packed and not unbatched,
                        num_layers,
                        x.shape[-1] if layer == 0 else None)
        args = [a for d in range(D) for a in weights[layer * D + d]] + [None] * (5 * (2 - D))
        y, hn, cn = RNNLayerFn.apply(x, h0, c0, *args, geo)
        hs.append(hn)
        cs.append(cn)
        if dropout_p > 0 and training and layer < num_layers - 1:
            y = dropout(y, dropout_p, True)
        x = y
    h_n = hs[0] if num_layers == 1 else _cat(hs)
    c_n = None if mode != "LSTM" else (cs[0] if num_layers == 1 else _cat(cs))
    if unbatched:
        x = x.reshape(T, x.shape[-1])
        h_n = h_n.reshape(h_n.shape[0], h_n.shape[2])
        c_n = c_n.reshape(c_n.shape[0], c_n.shape[2]) if c_n is not None else None
    return x, h_n, c_n


def _cat(ts):
    from .._tensor import cat
    return cat(ts, 0)


def _geometry(mode, layer, D, H, P, T, B, bs, packed, sorted_idx, unsorted_idx, bf,
              num_layers, n_in):
    g = _Geometry()
    g.mode, g.code, g.layer, g.D, g.H = mode, MODES[mode], layer, D, H
    g.HO = P if P > 0 else H
    g.T, g.B, g.batch_sizes, g.packed = T, B, bs, packed
    g.sorted = None if sorted_idx is None else np.asarray(sorted_idx, np.int64)
    g.unsorted = None if unsorted_idx is None else np.asarray(unsorted_idx, np.int64)
    g.bf_in = bf and layer == 0
    g.bf_out = bf and layer == num_layers - 1
    g.h0_shape = (num_layers * D, B, g.HO)
    g.c0_shape = (num_layers * D, B, H)
    g.saved_len = _core.rnn_saved_len(g.code, 1, H, P, bs)
    return g


def _empty_cell(mode, x, H, unbatched):
    """A cell's outputs for an empty batch: empty (0, H) tensors."""
    from .._tensor import Tensor
    dt = x._array.dtype
    c = Tensor._wrap(np.zeros((0, H), dt)) if mode == "LSTM" else None
    return Tensor._wrap(np.zeros((0, H), dt)), c


def _empty(mode, x, T, D, H, P, L, batch_first, unbatched):
    """Outputs of an empty batch (PyTorch returns empty tensors)."""
    from .._tensor import Tensor
    HO = P if P > 0 else H
    dt = x._array.dtype
    shape = (0, T, D * HO) if batch_first else (T, 0, D * HO)
    y = Tensor._wrap(np.zeros(shape, dt))
    h = Tensor._wrap(np.zeros((L * D, 0, HO), dt))
    c = Tensor._wrap(np.zeros((L * D, 0, H), dt)) if mode == "LSTM" else None
    return y, h, c


_STEP = {}   # batch size -> batch_sizes of a one-step sequence (read only)


def _one_step(B):
    bs = _STEP.get(B)
    if bs is None:
        bs = np.full(1, B, np.int64)
        bs.flags.writeable = False
        if len(_STEP) < 64:
            _STEP[B] = bs
    return bs


class RNNCellFn(Function):
    """One step of a cell: the layer's kernels (``_core.rnn_fwd`` /
    ``rnn_bwd``) on a one-step sequence, without the layer's reshaping.

    Arguments: x (B, I) or (I,), h, c ((B, H) or (H,), or None: zeros),
    w_ih, w_hh, b_ih, b_hh (None where absent), the mode's code.  Outputs:
    h' and c' (LSTM; else None), shaped as x is batched or not."""
    raw = True
    _keep_args = True     # (the states, for the differentiable backward)

    @staticmethod
    def forward(ctx, x, h, c, w_ih, w_hh, b_ih, b_hh, code):
        unbatched = x.ndim == 1
        x2 = np.ascontiguousarray(x.reshape(1, -1) if unbatched else x)
        B, H = x2.shape[0], w_hh.shape[1]
        w = [c_contig(a) if a is not None else None for a in (w_ih, w_hh, b_ih, b_hh)]
        st = [np.ascontiguousarray(a.reshape(B, H)) if a is not None else None for a in (h, c)]
        dt, bs = x2.dtype, _one_step(B)
        train = any(ctx.needs_input_grad)
        y = np.empty((B, H), dt)
        hn = np.empty((B, H), dt)
        cn = np.empty((B, H), dt) if code == 2 else None
        sv = np.empty(_core.rnn_saved_len(code, 1, H, 0, bs), dt) if train else None
        _core.rnn_fwd(code, False, x2, *w, None, *st, y, 0, hn, cn, sv, bs, nthreads())
        if train:
            ctx.save_for_backward(x2, *w)
            ctx.acts, ctx.code, ctx.shape = sv, code, x.shape
        if unbatched:
            y = y.reshape(H)
            cn = cn.reshape(H) if cn is not None else None
        return y, cn

    @staticmethod
    def backward(ctx, gy, gc):
        x2, wi, wh, bi, bh = ctx.saved_tensors
        need = ctx.needs_input_grad
        dt, (B, H) = x2.dtype, (x2.shape[0], wh.shape[1])
        gy = np.ascontiguousarray(gy.reshape(B, H), dtype=dt)
        gc = np.ascontiguousarray(gc.reshape(B, H), dtype=dt) if gc is not None else None
        dx = np.empty_like(x2) if need[0] else None
        dh = np.empty((B, H), dt) if need[1] else None
        dc = np.empty((B, H), dt) if need[2] else None
        outs = [np.empty(a.shape, dt) if (a is not None and need[3 + i]) else None
                for i, a in enumerate((wi, wh, bi, bh))]
        _core.rnn_bwd(ctx.code, False, x2, wi, wh, None, ctx.acts, gy, 0, None, gc, dx, False,
                      *outs, None, dh, dc, _one_step(B), nthreads())
        shape = ctx.shape
        back = (lambda a: a.reshape(shape[:-1] + (a.shape[-1],)) if a is not None else None)
        return (back(dx), back(dh), back(dc), *outs, None)


def cell(mode, input, hx, weights, name):
    """One step of a cell (``RNNCell``, ``LSTMCell``, ``GRUCell``) through
    ``RNNCellFn``.  Returns (h', c') (c' None unless LSTM)."""
    x = _t(input)
    if x.ndim not in (1, 2):
        raise ShapeError(f"{name}: Expected input to be 1D or 2D, got {x.ndim}D instead")
    n_in, H = weights[0].shape[1], weights[1].shape[1]
    if x.shape[-1] != n_in:
        raise ShapeError(f"{name}: input has inconsistent input_size: got {x.shape[-1]} "
                         f"expected {n_in}")
    w_dt = _t(weights[0])._array.dtype
    if x._array.dtype != w_dt:
        # PyTorch: "mat1 and mat2 must have the same dtype" (a RuntimeError)
        raise DTypeError(f"{name}: input dtype {x._array.dtype} must match the weight dtype "
                         f"{w_dt}")
    unbatched = x.ndim == 1
    B = 1 if unbatched else x.shape[0]
    states = []
    for i, h in enumerate(hx):
        if h is None:
            states.append(None)
            continue
        h = _t(h)
        if h.ndim != x.ndim:
            raise ShapeError(f"{name}: Expected hidden[{i}] to be {x.ndim}D (as the input), "
                             f"got {h.ndim}D instead")
        if not unbatched and h.shape[0] != B:
            raise ShapeError(f"{name}: Input batch size {B} doesn't match hidden{i} batch "
                             f"size {h.shape[0]}")
        if h.shape[-1] != H:
            raise ShapeError(f"{name}: hidden{i} has inconsistent hidden_size: got "
                             f"{h.shape[-1]}, expected {H}")
        if h._array.dtype != x._array.dtype:
            raise DTypeError(f"{name}: hidden state dtype {h._array.dtype} must match the "
                             f"input dtype {x._array.dtype}")
        states.append(h)
    states += [None] * (2 - len(states))
    if B == 0:
        return _empty_cell(mode, x, H, unbatched)
    return RNNCellFn.apply(x, *states, *weights[:4], MODES[mode])
