"""Import entries: each ONNX operator run with fastnn ops on Tensors, so the
imported graph is differentiable wherever the operator is.

An entry is ``f(m, node, *inputs) -> Tensor or tuple``: ``m`` the
:class:`~._import.OnnxModule` (``m.training``, ``m.opset``,
``m.max_elements``), ``node`` the :class:`~._import.Node` (``node.attrs``),
the inputs as Tensors (None for an omitted optional input).  Shapes, axes
and indices that ONNX passes as tensors are read as Python ints.  The
sequence operators (LSTM, GRU, RNN) are in ``_ops_import_rnn``.
"""
import math

import numpy as np

import fastnn
from .. import nn  # noqa: F401
from .._tensor import Tensor
from ..nn import functional as F
from ._registry import imports
from .errors import OnnxImportError

_wrap = Tensor._wrap


def arr(t):
    return t._array if isinstance(t, Tensor) else np.asarray(t)


def ints(t):
    """A shape / axes / index tensor as a list of Python ints."""
    return [int(v) for v in np.asarray(arr(t)).reshape(-1)]


def attr(node, name, default=None):
    return node.attrs.get(name, default)


def bound(m, shape, what):
    n = 1
    for d in shape:
        if d < 0:
            raise OnnxImportError(f"fastnn.onnx: {what} would have a negative size {shape}")
        n *= int(d)
    if n > m.max_elements:
        raise OnnxImportError(f"fastnn.onnx: {what} would have shape {tuple(shape)} ({n} "
                              f"elements), more than max_elements={m.max_elements}")
    return n


def unsupported(node, why):
    raise OnnxImportError(f"fastnn.onnx: ONNX {node.op_type} {why} is not supported")


def _norm_axes(axes, ndim):
    return tuple(sorted(int(a) % max(ndim, 1) for a in axes))


# ---------------------------------------------------------------- pointwise
def _is_int(t):
    return arr(t).dtype.kind in "iub"


@imports("Add")
def _add(m, node, a, b):
    return a + b


@imports("Sub")
def _sub(m, node, a, b):
    return a - b


@imports("Mul")
def _mul(m, node, a, b):
    return a * b


@imports("Div")
def _div(m, node, a, b):
    if _is_int(a) and _is_int(b):      # ONNX integer division truncates
        x, y = arr(a), arr(b)
        q = np.abs(x) // np.where(y == 0, 1, np.abs(y)) * np.sign(x) * np.sign(y)
        return _wrap(np.asarray(q).astype(np.result_type(x, y)))
    return a / b


@imports("Pow")
def _pow(m, node, a, b):
    if isinstance(b, Tensor) and b._array.ndim == 0 and not b.requires_grad:
        v = b._array.item()
        return a * a if v == 2 else a ** v
    return a ** b


@imports("Mod")
def _mod(m, node, a, b):
    return fastnn.fmod(a, b) if attr(node, "fmod", 0) else fastnn.remainder(a, b)


def _unary(name, fn):
    imports(name)(lambda m, node, x: fn(x))


for _name, _fn in (("Neg", lambda x: -x), ("Abs", lambda x: x.abs()),
                   ("Exp", lambda x: x.exp()), ("Log", lambda x: x.log()),
                   ("Sqrt", lambda x: x.sqrt()), ("Reciprocal", fastnn.reciprocal),
                   ("Erf", fastnn.erf), ("Sin", fastnn.sin), ("Cos", fastnn.cos),
                   ("Floor", fastnn.floor), ("Ceil", fastnn.ceil), ("Round", fastnn.round),
                   ("Sign", fastnn.sign), ("Relu", F.relu), ("Sigmoid", F.sigmoid),
                   ("Tanh", F.tanh), ("Softsign", F.softsign), ("HardSwish", F.hardswish),
                   ("Mish", F.mish), ("Identity", lambda x: x)):
    _unary(_name, _fn)


@imports("Softplus")
def _softplus(m, node, x):
    return F.softplus(x, 1.0, 1e30)


@imports("LeakyRelu")
def _leaky(m, node, x):
    return F.leaky_relu(x, attr(node, "alpha", 0.01))


@imports("Elu")
def _elu(m, node, x):
    return F.elu(x, attr(node, "alpha", 1.0))


@imports("Selu")
def _selu(m, node, x):
    a, g = attr(node, "alpha", 1.67326319217681884765625), attr(node, "gamma",
                                                                1.05070102214813232421875)
    if math.isclose(a, 1.6732632423543772, rel_tol=1e-6) and \
            math.isclose(g, 1.0507009873554805, rel_tol=1e-6):
        return F.selu(x)
    return F.elu(x, a) * g


