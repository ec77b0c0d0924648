"""Export entries for the shape and indexing ops: reshape, expand, permute,
cat, stack, split, unbind, flip, repeat, roll, triangles, casts, gathers,
sorting and ``x[index]`` with ints, slices, None, Ellipsis and one index
array."""
import numpy as np

from ._ops_export import INT64_MAX, INT64_MIN, IX, S, fail
from ._registry import exports
from ._trace import Value


@exports(S + "ReshapeFn", S + "ExpandFn")
def _reshape(g, op):
    x = op["x"]
    emit = g.reshape if op.cls.__name__ == "ReshapeFn" else g.expand
    return emit(x, op.out.shape, x.shape)


@exports(S + "PermuteFn")
def _permute(g, op):
    x = op["x"]
    perm = [int(d) % max(x.ndim, 1) for d in op["dims"]]
    out = g.transpose(x, perm)
    return out if out != g.name(x) else g.op("Identity", x)


@exports(S + "CatFn")
def _cat(g, op):
    xs = [v for v in op["xs"] if not (isinstance(v, Value) and 0 in v.shape
                                      and v.ndim == 1)]
    return g.op("Concat", *xs, axis=int(op.ctx.dim))


@exports(S + "StackFn")
def _stack(g, op):
    d = int(op.ctx.dim)
    return g.op("Concat", *[g.unsqueeze(x, (d,)) for x in op["xs"]], axis=d)


@exports(S + "CastFn")
def _cast(g, op):
    return g.cast(op["x"], op.out.dtype)


@exports(S + "CloneFn")
def _clone(g, op):
    return g.op("Identity", op["x"])


@exports(S + "SplitFn")
def _split(g, op):
    x, dim, sizes = op["x"], int(op["dim"]), list(op["sizes"])
    if len(sizes) == 1:
        return [g.op("Identity", x)]
    return g.split(x, sizes, dim)


@exports(S + "UnbindFn")
def _unbind(g, op):
    x, dim = op["x"], int(op["dim"])
    n = x.shape[dim]
    parts = g.split(x, [1] * n, dim) if n > 1 else [g.name(x)]
    return [g.squeeze(p, (dim,)) for p in parts]


@exports(S + "FlipFn")
def _flip(g, op):
    x, dims = op["x"], list(op["dims"])
    if not dims or x.ndim == 0:
        return g.op("Identity", x)
    return g.slice(x, [-1] * len(dims), [INT64_MIN] * len(dims), dims, [-1] * len(dims))


@exports(S + "RepeatFn")
def _repeat(g, op):
    x, sizes = op["x"], [int(s) for s in op["sizes"]]
    xs = g.name(x)
    if len(sizes) > x.ndim:
        xs = g.reshape(x, (1,) * (len(sizes) - x.ndim) + x.shape, x.shape)
    return g.op("Tile", xs, g.ints(sizes))


@exports(S + "TriFn")
def _tri(g, op):
    return g.op("Trilu", op["x"], g.const(np.asarray(int(op["diagonal"]), np.int64)),
                upper=int(bool(op["upper"])))


@exports(IX + "GatherFn")
def _gather(g, op):
    x = op["x"]
    return g.op("GatherElements", x, op["index"], axis=int(op["dim"]) % max(x.ndim, 1))


@exports(IX + "IndexSelectFn")
def _index_select(g, op):
    x, idx = op["x"], op["index"]
    ix = g.reshape(idx, (int(np.prod(idx.shape)),), idx.shape) if idx.ndim != 1 else idx
    return g.op("Gather", x, ix, axis=int(op["dim"]) % max(x.ndim, 1))


@exports(S + "RollFn")
def _roll(g, op):
    x, shifts, dims = op["x"], op["shifts"], op["dims"]
    if dims is None:
        flat = g.reshape(x, (int(np.prod(x.shape)),), x.shape)
        y = _roll_axis(g, flat, int(shifts), 0, int(np.prod(x.shape)))
        return g.reshape(y, x.shape, (int(np.prod(x.shape)),))
    shifts = shifts if isinstance(shifts, tuple) else (shifts,)
    dims = dims if isinstance(dims, tuple) else (dims,)
    cur = g.name(x)
    for s_, d in zip(shifts, dims):
        cur = _roll_axis(g, cur, int(s_), int(d), x.shape[d])
    return cur if cur != g.name(x) else g.op("Identity", x)


