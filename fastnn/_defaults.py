"""The default floating dtype: ``torch.set_default_dtype`` / ``get_default_dtype``.

One module-level place holds it, as NumPy dtypes (the internals work on
those): ``FLOAT`` is what a factory without ``dtype=`` makes (``zeros``,
``rand``, ``tensor(1.5)``, ``arange(0.5)``, a layer's parameters, ...) and
what an integer tensor becomes in a float op or with a Python float
(``int_tensor * 1.5``, ``int_tensor.sqrt()``).  Readers look it up at call
time as ``_defaults.FLOAT`` (one attribute load: float32 code pays nothing
for the setting).  ``SCALAR`` (the dtype a Python number of each category
gives: bool, int64, the default float) and ``PY`` (Python type -> dtype, for
``tensor(...)``'s inference) are the two derived tables other modules share
by identity; ``set_float`` rewrites all three together.

fastnn's tensors hold float32 and float64 only, so those are the two
defaults it takes; float16 / bfloat16 (which PyTorch allows) raise a
TypeError saying so, and non-floating dtypes raise PyTorch's TypeError.
This module imports nothing from fastnn (everything may import it).
"""
import numpy as np

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)

FLOAT = F32
SCALAR = [np.dtype(np.bool_), np.dtype(np.int64), FLOAT]   # by category: bool, int, float
PY = {float: FLOAT, int: np.dtype(np.int64), bool: np.dtype(np.bool_)}


def set_float(dt):
    """Makes ``dt`` (float32 or float64, a NumPy dtype) the default."""
    global FLOAT
    if dt != F32 and dt != F64:
        raise TypeError(f"fastnn: the default dtype must be float32 or float64, got {dt}")
    FLOAT = F64 if dt == F64 else F32
    SCALAR[2] = FLOAT
    PY[float] = FLOAT
