"""What the everyday-op families share: PyTorch's dtype promotion, turning
arguments into Tensors, and dim lists.

PyTorch promotes by *category* (bool < integer < floating) and by *kind of
operand*: a dimensioned tensor outranks a zero-dimensional tensor, which
outranks a Python number.  A lower-ranked operand changes the result's dtype
only when its category is higher, and then a Python number gives the default
dtype of its category (int64, the default float dtype: float32 unless
``set_default_dtype`` changed it).  NumPy's rules differ (int64 array +
1.5 is float64 there, float32 in PyTorch), so ops that mix dtypes ask
``result_type`` here rather than NumPy.
"""
import numbers

import numpy as np

from .._core import TensorBase
from .._core import wrap as _wrap
from ._util import normalize_dim
from .. import _defaults

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
I64 = np.dtype(np.int64)
BOOL = np.dtype(np.bool_)
_nd = np.ndarray
_CAT = {"b": 0, "u": 1, "i": 1, "f": 2}
_DEFAULT = _defaults.SCALAR      # [bool, int64, the default float] (shared, kept current)


def _category(dt):
    return _CAT[dt.kind]


def promote_types(a, b):
    """PyTorch's promotion of two dtypes: the higher category wins outright;
    within one category the wider type (int8 + uint8 -> int16)."""
    if a is b or a == b:
        return a
    ca, cb = _CAT[a.kind], _CAT[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def scalar_category(v):
    if isinstance(v, (bool, np.bool_)):
        return 0
    if isinstance(v, numbers.Integral):
        return 1
    if isinstance(v, numbers.Real):
        return 2
    raise TypeError(f"expected a Tensor or a real number, got {type(v).__name__}")


def result_type(*operands):
    """The dtype PyTorch gives an op on ``operands`` (ndarrays, Tensors,
    Python numbers; None is skipped).

    >>> import numpy as np
    >>> result_type(np.arange(3), 1.5), result_type(np.ones(2, np.float32), np.float64(2))
    (dtype('float32'), dtype('float32'))
    """
    dims = zero = None
    scat = -1
    for o in operands:
        if o is None:
            continue
        if isinstance(o, TensorBase):
            o = o._array
        if isinstance(o, _nd):
            if o.ndim:
                dims = o.dtype if dims is None else promote_types(dims, o.dtype)
            else:
                zero = o.dtype if zero is None else promote_types(zero, o.dtype)
        else:
            c = scalar_category(o)
            if c > scat:
                scat = c
    res = dims
    if zero is not None and (res is None or _CAT[zero.kind] > _CAT[res.kind]):
        res = zero
    if scat >= 0 and (res is None or scat > _CAT[res.kind]):
        res = _DEFAULT[scat]
    return res


def float_dtype(*operands):
    """``result_type``, raised to the default float dtype when it is not
    floating (the dtype of exp, sqrt, mean, division, ... on integer input)."""
    dt = result_type(*operands)
    return dt if dt.kind == "f" else _defaults.FLOAT


def to_float(x):
    """ndarray x as float (the default dtype from integer/bool input, as PyTorch)."""
    return x if x.dtype.kind == "f" else x.astype(_defaults.FLOAT)


def tensor(x):
    """A Tensor from a Tensor (itself), an ndarray (no copy) or array-like
    data (lists, numbers), with fastnn's dtype rules."""
    if isinstance(x, TensorBase):
        return x
    if isinstance(x, _nd):
        return _wrap(x)
    from .._tensor import _wrap_data
    return _wrap_data(x)


def operand(x):
    """A Tensor argument as a Tensor; Python numbers stay numbers."""
    if isinstance(x, (TensorBase, numbers.Number)) and not isinstance(x, np.generic):
        return x
    if isinstance(x, np.generic):
        return x.item()
    return tensor(x)


def dims_arg(op, dim, ndim):
    """A ``dim`` argument (None, an int, or a tuple/list of ints) as None or
    a sorted tuple of distinct non-negative dims (None: every dim)."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        out = tuple(sorted(normalize_dim(op, d, ndim) for d in dim))
        if len(set(out)) != len(out):
            raise RuntimeError(f"{op}: dim {dim} appears multiple times in the list of dims")
    else:
        out = (normalize_dim(op, dim, ndim),)
    return out if ndim else None          # a 0-d tensor: dim 0 / -1 is the whole tensor


def check_index(op, index, name="index"):
    """Raises unless ``index`` (an ndarray) holds integers."""
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for {name}, got "
                           f"{'fastnn.' + str(index.dtype)}")
