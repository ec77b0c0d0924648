"""What the dense linear-algebra ops share: argument checks with PyTorch's
messages, NumPy LAPACK calls that raise ``LinAlgError`` the way PyTorch does
(naming the batch element and LAPACK's ``info``), and small batched matrix
helpers.

NumPy's ``linalg`` reports only *that* a stacked call failed; the failing
batch element and the value PyTorch reports (the zero pivot of the LU
factorisation, the order of the leading minor that is not positive definite)
are found afterwards, on the failure path only:

* LU with partial pivoting stops at the first column that depends linearly
  on the columns before it, so the zero pivot is the smallest k with
  ``rank(A[:, :k]) < k``;
* Cholesky fails on the smallest leading block that is not positive
  definite, and a leading block of a positive-definite block is positive
  definite, so a bisection over ``cholesky(A[:k, :k])`` finds k.
"""
from collections import namedtuple

import numpy as np

from .._errors import DTypeError, LinAlgError, ShapeError
from ._util import FLOAT_KINDS

_TORCH_DTYPE = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                "float16": "Half", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def torch_dtype(dt):
    """PyTorch's name of a dtype in messages (Float, Double, Long, ...)."""
    return _TORCH_DTYPE.get(str(dt), str(dt))


def check_float(op, a, name="A"):
    """DTypeError (a TypeError and, as PyTorch's, a RuntimeError) unless
    ``a`` is float32/float64 (PyTorch's wording)."""
    if a.dtype not in FLOAT_KINDS:
        raise DTypeError(f"{op}: Expected a floating point tensor as input. Got "
                        f"{torch_dtype(a.dtype)}")


def check_matrix(op, a, name="A"):
    """ShapeError unless ``a`` has at least 2 dims (float checked too)."""
    check_float(op, a, name)
    if a.ndim < 2:
        raise ShapeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")


def check_square(op, a, name="A"):
    """ShapeError unless ``a`` is a batch of square matrices."""
    check_matrix(op, a, name)
    if a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{op}: {name} must be batches of square matrices, but they are "
                         f"{a.shape[-2]} by {a.shape[-1]} matrices")


def check_same_dtype(op, a, b, names=("A", "B")):
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: Expected {names[0]} and {names[1]} to have the same dtype, but "
                        f"found {names[0]} of type {torch_dtype(a.dtype)} and {names[1]} of type "
                        f"{torch_dtype(b.dtype)} instead")


def batch_broadcast(op, a, b, a_core=2, b_core=2):
    """``a`` and ``b`` with their batch dims (all but the last ``*_core``)
    broadcast to one shape (views)."""
    ba, bb = a.shape[:a.ndim - a_core], b.shape[:b.ndim - b_core]
    try:
        batch = np.broadcast_shapes(ba, bb)
    except ValueError:
        raise ShapeError(f"{op}: the batch dimensions of A {tuple(ba)} and B {tuple(bb)} "
                         "cannot be broadcast together") from None
    return (np.broadcast_to(a, batch + a.shape[a.ndim - a_core:]),
            np.broadcast_to(b, batch + b.shape[b.ndim - b_core:]))


# --------------------------------------------------------------- helpers
def mT(a):
    """The transpose of the last two dims (a view)."""
    return np.swapaxes(a, -1, -2)


def sym_part(a):
    return 0.5 * (a + mT(a))


def eye_like(a):
    n = a.shape[-1]
    return np.broadcast_to(np.eye(n, dtype=a.dtype), a.shape)


# ------------------------------------------------------ LAPACK failures
def _batch_prefix(a, i):
    return f"(Batch element {i}): " if a.ndim > 2 else ""


def lu_zero_pivot(m):
    """LAPACK getrf's ``info`` for a singular square matrix: the 1-based
    index of the first zero pivot (see the module docstring)."""
    n = m.shape[-1]
    lo, hi = 1, n                     # the answer lies in [lo, hi]
    while lo < hi:
        k = (lo + hi) // 2
        if np.linalg.matrix_rank(m[:, :k]) < k:
            hi = k
        else:
            lo = k + 1
    return lo


