"""The ONNX graph under construction: nodes, initializers and the helpers
the op table uses to emit them, aware of the target opset (where an
operator's signature changed between opsets 13 and 21, one helper hides it).

Nodes are kept as plain tuples ``(op_type, inputs, outputs, attrs, meta)``
until the end (``_export`` turns them into protobuf), so that two
recordings of the same model can be compared entry by entry.  ``meta``
marks the constants whose values are shapes (a reshape's target, ...):
where such a constant differs between the two recordings, the exporter
rewrites it in terms of the dynamic axes.
"""
import numpy as np

from ._trace import Value

def onnx_dtype(dt):
    """The TensorProto data type of a numpy dtype."""
    from onnx import helper
    return helper.np_dtype_to_tensor_dtype(np.dtype(dt))


# ReduceX operators whose ``axes`` became an input in opset 18 (ReduceSum: 13)
_REDUCE_AXES_INPUT = {"ReduceSum": 13}


class Graph:
    """Builder of one ONNX graph for opset ``opset``."""

    def __init__(self, opset):
        self.opset = opset
        self.nodes = []
        self.initializers = {}          # name -> ndarray (parameters and buffers)
        self._count = {}
        self._const_cache = {}
        self.taken = set()              # graph input and parameter names

    # ------------------------------------------------------------------ names
    def fresh(self, base):
        while True:
            k = self._count.get(base, 0)
            self._count[base] = k + 1
            name = f"{base}_{k}"
            if name not in self.taken:
                return name

    def name(self, v):
        """The graph name of an operand: a name, a Value, None (omitted
        optional input: ''), or a number / array (a constant)."""
        if v is None:
            return ""
        if isinstance(v, str):
            return v
        if isinstance(v, Value):
            if v.kind == "node":
                if v.name is None:
                    raise RuntimeError(f"internal: output {v.index} of {v.call.name} was not "
                                       "exported")
                return v.name
            if v.kind == "param":
                if v.name not in self.initializers:
                    self.initializers[v.name] = v.array
                return v.name
            if v.kind == "input":
                return v.name
            if v.name is None:
                v.name = self.const(v.array)
            return v.name
        return self.const(v)

    # -------------------------------------------------------------- emitting
    def op(self, op_type, *inputs, n_out=1, meta=None, **attrs):
        """Appends a node; returns its output name (or a list for n_out > 1)."""
        outs = [self.fresh(op_type.lower()) for _ in range(n_out)]
        ins = [self.name(i) for i in inputs]
        while ins and ins[-1] == "":
            ins.pop()
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append((op_type, ins, outs, attrs, meta))
        return outs[0] if n_out == 1 else outs

    def const(self, value, dtype=None, meta=None):
        """A Constant node holding ``value`` (cast to dtype when given)."""
        arr = np.asarray(value, dtype=dtype)
        if arr.dtype == np.float64 and dtype is None and not isinstance(value, np.ndarray):
            arr = arr.astype(np.float32)
        if meta is None and arr.size <= 16:
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            hit = self._const_cache.get(key)
            if hit is not None:
                return hit
        out = self.fresh("const")
        self.nodes.append(("Constant", [], [out], {"value": arr}, meta))
        if meta is None and arr.size <= 16:
            self._const_cache[key] = out
        return out

    def ints(self, values):
        return self.const(np.asarray(list(values), dtype=np.int64))

    def scalar(self, value, like):
        """A 0-d constant of the dtype of Value / dtype ``like``."""
        dt = like.dtype if isinstance(like, Value) else np.dtype(like)
        return self.const(np.asarray(value, dtype=dt))

    # ------------------------------------------------------- shape operators
    def reshape(self, x, target, src_shape):
        """x (of concrete shape src_shape) reshaped to the concrete target;
        the target is marked so that dynamic axes can be rewritten."""
        target = tuple(int(t) for t in target)
        if tuple(src_shape) == target:
            return self.name(x)
        shape = self.const(np.asarray(target, dtype=np.int64),
                           meta=("reshape", tuple(src_shape), target))
        return self.op("Reshape", x, shape)

    def expand(self, x, target, src_shape):
        target = tuple(int(t) for t in target)
        shape = self.const(np.asarray(target, dtype=np.int64),
                           meta=("expand", tuple(src_shape), target))
        return self.op("Expand", x, shape)

    def unsqueeze(self, x, axes):
        return self.op("Unsqueeze", x, self.ints(axes))

    def squeeze(self, x, axes):
        return self.op("Squeeze", x, self.ints(axes))

    def transpose(self, x, perm):
        perm = [int(p) for p in perm]
        if perm == sorted(perm):
            return self.name(x)
        return self.op("Transpose", x, perm=perm)

    def slice(self, x, starts, ends, axes, steps=None, dims=None):
        """Slice; ``dims`` (the sliced axes' sizes) marks the ends so that an
        end equal to a dynamic axis' size becomes 'to the end'."""
        ends = self.const(np.asarray(list(ends), dtype=np.int64),
                          meta=None if dims is None else ("ends", tuple(dims), tuple(ends)))
        args = [x, self.ints(starts), ends, self.ints(axes)]
        if steps is not None:
            args.append(self.ints(steps))
        return self.op("Slice", *args)

    def split(self, x, sizes, axis):
        return self.op("Split", x, self.ints(sizes), n_out=len(sizes), axis=int(axis))

    def reduce(self, op_type, x, axes, keepdims):
        """ReduceX over ``axes`` (None: all), attribute or input per opset."""
        keep = int(bool(keepdims))
        if axes is None:
            return self.op(op_type, x, keepdims=keep)
        axes = [int(a) for a in axes]
        if self.opset >= _REDUCE_AXES_INPUT.get(op_type, 18):
            return self.op(op_type, x, self.ints(axes), keepdims=keep)
        return self.op(op_type, x, axes=axes, keepdims=keep)

    def cast(self, x, dtype):
        return self.op("Cast", x, to=int(onnx_dtype(dtype)))

    def clip(self, x, lo, hi, like):
        return self.op("Clip", x, None if lo is None else self.scalar(lo, like),
                       None if hi is None else self.scalar(hi, like))

    def shape_of(self, x):
        return self.op("Shape", x)
