"""ONNX export and import (``pip install "fastnn[onnx]"``).

``export(model, args, f, ...)`` writes a fastnn model as an ONNX graph that
ONNX Runtime and other runtimes run; ``load(path)`` / ``import_model``
reads an ONNX model (opsets 13 to 21, the same operator set) back as a
fastnn ``nn.Module`` whose initializers are Parameters, so it trains.
"""
from ._export import export
from .errors import OnnxExporterError, OnnxImportError, UnsupportedOperatorError

__all__ = ["export", "load", "import_model", "OnnxExporterError", "OnnxImportError",
           "UnsupportedOperatorError"]


def load(path, **kwargs):
    """The ONNX model at ``path`` as a fastnn ``nn.Module`` (see ``import_model``)."""
    from ._import import import_model as _imp
    return _imp(path, **kwargs)


def import_model(model, **kwargs):
    """An ONNX model (a path, bytes, a file object or an ``onnx.ModelProto``)
    as a fastnn ``nn.Module``."""
    from ._import import import_model as _imp
    return _imp(model, **kwargs)
