"""``fastnn.onnx.load`` / ``import_model``: an ONNX model as a fastnn
``nn.Module`` that runs its graph with fastnn ops (so it trains).

Reading is data only: the file is parsed by protobuf (``onnx``'s
``ModelProto``), never executed; nothing is imported or evaluated from it.
Before any tensor is built, the model is checked: the opset (13 to 21 of
the default domain), the operators (all of them known to fastnn, else one
error listing every unknown one), no subgraphs, every node's inputs
defined before use (so the graph runs in one pass and cannot loop), and
every tensor's declared size against the bytes that hold it -- a tensor
cannot claim more elements than its data has, and external data must lie
in a file inside the model's directory, within that file.  Tensors the
graph creates at run time (``ConstantOfShape``, ``Expand``, ``Tile``,
``Range``, ``Resize``, ...) are bounded by ``max_elements``.
"""
import os
import stat

import numpy as np

from .. import nn
from .._tensor import Tensor
from ._export import require_onnx
from ._registry import IMPORTERS
from .errors import OnnxImportError

MIN_OPSET, MAX_OPSET = 13, 21
DEFAULT_MAX_ELEMENTS = 1 << 28
_MAX_FILE = (1 << 31) - 1            # protobuf's limit for one message
_DTYPES = {"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "b1"}

# inputs of operators that are shapes, indices or settings, not trainable
# tensors: a float initializer used only there is not made a Parameter
_NON_TRAINABLE = {"Reshape": (1,), "Expand": (1,), "Tile": (1,), "Slice": (1, 2, 3, 4),
                  "Squeeze": (1,), "Unsqueeze": (1,), "Split": (1,), "Pad": (1, 2, 3),
                  "Resize": (1, 2, 3), "Upsample": (1,), "Clip": (1, 2), "Range": (0, 1, 2),
                  "ConstantOfShape": (0,), "CumSum": (1,), "Gather": (1,),
                  "GatherElements": (1,), "Trilu": (1,), "ReduceSum": (1,),
                  "ReduceMean": (1,), "ReduceMax": (1,), "ReduceMin": (1,), "ReduceProd": (1,),
                  "ReduceL1": (1,), "ReduceL2": (1,), "ReduceLogSumExp": (1,),
                  "ReduceSumSquare": (1,), "BatchNormalization": (3, 4),
                  "LSTM": (4,), "GRU": (4,), "RNN": (4,)}


class Node:
    """One graph node as plain data: op_type, input and output names (''
    for an omitted optional input), attributes as Python values."""

    __slots__ = ("op_type", "name", "inputs", "outputs", "attrs")

    def __init__(self, op_type, name, inputs, outputs, attrs):
        self.op_type, self.name = op_type, name
        self.inputs, self.outputs, self.attrs = inputs, outputs, attrs

    def __repr__(self):
        return f"{self.op_type}({', '.join(self.inputs)}) -> {', '.join(self.outputs)}"


# ------------------------------------------------------------------ reading
def _read(src):
    """(ModelProto, directory for external data or None, size in bytes)."""
    onnx = require_onnx()
    if isinstance(src, onnx.ModelProto):
        return src, None, src.ByteSize()
    base = None
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
        where = "the given bytes"
    elif hasattr(src, "read"):
        data = src.read()
        where = getattr(src, "name", "the given file object")
    else:
        path = os.fspath(src)
        where = path
        try:
            st = os.stat(path)
        except OSError as e:
            raise OnnxImportError(f"fastnn.onnx.load: cannot read {path!r}: {e}") from None
        if not stat.S_ISREG(st.st_mode):
            raise OnnxImportError(f"fastnn.onnx.load: {path!r} is not a regular file")
        if st.st_size > _MAX_FILE:
            raise OnnxImportError(f"fastnn.onnx.load: {path!r} is {st.st_size} bytes; an "
                                  "ONNX protobuf holds at most 2 GiB (larger models keep "
                                  "their weights as external data)")
        with open(path, "rb") as fh:
            data = fh.read(_MAX_FILE + 1)
        base = os.path.dirname(os.path.abspath(path))
    if not data:
        raise OnnxImportError(f"fastnn.onnx.load: {where} is empty, not an ONNX model")
    if len(data) > _MAX_FILE:
        raise OnnxImportError(f"fastnn.onnx.load: {where} is larger than 2 GiB")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as e:     # protobuf's DecodeError and friends
        raise OnnxImportError(f"fastnn.onnx.load: {where} is not a valid ONNX model (the "
                              f"protobuf does not parse: {e}); the file may be truncated "
                              "or corrupt") from None
    return model, base, len(data)


def _opset(model):
    version = None
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            version = imp.version
    if version is None:
        raise OnnxImportError("fastnn.onnx.load: the model imports no opset of the default "
                              "ONNX domain (it is not an ONNX model, or a truncated one)")
    if not MIN_OPSET <= version <= MAX_OPSET:
        raise OnnxImportError(f"fastnn.onnx.load: the model uses ONNX opset {version}; fastnn "
                              f"reads opsets {MIN_OPSET} to {MAX_OPSET} (convert it with "
                              "onnx.version_converter)")
    return version


def _check_structure(graph):
    """Known operators, no subgraphs, inputs defined before use."""
    from onnx import AttributeProto
    unknown = {}
    for n in graph.node:
        key = n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}::{n.op_type}"
        if key not in IMPORTERS:
            unknown[key] = unknown.get(key, 0) + 1
        for a in n.attribute:
            if a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS):
                unknown.setdefault(f"{key} (with a subgraph)", 1)
    if unknown:
        names = ", ".join(f"{k} (x{v})" if v > 1 else k for k, v in sorted(unknown.items()))
        raise OnnxImportError(f"fastnn.onnx.load: the model uses ONNX operators that fastnn "
                              f"does not implement: {names}")
    defined = {t.name for t in graph.initializer} | {i.name for i in graph.input}
    defined.add("")
    for k, n in enumerate(graph.node):
        for i in n.input:
            if i not in defined:
                raise OnnxImportError(f"fastnn.onnx.load: node {k} ({n.op_type}) reads "
                                      f"{i!r}, which no earlier node, input or initializer "
                                      "defines (a corrupt graph, or nodes out of order)")
        for o in n.output:
            if o:
                defined.add(o)
    for o in graph.output:
        if o.name not in defined:
            raise OnnxImportError(f"fastnn.onnx.load: the graph output {o.name!r} is never "
                                  "computed")


