"""Errors of ``fastnn.onnx`` (names as ``torch.onnx.errors``)."""

__all__ = ["OnnxExporterError", "UnsupportedOperatorError", "OnnxImportError"]


class OnnxExporterError(RuntimeError):
    """The model cannot be exported as recorded (a graph that depends on the
    input's values, a constant computed from the input, ...)."""


class UnsupportedOperatorError(OnnxExporterError):
    """An operation has no ONNX equivalent (export), or an ONNX operator has
    no fastnn implementation (import); the message lists every one."""


class OnnxImportError(ValueError):
    """An ONNX file that is not a model fastnn can read: corrupt or truncated,
    an unsupported opset, a tensor larger than the file, external data
    outside the model's directory, ..."""
