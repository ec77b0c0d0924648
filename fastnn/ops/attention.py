"""Scaled dot-product attention and multi-head attention over the compiled
core (``csrc/attention.c``).

``AttentionFn`` is one autograd node for the whole attention of every head:
per head, the scores come from one GEMM, the softmax is fused with the
scaling and the (additive) mask, and the output from a second GEMM; the
backward recomputes nothing but the dropout mask.  Heads are addressed by
strides, so ``multi_head_attention_forward`` hands the kernel the columns of
the packed in-projection ``(L, N, 3E)`` (or ``(N, L, 3E)``) directly and gets
the output in the ``(L, N, E)`` layout that ``out_proj`` consumes: no head
split or merge copies.
"""
import math
import warnings

import numpy as np

from .. import _core
from .._core import TensorBase
from .._errors import DTypeError, ShapeError
from ..autograd.function import Function
from ._util import c_contig, nthreads, unbroadcast
from .activation import _t
from .dropout import next_stream
from .linalg import LinearFn
from ..backends import cuda as _sdp_switches


class MHAShapeError(ShapeError, AssertionError):
    """A shape multi-head attention asserts on: an AssertionError, as
    PyTorch's ``multi_head_attention_forward`` raises, and a ShapeError."""


class MaskTypeError(TypeError, AssertionError):
    """An attention mask neither bool nor floating: PyTorch asserts."""


class EmptyAttentionFn(Function):
    """Attention with an empty size: zeros (as PyTorch), zero gradients; a
    graph node all the same, so the output requires grad as the inputs do."""
    raw = True

    @staticmethod
    def forward(ctx, q, k, v, o_shape):
        ctx.like = (q, k, v)
        return np.zeros(o_shape, q.dtype)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.zeros_like(a) for a in ctx.like) + (None,)


class AttentionFn(Function):
    """Attention of every head.  Arguments: q, k, v (k, v None: the columns
    of q's array, as the geometry says), mask (additive float, or None), the
    geometry dict (see ``_core.attn_fwd``), the mask offsets per head, the
    output shape, whether to return the weights and the mask's broadcast
    shape (for its gradient).  Outputs: o and the weights (N*H, L, S) or None."""
    raw = True
    _keep_args = True     # (the mask, for the differentiable backward)

    @staticmethod
    def forward(ctx, q, k, v, mask, geo, mask_off, o_shape, want_w, mshape):
        q = c_contig(q)
        k = q if k is None else c_contig(k)
        v = q if v is None else c_contig(v)
        mask = c_contig(mask) if mask is not None else None
        dt = q.dtype
        nps = (geo["nb"] * geo["hq"], geo["L"], geo["S"])
        train = any(ctx.needs_input_grad)
        drop = geo.get("p", 0.0) > 0
        o = np.empty(o_shape, dt)
        p = np.empty(nps, dt) if (train or (want_w and not drop)) else None
        pw = np.empty(nps, dt) if (want_w and drop) else None
        _core.attn_fwd(q, k, v, o, geo, mask, mask_off, p, pw, nthreads())
        if train:
            ctx.save_for_backward(q, k, v, p)
            ctx.geo, ctx.want_w, ctx.mshape = geo, want_w, mshape
        w = (pw if drop else p) if want_w else None
        return o, w

    @staticmethod
    def backward(ctx, go, gw):
        q, k, v, p = ctx.saved_tensors
        nq, nk, nv, nm = ctx.needs_input_grad[:4]
        go = np.ascontiguousarray(go, dtype=q.dtype)
        packed = k is q
        dq = np.empty_like(q) if (nq or packed) else None
        dk = dq if packed else (np.empty_like(k) if nk else None)
        dv = dq if packed else (np.empty_like(v) if nv else None)
        dm = np.empty(p.shape, q.dtype) if nm else None
        dpw = np.ascontiguousarray(gw, dtype=q.dtype) if (ctx.want_w and gw is not None) else None
        _core.attn_bwd(q, k, v, p, go, ctx.geo, dpw, dq, dk, dv, dm, nthreads())
        if dm is not None:
            dm = unbroadcast(dm.reshape(ctx.mshape[0]), ctx.mshape[1])
        return dq, (None if packed else dk), (None if packed else dv), dm, None, None, None, \
            None, None


# ------------------------------------------------------------------ helpers
def _heads(off, nb_stride, head_stride, row_stride):
    return (int(off), int(nb_stride), int(head_stride), int(row_stride))