# ------------------------------------------------------------------ tensors
def _np_dtype(data_type, name):
    from onnx import helper, TensorProto
    if data_type in (TensorProto.STRING, TensorProto.UNDEFINED, TensorProto.COMPLEX64,
                     TensorProto.COMPLEX128):
        raise OnnxImportError(f"fastnn.onnx.load: tensor {name!r} has an unsupported data "
                              f"type ({TensorProto.DataType.Name(data_type)})")
    try:
        dt = np.dtype(helper.tensor_dtype_to_np_dtype(data_type))
    except Exception:
        raise OnnxImportError(f"fastnn.onnx.load: tensor {name!r} has an unknown data type "
                              f"({data_type})") from None
    if dt.str.lstrip("<>=|") not in _DTYPES:
        raise OnnxImportError(f"fastnn.onnx.load: tensor {name!r} has data type "
                              f"{TensorProto.DataType.Name(data_type)}, which fastnn does not "
                              "hold (float16/32/64, int8/16/32/64, uint8, bool)")
    return dt


def _numel(t, limit, what):
    n = 1
    for d in t.dims:
        if d < 0:
            raise OnnxImportError(f"fastnn.onnx.load: {what} {t.name!r} has a negative "
                                  f"dimension {list(t.dims)}")
        n *= int(d)
    if n > limit:
        raise OnnxImportError(f"fastnn.onnx.load: {what} {t.name!r} declares shape "
                              f"{list(t.dims)} ({n} elements), more than the model's data "
                              f"can hold ({limit} elements)")
    return n


def _external(t, base, n, dt):
    """The bytes of an external-data tensor, read from a file inside base."""
    info = {e.key: e.value for e in t.external_data}
    loc = info.get("location", "")
    if base is None:
        raise OnnxImportError(f"fastnn.onnx.load: tensor {t.name!r} keeps its data in an "
                              f"external file ({loc!r}); load the model from its path")
    if not loc or os.path.isabs(loc) or "\\" in loc or ":" in loc:
        raise OnnxImportError(f"fastnn.onnx.load: tensor {t.name!r} refers to external data "
                              f"at {loc!r}, outside the model's directory")
    real_base = os.path.realpath(base)
    path = os.path.realpath(os.path.join(real_base, loc))
    if os.path.commonpath([real_base, path]) != real_base:
        raise OnnxImportError(f"fastnn.onnx.load: tensor {t.name!r} refers to external data "
                              f"at {loc!r}, outside the model's directory")
    try:
        st = os.stat(path)
    except OSError:
        raise OnnxImportError(f"fastnn.onnx.load: external data file {loc!r} of tensor "
                              f"{t.name!r} is missing") from None
    if not stat.S_ISREG(st.st_mode):
        raise OnnxImportError(f"fastnn.onnx.load: external data {loc!r} is not a file")
    try:
        off = int(info.get("offset", 0))
        length = int(info.get("length", n * dt.itemsize))
    except ValueError:
        raise OnnxImportError(f"fastnn.onnx.load: tensor {t.name!r} has a malformed external "
                              "data offset or length") from None
    if off < 0 or length != n * dt.itemsize or off + length > st.st_size:
        raise OnnxImportError(f"fastnn.onnx.load: tensor {t.name!r} needs {n * dt.itemsize} "
                              f"bytes at offset {off} of {loc!r} ({st.st_size} bytes, length "
                              f"{length} declared)")
    with open(path, "rb") as fh:
        fh.seek(off)
        return fh.read(length)


