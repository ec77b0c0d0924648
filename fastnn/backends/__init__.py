"""``fastnn.backends``: the flags PyTorch programs set (``cudnn.benchmark``,
``cudnn.deterministic``, ``cuda.matmul.allow_tf32``, ...) are accepted and
change nothing; ``mps``, ``cuda`` and ``mkldnn`` report no device or library;
``openmp`` and ``cpu`` describe the compiled core; ``mha`` switches the
transformer encoder's inference fast path."""
from . import cpu, cuda, cudnn, mha, mkldnn, mps, openmp  # noqa: F401

__all__ = ["cpu", "cuda", "cudnn", "mha", "mkldnn", "mps", "openmp"]
