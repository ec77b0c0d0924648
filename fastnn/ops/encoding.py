"""``one_hot``: class indices to one-hot int64 rows (no gradient)."""
import numpy as np

from .._errors import DTypeError, ShapeError, ValueRangeError
from ..autograd.function import _tensor_cls

__all__ = ["one_hot"]


def one_hot(tensor, num_classes=-1):
    """One-hot encoding of int64 class indices: ``out[..., k] = (tensor == k)``.

    Parameters
    ----------
    tensor : Tensor or ndarray of integers
        Class indices, non-negative.
    num_classes : int
        The number of classes; -1 infers ``max(tensor) + 1``.

    Shape
    -----
    (*) -> (*, num_classes), int64.

    Examples
    --------
    >>> import numpy as np, fastnn, fastnn.nn.functional as F
    >>> F.one_hot(fastnn.tensor(np.array([0, 2]))).numpy()
    array([[1, 0, 0],
           [0, 0, 1]])
    """
    T = _tensor_cls()
    a = tensor._array if isinstance(tensor, T) else np.asarray(tensor)
    if a.dtype.kind not in "iu":
        raise DTypeError("one_hot is only applicable to index tensor of type LongTensor, got "
                         f"dtype {a.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot: num_classes must be an int, got {type(num_classes).__name__}")
    if a.size and a.min() < 0:
        raise ValueRangeError("one_hot: Class values must be non-negative.")
    if num_classes == -1:
        if a.size == 0:
            raise ShapeError("one_hot: Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    elif num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be -1 or >= 0, got {num_classes}")
    elif a.size and a.max() >= num_classes:
        raise ValueRangeError("one_hot: Class values must be smaller than num_classes.")
    out = np.zeros(a.shape + (int(num_classes),), dtype=np.int64)
    np.put_along_axis(out, a.astype(np.int64)[..., None], 1, axis=-1)
    return T._wrap(out)
