"""The LU factorisation with partial pivoting, as PyTorch's: ``linalg.lu``
(P, L, U), ``linalg.lu_factor`` / ``lu_factor_ex`` (the packed LU and
LAPACK's 1-based int32 pivots), ``lu_unpack``, ``linalg.lu_solve`` and the
legacy ``Tensor.lu`` / ``torch.lu_solve``.

The factorisation is LAPACK getrf's right-looking elimination, vectorised
over the batch in NumPy: in column j the row with the largest |entry| at or
below the diagonal (the first such row on a tie) becomes the pivot, rows
are swapped, the multipliers are stored below the diagonal and the trailing
block updated; a zero pivot column is left as it is (``info`` records its
1-based index).  ``A = P L U`` with L unit lower triangular (m, k), U upper
(k, n), k = min(m, n).

Gradients (square A; real case): with ``X = L^-1 P^T dA U^-1``,
``dL = L tril_-1(X)`` and ``dU = triu(X) U``, hence
``gA = P L^-T (tril_-1(L^T gL) + triu(gU U^T)) U^-T``.  ``lu_factor``,
``lu_unpack`` and ``lu_solve`` are compositions (triangle masks and
triangular solves), so autograd follows them.
"""
from collections import namedtuple

import numpy as np

from .._errors import ShapeError
from ..autograd.function import Function
from ._common import tensor as _t
from ._linalg_util import check_matrix, check_same_dtype, mT
from .linalg_solve import solve_triangular, trisolve

__all__ = ["lu", "lu_factor", "lu_factor_ex", "lu_unpack", "lu_solve", "torch_lu",
           "torch_lu_solve"]

linalg_lu = namedtuple("linalg_lu", ["P", "L", "U"])
linalg_lu_factor = namedtuple("linalg_lu_factor", ["LU", "pivots"])
linalg_lu_factor_ex = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
lu_unpack_result = namedtuple("lu_unpack", ["P", "L", "U"])


