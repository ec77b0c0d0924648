"""Two recordings of one model, compared: the graph with its dynamic axes.

``resolve`` takes the lowerings of the example input and of the second
input (dynamic axes longer), which must agree node for node.  Constants
that differ are rewritten where the difference is a dynamic axis:

* a reshape's target: ``0`` (copy the input's dim) or ``-1`` (the one
  inferred dim), else the input's runtime size;
* an expand's target: ``1`` (keep the input's dim), else the runtime size;
* a slice's end equal to the sliced axis' size: "to the end";
* other shape constants, and constants of one repeated value whose shape
  follows the dynamic axes (``zeros(x.size(0), ...)``): built from the
  inputs' runtime sizes (``Shape`` -> ``Gather`` -> ``Concat``, and
  ``ConstantOfShape``).

Anything else that differs raises :class:`OnnxExporterError`.
"""
import numpy as np

from .errors import OnnxExporterError

INT64_MAX = np.iinfo(np.int64).max


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and \
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _describe(node):
    op_type, ins, outs, attrs, meta = node
    return f"{op_type}({', '.join(ins)}) -> {', '.join(outs)}"


class Resolved:
    """The final graph: nodes (tuples), initializers, the symbols of the
    dynamic sizes, and the prelude computing the inputs' runtime sizes."""

    def __init__(self, low, sources, symbols):
        self.graph = low.graph
        self.nodes = []
        self.prelude = []
        self.sources = sources          # (d1, d2) -> (input name, axis)
        self.symbols = symbols          # (d1, d2) -> symbol
        self._dims = {}
        self._shapes = {}
        self._k = 0
        self.outputs = None

    @property
    def initializers(self):
        return self.graph.initializers

    def fresh(self, base):
        self._k += 1
        return f"dyn_{base}_{self._k}"

    def _const_node(self, arr, out=None):
        out = out or self.fresh("const")
        return ("Constant", [], [out], {"value": np.asarray(arr)}, None), out

    def dim(self, d1, d2, why):
        """Name of a 1-element int64 tensor holding the runtime size that is
        d1 in the first recording and d2 in the second."""
        src = self.sources.get((d1, d2))
        if src is None:
            raise OnnxExporterError(
                f"fastnn.onnx.export: {why} has a size that changes with the dynamic axes "
                f"({d1} in the first recording, {d2} in the second) but is none of the "
                "inputs' dynamic sizes; export with static shapes, or compute it from one "
                "dynamic axis")
        if src in self._dims:
            return self._dims[src]
        name, axis = src
        shape = self._shapes.get(name)
        if shape is None:
            shape = self._shapes[name] = self.fresh("shape")
            self.prelude.append(("Shape", [name], [shape], {}, None))
        node, idx = self._const_node(np.asarray([axis], np.int64))
        out = self.fresh("dim")
        self.prelude += [node, ("Gather", [shape, idx], [out], {"axis": 0}, None)]
        self._dims[src] = out
        return out

    def shape_tensor(self, entries, out, why):
        """Nodes computing a 1-D int64 shape into ``out`` from entries, each
        an int or a (d1, d2) dynamic size."""
        if all(isinstance(e, (int, np.integer)) for e in entries):
            return [self._const_node(np.asarray(entries, np.int64), out)[0]]
        nodes, parts, run = [], [], []
        for e in entries:
            if isinstance(e, tuple):
                if run:
                    node, nm = self._const_node(np.asarray(run, np.int64))
                    nodes.append(node)
                    parts.append(nm)
                    run = []
                parts.append(self.dim(e[0], e[1], why))
            else:
                run.append(int(e))
        if run:
            node, nm = self._const_node(np.asarray(run, np.int64))
            nodes.append(node)
            parts.append(nm)
        nodes.append(("Concat", parts, [out], {"axis": 0}, None))
        return nodes


def _consumer(nodes, name):
    for n in nodes:
        if name in n[1]:
            return n[0]
    return "the graph"


def _reshape_entries(meta1, meta2):
    _, s1, t1 = meta1
    _, s2, t2 = meta2
    entries, dyn = [], []
    for i, (a, b) in enumerate(zip(t1, t2)):
        if a == b:
            entries.append(a)
        elif i < len(s1) and s1[i] == a and s2[i] == b:
            entries.append(0)
        else:
            entries.append((a, b))
            dyn.append(i)
    if dyn:
        entries[dyn[-1]] = -1      # the one inferred dim; the others from the inputs
    return entries


def _expand_entries(meta1, meta2):
    _, s1, t1 = meta1
    _, s2, t2 = meta2
    off = len(t1) - len(s1)
    out = []
    for i, (a, b) in enumerate(zip(t1, t2)):
        j = i - off
        if a == b:
            out.append(a)
        elif j >= 0 and s1[j] == a and s2[j] == b:
            out.append(1)
        else:
            out.append((a, b))
    return out


def _ends_entries(meta1, meta2, v1, v2):
    _, d1, e1 = meta1
    _, d2, e2 = meta2
    out = []
    for a, b, n1, n2 in zip(v1.tolist(), v2.tolist(), d1, d2):
        if a == b:
            out.append(a)
        elif a >= n1 and b >= n2:
            out.append(INT64_MAX)
        else:
            out.append((a, b))
    return out


