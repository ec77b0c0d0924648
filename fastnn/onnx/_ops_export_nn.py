"""Export entries for the layer ops: convolutions (plain, fused with ReLU,
1-D, transposed, padding modes), pooling (max, average, adaptive, global),
normalisation (batch, layer, group, instance), resampling, pixel shuffle,
dropout, and the sequence layers.

The entries name both the convolution Functions of today
(``Conv2d(x, weight, bias, stride, padding)``) and those with groups and
dilation (``Conv2dFn(x, weight, bias, geom)``, ``geom`` a ConvGeometry).
"""
import numpy as np

from ._ops_export import fail, pnorm
from ._registry import exports

C = "fastnn.ops.conv."
PO = "fastnn.ops.pooling."
N = "fastnn.ops.normalization."
RS = "fastnn.ops.resample."


# ------------------------------------------------------------ convolution
def _conv_node(g, x, w, b, nd, stride, pad, dilation, groups, transpose=False, opad=None):
    """Conv / ConvTranspose of x ((N, C, *spatial) or unbatched) with the
    nd trailing pairs given as 2-D pairs (the 1-D ops use the second entry)."""
    sl = slice(2 - nd, 2)
    unbatched = x.ndim == nd + 1
    xs = g.unsqueeze(x, (0,)) if unbatched else g.name(x)
    attrs = dict(strides=list(stride[sl]), pads=list(pad[sl]) * 2,
                 dilations=list(dilation[sl]), group=int(groups),
                 kernel_shape=list(w.shape[2:]))
    if transpose:
        attrs["output_padding"] = list(opad[sl])
    y = g.op("ConvTranspose" if transpose else "Conv", xs, w, b, **attrs)
    return g.squeeze(y, (0,)) if unbatched else y


@exports(C + "Conv2dFn", C + "Conv2dReLUFn", C + "Conv1dFn")
def _conv(g, op):
    x, w, geo = op["x"], op["weight"], op["geom"]
    nd = 1 if op.cls.__name__ == "Conv1dFn" else 2
    if getattr(geo, "extra", None) is not None:
        fail(op, "uneven 'same' padding reached the convolution unpadded")
    y = _conv_node(g, x, w, op["bias"], nd, geo.stride, geo.padding, geo.dilation, geo.groups)
    return g.op("Relu", y) if op.cls.__name__ == "Conv2dReLUFn" else y


@exports("fastnn.ops.conv_transpose.ConvTranspose2dFn",
         "fastnn.ops.conv_transpose.ConvTranspose1dFn")
def _conv_transpose(g, op):
    x, w, geo = op["x"], op["weight"], op["geom"]
    nd = 1 if op.cls.__name__ == "ConvTranspose1dFn" else 2
    ins = ((1,) + x.shape[-1:]) if nd == 1 else x.shape[-2:]
    ks = ((1,) + w.shape[-1:]) if nd == 1 else w.shape[-2:]
    opad = tuple(o - ((i - 1) * s - 2 * p + d * (k - 1) + 1) for o, i, s, p, d, k in
                 zip(geo.out, ins, geo.stride, geo.padding, geo.dilation, ks))
    return _conv_node(g, x, w, op["bias"], nd, geo.stride, geo.padding, geo.dilation,
                      geo.groups, transpose=True, opad=opad)


@exports("fastnn.ops.conv_pad.PadNdFn")
def _pad(g, op):
    x, pads, mode = op["x"], list(op["pads"]), op["mode"]
    k = len(pads) // 2
    begin = [0] * x.ndim
    end = [0] * x.ndim
    for a in range(k):                      # pads: last axis first, (before, after)
        begin[x.ndim - 1 - a], end[x.ndim - 1 - a] = pads[2 * a], pads[2 * a + 1]
    if mode == "circular":
        return _circular(g, x, begin, end)
    onnx_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}[mode]
    return g.op("Pad", x, g.ints(begin + end), mode=onnx_mode)