def _roll_axis(g, x, shift, axis, n):
    k = shift % n if n else 0
    if k == 0:
        return g.name(x)
    return g.op("Concat", g.slice(x, [n - k], [INT64_MAX], [axis]),
                g.slice(x, [0], [n - k], [axis]), axis=axis)


@exports(S + "RepeatInterleaveFn")
def _repeat_interleave(g, op):
    x, rep, dim = op["x"], op["repeats"], op["dim"]
    if isinstance(rep, Value) and rep.kind == "const" and np.asarray(rep.array).size == 1:
        rep = int(np.asarray(rep.array).reshape(-1)[0])
    if isinstance(rep, Value) or not isinstance(rep, (int, np.integer)):
        fail(op, "repeat_interleave with one count per element has no ONNX export")
    d = int(dim) % max(x.ndim, 1)
    src = x.shape
    xs = g.reshape(x, src, x.shape)
    mid = src[:d + 1] + (int(rep),) + src[d + 1:]
    y = g.expand(g.unsqueeze(xs, (d + 1,)), mid, src[:d + 1] + (1,) + src[d + 1:])
    return g.reshape(y, op.out.shape, mid)


@exports(IX + "TakeAlongDimFn")
def _take_along_dim(g, op):
    x, idx = op["x"], op["index"]
    d = int(op["dim"]) % max(x.ndim, 1)
    if any(a != b for k, (a, b) in enumerate(zip(x.shape, idx.shape)) if k != d):
        fail(op, "take_along_dim with an index broadcast against the input has no ONNX "
                 "export (give the index the input's shape but along dim)")
    return g.op("GatherElements", x, idx, axis=d)


@exports(IX + "TakeFn")
def _take(g, op):
    x, idx = op["x"], op["index"]
    flat = g.reshape(x, (int(np.prod(x.shape)),), x.shape)
    return g.op("Gather", flat, idx, axis=0)


@exports("fastnn.ops.sorting.TopkFn", "fastnn.ops.sorting.SortFn")
def _topk(g, op):
    x = op["x"]
    d = int(op["dim"]) % max(x.ndim, 1)
    if op.cls.__name__ == "TopkFn":
        k, largest = int(op["k"]), op["largest"]
    else:
        k, largest = x.shape[d], op["descending"]
    vals, idx = g.op("TopK", x, g.ints([k]), n_out=2, axis=d, largest=int(bool(largest)),
                     sorted=1)
    return [vals, idx]


@exports(S + "GetItemFn")
def _getitem(g, op):
    return getitem(g, op, op["x"], op["index"])


def getitem(g, op, x, index):
    """x[index] for an index of ints, slices, None, Ellipsis and at most one
    integer array (a Value): Slice, Gather and Unsqueeze nodes."""
    idx = list(index) if type(index) is tuple else [index]
    n_real = sum(1 for e in idx if e is not None and e is not Ellipsis)
    if any(e is Ellipsis for e in idx):
        k = idx.index(Ellipsis)
        idx[k:k + 1] = [slice(None)] * (x.ndim - n_real)
    idx += [slice(None)] * (x.ndim - sum(1 for e in idx if e is not None))
    arrays = [e for e in idx if isinstance(e, Value)]
    ints = [e for e in idx if isinstance(e, (int, np.integer)) and not isinstance(e, bool)]
    for e in idx:
        if not (e is None or isinstance(e, (slice, Value, int, np.integer))) or \
                isinstance(e, bool) or (isinstance(e, Value) and e.dtype.kind == "b"):
            fail(op, f"indexing with {type(e).__name__} {e!r} has no ONNX export")
    if len(arrays) > 1 or (arrays and ints):
        fail(op, "indexing with several index arrays (or an array and an int) has no ONNX "
                 "export; index one axis at a time")
    cur = g.name(x)
    starts, ends, axes, steps = [], [], [], []
    axis = 0
    for e in idx:
        if isinstance(e, slice):
            st = 1 if e.step is None else int(e.step)
            if st > 0:
                a = 0 if e.start is None else int(e.start)
                b = INT64_MAX if e.stop is None else int(e.stop)
            else:
                a = INT64_MAX if e.start is None else int(e.start)
                b = INT64_MIN if e.stop is None else int(e.stop)
            if not (a == 0 and b == INT64_MAX and st == 1):
                starts.append(a), ends.append(b), axes.append(axis), steps.append(st)
        if e is not None:
            axis += 1
    if axes:
        cur = g.slice(cur, starts, ends, axes, steps if any(s != 1 for s in steps) else None,
                      dims=[x.shape[a] for a in axes])
    # integer and array indices, last axis first so the earlier axes keep their numbers
    real = [e for e in idx if e is not None]
    for ax in range(len(real) - 1, -1, -1):
        e = real[ax]
        if isinstance(e, Value):
            cur = g.op("Gather", cur, g.cast(e, np.int64) if e.dtype != np.int64 else e,
                       axis=ax)
        elif not isinstance(e, slice):
            cur = g.op("Gather", cur, g.const(np.asarray(int(e), np.int64)), axis=ax)
    out_axes = _new_axes(idx, arrays[0].ndim if arrays else 0)
    if out_axes:
        cur = g.unsqueeze(cur, out_axes)
    if cur == g.name(x):
        cur = g.op("Identity", x)
    return cur


