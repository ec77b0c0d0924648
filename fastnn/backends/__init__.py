"""``fastnn.backends``: the flags PyTorch programs set (``cudnn.benchmark``,
``cudnn.deterministic``, ...) are accepted and change nothing; ``mps`` and
``cuda`` report no device."""
from . import cudnn, mps  # noqa: F401

__all__ = ["cudnn", "mps"]
