"""Differentiable backward formulas of the built-in ops (``create_graph=True``).

Each ``formula(node, *grads)`` returns the node's input gradients as
Tensors computed with Tensor operations, so the engine of ``_higher.py``
records them and they can be differentiated again.  ``inp(node, i, arr)``
is the node's i-th input (its graph edge, or the saved array as a
constant), ``outp(node, i, arr)`` a saved output as a Tensor of the graph.
The formulas are the same derivatives as the array backwards of the ops
(fastnn/ops/); where a factor has zero derivative almost everywhere (a ReLU
mask, a max-pool's argmax, a dropout mask) it enters as a constant, as in
PyTorch.  Ops with long maths give their forward as a *composite* of
simpler ops and let the engine differentiate it.
"""
import math

import numpy as np

import fastnn
from ..nn import functional as F
from ..ops import (activation, bilinear, conv, conv_pad, conv_transpose, distance, dropout,
                   elementwise as ew, embedding, fold, indexing, linalg, loss, loss_pointwise,
                   normalization, pointwise as pw, pooling, reduction, resample, rrelu, shape,
                   sorting, special_math)
from ._higher import attach, composite, const, formula, inp, outp, sum_to

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _shp(x):
    return x.shape if isinstance(x, np.ndarray) else ()


def _needs(node):
    return tuple(node.needs_input_grad) + (False,) * 8


def _mask(a, dtype):
    return const(np.asarray(a).astype(dtype))


def _diag(node, g, n_args):
    """gx = g * D for an element-wise op whose derivative D is constant
    almost everywhere (piecewise linear): D is its array backward at g = 1."""
    ones = np.ones(g._array.shape, g._array.dtype)
    d = node._fn.backward(node, ones)
    d = d[0] if isinstance(d, tuple) else d
    return (attach(g * const(d), inp(node, 0)),) + (None,) * (n_args - 1)


# ------------------------------------------------------------- arithmetic
@formula(ew.AddFn)
def _add(node, g):
    na, nb = _needs(node)[:2]
    sa, sb = node.shapes if node.shapes is not None else (g.shape, g.shape)
    return (sum_to(g, sa) if na else None, sum_to(g, sb) if nb else None)


@formula(ew.SubFn)
def _sub(node, g):
    na, nb = _needs(node)[:2]
    sa, sb = node.shapes
    return (sum_to(g, sa) if na else None, sum_to(-g, sb) if nb else None)


@formula(ew.MulFn)
def _mul(node, g):
    a, b = node.saved_tensors
    na, nb = _needs(node)[:2]
    sa = a if type(a) is tuple else _shp(a)
    sb = b if type(b) is tuple else _shp(b)
    ga = sum_to(g * inp(node, 1, b), sa) if na else None
    gb = sum_to(g * inp(node, 0, a), sb) if nb else None
    return ga, gb


@formula(ew.DivFn)
def _div(node, g):
    a, b = node.saved_tensors
    na, nb = _needs(node)[:2]
    sa = a if type(a) is tuple else _shp(a)
    B = inp(node, 1, b)
    ga = sum_to(g / B, sa) if na else None
    gb = sum_to(-g * inp(node, 0, a) / (B * B), _shp(b)) if nb else None
    return ga, gb


@formula(ew.PowFn)
def _pow(node, g):
    a, b, out = node.saved_tensors
    na, nb = _needs(node)[:2]
    A, B = inp(node, 0, a), inp(node, 1, b)
    ga = gb = None
    zero = const(np.zeros((), g._array.dtype))
    if na:
        ga = fastnn.where(const(np.asarray(b) == 0), zero, g * B * A ** (B - 1))
        ga = sum_to(ga, _shp(a))
    if nb:
        keep0 = (np.asarray(a) == 0) & (np.asarray(b) >= 0)
        gb = fastnn.where(const(keep0), zero, g * outp(node, 0, out) * A.log())
        gb = sum_to(gb, _shp(b))
    return ga, gb


@formula(ew.NegFn)
def _neg(node, g):
    return -g


@formula(ew.ExpFn)
def _exp(node, g):
    (out,) = node.saved_tensors
    return g * outp(node, 0, out)


@formula(ew.LogFn)
def _log(node, g):
    (a,) = node.saved_tensors
    return g / inp(node, 0, a)


@formula(ew.AbsFn)
def _abs(node, g):
    (a,) = node.saved_tensors
    return attach(g * const(np.sign(a)), inp(node, 0))


@formula(ew.SqrtFn)
def _sqrt(node, g):
    (out,) = node.saved_tensors
    return g / (2 * outp(node, 0, out))


@formula(ew.ReluFn, activation.LeakyReLUFn, activation.HardtanhFn, activation.ThresholdFn,
         activation.HardsigmoidFn)
def _piecewise_linear(node, g):
    return _diag(node, g, 4)


@formula(ew.SigmoidFn)
def _sigmoid(node, g):
    (y,) = node.saved_tensors
    Y = outp(node, 0, y)
    return g * Y * (1 - Y)


@formula(ew.TanhFn)
def _tanh(node, g):
    (y,) = node.saved_tensors
    Y = outp(node, 0, y)
    return g * (1 - Y * Y)


# --------------------------------------------------------------- unary math
_LN2, _LN10 = math.log(2.0), math.log(10.0)
_TSP = 2.0 / math.sqrt(math.pi)
_UNARY = {     # class: (uses "x" or "out", derivative as Tensor ops)
    pw.RsqrtFn: lambda y: -0.5 * y * y * y,
    pw.ReciprocalFn: lambda y: -y * y,
    pw.SquareFn: lambda x: 2.0 * x,
    pw.Log1pFn: lambda x: 1.0 / (1.0 + x),
    pw.Expm1Fn: lambda y: y + 1.0,
    pw.Log2Fn: lambda x: 1.0 / (x * _LN2),
    pw.Log10Fn: lambda x: 1.0 / (x * _LN10),
    pw.SinFn: lambda x: x.cos(),
    pw.CosFn: lambda x: -x.sin(),
    pw.TanFn: lambda y: 1.0 + y * y,
    pw.SinhFn: lambda x: x.cosh(),
    pw.CoshFn: lambda x: x.sinh(),
    pw.AsinFn: lambda x: (1.0 - x * x).rsqrt(),
    pw.AcosFn: lambda x: -(1.0 - x * x).rsqrt(),
    pw.AtanFn: lambda x: 1.0 / (1.0 + x * x),
    pw.ErfFn: lambda x: _TSP * (-x * x).exp(),
    pw.ErfcFn: lambda x: -_TSP * (-x * x).exp(),
    pw.AsinhFn: lambda x: (x * x + 1.0).rsqrt(),
    pw.AcoshFn: lambda x: (x * x - 1.0).rsqrt(),
    pw.AtanhFn: lambda x: 1.0 / (1.0 - x * x),
    pw.Exp2Fn: lambda y: y * _LN2,
    pw.ErfinvFn: lambda y: (y * y).exp() / _TSP,
}


@formula(pw._UnaryFn)
def _unary(node, g):
    fn = node._fn
    if fn.save is None:          # rounding functions: zero; frac: identity
        return g if issubclass(fn, pw.FracFn) else g * 0.0
    d = next((_UNARY[c] for c in fn.__mro__ if c in _UNARY), None)
    if d is None:
        raise NotImplementedError(f"create_graph=True: {fn.__name__} has no double backward")
    (s,) = node.saved_tensors
    S = inp(node, 0, s) if fn.save == "x" else outp(node, 0, s)
    return g * d(S)


# -------------------------------------------------------------- activations
def _gelu(x, a, b, c):
    cdf = 0.5 * (1.0 + (x / _SQRT2).erf())
    return cdf + x * (-0.5 * x * x).exp() * _INV_SQRT_2PI


def _gelu_tanh(x, a, b, c):
    k = math.sqrt(2.0 / math.pi)
    t = (k * (x + 0.044715 * x * x * x)).tanh()
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3 * 0.044715 * x * x)


def _silu(x, a, b, c):
    s = x.sigmoid()
    return s * (1.0 + x * (1.0 - s))


def _mish(x, a, b, c):
    t = F.softplus(x).tanh()
    return t + x * (1.0 - t * t) * x.sigmoid()


def _elu(x, a, b, c):
    pos = const((x._array > 0).astype(x._array.dtype))
    return pos * b + (1.0 - pos) * (b * a * c) * (c * x.clamp(max=0.0)).exp()


def _softplus(x, a, b, c):
    over = const(x._array * a > b)
    return fastnn.where(over, const(np.ones((), x._array.dtype)), (a * x).sigmoid())