def _float_mask(op, m, dt):
    """A boolean mask (True = keep, SDPA's convention) as 0 / -inf; a float
    mask in the query dtype."""
    a = m._array if isinstance(m, TensorBase) else np.asarray(m)
    if a.dtype == np.bool_:
        return np.where(a, 0.0, -np.inf).astype(dt), False
    if a.dtype.kind != "f":
        raise TypeError(f"{op}: attn_mask must be bool or float, got {a.dtype}")
    if a.dtype != dt:
        raise TypeError(f"{op}: Expected attn_mask dtype to be bool or to match query dtype, "
                        f"got {a.dtype} and {dt}")
    return a, True


def _mask_offsets(op, shape, lead, L, S):
    """Offsets per (batch, head) into a contiguous mask of ``shape`` (last dim S,
    second last 1 or L) broadcast to ``lead + (L, S)``; returns (offsets, m_ld)."""
    if len(shape) == 0 or shape[-1] != S:
        raise ShapeError(f"{op}: attn_mask of shape {tuple(shape)} does not broadcast to the "
                         f"attention scores {tuple(lead) + (L, S)}")
    Lm = shape[-2] if len(shape) >= 2 else 1
    if Lm not in (1, L):
        raise ShapeError(f"{op}: attn_mask of shape {tuple(shape)} does not broadcast to the "
                         f"attention scores {tuple(lead) + (L, S)}")
    mlead = tuple(shape[:-2])
    n = int(np.prod(mlead)) if mlead else 1
    try:
        idx = np.broadcast_to(np.arange(n, dtype=np.int64).reshape(mlead), tuple(lead))
    except ValueError:
        raise ShapeError(f"{op}: attn_mask of shape {tuple(shape)} does not broadcast to the "
                         f"attention scores {tuple(lead) + (L, S)}") from None
    return np.ascontiguousarray(idx).reshape(-1) * (Lm * S), (S if Lm == L and L > 1 else 0)


def _dropout_geo(geo, dropout_p):
    if dropout_p > 0:
        seed, stream = next_stream()
        geo.update(p=float(dropout_p), seed=seed, stream=stream)
    return geo