@imports("Celu")
def _celu(m, node, x):
    return F.celu(x, attr(node, "alpha", 1.0))


@imports("HardSigmoid")
def _hardsigmoid(m, node, x):
    a, b = attr(node, "alpha", 0.2), attr(node, "beta", 0.5)
    if math.isclose(a, 1 / 6, rel_tol=1e-6) and b == 0.5:
        return F.hardsigmoid(x)
    return (x * a + b).clamp(0.0, 1.0)


@imports("ThresholdedRelu")
def _thresholded(m, node, x):
    return F.threshold(x, attr(node, "alpha", 1.0), 0.0)


@imports("Gelu")
def _gelu(m, node, x):
    return F.gelu(x, approximate=attr(node, "approximate", "none"))


@imports("PRelu")
def _prelu(m, node, x, slope):
    s = slope._array
    C = x.shape[1] if x.ndim >= 2 else 1
    if s.size == 1:
        return F.prelu(x, slope.reshape(1))
    if s.size == C and x.ndim >= 2 and (s.ndim == 1 or s.shape[0] == C):
        return F.prelu(x, slope.reshape(C))
    return fastnn.where(_wrap(x._array > 0), x, x * slope)


def _scalar(t):
    if t is None:
        return None
    a = arr(t)
    return a.reshape(-1)[0].item() if a.size == 1 and not getattr(t, "requires_grad",
                                                                      False) else t


@imports("Clip")
def _clip(m, node, x, lo=None, hi=None):
    lo, hi = _scalar(lo), _scalar(hi)
    if lo is None and hi is None:
        return x
    return fastnn.clamp(x, lo, hi)


@imports("Softmax", "LogSoftmax")
def _softmax(m, node, x):
    fn = F.softmax if node.op_type == "Softmax" else F.log_softmax
    return fn(x, dim=attr(node, "axis", -1))


@imports("Where")
def _where(m, node, c, x, y):
    return fastnn.where(c, x, y)


def _cmp(ufunc):
    return lambda m, node, a, b: _wrap(np.asarray(ufunc(arr(a), arr(b))))


for _name, _uf in (("Equal", np.equal), ("Less", np.less), ("Greater", np.greater),
                   ("LessOrEqual", np.less_equal), ("GreaterOrEqual", np.greater_equal),
                   ("And", np.logical_and), ("Or", np.logical_or), ("Xor", np.logical_xor)):
    imports(_name)(_cmp(_uf))
imports("Not")(lambda m, node, x: _wrap(np.logical_not(arr(x))))
imports("IsNaN")(lambda m, node, x: _wrap(np.isnan(arr(x))))