def chol_failed_order(m):
    """LAPACK potrf's ``info``: the order of the first leading minor of the
    (lower triangle of the) matrix that is not positive definite."""
    n = m.shape[-1]
    lo, hi = 1, n
    while lo < hi:
        k = (lo + hi) // 2
        try:
            np.linalg.cholesky(m[:k, :k])
            lo = k + 1
        except np.linalg.LinAlgError:
            hi = k
    return lo


def guarded(fn, info_fn, like, *arrays):
    """``fn(*arrays)`` on stacks of matrices with one batch shape, and the
    int32 ``info`` per matrix.  When LAPACK fails somewhere, the call is
    repeated matrix by matrix: a failing matrix gets NaN results and
    ``info_fn(its first argument)``.  ``like``: the index of the argument
    whose shape the result has."""
    batch = arrays[0].shape[:-2]
    try:
        with np.errstate(all="ignore"):
            return fn(*arrays), np.zeros(batch, np.int32)
    except np.linalg.LinAlgError:
        pass
    nb = int(np.prod(batch))
    flats = [a.reshape((nb,) + a.shape[len(batch):]) for a in arrays]
    out = np.full(flats[like].shape, np.nan, arrays[like].dtype)
    info = np.zeros(out.shape[0], np.int32)
    for i in range(out.shape[0]):
        ms = [f[i] for f in flats]
        try:
            with np.errstate(all="ignore"):
                out[i] = fn(*ms)
        except np.linalg.LinAlgError:
            info[i] = info_fn(ms[0])
    return out.reshape(arrays[like].shape), info.reshape(batch)


def first_nonzero(info):
    """(flat index, value) of the first nonzero ``info``, or None."""
    flat = np.ravel(info)
    nz = np.flatnonzero(flat)
    return (int(nz[0]), int(flat[nz[0]])) if nz.size else None


def singular_error(op, a, info, kind="inv"):
    """The LinAlgError PyTorch raises for the first failing matrix."""
    i, k = first_nonzero(info)
    pre = f"{op}: {_batch_prefix(a, i)}"
    if kind == "solve":
        return LinAlgError(pre + "The solver failed because the input matrix is singular.")
    if kind == "chol":
        return LinAlgError(pre + "The factorization could not be completed because the input "
                           f"is not positive-definite (the leading minor of order {k} is not "
                           "positive-definite).")
    return LinAlgError(pre + f"The diagonal element {k} is zero, the inversion could not be "
                       "completed because the input matrix is singular.")


def nonfinite_error(op):
    return LinAlgError(f"{op}: The algorithm failed to converge because the input matrix "
                       "contained non-finite values.")


def call(op, fn, a, *args, **kwargs):
    """``fn(a, *args)`` (a NumPy linalg routine that needs no pivots, such as
    an SVD or an eigensolver); a convergence failure becomes LinAlgError."""
    try:
        with np.errstate(all="ignore"):
            return fn(a, *args, **kwargs)
    except np.linalg.LinAlgError:
        if not np.all(np.isfinite(a)):
            raise nonfinite_error(op) from None
        raise LinAlgError(f"{op}: The algorithm failed to converge because the input matrix "
                          "is ill-conditioned or has too many repeated eigenvalues or singular "
                          "values.") from None


# ---------------------------------------------------------- return types
# PyTorch returns named tuples (``torch.return_types.<name>``).
linalg_slogdet = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
linalg_inv_ex = namedtuple("linalg_inv_ex", ["inverse", "info"])
linalg_cholesky_ex = namedtuple("linalg_cholesky_ex", ["L", "info"])
linalg_solve_ex = namedtuple("linalg_solve_ex", ["result", "info"])
linalg_qr = namedtuple("linalg_qr", ["Q", "R"])
qr_result = namedtuple("qr", ["Q", "R"])
linalg_eigh = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
linalg_eig = namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])
linalg_svd = namedtuple("linalg_svd", ["U", "S", "Vh"])
svd_result = namedtuple("svd", ["U", "S", "V"])
linalg_lstsq = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
geqrf_result = namedtuple("geqrf", ["a", "tau"])
triangular_solve_result = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