def _logsigmoid(x, a, b, c):
    return (-x).sigmoid()


def _softsign(x, a, b, c):
    return 1.0 / (1.0 + x.abs()) ** 2


def _hardswish(x, a, b, c):
    v = x._array
    mid = const(((v >= -3) & (v <= 3)).astype(v.dtype))
    return mid * (x / 3.0 + 0.5) + const((v > 3).astype(v.dtype))


_ACT = {"gelu": _gelu, "gelu_tanh": _gelu_tanh, "silu": _silu, "mish": _mish, "elu": _elu,
        "softplus": _softplus, "logsigmoid": _logsigmoid, "softsign": _softsign,
        "hardswish": _hardswish}


@formula(activation._PointwiseFn)
def _pointwise(node, g):
    d = _ACT.get(node._fn.kernel)
    if d is None:
        raise NotImplementedError(f"create_graph=True: {node._fn.__name__} has no double "
                                  "backward")
    (x,) = node.saved_tensors
    return (g * d(inp(node, 0, x), *node.params), None, None, None)


@formula(activation.SoftmaxFn)
def _softmax(node, g):
    (y,) = node.saved_tensors
    Y = outp(node, 0, y)
    return Y * (g - (g * Y).sum(node.dim, keepdim=True)), None


@formula(activation.LogSoftmaxFn)
def _log_softmax(node, g):
    (y,) = node.saved_tensors
    return g - outp(node, 0, y).exp() * g.sum(node.dim, keepdim=True), None


@formula(dropout.DropoutFn)
def _dropout(node, g):
    return _diag(node, g, 4)


@formula(dropout.MaskDropoutFn)
def _mask_dropout(node, g):
    (scale,) = node.saved_tensors
    return (g * const(scale),) + (None,) * 5


# -------------------------------------------------------------------- shape
@formula(shape.ReshapeFn)
def _reshape(node, g):
    return g.reshape(node.shape), None


@formula(shape.PermuteFn)
def _permute(node, g):
    return g.permute(*node.inv), None


@formula(shape.GetItemFn)
def _getitem(node, g):
    z = fastnn.zeros(node.shape, dtype=g.dtype)
    return shape.IndexPutFn.apply(z, g, node.index, True), None


@formula(shape.ExpandFn)
def _expand(node, g):
    return sum_to(g, node.shape), None


@formula(shape.CatFn)
def _cat(node, g):
    return tuple(g.split(list(node.sizes), node.dim))


@formula(shape.StackFn)
def _stack(node, g):
    return tuple(g.unbind(node.dim))


@formula(shape.CastFn)
def _cast(node, g):
    return g.to(node.dtype), None


@formula(shape.CloneFn)
def _clone(node, g):
    return g


@formula(shape.SplitFn)
def _split(node, *gs):
    return fastnn.cat(list(gs), node.dim), None, None


@formula(shape.UnbindFn)
def _unbind(node, *gs):
    return fastnn.stack(list(gs), node.dim), None


@formula(shape.FlipFn)
def _flip(node, g):
    return (g.flip(node.dims) if g.ndim else g), None


@formula(shape.IndexPutFn)
def _index_put(node, g):
    nx, nv = _needs(node)[:2]
    gx = gv = None
    if nx:
        gx = g
        if not node.accumulate:
            keep = np.ones(g.shape, g._array.dtype)
            keep[node.index] = 0
            gx = g * const(keep)
    if nv:
        gv = sum_to(shape.GetItemFn.apply(g, node.index), node.vshape)
    return gx, gv, None, None, None


# --------------------------------------------------------------- reductions
def _expand_back(g, shape_, dims, keepdim):
    if dims is None:
        return g.reshape((1,) * len(shape_)).expand(*shape_) if shape_ else g
    if not keepdim:
        for d in sorted(dims):
            g = g.unsqueeze(d)
    return g.expand(*shape_)


@formula(reduction.SumFn)
def _sum(node, g):
    shape_, dims, keepdim = node.meta
    return _expand_back(g, shape_, dims, keepdim), None, None


@formula(reduction.MeanFn)
def _mean(node, g):
    shape_, dims, keepdim, n = node.meta
    return _expand_back(g / n, shape_, dims, keepdim), None, None


@formula(reduction._Extreme)
def _extreme(node, g, *unused):
    if node.dim is None:
        x, out = node.saved_tensors
        mask = (x == out)
        return g * const((mask / mask.sum()).astype(x.dtype)), None, None
    (idx,) = node.saved_tensors
    gg = g if node.keepdim or not node.shape else g.unsqueeze(node.dim)
    if not node.shape:
        return g.reshape(()), None, None
    z = fastnn.zeros(node.shape, dtype=g.dtype)
    return z.scatter_add(node.dim, const(idx), gg.reshape(idx.shape)), None, None


@formula(reduction.NormFn)
def _norm(node, g):
    x, out = node.saved_tensors
    p, dims, keepdim = node.meta
    X = inp(node, 0, x)
    gg = _expand_back(g, x.shape, dims, keepdim)
    N = _expand_back(outp(node, 0, out), x.shape, dims, keepdim)
    zero = np.asarray(out) == 0
    safe = fastnn.where(const(_expand_np(zero, x.shape, dims, keepdim)),
                        const(np.ones((), x.dtype)), N)
    if p == 2:
        gx = gg * X / safe
    elif p == 1:
        gx = gg * const(np.sign(x))
    elif p in (0, np.inf, -np.inf):
        raise NotImplementedError(f"create_graph=True: norm with p={p} has no double backward")
    else:
        gx = gg * const(np.sign(x)) * X.abs() ** (p - 1) / safe ** (p - 1)
    return gx, None, None, None


def _expand_np(a, shape_, dims, keepdim):
    if dims is not None and not keepdim:
        a = np.expand_dims(a, tuple(sorted(dims)))
    elif dims is None:
        a = np.reshape(a, (1,) * len(shape_))
    return np.broadcast_to(a, shape_)


@formula(reduction.LogSumExpFn)
def _logsumexp(node, g):
    x, out = node.saved_tensors[:2]
    dims, keepdim = node.meta[:2]
    X = inp(node, 0, x)
    gg = _expand_back(g, x.shape, dims, keepdim)
    O = _expand_back(outp(node, 0, out), x.shape, dims, keepdim)
    return gg * (X - O).exp(), None, None


# ------------------------------------------------------------------ linalg
@formula(linalg.MatMulFn)
def _matmul(node, g):
    a, b = node.saved_tensors
    na, nb = _needs(node)[:2]
    A, B = inp(node, 0, a), inp(node, 1, b)
    a2 = A.unsqueeze(0) if a.ndim == 1 else A
    b2 = B.unsqueeze(-1) if b.ndim == 1 else B
    g2 = g.unsqueeze(-1) if b.ndim == 1 else g
    if a.ndim == 1:
        g2 = g2.unsqueeze(-2)
    ga = gb = None
    if na:
        ga = sum_to(g2 @ b2.transpose(-1, -2), a2.shape).reshape(a.shape)
    if nb:
        gb = sum_to(a2.transpose(-1, -2) @ g2, b2.shape).reshape(b.shape)
    return ga, gb


@formula(linalg.LinearFn)
def _linear(node, g):
    x, w = node.saved_tensors
    nx, nw, nb = _needs(node)[:3]
    g2 = g.reshape(-1, w.shape[0])
    gx = (g2 @ inp(node, 1, w)).reshape(x.shape) if nx else None
    gw = g2.t() @ inp(node, 0, x).reshape(-1, w.shape[1]) if nw else None
    gb = g2.sum(0) if nb else None
    return gx, gw, gb


# ------------------------------------------------------------- convolution
def _conv_weight_grad(x4, g4, geom):
    """dL/dw of a 2-D convolution as a convolution of the input with the
    output gradient (stride and dilation swap roles), group by group."""
    K, C = g4.shape[1], x4.shape[1]
    G = geom.groups
    kc, cc = K // G, C // G
    parts = []
    for i in range(G):
        xi = x4[:, i * cc:(i + 1) * cc].transpose(0, 1)
        gi = g4[:, i * kc:(i + 1) * kc].transpose(0, 1)
        parts.append(F.conv2d(xi, gi, stride=geom.dilation, padding=geom.padding,
                              dilation=geom.stride).transpose(0, 1))
    return parts[0] if G == 1 else fastnn.cat(parts, 0)