def _circular(g, x, begin, end):
    """Circular padding as slices of the ends concatenated around the input."""
    cur = g.name(x)
    for ax in range(x.ndim):
        if not begin[ax] and not end[ax]:
            continue
        parts = []
        if begin[ax]:
            parts.append(g.slice(cur, [-begin[ax]], [np.iinfo(np.int64).max], [ax]))
        parts.append(cur)
        if end[ax]:
            parts.append(g.slice(cur, [0], [end[ax]], [ax]))
        cur = g.op("Concat", *parts, axis=ax)
    return cur


# ---------------------------------------------------------------- pooling
@exports(PO + "MaxPool2dFn")
def _max_pool(g, op):
    x, geo = op["x"], op["g"]
    if op.get("return_indices"):
        fail(op, "max pooling with return_indices=True has no ONNX export (ONNX's indices "
                 "count over the whole tensor, PyTorch's within each plane)")
    x4 = g.reshape(x, geo.view, x.shape)
    y = g.op("MaxPool", x4, kernel_shape=list(geo.k), strides=list(geo.s),
             pads=list(geo.p) * 2, dilations=list(geo.d), ceil_mode=int(geo.ceil))
    return g.reshape(y, op.out.shape, _pooled_view(geo, op.out.shape))


def _pooled_view(geo, out_shape):
    """The 4-D (N, C, OH, OW) of a pooling whose output has out_shape (a
    1-D pooling runs as 2-D with H = 1)."""
    one_row = geo.view[2] == 1 and geo.k[0] == 1 and geo.s[0] == 1 and geo.p[0] == 0
    return tuple(geo.view[:2]) + (1 if one_row else out_shape[-2], out_shape[-1])


@exports(PO + "AvgPool2dFn")
def _avg_pool(g, op):
    x, geo = op["x"], op["g"]
    x4 = g.reshape(x, geo.view, x.shape)
    attrs = dict(kernel_shape=list(geo.k), strides=list(geo.s), pads=list(geo.p) * 2,
                 ceil_mode=int(geo.ceil), count_include_pad=int(geo.include_pad))
    if geo.divisor:
        if geo.ceil:
            fail(op, "avg_pool2d with divisor_override and ceil_mode has no ONNX export")
        attrs["count_include_pad"] = 1
        y = g.op("AveragePool", x4, **attrs)
        y = g.op("Mul", y, g.scalar(geo.k[0] * geo.k[1] / geo.divisor, x))
    else:
        y = g.op("AveragePool", x4, **attrs)
    return g.reshape(y, op.out.shape, _pooled_view(geo, op.out.shape))


def _adaptive_view(geo):
    """(4-D view of the input, 4-D view of the output) of an adaptive pooling."""
    ins = tuple(geo.in_shape)
    two_d = len(ins) >= 3 and ins[-2:] == (geo.H, geo.W)
    lead = ins[:-2] if two_d else ins[:-1]
    if len(lead) == 1:
        lead = (1,) + lead
    if len(lead) > 2:
        lead = (int(np.prod(lead[:-1])), lead[-1])
    return lead + (geo.H, geo.W), lead + (geo.OH, geo.OW)