def _getrf(a):
    """(packed LU, 1-based int32 pivots, int32 info) of a (..., m, n) batch."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = int(np.prod(a.shape[:-2], dtype=np.int64))
    lu = np.array(a, dtype=a.dtype, order="C").reshape((batch, m, n))   # (empty ones too)
    b = np.arange(lu.shape[0])
    piv = np.zeros((lu.shape[0], k), np.int32)
    info = np.zeros(lu.shape[0], np.int32)
    with np.errstate(all="ignore"):
        for j in range(k):
            p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
            piv[:, j] = p + 1
            swap = p != j
            if swap.any():
                rows_j = lu[b[swap], j, :].copy()
                lu[b[swap], j, :] = lu[b[swap], p[swap], :]
                lu[b[swap], p[swap], :] = rows_j
            d = lu[:, j, j]
            zero = d == 0
            info[(info == 0) & zero] = j + 1
            scale = np.where(zero, 1, d)
            lu[:, j + 1:, j] = np.where(zero[:, None], lu[:, j + 1:, j],
                                        lu[:, j + 1:, j] / scale[:, None])
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    lead = a.shape[:-2]
    return lu.reshape(a.shape), piv.reshape(lead + (k,)), info.reshape(lead)


def _perm(piv, m):
    """Row order of P^T A (perm[i] = the row of A in row i) from pivots."""
    batch = int(np.prod(piv.shape[:-1], dtype=np.int64))
    flat = piv.reshape((batch, piv.shape[-1])).astype(np.int64) - 1
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    b = np.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        p = flat[:, j]
        pj = perm[b, j].copy()
        perm[b, j] = perm[b, p]
        perm[b, p] = pj
    return perm.reshape(piv.shape[:-1] + (m,))


def _perm_matrix(perm, dtype):
    """P with A = P (P^T A): P[perm[i], i] = 1."""
    m = perm.shape[-1]
    P = np.zeros(perm.shape + (m,), dtype)
    np.put_along_axis(P, perm[..., :, None], 1, axis=-1)   # row i of P^T has a 1 at perm[i]
    return mT(P).copy()


def _split(lu):
    m, n = lu.shape[-2:]
    k = min(m, n)
    L = np.tril(lu[..., :, :k], -1)
    d = np.arange(k)
    L[..., d, d] = 1
    U = np.triu(lu[..., :k, :])
    return L, U


class LuFn(Function):
    """(P, L, U) of A; P carries no gradient (see the module docstring)."""
    raw = True

    @staticmethod
    def forward(ctx, a, factored=None):
        lu, piv, _ = _getrf(a) if factored is None else factored
        L, U = _split(lu)
        P = _perm_matrix(_perm(piv, a.shape[-2]), a.dtype)
        ctx.save_for_backward(P, L, U)
        ctx.mark_non_differentiable(P)
        return P, L, U

    @staticmethod
    def backward(ctx, gP, gL, gU):
        P, L, U = ctx.saved_tensors
        if L.shape[-2] != U.shape[-1]:
            raise NotImplementedError("linalg.lu: the gradient is implemented for square "
                                      "matrices only")
        gL = np.zeros_like(L) if gL is None else gL
        gU = np.zeros_like(U) if gU is None else gU
        M = np.tril(mT(L) @ gL, -1) + np.triu(gU @ mT(U))
        Y = trisolve(mT(L), M, True, True)                 # L^-T M
        Z = mT(trisolve(U, mT(Y), True, False))            # (L^-T M) U^-T
        return P @ Z, None


def _check(op, A):
    a = _t(A)
    check_matrix(op, a._array)
    return a


def lu(A, *, pivot=True, out=None):
    """The LU factorisation with partial pivoting: (P, L, U) with A = P L U,
    L unit lower triangular (m, k), U upper triangular (k, n)."""
    a = _check("linalg.lu", A)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    res = linalg_lu(*LuFn.apply(a))
    if out is not None:
        for o, r in zip(out, res):
            o.copy_(r)
        return linalg_lu(*out)
    return res


def _factor(op, A, pivot):
    a = _check(op, A)
    if not pivot:
        raise RuntimeError(f"{op}: LU without pivoting is not implemented on the CPU")
    factored = _getrf(a._array)
    _, L, U = LuFn.apply(a, factored)
    m, n = a._array.shape[-2:]
    k = min(m, n)
    dt = a._array.dtype
    # the packed form: L - I below the diagonal plus U, each padded with
    # zeros to (m, n); differentiable through L and U
    lower = L - _t(_unit(L._array.shape, dt))
    if n > k:
        lower = _cat([lower, _t(np.zeros(L._array.shape[:-1] + (n - k,), dt))], -1)
    if m > k:
        U = _cat([U, _t(np.zeros(U._array.shape[:-2] + (m - k, n), dt))], -2)
    return lower + U, _t(factored[1]), _t(factored[2])


def _cat(tensors, dim):
    from .._tensor import cat
    return cat(tensors, dim)


def _unit(shape, dtype):
    """Ones on the main diagonal of each (r, c) matrix."""
    e = np.zeros(shape, dtype)
    d = np.arange(min(shape[-2:]))
    e[..., d, d] = 1
    return e


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """(LU, pivots, info): the packed factorisation (L below the diagonal,
    U on and above it), LAPACK's 1-based int32 pivots and its info (> 0:
    U[info-1, info-1] is zero)."""
    LU, piv, info = _factor("linalg.lu_factor_ex", A, pivot)
    if check_errors and bool((info._array > 0).any()):
        raise RuntimeError("linalg.lu_factor_ex: U is singular (a zero pivot at "
                           f"{int(info._array.reshape(-1)[np.argmax(info._array.reshape(-1) > 0)])})")
    return linalg_lu_factor_ex(LU, piv, info)


def lu_factor(A, *, pivot=True, out=None):
    """(LU, pivots) of ``lu_factor_ex``; a RuntimeError when U has a zero
    on its diagonal (lu_solve would divide by it), as PyTorch's."""
    LU, piv, info = _factor("linalg.lu_factor", A, pivot)
    bad = info._array.reshape(-1)
    if (bad > 0).any():
        i = int(np.argmax(bad > 0))
        z = int(bad[i])
        where = f"(Batch element {i}): " if info._array.ndim else ""
        raise RuntimeError(f"torch.linalg.lu_factor: {where}U[{z},{z}] is zero and using it on "
                           "lu_solve would result in a division by zero. If you still want to "
                           "perform the factorization, consider calling linalg.lu(A, pivot) or "
                           "linalg.lu_factor_ex(A, pivot)")
    return linalg_lu_factor(LU, piv)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) from the packed LU and pivots of ``lu_factor``."""
    LU, piv = _t(LU_data), _t(LU_pivots)
    check_matrix("lu_unpack", LU._array, "LU_data")
    m, n = LU._array.shape[-2:]
    k = min(m, n)
    if piv._array.dtype.kind not in "iu":
        raise TypeError(f"lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                        f"torch.int32 dtype, but got {piv._array.dtype}")
    if piv._array.shape[-1:] != (k,) or piv._array.shape[:-1] != LU._array.shape[:-2]:
        raise ShapeError(f"lu_unpack: the pivots' shape {tuple(piv._array.shape)} does not "
                         f"match the packed LU's {tuple(LU._array.shape)}")
    if ((piv._array < 1) | (piv._array > m)).any():
        raise ValueError(f"lu_unpack: the pivots must lie in [1, {m}]")
    empty = _t(np.zeros(0, LU._array.dtype))
    if unpack_data:
        from .shape import tril, triu
        L = tril(LU[..., :, :k], -1) + _t(_unit(LU._array.shape[:-2] + (m, k), LU._array.dtype))
        U = triu(LU[..., :k, :])
    else:
        L = U = empty
    P = _t(_perm_matrix(_perm(piv._array, m), LU._array.dtype)) if unpack_pivots else empty
    return lu_unpack_result(P, L, U)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """The solution X of A X = B (``left=False``: X A = B; ``adjoint``: with
    A^T) from A's ``lu_factor``."""
    op = "linalg.lu_solve"
    lu_t, b = _t(LU), _t(B)
    check_matrix(op, lu_t._array, "LU")
    check_matrix(op, b._array, "B")
    check_same_dtype(op, lu_t._array, b._array, ("LU", "B"))
    n = lu_t._array.shape[-1]
    if lu_t._array.shape[-2] != n:
        raise ShapeError(f"{op}: Expected LU to be square, but got {tuple(lu_t._array.shape)}")
    if (b._array.shape[-2] if left else b._array.shape[-1]) != n:
        raise ShapeError(f"{op}: Incompatible shapes of A and B for the equation "
                         f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                         f"{b._array.shape[-2]}x{b._array.shape[-1]})")
    P, _, _ = lu_unpack(lu_t.detach(), pivots, unpack_data=False)
    if not left:        # X A = B  <=>  A^T X^T = B^T
        return lu_solve(LU, pivots, b.mT, left=True, adjoint=not adjoint).mT
    if not adjoint:     # A = P L U:  X = U^-1 L^-1 P^T B
        y = solve_triangular(lu_t, P.mT @ b, upper=False, unitriangular=True)
        return solve_triangular(lu_t, y, upper=True)
    # A^T = U^T L^T P^T:  X = P L^-T U^-T B
    y = solve_triangular(lu_t.mT, b, upper=False)
    return P @ solve_triangular(lu_t.mT, y, upper=True, unitriangular=True)


def torch_lu(A, pivot=True, get_infos=False, out=None):
    """The legacy ``torch.lu`` / ``Tensor.lu``: (LU, pivots[, infos])."""
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    return (LU, piv, info) if get_infos else (LU, piv)


def torch_lu_solve(b, LU_data, LU_pivots, *, out=None):
    """The legacy ``torch.lu_solve(b, LU_data, LU_pivots)``."""
    return lu_solve(LU_data, LU_pivots, b)