# --------------------------------------------------------------------- SDPA
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q K^T * scale + mask) V over the last two dimensions.

    Parameters
    ----------
    query : Tensor (*, Hq, L, E) (or (*, L, E))
    key, value : Tensor (*, Hkv, S, E), (*, Hkv, S, Ev)
    attn_mask : bool Tensor (True: take part) or float Tensor (added), broadcastable
        to (*, Hq, L, S)
    dropout_p : float (applied to the attention weights)
    is_causal : bool, keys after the query position masked (top-left aligned)
    scale : float, default 1/sqrt(E)
    enable_gqa : bool, Hq a multiple of Hkv (grouped-query attention)

    Shape
    -----
    -> (*, Hq, L, Ev).  A row with every key masked gives zeros.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> q = fastnn.randn(2, 4, 5, 8)
    >>> F.scaled_dot_product_attention(q, q, q, is_causal=True).shape
    fastnn.Size([2, 4, 5, 8])
    """
    op = "scaled_dot_product_attention"
    if not _sdp_switches._cpu_sdpa_allowed():
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. "
                           "This is likely due to turning off both the math kernel and the "
                           "fused kernels.")
    q, k, v = _t(query), _t(key), _t(value)
    geo, o_shape = _sdpa_geometry(op, q, k, v, enable_gqa)
    dt = q._array.dtype
    if attn_mask is not None and is_causal:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if 0 in (geo["nb"], geo["hq"], geo["L"], geo["S"], geo["E"], geo["Ev"]):
        return EmptyAttentionFn.apply(q, k, v, o_shape)   # zeros, as PyTorch
    geo.update(scale=float(scale) if scale is not None else 1.0 / math.sqrt(geo["E"]),
               causal=bool(is_causal), safe=1)
    mask = mask_off = mshape = None
    if attn_mask is not None:
        L, S = geo["L"], geo["S"]
        arr, is_float = _float_mask(op, attn_mask, dt)
        mt = _t(attn_mask) if (is_float and isinstance(attn_mask, TensorBase)
                               and attn_mask.requires_grad) else None
        if arr.ndim == 0 or (arr.shape[-1] == 1 and S != 1):
            full = (arr.shape[:-1] if arr.ndim else ()) + (S,)
            mt = mt.expand(*full) if mt is not None else None
            arr = np.broadcast_to(arr, full)
        lead = _lead_for(q, geo)
        if arr.ndim > len(lead) + 2:
            raise ShapeError(f"{op}: attn_mask of shape {tuple(arr.shape)} has more dimensions "
                             f"than the attention scores {lead + (L, S)}")
        ashape = (1,) * (len(lead) + 2 - arr.ndim) + tuple(arr.shape)
        mask_off, geo["m_ld"] = _mask_offsets(op, ashape, lead, L, S)
        mask = mt if mt is not None else np.ascontiguousarray(arr)
        mshape = (lead + (L, S), tuple(mt.shape)) if mt is not None else None
    _dropout_geo(geo, dropout_p)
    o, _ = AttentionFn.apply(q, k, v, mask, geo, mask_off, o_shape, False, mshape)
    return o


def _lead_for(q, geo):
    """The (batch..., heads) dims the mask broadcasts over, aligned with its
    own leading dims."""
    if q.ndim >= 4:
        return tuple(q.shape[:-3]) + (geo["hq"],)
    if q.ndim == 3:
        return (geo["nb"],)
    return ()


def _sdpa_geometry(op, q, k, v, enable_gqa):
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.ndim < 2:
            raise ShapeError(f"{op}: {name} must have at least 2 dimensions, got shape "
                             f"{tuple(t.shape)}")
    if not (q._array.dtype == k._array.dtype == v._array.dtype):
        raise DTypeError(f"{op}: Expected query, key, and value to have the same dtype, but "
                         f"got query.dtype: {q._array.dtype} key.dtype: {k._array.dtype} and "
                         f"value.dtype: {v._array.dtype} instead.")
    if q._array.dtype not in (np.float32, np.float64):
        raise DTypeError(f"{op}: query must be float32 or float64, got {q._array.dtype}")
    if q.ndim != k.ndim or k.ndim != v.ndim:
        raise ShapeError(f"{op}: query, key and value must have the same number of dimensions, "
                         f"got {q.ndim}, {k.ndim} and {v.ndim}")
    L, E = q.shape[-2:]
    S, Ek = k.shape[-2:]
    Sv, Ev = v.shape[-2:]
    if Ek != E or Sv != S:
        raise ShapeError(f"{op}: shapes do not agree: query {tuple(q.shape)}, key "
                         f"{tuple(k.shape)}, value {tuple(v.shape)} (need key (..., S, E) and "
                         f"value (..., S, Ev))")
    hq = q.shape[-3] if q.ndim >= 4 else 1
    hkv = k.shape[-3] if k.ndim >= 4 else 1
    if v.ndim >= 4 and v.shape[-3] != hkv:
        raise ShapeError(f"{op}: key and value must have the same number of heads, got "
                         f"{hkv} and {v.shape[-3]}")
    if hq != hkv and not (enable_gqa and hkv and hq % hkv == 0):
        raise ShapeError(f"{op}: query has {hq} heads and key/value {hkv}: the numbers must "
                         "match (or, with enable_gqa=True, the query heads be a multiple)")
    qb = tuple(q.shape[:-3]) if q.ndim >= 4 else tuple(q.shape[:-2])
    kb = tuple(k.shape[:-3]) if k.ndim >= 4 else tuple(k.shape[:-2])
    vb = tuple(v.shape[:-3]) if v.ndim >= 4 else tuple(v.shape[:-2])
    if kb != qb or vb != qb:
        raise ShapeError(f"{op}: batch dimensions differ: query {qb}, key {kb}, value {vb}")
    nb = int(np.prod(qb)) if qb else 1
    geo = dict(nb=nb, hq=hq, hkv=hkv, L=L, S=S, E=E, Ev=Ev,
               q=_heads(0, hq * L * E, L * E, E), k=_heads(0, hkv * S * E, S * E, E),
               v=_heads(0, hkv * S * Ev, S * Ev, Ev), o=_heads(0, hq * L * Ev, L * Ev, Ev))
    return geo, tuple(q.shape[:-1]) + (Ev,)


# ---------------------------------------------------------------------- MHA
def _linear(x, w, b):
    return LinearFn.apply(x, w, b)


def _mask_dtype(m):
    return m._array.dtype if isinstance(m, TensorBase) else np.asarray(m).dtype


def _canonical(op, m, name, dt):
    """A bool mask (True = masked, the MHA convention) as 0 / -inf, or a float mask."""
    if m is None:
        return None
    a = m._array if isinstance(m, TensorBase) else np.asarray(m)
    if a.dtype == np.bool_:
        return np.where(a, -np.inf, 0.0).astype(dt)
    if a.dtype.kind != "f":
        raise MaskTypeError(f"{op}: only bool and floating types of {name} are supported")
    return a.astype(dt, copy=False)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """PyTorch's ``F.multi_head_attention_forward``: query (L, N, E) (or
    (L, E)), key and value (S, N, kdim/vdim).  Returns (output (L, N, E),
    weights (N, L, S) averaged over heads, (N, H, L, S), or None)."""
    return mha(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
               bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
               training, key_padding_mask, need_weights, attn_mask, use_separate_proj_weight,
               q_proj_weight, k_proj_weight, v_proj_weight, static_k, static_v,
               average_attn_weights, is_causal, batch_first=False)


def _mha_validate(op, q_in, k_in, v_in, embed_dim, num_heads, batch_first):
    """Checks the shapes of multi-head attention's inputs; returns
    (batch_first in force, batched, L, S, N, E)."""
    if q_in.ndim not in (2, 3):
        raise MHAShapeError(f"{op}: query should be unbatched 2D or batched 3D tensor but "
                            f"received {q_in.ndim}-D query tensor")
    batched = q_in.ndim == 3
    if k_in.ndim != q_in.ndim or v_in.ndim != q_in.ndim:
        raise MHAShapeError(f"{op}: For {'batched (3-D)' if batched else 'unbatched (2-D)'} "
                            f"`query`, expected `key` and `value` to be {q_in.ndim}-D but found "
                            f"{k_in.ndim}-D and {v_in.ndim}-D tensors respectively")
    bf = batch_first and batched
    L = q_in.shape[1] if bf else q_in.shape[0]
    S = k_in.shape[1] if bf else k_in.shape[0]
    N = (q_in.shape[0] if bf else q_in.shape[1]) if batched else 1
    E = q_in.shape[-1]
    if E != embed_dim:
        raise MHAShapeError(f"{op}: was expecting embedding dimension of {embed_dim}, but got {E}")
    if E % num_heads:
        raise MHAShapeError(f"{op}: embed_dim {E} not divisible by num_heads {num_heads}")
    if tuple(k_in.shape[:-1]) != tuple(v_in.shape[:-1]):
        raise MHAShapeError(f"{op}: key shape {tuple(k_in.shape)} does not match value shape "
                            f"{tuple(v_in.shape)}")
    kb = (k_in.shape[0] if bf else k_in.shape[1]) if batched else 1
    if kb != N:
        raise ShapeError(f"{op}: key batch size {kb} does not match query batch size {N}")
    return bf, batched, L, S, N, E


def mha(query, key, value, embed_dim, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
        add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True,
        key_padding_mask=None, need_weights=True, attn_mask=None,
        use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
        v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
        is_causal=False, batch_first=False):
    """Multi-head attention with ``batch_first`` layouts handled by strides
    (the body of ``nn.MultiheadAttention.forward``)."""
    op = "multi_head_attention_forward"
    if static_k is not None or static_v is not None:
        raise NotImplementedError(f"{op}: static_k / static_v are not supported")
    q_in, k_in, v_in = _t(query), _t(key), _t(value)
    bf, batched, L, S, N, E = _mha_validate(op, q_in, k_in, v_in, embed_dim, num_heads,
                                            batch_first)
    H, D = num_heads, E // num_heads
    dt = q_in._array.dtype
    if key_padding_mask is not None and attn_mask is not None and \
            _mask_dtype(key_padding_mask) != _mask_dtype(attn_mask):
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. "
                      "Use same type for both instead.", stacklevel=4)
    kpm = _canonical(op, key_padding_mask, "key_padding_mask", dt)
    am = _canonical(op, attn_mask, "attn_mask", dt)
    if is_causal and am is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    causal = bool(is_causal and kpm is None and not need_weights)
    if causal:
        am = None
    self_attn = (query is key and key is value and not use_separate_proj_weight
                 and bias_k is None and not add_zero_attn)
    if self_attn:
        qkv = _linear(q_in, in_proj_weight, in_proj_bias)
        args = (qkv, None, None)
        W = 3 * E
        offs = (0, E, 2 * E)
    else:
        qt, kt, vt, S = _project(q_in, k_in, v_in, E, in_proj_weight, in_proj_bias,
                                 use_separate_proj_weight, q_proj_weight, k_proj_weight,
                                 v_proj_weight, bias_k, bias_v, add_zero_attn, bf, batched)
        if bias_k is not None or add_zero_attn:
            extra = S - (k_in.shape[1] if bf else k_in.shape[0])
            am = np.pad(am, [(0, 0)] * (am.ndim - 1) + [(0, extra)]) if am is not None else None
            kpm = np.pad(kpm, [(0, 0), (0, extra)]) if kpm is not None else None
        args = (qt, kt, vt)
        W = E
        offs = (0, 0, 0)
    mask, mask_off, m_ld = _mha_mask(op, am, kpm, N, H, L, S, batched)

    def view(off, rows):
        # element (b, h, row, d) of a (rows, N, W) or (N, rows, W) array
        return _heads(off, rows * W if bf else W, D, W if bf else N * W)
    geo = dict(nb=N, hq=H, hkv=H, L=L, S=S, E=D, Ev=D, q=view(offs[0], L),
               k=view(offs[1], S), v=view(offs[2], S),
               o=_heads(0, L * E if bf else E, D, E if bf else N * E),
               scale=1.0 / math.sqrt(D), causal=causal, safe=0 if need_weights else 1,
               m_ld=m_ld)
    _dropout_geo(geo, dropout_p if training else 0.0)
    o_shape = ((N, L, E) if bf else (L, N, E)) if batched else (L, E)
    o, w = AttentionFn.apply(*args, mask, geo, mask_off, o_shape, bool(need_weights), None)
    out = _linear(o, out_proj_weight, out_proj_bias)
    if not need_weights:
        return out, None
    w = w.reshape(N, H, L, S)
    if average_attn_weights:
        w = w.mean(dim=1)
    if not batched:
        w = w.reshape(*w.shape[1:])
    return out, w


def _project(q_in, k_in, v_in, E, w, b, separate, wq, wk, wv, bias_k, bias_v, add_zero_attn,
             bf, batched):
    """q, k, v projections (with bias_k/bias_v rows and a zero row appended
    along the sequence when asked for); returns (q, k, v, S)."""
    if separate:
        ws = (wq, wk, wv)
    else:
        ws = (w[0:E], w[E:2 * E], w[2 * E:3 * E])
    bs = (None, None, None) if b is None else (b[0:E], b[E:2 * E], b[2 * E:3 * E])
    q = _linear(q_in, ws[0], bs[0])
    if k_in is v_in and not separate:
        kv = _linear(k_in, w[E:3 * E], None if b is None else b[E:3 * E])
        k, v = kv[..., :E], kv[..., E:]
    else:
        k = _linear(k_in, ws[1], bs[1])
        v = _linear(v_in, ws[2], bs[2])
    from .._tensor import cat, zeros
    seq = 1 if bf else 0
    if bias_k is not None or bias_v is not None:
        if bias_k is None or bias_v is None:
            raise ValueError("multi_head_attention_forward: bias_k and bias_v must both be set")
        k = cat([k, _seq_row(bias_k, k, seq, batched)], seq)
        v = cat([v, _seq_row(bias_v, v, seq, batched)], seq)
    if add_zero_attn:
        shape = list(k.shape)
        shape[seq] = 1
        z = zeros(*shape, dtype=k._array.dtype)
        k = cat([k, z], seq)
        v = cat([v, z], seq)
    return q, k, v, k.shape[seq]


def _seq_row(bias, like, seq, batched):
    """bias (1, 1, E) as one more step of ``like`` along the sequence dim."""
    b = _t(bias)
    shape = list(like.shape)
    shape[seq] = 1
    return b.reshape(*([1] * (len(shape) - 1) + [shape[-1]])).expand(*shape)


def _mha_mask(op, am, kpm, N, H, L, S, batched):
    """The additive mask handed to the kernel: (array, offsets per head, m_ld)."""
    if am is not None:
        if am.ndim == 2:
            if am.shape != (L, S):
                raise ShapeError(f"{op}: The shape of the 2D attn_mask is {tuple(am.shape)}, "
                                 f"but should be {(L, S)}.")
            am4 = am.reshape(1, 1, L, S)
        elif am.ndim == 3:
            if am.shape != (N * H, L, S):
                raise ShapeError(f"{op}: The shape of the 3D attn_mask is {tuple(am.shape)}, "
                                 f"but should be {(N * H, L, S)}.")
            am4 = am.reshape(N, H, L, S)
        else:
            raise ShapeError(f"{op}: attn_mask's dimension {am.ndim} is not supported")
    if kpm is not None:
        want = (N, S) if batched else (S,)
        if tuple(kpm.shape) != want:
            raise MHAShapeError(f"{op}: expecting key_padding_mask shape of {want}, but got "
                                f"{tuple(kpm.shape)}")
        kpm4 = kpm.reshape(N, 1, 1, S)
    if am is None and kpm is None:
        return None, None, 0
    if am is None:
        m = np.ascontiguousarray(kpm4)
    elif kpm is None:
        m = np.ascontiguousarray(am4)
    else:
        m = np.ascontiguousarray(am4 + kpm4)
    off, m_ld = _mask_offsets(op, m.shape, (N, H), L, S)
    return m, off, m_ld