def _nary(pair):
    def run(m, node, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = pair(out, x)
        return out
    return run


imports("Max")(_nary(fastnn.maximum))
imports("Min")(_nary(fastnn.minimum))
imports("Sum")(_nary(lambda a, b: a + b))


@imports("Mean")
def _mean(m, node, *xs):
    return _nary(lambda a, b: a + b)(m, node, *xs) / float(len(xs))


# ----------------------------------------------------------------- products
@imports("MatMul")
def _matmul(m, node, a, b):
    return a @ b


@imports("Gemm")
def _gemm(m, node, a, b, c=None):
    ta, tb = attr(node, "transA", 0), attr(node, "transB", 0)
    alpha, beta = attr(node, "alpha", 1.0), attr(node, "beta", 1.0)
    if not ta and tb and alpha == 1.0 and beta == 1.0 and (c is None or c.ndim == 1):
        return F.linear(a, b, c)
    y = (a.t() if ta else a) @ (b.t() if tb else b)
    if alpha != 1.0:
        y = y * alpha
    if c is not None:
        y = y + (c * beta if beta != 1.0 else c)
    return y


@imports("Einsum")
def _einsum(m, node, *xs):
    return fastnn.einsum(attr(node, "equation"), *xs)


# ------------------------------------------------------------------- shapes
@imports("Shape")
def _shape(m, node, x):
    s = list(x.shape)
    start, end = attr(node, "start", 0), attr(node, "end", None)
    return _wrap(np.asarray(s[start:end], np.int64))


@imports("Size")
def _size(m, node, x):
    return _wrap(np.asarray(x.numel(), np.int64))


@imports("Constant")
def _constant(m, node):
    a = node.attrs
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in a:
            v = a[key]
            dt = np.float32 if "float" in key else (np.int64 if "int" in key else None)
            return _wrap(np.array(v, dtype=dt))
    unsupported(node, f"with attributes {sorted(a)}")


@imports("ConstantOfShape")
def _constant_of_shape(m, node, shape):
    s = ints(shape)
    bound(m, s, "ConstantOfShape")
    v = attr(node, "value")
    v = np.zeros(1, np.float32) if v is None else np.asarray(v).reshape(-1)
    return _wrap(np.full(s, v[0], dtype=v.dtype))


@imports("Range")
def _range(m, node, start, limit, delta):
    a, b, d = (arr(t).reshape(-1)[0] for t in (start, limit, delta))
    if d == 0:
        raise OnnxImportError("fastnn.onnx: Range with delta 0")
    n = max(int(math.ceil((b - a) / d)), 0)
    bound(m, (n,), "Range")
    return _wrap(np.asarray(a + np.arange(n) * d, dtype=arr(start).dtype))


@imports("Cast")
def _cast(m, node, x):
    from onnx import helper
    dt = np.dtype(helper.tensor_dtype_to_np_dtype(attr(node, "to")))
    if dt == np.float16:
        dt = np.dtype(np.float32)
    return x if x.dtype == dt else x.to(dt)


@imports("CastLike")
def _cast_like(m, node, x, like):
    return x if x.dtype == like.dtype else x.to(like.dtype)


@imports("Reshape")
def _reshape(m, node, x, shape):
    s = ints(shape)
    if not attr(node, "allowzero", 0):
        s = [x.shape[i] if d == 0 else d for i, d in enumerate(s)]
    return x.reshape(*s)


@imports("Flatten")
def _flatten(m, node, x):
    ax = attr(node, "axis", 1) % max(x.ndim, 1) if x.ndim else 0
    lead = int(np.prod(x.shape[:ax], dtype=np.int64))
    return x.reshape(lead, int(np.prod(x.shape[ax:], dtype=np.int64)))


@imports("Transpose")
def _transpose(m, node, x):
    perm = attr(node, "perm") or list(range(x.ndim))[::-1]
    return x.permute(*perm)


@imports("Squeeze")
def _squeeze(m, node, x, axes=None):
    if axes is None:
        return x.reshape(*[d for d in x.shape if d != 1])
    ax = _norm_axes(ints(axes), x.ndim)
    return x.reshape(*[d for i, d in enumerate(x.shape) if i not in ax])


@imports("Unsqueeze")
def _unsqueeze(m, node, x, axes):
    n = x.ndim + len(ints(axes))
    ax = _norm_axes(ints(axes), n)
    it = iter(x.shape)
    return x.reshape(*[1 if i in ax else next(it) for i in range(n)])


@imports("Concat")
def _concat(m, node, *xs):
    xs = [x for x in xs if x is not None]
    return fastnn.cat(xs, dim=attr(node, "axis"))


@imports("Split")
def _split(m, node, x, split=None):
    ax = attr(node, "axis", 0) % x.ndim
    n = x.shape[ax]
    if split is not None:
        sizes = ints(split)
    else:
        k = attr(node, "num_outputs", len(node.outputs))
        step = -(-n // k)
        sizes = [min(step, n - i * step) for i in range(k)]
    return tuple(fastnn.split(x, sizes, dim=ax))


@imports("Slice")
def _slice(m, node, x, starts, ends, axes=None, steps=None):
    st, en = ints(starts), ints(ends)
    ax = ints(axes) if axes is not None else list(range(len(st)))
    sp = ints(steps) if steps is not None else [1] * len(st)
    idx = [slice(None)] * x.ndim
    for a, s, e, k in zip(ax, st, en, sp):
        if k == 0:
            raise OnnxImportError("fastnn.onnx: Slice with step 0")
        idx[a % x.ndim] = slice(s, e, k)
    return x[tuple(idx)]


@imports("Gather")
def _gather(m, node, x, idx):
    ax = attr(node, "axis", 0) % max(x.ndim, 1)
    ix = arr(idx).astype(np.int64, copy=False)
    return x[(slice(None),) * ax + (ix,)]


@imports("GatherElements")
def _gather_elements(m, node, x, idx):
    return fastnn.gather(x, attr(node, "axis", 0), _wrap(arr(idx).astype(np.int64)))


@imports("Expand")
def _expand(m, node, x, shape):
    target = np.broadcast_shapes(tuple(x.shape), tuple(ints(shape)))
    bound(m, target, "Expand")
    return x.expand(*target)


@imports("Tile")
def _tile(m, node, x, repeats):
    r = ints(repeats)
    bound(m, [d * k for d, k in zip(x.shape, r)], "Tile")
    return x.repeat(*r)


@imports("Trilu")
def _trilu(m, node, x, k=None):
    d = ints(k)[0] if k is not None else 0
    return fastnn.triu(x, d) if attr(node, "upper", 1) else fastnn.tril(x, d)


@imports("CumSum")
def _cumsum(m, node, x, axis):
    ax = ints(axis)[0]
    y = x.flip(ax) if attr(node, "reverse", 0) else x
    out = y.cumsum(ax)
    if attr(node, "exclusive", 0):
        out = out - y
    return out.flip(ax) if attr(node, "reverse", 0) else out


@imports("DepthToSpace")
def _depth_to_space(m, node, x):
    b = attr(node, "blocksize")
    N, C, H, W = x.shape
    if attr(node, "mode", "DCR") == "DCR":
        y = x.reshape(N, b, b, C // (b * b), H, W).permute(0, 3, 4, 1, 5, 2)
    else:
        y = x.reshape(N, C // (b * b), b, b, H, W).permute(0, 1, 4, 2, 5, 3)
    return y.reshape(N, C // (b * b), H * b, W * b)


@imports("SpaceToDepth")
def _space_to_depth(m, node, x):
    b = attr(node, "blocksize")
    N, C, H, W = x.shape
    y = x.reshape(N, C, H // b, b, W // b, b).permute(0, 3, 5, 1, 2, 4)
    return y.reshape(N, C * b * b, H // b, W // b)


# --------------------------------------------------------------- reductions
def _reduce_axes(m, node, x, axes):
    if node.op_type == "ReduceSum" or m.opset >= 18:
        ax = ints(axes) if axes is not None else []
    else:
        ax = list(attr(node, "axes", []) or [])
    if not ax:
        return None if not attr(node, "noop_with_empty_axes", 0) else ()
    return _norm_axes(ax, x.ndim)


def _reduction(fn):
    def run(m, node, x, axes=None):
        ax = _reduce_axes(m, node, x, axes)
        if ax == ():
            return x
        keep = bool(attr(node, "keepdims", 1))
        return fn(x, ax if ax is not None else tuple(range(x.ndim)), keep)
    return run


imports("ReduceSum")(_reduction(lambda x, d, k: x.sum(d, keepdim=k)))
imports("ReduceMean")(_reduction(lambda x, d, k: x.mean(d, keepdim=k)))
imports("ReduceMax")(_reduction(lambda x, d, k: x.amax(d, keepdim=k)))
imports("ReduceMin")(_reduction(lambda x, d, k: x.amin(d, keepdim=k)))
imports("ReduceProd")(_reduction(lambda x, d, k: x.prod(d[0], keepdim=k) if len(d) == 1
                                 else _prod_dims(x, d, k)))
imports("ReduceL1")(_reduction(lambda x, d, k: x.abs().sum(d, keepdim=k)))
imports("ReduceL2")(_reduction(lambda x, d, k: x.norm(2, d, keepdim=k)))
imports("ReduceSumSquare")(_reduction(lambda x, d, k: (x * x).sum(d, keepdim=k)))
imports("ReduceLogSumExp")(_reduction(lambda x, d, k: x.logsumexp(d, keepdim=k)))


def _prod_dims(x, dims, keep):
    for d in sorted(dims, reverse=True):
        x = x.prod(d, keepdim=keep)
    return x


@imports("ArgMax", "ArgMin")
def _argmax(m, node, x):
    ax = attr(node, "axis", 0) % max(x.ndim, 1)
    keep = bool(attr(node, "keepdims", 1))
    a = arr(x)
    if attr(node, "select_last_index", 0):
        a = np.flip(a, ax)
    f = np.argmax if node.op_type == "ArgMax" else np.argmin
    i = f(a, axis=ax)
    if attr(node, "select_last_index", 0):
        i = a.shape[ax] - 1 - i
    if keep:
        i = np.expand_dims(i, ax)
    return _wrap(np.asarray(i, np.int64))


@imports("TopK")
def _topk(m, node, x, k):
    v, i = fastnn.topk(x, ints(k)[0], dim=attr(node, "axis", -1),
                       largest=bool(attr(node, "largest", 1)))
    return v, i


# ----------------------------------------------------------------- padding
def pad(x, begin, end, mode="constant", value=0.0):
    """x padded (negative widths crop) by per-axis begin/end widths; the
    reflect / edge / wrap modes gather rows by index, so it differentiates."""
    crop = tuple(slice(max(-b, 0), x.shape[i] - max(-e, 0) if e < 0 else None)
                 for i, (b, e) in enumerate(zip(begin, end)))
    if any(b < 0 or e < 0 for b, e in zip(begin, end)):
        x = x[crop]
        begin, end = [max(b, 0) for b in begin], [max(e, 0) for e in end]
    for ax, (b, e) in enumerate(zip(begin, end)):
        if not b and not e:
            continue
        n = x.shape[ax]
        if mode == "constant":
            parts = []
            for w in (b, e):
                shp = list(x.shape)
                shp[ax] = w
                parts.append(_wrap(np.full(shp, value, dtype=x.dtype)) if w else None)
            seq = [p for p in (parts[0], x, parts[1]) if p is not None]
            x = fastnn.cat(seq, dim=ax)
            continue
        i = np.arange(-b, n + e)
        if mode == "reflect":
            if n < 2 and (b or e):
                raise OnnxImportError("fastnn.onnx: reflect padding of an axis of size 1")
            period = 2 * (n - 1)
            i = np.abs(i) % period
            i = np.where(i >= n, period - i, i)
        elif mode == "edge":
            i = np.clip(i, 0, n - 1)
        elif mode == "wrap":
            i = i % n
        else:
            raise OnnxImportError(f"fastnn.onnx: Pad mode {mode!r} is not supported")
        x = x[(slice(None),) * ax + (i,)]
    return x


@imports("Pad")
def _pad(m, node, x, pads, value=None, axes=None):
    p = ints(pads)
    ax = _norm_axes(ints(axes), x.ndim) if axes is not None else tuple(range(x.ndim))
    k = len(ax)
    if len(p) != 2 * k:
        raise OnnxImportError(f"fastnn.onnx: Pad with {len(p)} pads for {k} axes")
    begin, end = [0] * x.ndim, [0] * x.ndim
    for j, a in enumerate(ax):
        begin[a], end[a] = p[j], p[k + j]
    bound(m, [d + b + e for d, b, e in zip(x.shape, begin, end)], "Pad")
    v = 0.0 if value is None or arr(value).size == 0 else arr(value).reshape(-1)[0].item()
    mode = attr(node, "mode", "constant")
    return pad(x, begin, end, mode, v)


# ---------------------------------------------------------------- resizing
@imports("Resize")
def _resize(m, node, x, roi=None, scales=None, sizes=None):
    mode = attr(node, "mode", "nearest")
    ct = attr(node, "coordinate_transformation_mode", "half_pixel")
    nm = attr(node, "nearest_mode", "round_prefer_floor")
    nsp = x.ndim - 2
    if sizes is not None and arr(sizes).size:
        sz = ints(sizes)
        if attr(node, "axes") is not None:
            full = list(x.shape)
            for a, s in zip(attr(node, "axes"), sz):
                full[a % x.ndim] = s
            sz = full
        if sz[:2] != list(x.shape[:2]):
            unsupported(node, "resizing the batch or channel axes")
        kw = dict(size=tuple(sz[2:]))
    else:
        sc = [float(v) for v in arr(scales).reshape(-1)]
        if sc[:2] != [1.0, 1.0]:
            unsupported(node, "scaling the batch or channel axes")
        bound(m, [int(d * s) for d, s in zip(x.shape, sc)], "Resize")
        kw = dict(scale_factor=tuple(sc[2:]) if nsp > 1 else sc[2])
    if mode == "nearest" and ct == "asymmetric" and nm == "floor":
        return F.interpolate(x, mode="nearest", **kw)
    if mode == "nearest" and ct == "half_pixel" and nm == "round_prefer_ceil":
        return F.interpolate(x, mode="nearest-exact", **kw)
    if mode == "linear" and ct in ("half_pixel", "pytorch_half_pixel", "align_corners"):
        return F.interpolate(x, mode="bilinear" if nsp == 2 else "linear",
                             align_corners=ct == "align_corners", **kw)
    unsupported(node, f"with mode={mode!r}, coordinate_transformation_mode={ct!r}, "
                      f"nearest_mode={nm!r}")


@imports("Dropout")
def _dropout(m, node, x, ratio=None, training_mode=None):
    p = 0.5 if ratio is None else float(arr(ratio).reshape(-1)[0])
    y = F.dropout(x, p, True) if m.training and p > 0 else x
    if len(node.outputs) > 1 and node.outputs[1]:
        return y, _wrap(np.ones(x.shape, bool))
    return y


from . import _ops_import_nn  # noqa: E402,F401
