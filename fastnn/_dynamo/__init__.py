"""``torch._dynamo`` names that programs touch: the ``OptimizedModule``
wrapper ``fastnn.compile`` returns for a module (fastnn has no compiler; the
wrapper runs the module as it is)."""
import types

from . import eval_frame
from .eval_frame import OptimizedModule

__all__ = ["OptimizedModule", "eval_frame", "reset", "config"]

# ``torch._dynamo.config``: notebooks set ``suppress_errors = True`` or raise
# ``cache_size_limit``; the settings are kept and change nothing.
config = types.SimpleNamespace(suppress_errors=False, cache_size_limit=8,
                               verbose=False, capture_scalar_outputs=False,
                               optimize_ddp=True)


def reset():
    """``torch._dynamo.reset()``: nothing is cached, so nothing to clear."""
