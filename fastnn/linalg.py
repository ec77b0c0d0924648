"""``fastnn.linalg``: the norms of ``torch.linalg`` (``vector_norm``,
``matrix_norm``, ``norm``), with gradients.

The spectral norms (``ord=2``, ``-2``, ``'nuc'`` of a matrix) need a
singular value decomposition and are not provided.

Examples
--------
>>> import fastnn
>>> a = fastnn.tensor([[3.0, -4.0], [0.0, 1.0]])
>>> fastnn.linalg.vector_norm(a), fastnn.linalg.matrix_norm(a, ord=1)
(tensor(5.0990), tensor(5.))
"""
from .ops._common import tensor as _tensor
from .ops.misc import linalg_cross as cross
from .ops.reduction import vector_norm

__all__ = ["vector_norm", "matrix_norm", "norm", "cross"]

_INF = float("inf")


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm over the two ``dim`` dims: 'fro', or the induced 1,
    -1, inf, -inf norms (max/min absolute column or row sum)."""
    x = _tensor(A)
    if dtype is not None:
        x = x.type(dtype)
    if x.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions.")
    d0, d1 = (d % x.ndim for d in dim)
    if ord == "fro":
        return vector_norm(x, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs an SVD, which "
                                  "fastnn does not provide")
    if ord not in (1, -1, _INF, -_INF):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    red, other = (d0, d1) if ord in (1, -1) else (d1, d0)    # sum over rows for ord 1
    sums = x.abs().sum(dim=red, keepdim=True)
    out = sums.amax(dim=other, keepdim=True) if ord > 0 else sums.amin(dim=other, keepdim=True)
    return out if keepdim else out.squeeze((d0, d1))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.norm``: with ``ord=None`` the 2-norm of the flattened
    input (or over ``dim``); a string ``ord`` or a 2-tuple ``dim`` of a
    matrix gives ``matrix_norm``, an int ``dim`` ``vector_norm``."""
    x = _tensor(A)
    if ord is None:
        return vector_norm(x, 2, dim, keepdim, dtype=dtype)
    if isinstance(dim, int) or (dim is None and x.ndim == 1):
        return vector_norm(x, ord, dim, keepdim, dtype=dtype)
    if dim is None and x.ndim != 2:
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be "
                           "1D or 2D.")
    return matrix_norm(x, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