@formula(conv._ConvFn)
def _conv(node, g):
    saved = node.saved_tensors
    x4, w4 = saved[0], saved[1]
    geom = node.geom
    nx, nw, nb = _needs(node)[:3]
    if node.relu:
        g = g * _mask(saved[2] > 0, g._array.dtype)
    N, K = x4.shape[0], w4.shape[0]
    OH, OW = geom.out
    g4 = g.reshape(N, K, OH, OW)
    gx = gw = gb = None
    if nx:
        W4 = inp(node, 1, w4).reshape(w4.shape)
        opad = tuple(x4.shape[2 + i] - ((geom.out[i] - 1) * geom.stride[i] - 2 * geom.padding[i]
                                        + geom.dilation[i] * (w4.shape[2 + i] - 1) + 1)
                     for i in range(2))
        gx = F.conv_transpose2d(g4, W4, stride=geom.stride, padding=geom.padding,
                                output_padding=opad, groups=geom.groups,
                                dilation=geom.dilation)
        gx = gx.reshape(inp(node, 0, x4).shape)
    if nw:
        X4 = inp(node, 0, x4).reshape(x4.shape)
        R, S = w4.shape[2], w4.shape[3]
        gw = _conv_weight_grad(X4, g4, geom)[:, :, :R, :S]
        gw = gw.reshape(inp(node, 1, w4).shape)
    if nb:
        gb = g4.sum((0, 2, 3))
    return gx, gw, gb, None


# ------------------------------------------------------------------ pooling
@formula(pooling.MaxPool2dFn, pooling.AdaptiveMaxPool2dFn)
def _max_pool(node, grad, g_idx=None):
    (idx,) = node.saved_tensors
    geom = node.geom
    shp = geom.in_shape
    P = int(np.prod(shp[:-2])) if len(shp) > 2 else 1
    HW = shp[-1] * shp[-2]
    z = fastnn.zeros((P, HW), dtype=grad.dtype)
    gx = z.scatter_add(1, const(idx.reshape(P, -1)), grad.reshape(P, -1)).reshape(shp)
    return gx, None, None


def _pool_adjoint():
    from .function import Function

    class PoolAdjointFn(Function):
        """The backward of a linear (average) pooling as an op: forward is
        the pooling's gradient scatter, backward the pooling itself."""
        raw = True

        @staticmethod
        def forward(ctx, grad, node):
            ctx.node = node
            fn = node._fn
            return fn._scatter(grad, None, node.geom, node.dtype)

        @staticmethod
        def backward(ctx, v):
            node = ctx.node
            fn, geom = node._fn, node.geom
            y = np.empty(geom.out_shape, node.dtype)
            if y.size:
                fn._pool(np.ascontiguousarray(v, dtype=node.dtype), y, None, geom)
            return y, None

    return PoolAdjointFn


_ADJ = []


@formula(pooling.AvgPool2dFn, pooling.AdaptiveAvgPool2dFn)
def _avg_pool(node, grad):
    if not _ADJ:
        _ADJ.append(_pool_adjoint())
        formula(_ADJ[0])(_avg_pool_adjoint)
    return _ADJ[0].apply(grad, node), None


def _avg_pool_adjoint(node, v):
    pool = node.node
    return pool._fn.apply(v, pool.geom), None


# ----------------------------------------------------------------- indexing
@formula(indexing.GatherFn)
def _gather(node, g):
    shape_, d, _ = node.meta
    (index,) = node.saved_tensors
    z = fastnn.zeros(shape_, dtype=g.dtype)
    return z.scatter_add(d, const(index), g), None, None


@formula(indexing.IndexSelectFn)
def _index_select(node, g):
    shape_, d = node.meta
    (index,) = node.saved_tensors
    z = fastnn.zeros(shape_, dtype=g.dtype)
    return z.index_add(d, const(index.reshape(-1)), g), None, None


@formula(indexing.MaskedFillFn)
def _masked_fill(node, g):
    (mask,) = node.saved_tensors
    xshape, _ = node.meta
    nx, _, nv = _needs(node)[:3]
    keep = _mask(~mask, g._array.dtype)
    gx = sum_to(g * keep, xshape) if nx else None
    gv = (g * _mask(mask, g._array.dtype)).sum() if nv else None
    return gx, None, gv


@formula(pw.WhereFn)
def _where(node, g):
    (cond,) = node.saved_tensors
    sx, sy = node.shapes
    _, nx, ny = _needs(node)[:3]
    c = _mask(cond, g._array.dtype)
    return None, sum_to(g * c, sx) if nx else None, sum_to(g * (1 - c), sy) if ny else None


@formula(pw.ClampFn)
def _clamp(node, g):
    below, above, crossed = node.masks
    sx, slo, shi = node.shapes
    nx, nlo, nhi = _needs(node)[:3]
    dt = g._array.dtype
    gx = glo = ghi = None
    if nx:
        out_of = below if above is None else (above if below is None else below | above)
        gx = sum_to(g * _mask(~np.asarray(out_of), dt), sx)
    if nlo:
        m = below if crossed is None else below & ~crossed
        glo = sum_to(g * _mask(m, dt), slo)
    if nhi:
        m = above if crossed is None else above | crossed
        ghi = sum_to(g * _mask(m, dt), shi)
    return gx, glo, ghi


@formula(embedding.EmbeddingFn)
def _embedding(node, g):
    g2 = g.reshape(node.idx.shape[0], node.dim)
    scale = np.ones(node.idx.shape[0], g._array.dtype)
    if node.freq:
        counts = np.bincount(node.idx, minlength=node.num)
        scale = scale / counts[node.idx]
    if node.pad is not None and node.pad >= 0:
        scale = np.where(node.idx == node.pad, 0, scale).astype(scale.dtype)
    z = fastnn.zeros((node.num, node.dim), dtype=g.dtype)
    return z.index_add(0, const(node.idx), g2 * const(scale[:, None])), None, None, None


# -------------------------------------------------------------------- losses
def _rows_t(X, shape_):
    """A Tensor laid out as the losses' (M, C) rows (class dim last)."""
    if len(shape_) == 1:
        return X.reshape(1, -1)
    if len(shape_) == 2:
        return X
    return X.movedim(1, -1).reshape(-1, shape_[1])


def _unrows_t(G, shape_):
    if len(shape_) == 1:
        return G.reshape(shape_)
    if len(shape_) == 2:
        return G
    lead = (shape_[0],) + tuple(shape_[2:]) + (shape_[1],)
    return G.reshape(lead).movedim(-1, 1)


def _row_scale(g, reduction, denom):
    """The upstream gradient of each row as an (M, 1) Tensor or a scalar."""
    if reduction == "none":
        return g.reshape(-1, 1)
    return g / denom if reduction == "mean" else g


@formula(loss.CrossEntropyFn)
def _cross_entropy(node, g):
    x2, t, stats, w = node.saved_tensors
    shape_, reduction, denom, general, ig, ls = node.info
    M, C = x2.shape
    keep = t != ig
    tt = np.where(keep, t, 0)
    wv = np.ones(C, x2.dtype) if w is None else w
    a = np.zeros((M, C), x2.dtype)
    a[np.arange(M), tt] = (1.0 - ls) * wv[tt]
    a += (ls / C) * wv[None, :]
    a[~keep] = 0
    X2 = _rows_t(inp(node, 0, x2.reshape(shape_) if len(shape_) <= 2 else None), shape_)
    P = F.softmax(X2, 1)
    gx2 = _row_scale(g, reduction, denom) * (P * const(a.sum(1, keepdims=True)) - const(a))
    return (_unrows_t(gx2, shape_),) + (None,) * 5


@formula(loss.NllLossFn)
def _nll(node, g):
    shape_, shape2, reduction, denom, dt = node.info
    ones = np.ones(g._array.shape, g._array.dtype)
    d = node._fn.backward(node, ones)[0]
    if reduction == "none" and len(shape_) >= 2:
        gx = g.unsqueeze(1) * const(d)
    else:
        gx = g * const(d)
    return (gx,) + (None,) * 4


@formula(loss.BceWithLogitsFn)
def _bce_logits(node, g):
    x, y = node.saved_tensors
    nx, ny = _needs(node)[:2]
    X, Y = inp(node, 0, x), inp(node, 1, y)
    s = g if node.reduction != "mean" else g / x.size
    gx = s * (X.sigmoid() - Y) if nx else None
    gy = -X * s if ny else None
    return gx, gy, None