def _adaptive_windows(n_in, n_out):
    return [((o * n_in) // n_out, -((-(o + 1) * n_in) // n_out)) for o in range(n_out)]


@exports(PO + "AdaptiveAvgPool2dFn", PO + "AdaptiveMaxPool2dFn")
def _adaptive_pool(g, op):
    x, geo = op["x"], op["g"]
    is_max = op.cls.__name__ == "AdaptiveMaxPool2dFn"
    if is_max and op.get("return_indices"):
        fail(op, "adaptive max pooling with return_indices=True has no ONNX export")
    v_in, v_out = _adaptive_view(geo)
    x4 = g.reshape(x, v_in, x.shape)
    H, W, OH, OW = geo.H, geo.W, geo.OH, geo.OW
    if OH == 1 and OW == 1:
        y = g.op("GlobalMaxPool" if is_max else "GlobalAveragePool", x4)
    elif H % OH == 0 and W % OW == 0:
        k = [H // OH, W // OW]
        y = g.op("MaxPool" if is_max else "AveragePool", x4, kernel_shape=k, strides=k)
    else:   # windows of unequal sizes: one reduction per output row, then per column
        red = "ReduceMax" if is_max else "ReduceMean"
        y = x4
        for axis, n_in, n_out in ((2, H, OH), (3, W, OW)):
            if n_in == n_out:
                continue
            rows = [g.reduce(red, g.slice(y, [a], [b], [axis]), (axis,), True)
                    for a, b in _adaptive_windows(n_in, n_out)]
            y = g.op("Concat", *rows, axis=axis) if len(rows) > 1 else rows[0]
    return g.reshape(y, op.out.shape, v_out)


# ---------------------------------------------------------- normalisation
def _ones(g, n, like, value=1.0):
    return g.const(np.full(n, value, dtype=like.dtype))


def _per_channel(g, v, x):
    """A (C,) parameter shaped to broadcast over x (N, C, *)."""
    if x.ndim <= 2:
        return g.name(v)
    return g.reshape(v, (v.shape[0],) + (1,) * (x.ndim - 2), v.shape)


@exports(N + "BatchNormFn", N + "BatchNormReLUFn")
def _batch_norm(g, op):
    x, w, b = op["x"], op["weight"], op["bias"]
    rm, rv, training, eps = op["running_mean"], op["running_var"], op["training"], op["eps"]
    C = x.shape[1]
    if training or rm is None:
        y = _bn_batch_stats(g, x, w, b, eps)
    else:
        scale = g.name(w) if w is not None else _ones(g, C, x)
        bias = g.name(b) if b is not None else _ones(g, C, x, 0.0)
        xs = g.unsqueeze(x, (2,)) if x.ndim == 2 else g.name(x)
        y = g.op("BatchNormalization", xs, scale, bias, rm, rv, epsilon=float(eps))
        if x.ndim == 2:
            y = g.squeeze(y, (2,))
    return g.op("Relu", y) if op.cls.relu else y


def _standardize(g, x, axes, eps, like):
    """(x - mean) / sqrt(biased var + eps) over axes (kept)."""
    d = g.op("Sub", x, g.reduce("ReduceMean", x, axes, True))
    var = g.reduce("ReduceMean", g.op("Mul", d, d), axes, True)
    return g.op("Div", d, g.op("Sqrt", g.op("Add", var, g.scalar(eps, like))))


def _affine(g, y, w, b, shape=lambda v: v):
    if w is not None:
        y = g.op("Mul", y, shape(w))
    return g.op("Add", y, shape(b)) if b is not None else y


def _bn_batch_stats(g, x, w, b, eps):
    """Batch norm with the batch's own statistics (training=True, or no
    running statistics): biased variance over every axis but the channels."""
    y = _standardize(g, g.name(x), [0] + list(range(2, x.ndim)), eps, x)
    return _affine(g, y, w, b, lambda v: _per_channel(g, v, x))


@exports(N + "LayerNormFn")
def _layer_norm(g, op):
    x, w, b, eps = op["x"], op["weight"], op["bias"], float(op["eps"])
    ns = op["normalized_shape"]
    k = 1 if isinstance(ns, (int, np.integer)) else len(tuple(ns))
    nshape = x.shape[x.ndim - k:]
    if g.opset >= 17:
        scale = g.name(w) if w is not None else g.const(np.ones(nshape, x.dtype))
        return g.op("LayerNormalization", x, scale, b, axis=-k, epsilon=eps)
    return _affine(g, _standardize(g, g.name(x), list(range(x.ndim - k, x.ndim)), eps, x), w, b)


@exports(N + "GroupNormFn")
def _group_norm(g, op):
    x, w, b, G, eps = op["x"], op["weight"], op["bias"], int(op["num_groups"]), op["eps"]
    return _group_norm_nodes(g, x, w, b, G, float(eps))


def _group_norm_nodes(g, x, w, b, G, eps):
    C = x.shape[1]
    if g.opset >= 21:
        scale = g.name(w) if w is not None else _ones(g, C, x)
        bias = g.name(b) if b is not None else _ones(g, C, x, 0.0)
        xs = g.unsqueeze(x, (2,)) if x.ndim == 2 else g.name(x)
        y = g.op("GroupNormalization", xs, scale, bias, epsilon=eps, num_groups=G)
        return g.squeeze(y, (2,)) if x.ndim == 2 else y
    # (N, G, rest) normalised per row by InstanceNormalization, then the affine step
    rest = int(np.prod(x.shape[1:])) // G
    xr = g.reshape(x, (x.shape[0], G, rest), x.shape)
    y = g.op("InstanceNormalization", xr, _ones(g, G, x), _ones(g, G, x, 0.0), epsilon=eps)
    y = g.reshape(y, x.shape, (x.shape[0], G, rest))
    return _affine(g, y, w, b, lambda v: _per_channel(g, v, x))


@exports(N + "InstanceNormFn")
def _instance_norm(g, op):
    x, w, b, eps = op["x"], op["weight"], op["bias"], float(op["eps"])
    C = x.shape[1]
    if x.ndim < 3:
        return _group_norm_nodes(g, x, w, b, C, eps)
    scale = g.name(w) if w is not None else _ones(g, C, x)
    bias = g.name(b) if b is not None else _ones(g, C, x, 0.0)
    return g.op("InstanceNormalization", x, scale, bias, epsilon=eps)


# ------------------------------------------------------------- resampling
@exports(RS + "UpsampleFn")
def _upsample(g, op):
    x, size, sf, mode = op["x"], op["size"], op["scale_factor"], op["mode"]
    ac, recompute = op["align_corners"], op["recompute"]
    attrs = {"nearest": dict(mode="nearest", coordinate_transformation_mode="asymmetric",
                             nearest_mode="floor"),
             "nearest-exact": dict(mode="nearest", coordinate_transformation_mode="half_pixel",
                                   nearest_mode="round_prefer_ceil")}.get(mode)
    if attrs is None:
        attrs = dict(mode="linear", coordinate_transformation_mode=(
            "align_corners" if ac else "pytorch_half_pixel"))
    nsp = x.ndim - 2
    if sf is not None and not recompute:
        sfs = list(sf) if isinstance(sf, (tuple, list)) else [sf] * nsp
        scales = g.const(np.asarray([1.0, 1.0] + [float(s) for s in sfs], np.float32))
        return g.op("Resize", x, "", scales, **attrs)
    sizes = g.const(np.asarray(op.out.shape, np.int64),
                    meta=("shape", tuple(x.shape), tuple(op.out.shape)))
    return g.op("Resize", x, "", "", sizes, **attrs)


@exports(RS + "PixelShuffleFn")
def _pixel_shuffle(g, op):
    x, r, inverse = op["x"], int(op["r"]), op["inverse"]
    *b, c, h, w = x.shape
    n = len(b)
    if inverse:
        mid = (*b, c, h // r, r, w // r, r)
        perm = list(range(n)) + [n, n + 2, n + 4, n + 1, n + 3]
        tshape = (*b, c, r, r, h // r, w // r)
    else:
        mid = (*b, c // (r * r), r, r, h, w)
        perm = list(range(n)) + [n, n + 3, n + 1, n + 4, n + 2]
        tshape = (*b, c // (r * r), h, r, w, r)
    y = g.reshape(x, mid, x.shape)
    y = g.transpose(y, perm)
    return g.reshape(y, op.out.shape, tshape)


# --------------------------------------------------------------- distance
D = "fastnn.ops.distance."


@exports(D + "NormalizeFn")
def _normalize(g, op):
    x, p, eps = op["x"], float(op["p"]), float(op["eps"])
    d = int(op["dim"]) % x.ndim
    n = pnorm(g, g.name(x), p, (d,), True, x)
    return g.op("Div", x, g.op("Max", n, g.scalar(eps, x)))


@exports(D + "CosineSimilarityFn")
def _cosine(g, op):
    a, b, eps = op["x1"], op["x2"], float(op["eps"])
    nd = max(a.ndim, b.ndim)
    d = int(op["dim"]) % nd
    dt = op.out.dtype
    a_, b_ = g.name(a), g.name(b)
    if a.dtype != dt:
        a_ = g.cast(a, dt)
    if b.dtype != dt:
        b_ = g.cast(b, dt)
    c1 = g.op("Max", g.reduce("ReduceL2", a_, (d,), True), g.scalar(eps, dt))
    c2 = g.op("Max", g.reduce("ReduceL2", b_, (d,), True), g.scalar(eps, dt))
    return g.reduce("ReduceSum", g.op("Mul", g.op("Div", a_, c1), g.op("Div", b_, c2)),
                    (d,), False)


@exports(D + "PairwiseDistanceFn")
def _pairwise(g, op):
    a, b, p, eps = op["x1"], op["x2"], float(op["p"]), float(op["eps"])
    u = g.op("Add", g.op("Sub", a, b), g.scalar(eps, a))
    return pnorm(g, u, p, (-1,), bool(op["keepdim"]), a)


# --------------------------------------------------------- sequence layers
# PyTorch's gate blocks (rows of w_ih / w_hh, H each) in ONNX's order:
# LSTM (i, f, g, o) -> (i, o, f, c); GRU (r, z, n) -> (z, r, h)
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}


def _gates(g, w, order, H):
    """w's gate blocks (axis 0) reordered (slices of the initializer, which
    stays as it is; runtimes fold them)."""
    if len(order) == 1:
        return g.name(w)
    return g.op("Concat", *[g.slice(w, [k * H], [(k + 1) * H], [0]) for k in order], axis=0)


def _per_direction(g, parts):
    parts = [g.unsqueeze(p, (0,)) for p in parts]
    return parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=0)


@exports("fastnn.ops.rnn.RNNLayerFn")
def _rnn_layer(g, op):
    """One recurrent layer (both directions) as ONNX's LSTM / GRU / RNN."""
    x, h0, c0 = op["x"], op["h0"], op["c0"]
    *w, geo = op["rest"]
    mode, D, H = geo.mode, geo.D, geo.H
    if geo.packed or geo.sorted is not None:
        fail(op, "packed sequences have no ONNX export (pad them)")
    if geo.HO != H:
        fail(op, "LSTM with proj_size has no ONNX export")
    order = _GATE_ORDER[mode]
    xs = g.transpose(x, (1, 0, 2)) if geo.bf_in else g.name(x)
    W = _per_direction(g, [_gates(g, w[5 * d], order, H) for d in range(D)])
    R = _per_direction(g, [_gates(g, w[5 * d + 1], order, H) for d in range(D)])
    B = ""
    if w[2] is not None or w[3] is not None:
        zero = np.zeros(len(order) * H, x.dtype)
        B = _per_direction(g, [g.op("Concat", *[_gates(g, w[5 * d + k], order, H)
                                                 if w[5 * d + k] is not None else g.const(zero)
                                                 for k in (2, 3)], axis=0)
                               for d in range(D)])
    rows = [geo.layer * D, geo.layer * D + D]
    init_h = g.slice(h0, rows[:1], rows[1:], [0]) if h0 is not None else ""
    init_c = g.slice(c0, rows[:1], rows[1:], [0]) if (c0 is not None and mode == "LSTM") \
        else ""
    attrs = dict(hidden_size=H, direction="bidirectional" if D == 2 else "forward")
    if mode == "LSTM":
        y, hn, cn = g.op("LSTM", xs, W, R, B, "", init_h, init_c, n_out=3, **attrs)
    else:
        if mode == "GRU":
            attrs["linear_before_reset"] = 1
        else:
            attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * D
        y, hn = g.op("GRU" if mode == "GRU" else "RNN", xs, W, R, B, "", init_h, n_out=2,
                     **attrs)
        cn = None
    T, N = geo.T, geo.B
    y = g.reshape(g.transpose(y, (0, 2, 1, 3)), (T, N, D * H), (T, N, D, H))
    if geo.bf_out:
        y = g.transpose(y, (1, 0, 2))
    return [y, hn, cn]


def _head_view(g, op, t, heads, h, rows, width):
    """The (batch..., heads, rows, width) view that the attention kernel reads
    through ``heads`` = (offset, batch stride, head stride, row stride) of
    buffer t: t itself when contiguous, else (multi-head attention's packed
    projections, (rows, N, W) or (N, rows, W)) reshape, slice and transpose."""
    off, sb, sh, sr = heads
    if off == 0 and sr == width and sh == rows * width:
        return g.name(t)
    shape = t.shape if t.ndim == 3 else (t.shape[0], 1, t.shape[1])
    A, B, W = shape
    if sh != width or W % width:
        fail(op, f"attention over heads with strides {heads} has no ONNX export")
    if sr == B * W and sb == W:            # (rows, N, W)
        perm = (1, 2, 0, 3)
    elif sr == W and sb == B * W:          # (N, rows, W)
        perm = (0, 2, 1, 3)
    else:
        fail(op, f"attention over heads with strides {heads} has no ONNX export")
    y = g.reshape(t, (A, B, W // width, width), t.shape)
    y = g.slice(y, [off // width], [off // width + h], [2])
    return g.transpose(y, perm)


def _heads_out(g, op, r, o_heads, o_shape, nb, h, L, width):
    """The attention result r (N, heads, L, width) in the output's layout."""
    off, sb, sh, sr = o_heads
    if sr == width and sh == L * width:
        return r
    if sr == nb * h * width:              # (L, N, E)
        y = g.transpose(r, (2, 0, 1, 3))
        return g.reshape(y, o_shape, (L, nb, h, width))
    y = g.transpose(r, (0, 2, 1, 3))       # (N, L, E)
    return g.reshape(y, o_shape, (nb, L, h, width))


@exports("fastnn.ops.attention.AttentionFn")
def _attention(g, op):
    """Scaled dot-product attention of every head as MatMul, Mul, Add (mask),
    Softmax, MatMul."""
    q, k, v, mask, geo = op["q"], op["k"], op["v"], op["mask"], op["geo"]
    if geo.get("p", 0.0) > 0:
        fail(op, "attention dropout ran in training mode; export evaluates the model")
    if geo["hq"] != geo["hkv"]:
        fail(op, "grouped-query attention (fewer key/value heads) has no ONNX export")
    nb, h, L, S, E, Ev = (geo[n] for n in ("nb", "hq", "L", "S", "E", "Ev"))
    qv = _head_view(g, op, q, geo["q"], h, L, E)
    kv = _head_view(g, op, q if k is None else k, geo["k"], h, S, E)
    vv = _head_view(g, op, q if v is None else v, geo["v"], h, S, Ev)
    nd = q.ndim if qv == g.name(q) else 4
    kt = g.transpose(kv, list(range(nd - 2)) + [nd - 1, nd - 2])
    scores = g.op("Mul", g.op("MatMul", qv, kt), g.scalar(geo["scale"], q))
    if mask is not None:
        scores = g.op("Add", scores, mask)
    if geo.get("causal"):
        tri = np.triu(np.full((L, S), -np.inf, q.dtype), 1)
        scores = g.op("Add", scores, g.const(tri))
    p = g.op("Softmax", scores, axis=-1)
    r = g.op("MatMul", p, vv)
    out = r if nd != 4 or qv == g.name(q) else \
        _heads_out(g, op, r, geo["o"], tuple(op["o_shape"]), nb, h, L, Ev)
    w = g.reshape(p, (nb * h, L, S), (nb, h, L, S)) if op["want_w"] else None
    return [out, w]


@exports("fastnn.ops.embedding.EmbeddingFn")
def _embedding(g, op):
    return g.op("Gather", op["weight"], op["idx"], axis=0)


# ---------------------------------------------------------------- dropout
@exports("fastnn.ops.dropout.DropoutFn", "fastnn.ops.dropout.MaskDropoutFn")
def _dropout(g, op):
    fail(op, "dropout ran in training mode; export evaluates the model (dropout is then the "
             "identity) -- call model.eval() or pass training=False to F.dropout")
