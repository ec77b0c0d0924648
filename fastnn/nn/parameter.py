"""``Parameter``: a Tensor that a Module registers as learnable."""
import numpy as np

from .._tensor import Tensor, _to_array


class Parameter(Tensor):
    """A leaf Tensor with ``requires_grad=True`` that Modules collect.

    Examples
    --------
    >>> import fastnn
    >>> p = fastnn.nn.Parameter(fastnn.zeros(3))
    >>> p.requires_grad
    True
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, np.float32)
        super().__init__(_to_array(data), requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
