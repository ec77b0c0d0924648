"""Import entries for the shape operators (Shape, Reshape, Slice, Gather,
Concat, Split, Expand, Tile, ...), constants, padding and resizing.  Shape
arithmetic runs on int64 Tensors as the graph gives it; sizes a graph asks
for at run time are bounded by ``max_elements`` (``bound``)."""
import math

import numpy as np

import fastnn
from .._tensor import Tensor
from ..nn import functional as F
from ..ops.shape import GetItemFn
from ._ops_import import _norm_axes, arr, attr, bound, ints, unsupported
from ._registry import imports
from .errors import OnnxImportError

_wrap = Tensor._wrap


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
    # (the op itself, not x[...]: ONNX steps may be negative, PyTorch's indexing refuses them)
    return GetItemFn.apply(x, tuple(idx))


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