def _elementwise_loss(rule, X, Y):
    name = type(rule).__name__
    d = X - Y
    if name == "_Mse":
        return d * d
    if name == "_L1":
        return d.abs()
    if name == "_SmoothL1":
        if rule.beta == 0:
            return d.abs()
        small = const(np.abs(d._array) < rule.beta)
        return fastnn.where(small, 0.5 * d * d / rule.beta, d.abs() - 0.5 * rule.beta)
    if name == "_Huber":
        small = const(np.abs(d._array) < rule.delta)
        return fastnn.where(small, 0.5 * d * d, rule.delta * (d.abs() - 0.5 * rule.delta))
    if name == "_Bce":
        return -(Y * X.log().clamp(min=-100) + (1 - Y) * (1 - X).log().clamp(min=-100))
    if name == "_BceLogits":
        sp = F.softplus(-X)
        lw = 1 if rule.pw is None else 1 + (const(rule.pw) - 1) * Y
        return (1 - Y) * X + lw * sp
    if name == "_KlDiv":
        if rule.log_target:
            return Y.exp() * (Y - X)
        pos = const(Y._array > 0)
        ysafe = fastnn.where(pos, Y, const(np.ones((), Y._array.dtype)))
        return fastnn.where(pos, Y * ysafe.log(), const(np.zeros((), Y._array.dtype))) - Y * X
    if name == "_SoftMargin":
        return F.softplus(-Y * X)
    raise NotImplementedError(f"create_graph=True: {rule.op} has no double backward")


@formula(loss_pointwise.PointwiseLossFn)
def _pointwise_loss(node, g):
    x, y, w, l = node.saved_tensors
    rule, cache, reduction, denom, shape_, wmean = node.info

    def forward(X, Y, W):
        lw = _elementwise_loss(rule, X, Y)
        if W is not None:
            lw = lw * W
        if reduction == "none":
            return lw
        s = lw.sum()
        if reduction == "mean":
            if wmean is not None and W is not None:
                return s / W.expand(*lw.shape).sum()
            return s / denom
        return s

    return composite(node, (g,), forward, (x, y, w)) + (None, None, None)


# ----------------------------------------------------------- normalisation
@formula(normalization.LayerNormFn)
def _layer_norm(node, g):
    x, w, mean, rstd = node.saved_tensors
    ns, M, D, wdt, bdt = node.info
    eps = node.eps
    nd = len(ns)
    dims = tuple(range(x.ndim - nd, x.ndim))
    b = None if bdt is None else np.zeros(ns, x.dtype)

    def forward(X, W, B):
        mu = X.mean(dims, keepdim=True)
        xc = X - mu
        var = (xc * xc).mean(dims, keepdim=True)
        y = xc * (var + eps).rsqrt()
        if W is not None:
            y = y * W
        if B is not None:
            y = y + B
        return y

    return composite(node, (g,), forward, (x, w, b)) + (None, None)


@formula(normalization.BatchNormFn)
def _batch_norm(node, g):
    x, mean, invstd, gamma, out = node.saved_tensors
    training, wdt, bdt = node.info
    eps = node.eps
    C = x.shape[1]
    bshape = (1, C) + (1,) * (x.ndim - 2)
    dims = (0,) + tuple(range(2, x.ndim))
    if node._fn.relu:
        g = g * _mask(out > 0, g._array.dtype)
    b = None if bdt is None else np.zeros(C, x.dtype)

    def forward(X, W, B):
        if training:
            mu = X.mean(dims, keepdim=True)
            xc = X - mu
            y = xc * ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
        else:
            y = (X - const(mean.reshape(bshape))) * const(invstd.reshape(bshape))
        if W is not None:
            y = y * W.reshape(bshape)
        if B is not None:
            y = y + B.reshape(bshape)
        return y

    return composite(node, (g,), forward, (x, gamma, b)) + (None,) * 5


# ------------------------------------------------------------- more shapes
@formula(shape.RollFn)
def _roll(node, g):
    s = node.shifts
    neg = tuple(-v for v in s) if isinstance(s, tuple) else -s
    return fastnn.roll(g, neg, node.dims), None, None


@formula(shape.TriFn)
def _tri(node, g):
    return (g.triu(node.k) if node.upper else g.tril(node.k)), None, None


