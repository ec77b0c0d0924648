"""``fastnn.linalg``: ``torch.linalg`` with gradients.

Inverses, determinants and solves (``inv``, ``inv_ex``, ``det``,
``slogdet``, ``solve``, ``solve_ex``, ``solve_triangular``, ``lstsq``),
factorisations (``cholesky``, ``cholesky_ex``, ``qr``, ``eigh``,
``eigvalsh``, ``svd``, ``svdvals``, and ``eig``/``eigvals`` for real
spectra), the functions built on them (``pinv``, ``matrix_rank``, ``cond``,
``matrix_exp``, ``matrix_power``, ``multi_dot``, ``householder_product``,
``tensorinv``, ``tensorsolve``), the norms, ``vecdot``, ``vander``,
``cross``, ``diagonal`` and ``matmul``.  The factorisations are NumPy's
LAPACK, batched over leading dims, in float32 and float64; a singular or
non-positive-definite input raises ``LinAlgError`` (a RuntimeError) with
PyTorch's message.  Multi-output functions return PyTorch's named tuples
(``slogdet(A).logabsdet``, ``svd(A).Vh``, ``eigh(A).eigenvectors``).
LU and LDL factorisations are not provided.

Examples
--------
>>> import fastnn
>>> a = fastnn.tensor([[3.0, -4.0], [0.0, 1.0]])
>>> fastnn.linalg.vector_norm(a), fastnn.linalg.matrix_norm(a, ord=1)
(tensor(5.0990), tensor(5.))
>>> fastnn.linalg.det(a), fastnn.linalg.inv(a)
(tensor(3.), tensor([[0.3333, 1.3333],
        [0.0000, 1.0000]]))
"""
from ._errors import LinAlgError
from ._tensor import matmul
from .ops._common import tensor as _tensor
from .ops.linalg_decomp import (eig, eigh, eigvals, eigvalsh, lstsq, matrix_rank, pinv, qr, svd,
                                svdvals)
from .ops.linalg_expm import matrix_exp
from .ops.linalg_lu import lu, lu_factor, lu_factor_ex, lu_solve
from .ops.linalg_func import (cond, householder_product, matrix_power, multi_dot,
                              spectral_norm as _spectral_norm, tensorinv, tensorsolve, vander,
                              vecdot)
from .ops.linalg_solve import (cholesky, cholesky_ex, det, inv, inv_ex, slogdet, solve,
                               solve_ex, solve_triangular)
from .ops.misc import linalg_cross as cross
from .ops.reduction import vector_norm
from .ops.shape import diagonal as _diagonal

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig",
           "eigh", "eigvals", "eigvalsh", "householder_product", "inv", "inv_ex", "lstsq", "lu", "lu_factor",
           "lu_factor_ex", "lu_solve",
           "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot",
           "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd",
           "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm"]

_INF = float("inf")


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm over the two ``dim`` dims: 'fro', 'nuc' (sum of the
    singular values), the induced 1, -1, inf, -inf norms (max/min absolute
    column or row sum) and 2, -2 (largest/smallest singular value)."""
    x = _tensor(A)
    if dtype is not None:
        x = x.type(dtype)
    if x.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    d0, d1 = (d % x.ndim for d in dim)
    if ord == "fro":
        return vector_norm(x, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        return _spectral_norm(x, ord, d0, d1, keepdim)
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


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of the matrices of ``A`` (a view): ``fastnn.diagonal``
    with the last two dims as default."""
    return _diagonal(A, offset, dim1, dim2)
