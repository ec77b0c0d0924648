"""From one recording to one ONNX graph: the recorded calls are visited in
order, their arguments resolved to :class:`~._trace.Value` objects, and
each call's op-table entry emits its nodes into a :class:`~._graph.Graph`.

A call whose tensor arguments are all constants is folded (its recorded
outputs become constants).  A user-defined Function (``raw = False``)
without an entry is looked through: the ops run inside its forward are
exported instead.  Calls without an entry are collected, and one
:class:`UnsupportedOperatorError` names them all.
"""
import numpy as np

from .._core import TensorBase
from ._graph import Graph
from ._trace import Value, function_class
from .errors import OnnxExporterError, UnsupportedOperatorError
from . import _ops_export  # noqa: F401  (fills the table)
from ._registry import EXPORTERS


# ops run on constants that still become nodes: their result's shape may
# follow a dynamic axis (``const.expand(x.size(0), -1)``)
_NO_FOLD = {"fastnn.ops.shape.ExpandFn"}


def qualname(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


class Op:
    """What an op-table entry sees of one recorded call: ``op["x"]`` (an
    argument by its forward's parameter name: a :class:`Value` for a
    tensor, else the Python value), ``op.pos`` (positional arguments),
    ``op.ctx`` (the Context the forward filled), ``op.outs`` (the output
    Values; ``op.out`` the first)."""

    __slots__ = ("name", "cls", "ctx", "args", "pos", "outs")

    def __init__(self, call, cls, args, pos, outs):
        self.name, self.cls, self.ctx = call.name, cls, call.ctx
        self.args, self.pos, self.outs = args, pos, outs

    def __getitem__(self, k):
        return self.args[k]

    def get(self, k, default=None):
        return self.args.get(k, default)

    @property
    def out(self):
        return self.outs[0]


class Lowering:
    """Lowers the calls of one :class:`~._trace.Recorder` into a Graph."""

    def __init__(self, opset, inputs, params, code_map):
        """inputs: [(name, Tensor given to the model)]; params: [(name, Tensor)]
        of the model's parameters and buffers."""
        self.graph = Graph(opset)
        self.code_map = code_map
        self.by_tensor = {}      # id(leaf Tensor) -> Value
        self.by_array = {}       # id(ndarray) -> Value
        self.by_ctx = {}         # id(Context) -> Call
        self.consts = {}
        self._keep = []
        self.unsupported = {}
        for name, t in inputs:
            self.graph.taken.add(name)
            v = Value("input", t._array, name)
            self.by_tensor[id(t)] = v
            self.by_array[id(t._array)] = v
        for name, t in params:
            self.graph.taken.add(name)
            v = Value("param", t._array, name)
            self.by_tensor.setdefault(id(t), v)
            self.by_array.setdefault(id(t._array), v)

    # ------------------------------------------------------------ resolution
    def _const(self, arr):
        v = self.consts.get(id(arr))
        if v is None:
            v = self.consts[id(arr)] = Value("const", arr)
            self._keep.append(arr)
        return v

    def _from_node(self, ctx, idx, arr):
        call = self.by_ctx.get(id(ctx))
        if call is None or call.outs is None:
            # made before the recording started (a tensor computed once and
            # kept on the model): a constant
            return self._by_identity(arr)
        if call.inlined:
            return self._by_identity(arr)
        v = call.outs[idx] if idx < len(call.outs) else None
        return v if v is not None else self._by_identity(arr)

    def _by_identity(self, arr):
        v = self.by_array.get(id(arr))
        return v if v is not None else self._const(arr)

    def resolve(self, call, i, v):
        """Value of argument v (position i, or None for a keyword)."""
        if isinstance(v, TensorBase):
            if v._grad_fn is not None:
                return self._from_node(v._grad_fn, v._out_idx, v._array)
            hit = self.by_tensor.get(id(v))
            return hit if hit is not None else self._by_identity(v._array)
        if isinstance(v, np.ndarray):
            ctx = call.ctx
            if i is not None and ctx is not None and ctx._fn is not None and \
                    i < len(ctx._parents):
                p = ctx._parents[i]
                if p is not None:
                    if p._grad_fn is not None:
                        return self._from_node(p._grad_fn, p._out_idx, v)
                    hit = self.by_tensor.get(id(p))
                    if hit is not None:
                        return hit
            return self._by_identity(v)
        if type(v) in (tuple, list):
            return type(v)(self.resolve(call, None, e) for e in v)
        return v

    def _resolved_args(self, call):
        pos = [self.resolve(call, i, v) for i, v in enumerate(call.pos)]
        args = dict(zip(call.pos_names, pos))
        if call.var_name is not None:
            args[call.var_name] = tuple(pos[len(call.pos_names):])
        for k, v in call.kw.items():
            args[k] = self.resolve(call, None, v)
        return args, pos

    # ---------------------------------------------------------------- visit
    def run(self, calls):
        for call in calls:
            if call.ctx is not None:
                self.by_ctx[id(call.ctx)] = call
        for call in calls:
            if call.parent is not None and not call.parent.inlined:
                continue
            self._visit(call)
        if self.unsupported:
            lines = [f"  {name} ({qn}, {n} call{'s' if n > 1 else ''}"
                     f"{', first from ' + site if site else ''})"
                     for (name, qn), (n, site) in self.unsupported.items()]
            raise UnsupportedOperatorError(
                "fastnn.onnx.export: these operations have no ONNX export:\n" + "\n".join(lines))

    def _visit(self, call):
        cls = function_class(call, self.code_map)
        rets = call.returned()
        call.outs = [None if r is None else
                     Value("node", r._array if isinstance(r, TensorBase) else np.asarray(r),
                           call=call, index=i) for i, r in enumerate(rets)]
        args, pos = self._resolved_args(call)
        tensors = [a for a in _flat(pos) + _flat(list(args.values())) if isinstance(a, Value)]
        handler = EXPORTERS.get(qualname(cls)) if cls is not None else None
        if all(a.kind == "const" for a in tensors) and qualname(cls or Value) not in _NO_FOLD:
            call.outs = [None if o is None else self._const(o.array) for o in call.outs]
            for o, r in zip(call.outs, rets):
                if o is not None:
                    self.by_array[id(o.array)] = o
            return
        if handler is None:
            if cls is not None and not getattr(cls, "raw", True):
                call.inlined = True          # a user Function: export what it ran
                return
            key = (getattr(cls, "__name__", call.name), qualname(cls) if cls else "?")
            n, site = self.unsupported.get(key, (0, call.site))
            self.unsupported[key] = (n + 1, site)
            return
        if any(a.kind == "node" and a.name is None for a in tensors):
            return                           # after an unsupported op: only collect names
        op = Op(call, cls, args, pos, call.outs)
        names = handler(self.graph, op)
        if isinstance(names, str):
            names = [names]
        for o, nm in zip(call.outs, names):
            if o is not None:
                o.name = nm
        for o in call.outs:
            if o is not None:
                self.by_array[id(o.array)] = o

    def output(self, t):
        """The graph name of a model output (a Tensor)."""
        if not isinstance(t, TensorBase):
            raise OnnxExporterError(f"fastnn.onnx.export: the model returned a "
                                    f"{type(t).__name__}; outputs must be Tensors")
        if t._grad_fn is not None:
            v = self._from_node(t._grad_fn, t._out_idx, t._array)
        else:
            v = self.by_tensor.get(id(t)) or self._by_identity(t._array)
        return v


def _flat(items):
    out = []
    for a in items:
        if type(a) in (tuple, list):
            out.extend(_flat(a))
        else:
            out.append(a)
    return out


def lower(calls, opset, inputs, params, code_map):
    low = Lowering(opset, inputs, params, code_map)
    low.run(calls)
    return low


__all__ = ["lower", "Op", "qualname"]