def _new_axes(idx, arr_nd):
    """The output positions of the None entries of an index."""
    out_axes, pos = [], 0
    for e in idx:
        if e is None:
            out_axes.append(pos)
            pos += 1
        elif isinstance(e, slice):
            pos += 1
        elif isinstance(e, Value):
            pos += arr_nd
    return out_axes




@exports(S + "IndexPutFn")
def _index_put(g, op):
    """``x[index] = value`` (or ``+=`` with accumulate) for an index of ints,
    unit-step slices and Ellipsis: a broadcastable mask of the written
    positions selects between the value (unsqueezed and padded to x's
    shape) and x."""
    x, value, index = op["x"], op["value"], op["index"]
    idx = list(index) if type(index) is tuple else [index]
    if any(e is Ellipsis for e in idx):
        k = idx.index(Ellipsis)
        idx[k:k + 1] = [slice(None)] * (x.ndim - len(idx) + 1)
    idx += [slice(None)] * (x.ndim - len(idx))
    masks, begin, end, squeezed = [], [], [], []
    for ax, (e, n) in enumerate(zip(idx, x.shape)):
        if isinstance(e, slice) and e == slice(None):
            masks.append(np.ones(1, bool))
            begin.append(0), end.append(0)
            continue
        if isinstance(e, slice) and e.step in (None, 1):
            a, b, _ = e.indices(n)
        elif isinstance(e, (int, np.integer)) and not isinstance(e, bool):
            a = int(e) % n
            b = a + 1
            squeezed.append(ax)
        else:
            fail(op, f"assignment through the index {e!r} has no ONNX export (ints, unit-step "
                     "slices and Ellipsis have)")
        m = np.zeros(n, bool)
        m[a:b] = True
        masks.append(m)
        begin.append(a)
        end.append(n - max(b, a))
    mask = np.ones((1,) * x.ndim, bool)
    for ax, m in enumerate(masks):
        mask = mask & m.reshape((1,) * ax + (-1,) + (1,) * (x.ndim - ax - 1))
    if isinstance(value, Value) and value.ndim:
        v = _placed(g, value, x, idx, squeezed, begin, end)
    else:
        v = g.name(value) if isinstance(value, Value) else None
        v = g.cast(value, x.dtype) if v is not None and value.dtype != x.dtype else v
        v = v if v is not None else g.const(np.asarray(value, x.dtype))
    if op.get("accumulate"):
        return g.op("Add", x, g.op("Where", g.const(mask), v, g.const(np.zeros((), x.dtype))))
    return g.op("Where", g.const(mask), v, x)


def _placed(g, value, x, idx, squeezed, begin, end):
    """value (broadcastable to x[idx]) at its place in x's shape: broadcast
    to the written block (1 along untouched axes it does not vary on),
    the removed int axes put back, zero padding around the block."""
    keep = [ax for ax in range(x.ndim) if ax not in squeezed]
    full = [idx[ax] == slice(None) for ax in keep]
    block = [x.shape[ax] - begin[ax] - end[ax] for ax in keep]
    v = g.name(value) if value.dtype == x.dtype else g.cast(value, x.dtype)
    shape = (1,) * (len(keep) - value.ndim) + tuple(value.shape)
    v = g.reshape(v, shape, value.shape)
    target = [1 if (f and d == 1) else b for f, d, b in zip(full, shape, block)]
    if list(shape) != target:
        v = g.expand(v, target, shape)
    if squeezed:
        v = g.unsqueeze(v, squeezed)
    if any(begin) or any(end):
        v = g.op("Pad", v, g.ints(begin + end))
    return v
