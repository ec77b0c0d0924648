"""The op tables: ``EXPORTERS`` maps a Function class (by its module and
qualified name, so an entry may name an op that a future version adds)
to the function that emits its ONNX nodes; ``IMPORTERS`` maps an ONNX
operator type to the function that runs it with fastnn ops.

Adding an op is one entry: ``@exports("fastnn.ops.<module>.<FnClass>")``
on ``def f(g, op) -> output name(s)`` (see ``_lower.Op`` and
``_graph.Graph``), and ``@imports("OnnxOp")`` on ``def f(m, node, *inputs)
-> Tensor(s)`` (see ``_import``).
"""

EXPORTERS = {}
IMPORTERS = {}


def exports(*qualnames):
    def deco(fn):
        for q in qualnames:
            EXPORTERS[q] = fn
        return fn
    return deco


def imports(*op_types):
    def deco(fn):
        for t in op_types:
            IMPORTERS[t] = fn
        return fn
    return deco