def tensor_array(t, base, limit_bytes, what="tensor"):
    """The ndarray of a TensorProto, its size checked against its data."""
    from onnx import TensorProto, numpy_helper
    dt = _np_dtype(t.data_type, t.name)
    n = _numel(t, max(limit_bytes // max(dt.itemsize, 1), 1), what)
    if t.data_location == TensorProto.EXTERNAL:
        raw = _external(t, base, n, dt)
        arr = np.frombuffer(raw, dtype=dt.newbyteorder("<")).astype(dt).reshape(tuple(t.dims))
    else:
        if t.HasField("raw_data"):
            have = len(t.raw_data) / max(dt.itemsize, 1)
        else:
            have = max(len(t.float_data), len(t.int32_data), len(t.int64_data),
                       len(t.double_data), len(t.uint64_data))
        if have != n:
            raise OnnxImportError(f"fastnn.onnx.load: {what} {t.name!r} declares shape "
                                  f"{list(t.dims)} ({n} elements) but holds {have}")
        try:
            arr = numpy_helper.to_array(t)
        except Exception as e:
            raise OnnxImportError(f"fastnn.onnx.load: {what} {t.name!r} cannot be read: "
                                  f"{e}") from None
    if arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    return np.array(arr, copy=True)


def _attr_value(a, base, limit):
    from onnx import AttributeProto as AP
    t = a.type
    if t == AP.FLOAT:
        return float(a.f)
    if t == AP.INT:
        return int(a.i)
    if t == AP.STRING:
        return a.s.decode("utf-8", "replace")
    if t == AP.TENSOR:
        return tensor_array(a.t, base, limit, "constant")
    if t == AP.FLOATS:
        return [float(v) for v in a.floats]
    if t == AP.INTS:
        return [int(v) for v in a.ints]
    if t == AP.STRINGS:
        return [s.decode("utf-8", "replace") for s in a.strings]
    raise OnnxImportError(f"fastnn.onnx.load: attribute {a.name!r} has an unsupported type "
                          f"({AP.AttributeType.Name(t)})")


# ------------------------------------------------------------------ module
def _segment(s):
    out = "".join(c if (c.isalnum() or c == "_") else "_" for c in s)
    return out or "_"


class _Holder(nn.Module):
    """A plain container of imported parameters (one level of a dotted name)."""

    def forward(self, *args):
        raise RuntimeError("a parameter container of an imported ONNX model has no forward")


class OnnxModule(nn.Module):
    """A fastnn module running an imported ONNX graph.

    Initializers used as weights are Parameters, named as in the ONNX file
    (``fc.weight`` becomes the submodule ``fc``'s parameter ``weight``), so
    ``state_dict()`` keys match the exporter's; batch-norm statistics are
    buffers; the rest are constants.  ``forward(*inputs)`` takes the graph
    inputs in order (Tensors or ndarrays) and returns the output Tensor, or
    a tuple of them."""

    def __init__(self, nodes, inputs, outputs, consts, params, buffers, opset, max_elements):
        super().__init__()
        object.__setattr__(self, "_onnx_nodes", nodes)
        object.__setattr__(self, "_onnx_inputs", inputs)
        object.__setattr__(self, "_onnx_outputs", outputs)
        object.__setattr__(self, "_onnx_consts", {k: Tensor._wrap(v) for k, v in consts.items()})
        object.__setattr__(self, "opset", opset)
        object.__setattr__(self, "max_elements", max_elements)
        where = {}
        for kind, items in (("param", params), ("buffer", buffers)):
            for name, arr in items.items():
                where[name] = self._place(name, arr, kind)
        object.__setattr__(self, "_onnx_state", where)

    def _place(self, name, arr, kind):
        """Registers arr under its dotted name; returns (module, attribute)."""
        parts = [_segment(p) for p in name.split(".")]
        mod = self
        for p in parts[:-1]:
            sub = mod._modules.get(p)
            if sub is None:
                if p in mod._parameters or p in mod._buffers or hasattr(type(mod), p):
                    return self._place(name.replace(".", "_"), arr, kind)
                sub = _Holder()
                mod.add_module(p, sub)
            mod = sub
        leaf = parts[-1]
        taken = leaf in mod._parameters or leaf in mod._buffers or leaf in mod._modules
        if taken or hasattr(type(mod), leaf) or leaf in mod.__dict__:
            k = 1
            while f"{leaf}_{k}" in mod._parameters or f"{leaf}_{k}" in mod._buffers:
                k += 1
            leaf = f"{leaf}_{k}"
        if kind == "param":
            mod.register_parameter(leaf, nn.Parameter(Tensor._wrap(arr)))
        else:
            mod.register_buffer(leaf, Tensor._wrap(arr))
        return mod, leaf

    def _state_tensor(self, name):
        mod, leaf = self._onnx_state[name]
        return mod._parameters[leaf] if leaf in mod._parameters else mod._buffers[leaf]

    def forward(self, *args, **kwargs):
        names = self._onnx_inputs
        if len(args) > len(names):
            raise TypeError(f"the imported model takes {len(names)} inputs ({names}), got "
                            f"{len(args)}")
        env = dict(self._onnx_consts)
        for name in self._onnx_state:
            env[name] = self._state_tensor(name)
        given = dict(zip(names, args))
        given.update(kwargs)
        for name in names:
            if name not in given:
                raise TypeError(f"the imported model's input {name!r} is missing")
            v = given[name]
            env[name] = v if isinstance(v, Tensor) else \
                Tensor(np.asarray(v), dtype=np.float32)    # (whatever the default dtype)
        for node in self._onnx_nodes:
            ins = [env[i] if i else None for i in node.inputs]
            try:
                res = IMPORTERS[node.op_type](self, node, *ins)
            except Exception as e:
                e.add_note(f"(in ONNX node {node.name or node!r} of the imported model)")
                raise
            if not isinstance(res, (tuple, list)):
                res = (res,)
            for o, r in zip(node.outputs, res):
                if o:
                    env[o] = r
        outs = tuple(env[o] for o in self._onnx_outputs)
        return outs[0] if len(outs) == 1 else outs

    def extra_repr(self):
        return (f"opset={self.opset}, inputs={self._onnx_inputs}, "
                f"outputs={self._onnx_outputs}, nodes={len(self._onnx_nodes)}")


def _roles(graph, float_inits):
    """Which float initializers are Parameters and which buffers."""
    trainable, stats = set(), set()
    for n in graph.node:
        skip = _NON_TRAINABLE.get(n.op_type, ())
        for k, i in enumerate(n.input):
            if i in float_inits:
                if k in skip:
                    if n.op_type == "BatchNormalization":
                        stats.add(i)
                else:
                    trainable.add(i)
    return trainable, stats - trainable


def import_model(src, max_elements=DEFAULT_MAX_ELEMENTS):
    """Reads an ONNX model (path, bytes, file object or ``onnx.ModelProto``)
    and returns an :class:`OnnxModule` running it with fastnn ops.

    Raises
    ------
    OnnxImportError
        For a file that is not a readable ONNX model of opset 13 to 21, uses
        operators fastnn does not implement (all are listed), holds tensors
        larger than its data, or refers to external data outside its
        directory.

    Examples
    --------
    >>> import fastnn
    >>> model = fastnn.onnx.load("model.onnx")            # doctest: +SKIP
    >>> y = model(fastnn.randn(1, 3, 32, 32))             # doctest: +SKIP
    """
    model, base, size = _read(src)
    opset = _opset(model)
    g = model.graph
    if len(g.output) == 0:
        raise OnnxImportError("fastnn.onnx.load: the graph has no outputs (a truncated or "
                              "empty model)")
    _check_structure(g)
    limit = max(size, 1) + 1024
    if any(t.data_location == 1 for t in g.initializer):
        limit = 1 << 62            # external data: bounded by its files, checked there
    inits = {}
    for t in g.initializer:
        if t.name in inits:
            raise OnnxImportError(f"fastnn.onnx.load: initializer {t.name!r} appears twice")
        inits[t.name] = tensor_array(t, base, limit, "initializer")
    nodes = []
    for n in g.node:
        attrs = {a.name: _attr_value(a, base, limit) for a in n.attribute}
        nodes.append(Node(n.op_type, n.name, list(n.input), list(n.output), attrs))
    float_inits = {k for k, v in inits.items() if v.dtype.kind == "f"}
    trainable, stats = _roles(g, float_inits)
    params = {k: inits[k] for k in inits if k in trainable}
    buffers = {k: inits[k] for k in inits if k in stats}
    consts = {k: v for k, v in inits.items() if k not in params and k not in buffers}
    inputs = [i.name for i in g.input if i.name not in inits]
    outputs = [o.name for o in g.output]
    return OnnxModule(nodes, inputs, outputs, consts, params, buffers, opset,
                      int(max_elements))


from . import _ops_import  # noqa: E402,F401  (fills IMPORTERS)
