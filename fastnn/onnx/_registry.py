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


def _registrar(table, what):
    def register(*keys):
        def deco(fn):
            for k in keys:
                table[k] = fn
            return fn
        return deco
    register.__doc__ = f"Decorator: registers the function in {what} under each key given."
    return register


exports = _registrar(EXPORTERS, "EXPORTERS (Function qualified names)")
imports = _registrar(IMPORTERS, "IMPORTERS (ONNX operator types)")
