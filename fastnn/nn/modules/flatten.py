"""``Flatten`` and ``Unflatten`` modules."""
from ..._errors import ShapeError
from ..._core import is_grad_enabled as _grad_enabled
from ..._tensor import Tensor
from .. import functional as F
from .module import Module


class Flatten(Module):
    """Flattens dims start_dim..end_dim (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        if (type(input) is Tensor and not (_grad_enabled() and input.requires_grad)
                and self.start_dim == 1 and self.end_dim == -1):
            # nothing to record, the default dims: the reshape view directly
            # (as Tensor.flatten computes it)
            d = input._array
            if d.ndim >= 2:
                n = 1
                for s in d.shape[1:]:
                    n *= s
                return Tensor._wrap(d.reshape(d.shape[0], n))
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expands dimension ``dim`` into ``unflattened_size`` (one entry may be -1).

    Parameters
    ----------
    dim : int
    unflattened_size : tuple or list of int

    Shape
    -----
    (*, S, *) -> (*, U1, ..., Un, *) with U1 * ... * Un = S.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Unflatten(1, (2, 5, 5))(fastnn.zeros(2, 50)).shape
    fastnn.Size([2, 2, 5, 5])
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"Unflatten: invalid type {type(dim).__name__} for dim (expected "
                            "an int)")
        if not isinstance(unflattened_size, (tuple, list)) or not all(
                isinstance(s, int) and not isinstance(s, bool) for s in unflattened_size):
            raise TypeError("Unflatten: unflattened_size must be a tuple of ints, but found "
                            f"{unflattened_size!r}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        input = F._t(input)
        shape = tuple(input.shape)
        n = len(shape)
        if not -n <= self.dim < n:
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for an input of "
                             f"{n} dimensions")
        d = self.dim % n
        sizes = list(self.unflattened_size)
        if sizes.count(-1) > 1:
            raise ValueError("Unflatten: only one dimension can be inferred (-1)")
        known = 1
        for s in sizes:
            known *= s if s != -1 else 1
        if -1 in sizes:
            if known == 0 or shape[d] % known:
                raise ShapeError(f"Unflatten: sizes {tuple(sizes)} don't multiply up to the "
                                 f"size of dim {self.dim} ({shape[d]}) in the input tensor")
            sizes[sizes.index(-1)] = shape[d] // known
        elif known != shape[d]:
            raise ShapeError(f"Unflatten: unflattened_size {tuple(sizes)} don't multiply up to "
                             f"the size of dim {self.dim} ({shape[d]}) in the input tensor")
        return input.reshape(*(shape[:d] + tuple(sizes) + shape[d + 1:]))

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