def _fill(v1, v2):
    """The repeated value of two constants differing in shape only, else None."""
    if v1.dtype != v2.dtype or v1.ndim != v2.ndim or v1.size == 0 or v2.size == 0:
        return None
    f = v1.reshape(-1)[0]
    if np.all(v1 == f) and np.all(v2 == f):
        return f
    return None


def _rewrite(res, node, n2, nodes1):
    """Replacement nodes for Constant ``node`` whose value differs in ``n2``."""
    out = node[2][0]
    v1, v2 = node[3]["value"], n2[3]["value"]
    m1, m2 = node[4], n2[4]
    why = f"the input of {_consumer(nodes1, out)}"
    if m1 is not None and m2 is not None and m1[0] == m2[0]:
        kind = m1[0]
        if kind == "reshape":
            return res.shape_tensor(_reshape_entries(m1, m2), out, why)
        if kind == "expand":
            return res.shape_tensor(_expand_entries(m1, m2), out, why)
        if kind == "ends":
            return res.shape_tensor(_ends_entries(m1, m2, v1, v2), out, why)
        entries = [a if a == b else (a, b) for a, b in zip(m1[2], m2[2])]
        return res.shape_tensor(entries, out, why)
    f = _fill(v1, v2)
    if f is not None:
        entries = [a if a == b else (a, b) for a, b in zip(v1.shape, v2.shape)]
        shape = res.fresh("shape")
        nodes = res.shape_tensor(entries, shape, why)
        return nodes + [("ConstantOfShape", [shape], [out],
                         {"value": np.asarray([f], v1.dtype)}, None)]
    raise OnnxExporterError(
        f"fastnn.onnx.export: a constant feeding {_consumer(nodes1, out)} (shape "
        f"{v1.shape}) changed with the input: it was computed from the input outside the "
        "recorded ops (.item(), .numpy(), .tolist(), Python arithmetic on values, a "
        "comparison feeding indexing, ...) and would be frozen into the graph; compute it "
        "with fastnn ops on Tensors instead")


def resolve(low1, low2, outs1, outs2, in_names, in1, in2, dyn, opset):
    nodes1, nodes2 = low1.graph.nodes, low2.graph.nodes
    sources, symbols = {}, {}
    for name, a1, a2 in zip(in_names, in1, in2):
        for ax, sym in dyn.get(name, {}).items():
            key = (a1.shape[ax], a2.shape[ax])
            sources.setdefault(key, (name, ax))
            symbols.setdefault(key, sym)
    res = Resolved(low1, sources, symbols)
    names1 = [res.graph.name(v) for v in outs1]      # (may add constants: first)
    names2 = [low2.graph.name(v) for v in outs2]
    for k in range(max(len(nodes1), len(nodes2))):
        n1 = nodes1[k] if k < len(nodes1) else None
        n2 = nodes2[k] if k < len(nodes2) else None
        if n1 is None or n2 is None or n1[:3] != n2[:3] or set(n1[3]) != set(n2[3]):
            raise OnnxExporterError(
                "fastnn.onnx.export: the model runs different operations for a second input "
                f"(node {k}: {_describe(n1) if n1 else 'none'} vs "
                f"{_describe(n2) if n2 else 'none'}): its control flow depends on the "
                "input's values or sizes, which a recorded graph cannot express")
        a1, a2 = n1[3], n2[3]
        if n1[0] == "Constant" and not _same(a1["value"], a2["value"]):
            res.nodes += _rewrite(res, n1, n2, nodes1)
            continue
        if not all(_same(a1[key], a2[key]) for key in a1):
            raise OnnxExporterError(
                f"fastnn.onnx.export: the attributes of node {_describe(n1)} change with the "
                f"input ({a1} vs {a2}); it cannot be exported with these dynamic axes")
        res.nodes.append(n1)
    if names1 != names2:
        raise OnnxExporterError("fastnn.onnx.export: the model's outputs come from different "
                                "operations for a second input")
    res.outputs = names1
    res.finish = lambda out_names: _finish(res, out_names)
    return res


def _finish(res, out_names):
    """NodeProtos of the final graph, the outputs renamed to out_names."""
    from onnx import helper, numpy_helper
    nodes = res.prelude + res.nodes
    produced = {o for n in nodes for o in n[2]}
    rename, extra = {}, []
    for v, name in zip(res.outputs, out_names):
        if v in produced and v not in rename:
            rename[v] = name
        else:
            extra.append(("Identity", [v], [name], {}, None))
    out = []
    for op_type, ins, outs, attrs, _ in nodes + extra:
        ins = [rename.get(i, i) for i in ins]
        outs = [rename.get(o, o) for o in outs]
        kw = {}
        for key, val in attrs.items():
            if isinstance(val, np.ndarray):
                kw[key] = numpy_helper.from_array(np.array(val, order="C"), "")
            elif isinstance(val, (list, tuple)):
                kw[key] = [v.item() if isinstance(v, np.generic) else v for v in val]
            elif isinstance(val, np.generic):
                kw[key] = val.item()
            else:
                kw[key] = val
        out.append(helper.make_node(op_type, ins, outs, **kw))
    return out