@formula(shape.RepeatFn)
def _repeat(node, g):
    shape_ = tuple(node.shape)
    k = g.ndim - len(shape_)
    full = (1,) * k + shape_
    if 0 in tuple(g.shape):
        return fastnn.zeros(shape_, dtype=g.dtype), None
    inter = []
    for n, s in zip(g.shape, full):
        inter += [n // s if s else 0, s]
    gs = g.reshape(inter).sum(tuple(range(0, 2 * g.ndim, 2)))
    return gs.reshape(shape_), None


@formula(reduction.CumsumFn)
def _cumsum(node, g):
    if g.ndim == 0:
        return g, None
    d = node.dim
    return g.flip(d).cumsum(d).flip(d), None


@formula(reduction.VarFn)
def _var(node, g):
    x, out = node.saved_tensors
    dims, keepdim, dof, op = node.meta
    X = inp(node, 0, x)
    d = X - X.mean(dims, keepdim=True) if dims is not None else X - X.mean()
    gg = _expand_back(g, x.shape, dims, keepdim)
    if out is None:
        return gg * d * (2.0 / dof), None, None, None, None
    s = _expand_back(outp(node, 0, out), x.shape, dims, keepdim)
    zero = _expand_np(np.asarray(out) == 0, x.shape, dims, keepdim)
    safe = fastnn.where(const(zero), const(np.ones((), x.dtype)), s)
    return gg * d / (safe * dof) * _mask(~zero, x.dtype), None, None, None, None


@formula(pw.MaximumFn, pw.MinimumFn)
def _pair_extreme(node, g):
    a, b = node.saved_tensors
    na, nb = _needs(node)[:2]
    big = np.asarray(a > b if issubclass(node._fn, pw.MaximumFn) else a < b)
    tie = np.asarray(a == b)
    dt = g._array.dtype
    wa = big.astype(dt) + 0.5 * tie.astype(dt)
    ga = sum_to(g * const(wa), _shp(a)) if na else None
    gb = sum_to(g * const(1.0 - wa), _shp(b)) if nb else None
    return ga, gb


# ------------------------------------------- linear ops, by their adjoint
# An op linear in its input x (padding, resampling, fold/unfold, diagonal,
# take, masked_select, max_unpool: ``_keep_args = True``) has a backward
# B(g) = F^T g that is itself linear, whose adjoint is F: the node keeps
# its other arguments (ctx._args) so that F can be applied to a gradient.
def _apply_linear(node, v):
    """F(v): the node's op on v with its other arguments (minus F(0) for an
    affine op such as constant padding with a non-zero value)."""
    from .._core import Context
    fn = node._fn
    args = list(node._args)

    def run(a):
        c = Context()
        c.needs_input_grad = [False] * len(args)
        args[0] = a
        return fn.forward(c, *args)

    out = run(v)
    if getattr(fn, "_affine", False):
        out = out - run(np.zeros_like(v))
    return out


def _linear_adjoint():
    from .function import Function

    class LinearAdjointFn(Function):
        """g -> B(g), the backward of a linear op's node, as an op whose own
        backward is the op itself (F = B^T)."""
        raw = True

        @staticmethod
        def forward(ctx, g, node):
            ctx.node = node
            r = node._fn.backward(node, g)
            return r[0] if isinstance(r, tuple) else r

        @staticmethod
        def backward(ctx, v):
            return _apply_linear(ctx.node, v), None

    return LinearAdjointFn


_LIN = []


def _lin_cls():
    if not _LIN:
        _LIN.append(_linear_adjoint())
        formula(_LIN[0])(_linear_adjoint_formula)
    return _LIN[0]


def _linear_adjoint_formula(node, v):
    op = node.node
    args = list(op._args)
    out = op._fn.apply(v, *args[1:])
    if getattr(op._fn, "_affine", False):
        out = out - const(_apply_linear(op, np.zeros(v.shape, v._array.dtype)))
    return out, None


def _linear_op(node, g):
    return (_lin_cls().apply(g, node),) + (None,) * (len(node._args) - 1)


for _c in (conv_pad.PadNdFn, resample.PixelShuffleFn, resample.UpsampleFn, fold.FoldFn,
           fold.UnfoldFn, shape.DiagonalFn, shape.DiagEmbedFn, shape.RepeatInterleaveFn,
           indexing.TakeFn, indexing.TakeAlongDimFn, indexing.MaskedSelectFn,
           pooling.MaxUnpool2dFn):
    formula(_c)(_linear_op)


# ---------------------------------------------------------- more pointwise
@formula(activation.PReLUFn)
def _prelu(node, g):
    x, w = node.saved_tensors

    def forward(X, W):
        Wb = W.reshape(-1)
        if W.numel() > 1:
            Wb = Wb.reshape((1, -1) + (1,) * (X.ndim - 2) if X.ndim >= 2 else (-1,))
        neg = const((x <= 0).astype(x.dtype))
        return X * (1 - neg) + Wb * X * neg

    return composite(node, (g,), forward, (x, w))


@formula(pw.Atan2Fn)
def _atan2(node, g):
    a, b = node.saved_tensors
    na, nb = _needs(node)[:2]
    A, B = inp(node, 0, a), inp(node, 1, b)
    d = g / (A * A + B * B)
    return (sum_to(d * B, node.shapes[0]) if na else None,
            sum_to(-d * A, node.shapes[1]) if nb else None)


@formula(pw.RemainderFn)
def _remainder(node, g):
    na, nb = _needs(node)[:2]
    sa, sb = node.shapes
    gb = None
    if nb:
        a, b = node.saved_tensors
        with np.errstate(all="ignore"):
            q = node._fn.q(np.asarray(a) / np.asarray(b))
        gb = sum_to(-g * const(q.astype(g._array.dtype)), sb)
    return (sum_to(g, sa) if na else None), gb


@formula(pw.RoundFn)
def _round(node, g):
    return g * 0.0, None


@formula(pw.FillFn)
def _fill(node, g):
    nx, nv = _needs(node)[:2]
    return (g * 0.0 if nx else None), (g.sum() if nv else None)


@formula(reduction._AExtremeFn)
def _amax(node, g):
    x, out = node.saved_tensors
    dims, keepdim = node.meta
    ob = _expand_np(np.asarray(out), x.shape, dims, keepdim)
    mask = (x == ob)
    n = mask.sum(axis=dims, keepdims=True)
    return _expand_back(g, x.shape, dims, keepdim) * const((mask / n).astype(x.dtype)), \
        None, None


@formula(reduction.ProdFn)
def _prod(node, g):
    (x,) = node.saved_tensors
    dim, keepdim = node.meta
    if np.any(x == 0):
        raise NotImplementedError("create_graph=True: prod of an input with zeros has no "
                                  "double backward in fastnn")
    X = inp(node, 0, x)
    if dim is None:
        return g.reshape(()) * X.prod() / X, None, None
    gg = g if keepdim else g.unsqueeze(dim)
    return gg * X.prod(dim, keepdim=True) / X, None, None


@formula(rrelu.RReLUFn)
def _rrelu(node, g):
    return g * const(node.slopes), None, None, None


@formula(sorting.SortFn, sorting.TopkFn)
def _sort(node, g, g_idx=None):
    shape_, d = node.meta
    (idx,) = node.saved_tensors
    if idx is None:
        return (g,) + (None,) * 4
    z = fastnn.zeros(shape_, dtype=g.dtype)
    return (z.scatter_add(d, const(idx), g),) + (None,) * 4


@formula(indexing.ScatterFn)
def _scatter(node, g):
    d, ishape, sshape, add = node.meta
    nx, _, _, ns = _needs(node)[:4]
    if not np.prod(ishape, dtype=np.int64):
        return (g if nx else None, None, None,
                g.new_zeros(sshape) if ns and sshape is not None else None)
    (index,) = node.saved_tensors
    fi = indexing._fancy(indexing._as_1d(index), d)
    gx = gs = None
    if nx:
        gx = g
        if not add:
            keep = np.ones(g.shape if g.ndim else (1,), g._array.dtype)
            keep[fi] = 0
            gx = g * const(keep.reshape(g.shape))
    if ns:
        picked = (g.reshape(1) if g.ndim == 0 else g)[fi]
        if sshape is None:
            gs = picked.sum()
        elif tuple(sshape) == tuple(ishape):
            gs = picked.reshape(sshape)
        else:       # the source's leading part that the index covers
            pads = []
            for n_s, n_i in zip(reversed(sshape), reversed(ishape)):
                pads += [0, n_s - n_i]
            gs = F.pad(picked.reshape(ishape), tuple(pads))
    return gx, None, None, gs


@formula(indexing.IndexAddFn)
def _index_add(node, g):
    d, alpha, sshape = node.meta
    nx, _, _, ns = _needs(node)[:4]
    gs = None
    if ns:
        (index,) = node.saved_tensors
        gs = g.index_select(d, const(index.reshape(-1))) * alpha
        gs = gs.reshape(sshape)
    return (g if nx else None), None, None, gs, None


@formula(loss.CrossEntropyProbFn)
def _cross_entropy_prob(node, g):
    x2, y2, stats, w = node.saved_tensors
    shape_, reduction, M, ls = node.info
    nx, ny = _needs(node)[:2]
    C = x2.shape[1]
    X2 = _rows_t(inp(node, 0, x2) if nx else const(x2), shape_) if nx else const(x2)
    Y = inp(node, 1, y2)
    Y2 = _rows_t(Y, shape_) if ny else const(y2)
    wv = const(np.ones(C, x2.dtype) if w is None else w)
    a = wv * ((1.0 - ls) * Y2 + ls / C)
    s = _row_scale(g, reduction, M)
    gx = gy = None
    if nx:
        gx = _unrows_t(s * (F.softmax(X2, 1) * a.sum(1, keepdim=True) - a), shape_)
    if ny:
        gy = _unrows_t(-(1.0 - ls) * F.log_softmax(X2, 1) * s * wv, shape_)
    return gx, gy, None, None, None


@formula(normalization.GroupNormFn)
def _group_norm(node, g):
    x, w, mean, rstd = node.saved_tensors
    (N, C, HW, G), wdt, bdt = node.info[:3]
    eps = node.eps
    b = None if bdt is None else np.zeros(C, x.dtype)
    bshape = (1, C) + (1,) * (x.ndim - 2)

    def forward(X, W, B):
        xg = X.reshape(N, G, -1)
        mu = xg.mean(2, keepdim=True)
        xc = xg - mu
        y = (xc * ((xc * xc).mean(2, keepdim=True) + eps).rsqrt()).reshape(x.shape)
        if W is not None:
            y = y * W.reshape(bshape)
        if B is not None:
            y = y + B.reshape(bshape)
        return y

    n_args = 7 if issubclass(node._fn, normalization.InstanceNormFn) else 5
    return composite(node, (g,), forward, (x, w, b)) + (None,) * (n_args - 3)


@formula(linalg.EinsumFn)
def _einsum(node, g):
    arrays = node.saved_tensors
    subs, out, sizes = node.meta
    needs = _needs(node)
    T = [inp(node, k + 1, a) for k, a in enumerate(arrays)]
    grads = [None]
    for k, a in enumerate(arrays):
        if not needs[k + 1]:
            grads.append(None)
            continue
        sk = subs[k]
        others = [s for i, s in enumerate(subs) if i != k]
        if len(set(sk)) != len(sk) or not set(sk) <= set(out).union(*others) or \
                any(n == 1 and sizes[c] != 1 for n, c in zip(a.shape, sk)):
            raise NotImplementedError("create_graph=True: this einsum (repeated or broadcast "
                                      "subscripts) has no double backward in fastnn")
        eq = ",".join([out] + others) + "->" + sk
        grads.append(fastnn.einsum(eq, g, *[t for i, t in enumerate(T) if i != k]))
    return tuple(grads)


@formula(conv_transpose._ConvTFn)
def _conv_transpose(node, g):
    x4, w4 = node.saved_tensors
    geom = node.geom
    if geom.xpad is not None:
        raise NotImplementedError("create_graph=True: a transposed convolution whose "
                                  "output_padding reaches past the stride has no double "
                                  "backward in fastnn")
    nx, nw, nb = _needs(node)[:3]
    N, K = x4.shape[0], w4.shape[1] * geom.groups
    g4 = g.reshape((N, K) + tuple(geom.out))
    gx = gw = gb = None
    if nx:    # the convolution of g with the weight
        W4 = inp(node, 1, w4).reshape(w4.shape)
        gx = F.conv2d(g4, W4, stride=geom.stride, padding=geom.padding,
                      dilation=geom.dilation, groups=geom.groups)
        gx = gx.reshape(inp(node, 0, x4).shape)
    if nw:    # the convolution's weight gradient, input g, output gradient x
        X4 = inp(node, 0, x4).reshape(x4.shape)
        gw = _conv_weight_grad(g4, X4, geom)[:, :, :w4.shape[2], :w4.shape[3]]
        gw = gw.reshape(inp(node, 1, w4).shape)
    if nb:
        gb = g4.sum((0, 2, 3))
    return gx, gw, gb, None


# ------------------------------------------------------- special functions
_SQ2PI = math.sqrt(2.0 * math.pi)


def _safe(X, bad):
    """X with the elements where ``bad`` (an array) holds replaced by 1."""
    return fastnn.where(const(bad), const(np.ones((), X._array.dtype)), X)


_SPECIAL = {
    "LgammaFn": lambda X, Y, x, a: fastnn.digamma(X),
    "DigammaFn": lambda X, Y, x, a: fastnn.polygamma(1, X),
    "PolygammaFn": lambda X, Y, x, a: fastnn.polygamma(a[0] + 1, X),
    "SincFn": lambda X, Y, x, a: _mask(x != 0, x.dtype) * (
        (math.pi * X).cos() - Y) / _safe(X, x == 0),
    "EntrFn": lambda X, Y, x, a: -(X.log() + 1.0),
    "LogitFn": lambda X, Y, x, a: (1.0 / (X * (1.0 - X))) * (
        1.0 if a[0] is None else _mask((x >= a[0]) & (x <= 1.0 - a[0]), x.dtype)),
    "NdtrFn": lambda X, Y, x, a: (-0.5 * X * X).exp() / _SQ2PI,
    "NdtriFn": lambda X, Y, x, a: _SQ2PI * (0.5 * Y * Y).exp(),
    "LogNdtrFn": lambda X, Y, x, a: (-0.5 * X * X - Y).exp() / _SQ2PI,
    "I0Fn": lambda X, Y, x, a: fastnn.special.i1(X),
    "I0eFn": lambda X, Y, x, a: fastnn.special.i1e(X) - const(np.sign(x)) * Y,
    "I1Fn": lambda X, Y, x, a: fastnn.where(const(x == 0), const(np.full((), 0.5, x.dtype)),
                                            fastnn.special.i0(X) - Y / _safe(X, x == 0)),
    "I1eFn": lambda X, Y, x, a: fastnn.where(
        const(x == 0), const(np.full((), 0.5, x.dtype)),
        fastnn.special.i0e(X) - Y * (const(np.sign(x)) + 1.0 / _safe(X, x == 0))),
}


@formula(special_math._SpecialFn)
def _special(node, g):
    d = _SPECIAL.get(node._fn.__name__)
    if d is None:
        raise NotImplementedError(f"create_graph=True: {node._fn.__name__} has no double "
                                  "backward in fastnn")
    x, y = node.saved_tensors
    X = inp(node, 0, x)
    return (g * d(X, outp(node, 0, y), np.asarray(x), node.args),) + (None,) * len(node.args)


@formula(special_math.XlogyFn)
def _xlogy(node, g):
    xs, ys, log1p, dt = node.meta
    x, y = node.saved_tensors
    xa, ya = node.xy if node.xy is not None else (np.asarray(x), np.asarray(y))
    nx, ny = _needs(node)[:2]
    X, Y = inp(node, 0, x if x is not None else xa), inp(node, 1, y if y is not None else ya)
    gx = gy = None
    if nx:
        bad = (ya <= (-1.0 if log1p else 0.0))
        ly = (_safe(Y, bad).log1p() if log1p else _safe(Y, bad).log())
        gx = sum_to(g * ly * _mask(~bad, g._array.dtype), xs)
    if ny:
        gy = sum_to(g * X / ((1.0 + Y) if log1p else Y), ys)
    return gx, gy, None


# --------------------------------------------------------------- distances
def _parent_array(node, i):
    p = inp(node, i)
    return None if p is None else p._array


@formula(distance.PairwiseDistanceFn)
def _pairwise_distance(node, g):
    u, n = node.saved_tensors
    s1, s2, p, keepdim = node.info
    x1, x2 = _parent_array(node, 0), _parent_array(node, 1)
    # a constant operand recovered from u = x1 - x2 + eps (the difference
    # of the two is u exactly below, whichever is constant)
    if x1 is None:
        x1 = u + x2
    if x2 is None:
        x2 = x1 - u

    def forward(X1, X2):
        return (X1 - X2 + const(u - (x1 - x2))).norm(p, dim=-1, keepdim=keepdim)

    return composite(node, (g,), forward, (x1, x2)) + (None, None, None)


@formula(distance.CosineSimilarityFn)
def _cosine_similarity(node, g):
    a, b, t1, t2, c1, c2, cos = node.saved_tensors
    d = node.info[2]

    def forward(X1, X2):
        n1 = X1.norm(2, dim=d, keepdim=True)
        n2 = X2.norm(2, dim=d, keepdim=True)
        n1 = fastnn.where(const(t1 < c1), const(c1), n1)
        n2 = fastnn.where(const(t2 < c2), const(c2), n2)
        return ((X1 / n1) * (X2 / n2)).sum(d)

    x1 = _parent_array(node, 0)
    x2 = _parent_array(node, 1)
    return composite(node, (g,), forward, (a if x1 is None else x1,
                                           b if x2 is None else x2)) + (None, None)


@formula(distance.NormalizeFn)
def _normalize(node, g):
    x, n, c = node.saved_tensors
    p, d, eps = node.info

    def forward(X):
        N = X.norm(p, dim=d, keepdim=True)
        return X / fastnn.where(const(n < c), const(c), N)

    return composite(node, (g,), forward, (x,)) + (None, None, None)


@formula(distance.CdistFn)
def _cdist(node, g):
    x1, x2, dmat = node.saved_tensors
    p = node.meta[0]

    def forward(X1, X2):
        return (X1.unsqueeze(-2) - X2.unsqueeze(-3)).norm(p, dim=-1)

    return composite(node, (g,), forward, (x1, x2)) + (None, None)


@formula(bilinear.BilinearFn)
def _bilinear(node, g):
    x1, x2, w = node.saved_tensors
    b = np.zeros(w.shape[0], w.dtype)

    def forward(X1, X2, W, B):
        y = fastnn.einsum("ni,oij,nj->no", X1.reshape(-1, w.shape[1]), W,
                          X2.reshape(-1, w.shape[2]))
        y = y.reshape(tuple(x1.shape[:-1]) + (w.shape[0],))
        return y if B is None else y + B

    return composite(node, (g,), forward, (x1, x2, w, b))


# ------------------------------------------------------------ linear algebra
def _mT(t):
    return t.transpose(-2, -1)


def _linalg_formulas():
    from ..ops import linalg_solve as ls

    @formula(ls.InvFn)
    def _inv(node, g, _ginfo=None):
        y, = node.saved_tensors
        yt = _mT(outp(node, 0, y))
        return -(yt @ g @ yt), None, None

    @formula(ls.DetFn)
    def _det(node, g):
        a, d = node.saved_tensors
        if np.any(np.asarray(d) == 0):
            raise NotImplementedError("create_graph=True: det of a singular matrix has no "
                                      "double backward in fastnn")
        A = inp(node, 0, a)
        D = outp(node, 0, np.asarray(d, a.dtype))
        return (g * D).unsqueeze(-1).unsqueeze(-1) * _mT(fastnn.linalg.inv(A))

    @formula(ls.SlogdetFn)
    def _slogdet(node, _gsign, glog):
        a, = node.saved_tensors
        return glog.unsqueeze(-1).unsqueeze(-1) * _mT(fastnn.linalg.inv(inp(node, 0, a)))

    @formula(ls.LogdetFn)
    def _logdet(node, g):
        a, = node.saved_tensors
        return g.unsqueeze(-1).unsqueeze(-1) * _mT(fastnn.linalg.inv(inp(node, 0, a)))

    @formula(ls.SolveFn)
    def _solve(node, g, _ginfo=None):
        a, b, x = node.saved_tensors
        na, nb = _needs(node)[:2]
        A = inp(node, 0, a)
        gm = g.unsqueeze(-1) if node.vec else g
        gb = fastnn.linalg.solve(_mT(A), gm)
        ga = gb_out = None
        if na:
            X = outp(node, 0, x[..., 0] if node.vec else x)      # (saved as a matrix)
            Xm = X.unsqueeze(-1) if node.vec else X
            ga = sum_to(-(gb @ _mT(Xm)), a.shape)
        if nb:
            gb_out = sum_to(gb.squeeze(-1) if node.vec else gb, b.shape)
        return ga, gb_out, None, None, None


_linalg_formulas()


# ---------------------------------------------------------------- recurrent
def _cell_step(code, gi, h, c, wh, bh):
    """One step of an RNN (0 tanh, 1 relu), LSTM (2) or GRU (3) cell from the
    input projection gi (x W_ih^T + b_ih); returns (h, c)."""
    gh = h @ wh.t()
    if bh is not None:
        gh = gh + bh
    if code in (0, 1):
        s = gi + gh
        return (s.tanh() if code == 0 else s.relu()), None
    if code == 2:
        i, f, g, o = (gi + gh).chunk(4, -1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c
    ir, iz, inn = gi.chunk(3, -1)
    hr, hz, hn = gh.chunk(3, -1)
    r, z = (ir + hr).sigmoid(), (iz + hz).sigmoid()
    n = (inn + r * hn).tanh()
    return (1 - z) * n + z * h, None


def _rnn_formulas():
    from ..ops import rnn

    @formula(rnn.RNNLayerFn)
    def _rnn_layer(node, gy, ghn, gcn):
        _, *w = node.saved_tensors
        geo = node.geo
        T, B, D, H = geo.T, geo.B, geo.D, geo.H
        ps, kept = node._parents, node._args

        def arg(i):       # the forward's i-th argument (its array)
            return ps[i]._array if i < len(ps) and ps[i] is not None else kept[i]

        def start(d, W, H0, C0, dtype):
            """Direction d's weights (w_ih, w_hh, b_ih, b_hh, w_hr) and
            initial h and c."""
            row = geo.layer * D + d
            h = H0[row] if H0 is not None else fastnn.zeros(B, geo.HO, dtype=dtype)
            c = C0[row] if C0 is not None else fastnn.zeros(B, H, dtype=dtype)
            return W[5 * d:5 * d + 5], h, c

        def forward(X, H0, C0, *W):
            xs = X.transpose(0, 1) if geo.bf_in else X
            ys, hns, cns = [], [], []
            for d in range(D):
                (wi, wh, bi, bh, whr), h, c = start(d, W, H0, C0, xs.dtype)
                gi_all = xs @ wi.t()
                if bi is not None:
                    gi_all = gi_all + bi
                outs = [None] * T
                for t in (range(T - 1, -1, -1) if d == 1 else range(T)):
                    h, c2 = _cell_step(geo.code, gi_all[t], h, c, wh, bh)
                    if whr is not None:          # LSTM's projection (proj_size)
                        h = h @ whr.t()
                    c = c2 if c2 is not None else c
                    outs[t] = h
                ys.append(fastnn.stack(outs, 0))
                hns.append(h)
                cns.append(c)
            y = ys[0] if D == 1 else fastnn.cat(ys, -1)
            if geo.bf_out:
                y = y.transpose(0, 1)
            return y, fastnn.stack(hns, 0), (fastnn.stack(cns, 0) if geo.code == 2 else None)

        def forward_packed(X, H0, C0, *W):
            # X: the packed (N, I) rows, time-major, batch in sorted order;
            # at step t only the first batch_sizes[t] sequences advance
            bs = [int(b) for b in geo.batch_sizes]
            offs = np.concatenate([[0], np.cumsum(bs)]).astype(int)
            srt = None if geo.sorted is None else const(geo.sorted)
            ys, hns, cns = [], [], []
            for d in range(D):
                (wi, wh, bi, bh, whr), h, c = start(d, W, H0, C0, X.dtype)
                if srt is not None:
                    h = h[srt] if H0 is not None else h
                    c = c[srt] if C0 is not None else c
                gi_all = X @ wi.t()
                if bi is not None:
                    gi_all = gi_all + bi
                outs = [None] * T
                for t in (range(T - 1, -1, -1) if d == 1 else range(T)):
                    b = bs[t]
                    hb, cb = _cell_step(geo.code, gi_all[offs[t]:offs[t + 1]], h[:b], c[:b],
                                        wh, bh)
                    if whr is not None:
                        hb = hb @ whr.t()
                    outs[t] = hb
                    h = hb if b == B else fastnn.cat([hb, h[b:]], 0)
                    if cb is not None:
                        c = cb if b == B else fastnn.cat([cb, c[b:]], 0)
                ys.append(fastnn.cat(outs, 0))
                hns.append(h)
                cns.append(c)
            y = ys[0] if D == 1 else fastnn.cat(ys, -1)
            hn = fastnn.stack(hns, 0)
            cn = fastnn.stack(cns, 0) if geo.code == 2 else None
            if geo.unsorted is not None:
                us = const(geo.unsorted)
                hn = hn[:, us]
                cn = cn[:, us] if cn is not None else None
            return y, hn, cn

        return composite(node, (gy, ghn, gcn), forward_packed if geo.packed else forward,
                         (arg(0), arg(1), arg(2), *w, None))


    @formula(rnn.RNNCellFn)
    def _rnn_cell(node, gy, gc):
        _, *w = node.saved_tensors
        code = node.code
        ps, kept = node._parents, node._args

        def arg(i):
            return ps[i]._array if i < len(ps) and ps[i] is not None else kept[i]

        def forward(X, Hs, Cs, wi, wh, bi, bh, _code):
            x2 = X.reshape(1, -1) if X.ndim == 1 else X
            B, Hn = x2.shape[0], wh.shape[1]
            h = Hs.reshape(B, Hn) if Hs is not None else fastnn.zeros(B, Hn, dtype=x2.dtype)
            c = Cs.reshape(B, Hn) if Cs is not None else fastnn.zeros(B, Hn, dtype=x2.dtype)
            gi = x2 @ wi.t()
            if bi is not None:
                gi = gi + bi
            h, c2 = _cell_step(code, gi, h, c, wh, bh)
            shape = (Hn,) if X.ndim == 1 else (B, Hn)
            return h.reshape(shape), (c2.reshape(shape) if c2 is not None else None)

        return composite(node, (gy, gc), forward, (arg(0), arg(1), arg(2), *w, None))


_rnn_formulas()


def _head_index(view, nb, h, rows, d):
    """Flat indices (nb, h, rows, d) of the heads a (offset, batch stride,
    head stride, row stride) view addresses (the attention geometry)."""
    off, nbs, hs, rs = view
    return (off + np.arange(nb)[:, None, None, None] * nbs
            + np.arange(h)[None, :, None, None] * hs
            + np.arange(rows)[None, None, :, None] * rs + np.arange(d)[None, None, None, :])


def _attention_formulas():
    from ..ops import attention as A

    @formula(A.AttentionFn)
    def _attention(node, go, gw):
        geo = node.geo
        if geo.get("p", 0.0) > 0:
            raise NotImplementedError("create_graph=True: attention with dropout has no double "
                                      "backward in fastnn")
        ps, kept = node._parents, node._args

        def arg(i):
            return ps[i]._array if i < len(ps) and ps[i] is not None else kept[i]

        nb, hq, hkv, L, S = geo["nb"], geo["hq"], geo["hkv"], geo["L"], geo["S"]
        E, Ev = geo["E"], geo["Ev"]
        mask_off, o_shape, want_w = kept[5], kept[6], kept[7]

        def forward(Q, K, V, M, *_):
            K = Q if K is None else K
            V = Q if V is None else V
            qh = Q.reshape(-1)[const(_head_index(geo["q"], nb, hq, L, E))]
            kh = K.reshape(-1)[const(_head_index(geo["k"], nb, hkv, S, E))]
            vh = V.reshape(-1)[const(_head_index(geo["v"], nb, hkv, S, Ev))]
            if hkv != hq:                       # grouped-query heads
                g = const(np.arange(hq) // (hq // hkv))
                kh, vh = kh[:, g], vh[:, g]
            sc = (qh @ kh.transpose(-2, -1)) * geo["scale"]
            blocked = np.zeros((nb * hq, L, S), bool)
            if M is not None:
                mi = (np.asarray(mask_off)[:, None, None] + np.arange(L)[None, :, None]
                      * geo.get("m_ld", 0) + np.arange(S)[None, None, :])
                madd = M.reshape(-1)[const(mi)]
                sc = sc + madd.reshape(nb, hq, L, S)
                blocked |= np.isneginf(arg(3).reshape(-1)[mi])
            if geo.get("causal"):
                cz = np.triu(np.ones((L, S), bool), 1)
                sc = sc.masked_fill(const(cz), float("-inf"))
                blocked |= cz
            dead = blocked.all(-1).reshape(nb, hq, L, 1)
            if geo.get("safe") and dead.any():     # a fully masked row gives zeros
                sc = sc.masked_fill(const(np.broadcast_to(dead, sc.shape)), 0.0)
                pr = F.softmax(sc, -1).masked_fill(const(np.broadcast_to(dead, sc.shape)), 0.0)
            else:
                pr = F.softmax(sc, -1)
            oh = pr @ vh                                        # (nb, hq, L, Ev)
            oi = _head_index(geo["o"], nb, hq, L, Ev).reshape(-1)
            inv = np.empty(int(np.prod(o_shape)), np.int64)
            inv[oi] = np.arange(oi.size)
            o = oh.reshape(-1)[const(inv)].reshape(*o_shape)
            return o, (pr.reshape(nb * hq, L, S) if want_w else None)

        return composite(node, (go, gw), forward,
                         (arg(0), arg(1), arg(2), arg(3), None, None, None, None, None))


_attention_formulas()


def _packing_formulas():
    """pack_padded_sequence / pad_packed_sequence / pad_sequence: row moves."""
    from ..nn import _rnn_utils as U

    @formula(U._GatherRowsFn)
    def _gather_rows(node, g):
        shape = node.shape
        z = fastnn.zeros((shape[0] * shape[1],) + tuple(g.shape[1:]), dtype=g.dtype)
        return z.index_add(0, const(np.asarray(node.idx)), g).reshape(*shape), None, None

    @formula(U._ScatterRowsFn)
    def _scatter_rows(node, g):
        return g.reshape(-1, *g.shape[2:])[const(np.asarray(node.idx))], None, None, None

    @formula(U._PadFn)
    def _pad(node, g):
        if not node.bf:
            g = g.transpose(0, 1)
        L = g.shape[1]
        return tuple(g[i, L - n:] if node.left else g[i, :n] for i, n in enumerate(node.lens))


_packing_formulas()


# ------------------------------------------------ torch.* maths gaps (mathgaps)
from ..ops import misc as misc_ops, pointwise_more, scan, stats_more, strided  # noqa: E402


@formula(pointwise_more.LogAddExpFn, pointwise_more.LogAddExp2Fn, pointwise_more.HypotFn)
def _logaddexp_hypot(node, g):
    a, b, out = node.saved_tensors
    na, nb = _needs(node)[:2]
    A, B, OUT = inp(node, 0, a), inp(node, 1, b), outp(node, 0, out)
    if issubclass(node._fn, pointwise_more.HypotFn):
        da, db = (A / OUT if na else None), (B / OUT if nb else None)
    elif issubclass(node._fn, pointwise_more.LogAddExpFn):
        da, db = ((A - OUT).exp() if na else None), ((B - OUT).exp() if nb else None)
    else:
        da, db = ((A - OUT).exp2() if na else None), ((B - OUT).exp2() if nb else None)
    sa, sb = node.shapes
    return (sum_to(g * da, sa) if na else None), (sum_to(g * db, sb) if nb else None)


@formula(pointwise_more.CopysignFn, pointwise_more.NextafterFn)
def _copysign_nextafter(node, g):
    a, b, out = node.saved_tensors
    na, nb = _needs(node)[:2]
    sa, sb = node.shapes
    if issubclass(node._fn, pointwise_more.CopysignFn):
        d = pointwise_more._copysign_ratio(np.asarray(a), np.asarray(out))
    else:
        d = np.asarray(a) != np.asarray(b)
    return (sum_to(g * _mask(d, g._array.dtype), sa) if na else None,
            sum_to(g * 0.0, sb) if nb else None)


@formula(pointwise_more.FrexpFn)
def _frexp(node, g, *unused):
    (e,) = node.saved_tensors
    return g * const(np.ldexp(np.ones((), g._array.dtype), -e).astype(g._array.dtype))


@formula(pointwise_more.IgammaFn)
def _igamma(node, g):
    a, x = node.saved_tensors
    X = inp(node, 1, x)
    lg = pointwise_more._lgamma(np.asarray(a, np.float64)).astype(np.float64)
    A = const(np.asarray(a, g._array.dtype))
    d = ((A - 1.0) * X.log() - X - const(lg.astype(g._array.dtype))).exp()
    return None, sum_to(g * (-d if node.upper else d), node.shapes[1]), None


@formula(pointwise_more.AngleFn)
def _angle(node, g):
    return g * 0.0


@formula(scan.LogCumSumExpFn)
def _logcumsumexp(node, g):
    x, out = node.saved_tensors
    if x.ndim == 0 or x.size == 0:
        return g
    d = node.dim
    ga = g._array
    X, OUT = inp(node, 0, x), outp(node, 0, out)
    low = const(np.asarray(np.finfo(ga.dtype).min, ga.dtype))
    lg = fastnn.where(const(ga == 0), const(np.ones((), ga.dtype)), g).abs().log()

    def rev(v):
        return fastnn.logcumsumexp(v.flip(d), d).flip(d)

    pos = fastnn.where(const(ga > 0), lg, low)
    neg = fastnn.where(const(ga < 0), lg, low)
    return (rev(pos - OUT) + X).exp() - (rev(neg - OUT) + X).exp()


@formula(scan._CumExtremeFn, stats_more.ModeFn)
def _scatter_back(node, g, *unused):
    (idx,) = node.saved_tensors
    shape_, d = node.meta[:2]
    if idx is None:
        return g
    if issubclass(node._fn, stats_more.ModeFn) and not node.meta[2]:
        g = g.unsqueeze(d)
    return fastnn.zeros(shape_, dtype=g.dtype).scatter_add(d, const(idx), g)


@formula(strided.AsStridedFn)
def _as_strided(node, g):
    opos, xpos = node.saved_tensors
    count = np.maximum(np.bincount(xpos.reshape(-1), minlength=node.n)[xpos], 1)
    gs = fastnn.zeros(node.n, dtype=g.dtype).index_add(0, const(opos.reshape(-1)),
                                                        g.reshape(-1))
    return gs[const(xpos)] / const(count.astype(g._array.dtype))


formula(strided.UnfoldDimFn)(_linear_op)


@formula(misc_ops.ScatterReduceFn)
def _scatter_reduce(node, g):
    """(scatter_reduce / index_reduce) gx and gsrc as Tensor ops: linear in
    g with constant factors for 'sum', 'mean', 'amax', 'amin'; through the
    output (and so differentiable again) for 'prod'."""
    d, shape_, sshape, reduce, include_self, empty = node.meta
    nx, ns = _needs(node)[0], _needs(node)[3]
    if empty:
        return (g if nx else None, None, None,
                fastnn.zeros(sshape, dtype=g.dtype) if ns else None, None, None)
    x, index, vals, out, cnt = node.saved_tensors
    dt = g._array.dtype
    g1 = g.reshape(-1) if g.ndim == 0 else g
    fi = indexing._fancy(indexing._as_1d(index), d)
    hit = cnt > 0
    gx = gs = None
    if reduce == "prod":
        X = inp(node, 0, x.reshape(shape_))
        X1 = X.reshape(-1) if X.ndim == 0 else X
        O1 = outp(node, 0, out.reshape(shape_))
        O1 = O1.reshape(-1) if O1.ndim == 0 else O1
        if nx:
            safe = fastnn.where(const(hit), X1, const(np.ones((), dt)))
            gx = fastnn.where(const(hit), g1 * O1 / safe if include_self else g1 * 0.0, g1)
        if ns:
            S = inp(node, 3, None)
            Sp = S.reshape(-1) if S is not None and S.ndim == 0 else S
            part = vals if Sp is None else Sp[tuple(slice(0, s) for s in vals.shape)]
            gs = (g1 * O1)[fi] / (const(part) if Sp is None else part)
    else:
        if reduce in ("sum", "mean"):
            n = np.maximum(cnt + (1 if include_self else 0), 1) if reduce == "mean" else \
                np.ones_like(cnt)
            fx = np.where(hit, (1.0 / n) if include_self else 0.0, 1.0)
            fs = (1.0 / n)[fi] * np.ones(vals.shape)
        else:
            self_is = x == out
            src_is = vals == out[fi]
            nn_ = self_is.astype(dt)
            np.add.at(nn_, fi, src_is.astype(dt))
            with np.errstate(all="ignore"):
                share = np.where(nn_ > 0, 1.0 / nn_, 0.0)
            fx = np.where(hit, self_is * share if include_self else 0.0, 1.0)
            fs = src_is * share[fi]
        if nx:
            gx = g1 * const(fx.astype(dt))
        if ns:
            gs = g1[fi] * const(fs.astype(dt))
    if gx is not None:
        gx = gx.reshape(shape_)
    if gs is not None:
        pads = []
        for n_s, n_i in zip(reversed(sshape if sshape else (1,)), reversed(gs.shape)):
            pads += [0, n_s - n_i]
        if any(pads):
            gs = F.pad(gs, tuple(pads))
        gs = gs.reshape(sshape)
    return gx, None, None, gs, None, None
