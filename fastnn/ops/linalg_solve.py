"""Inverses, determinants, linear solves and the Cholesky factorisation, with
gradients: ``linalg.inv``/``inv_ex``, ``det``, ``slogdet``, ``logdet``,
``linalg.solve``/``solve_ex``, ``linalg.solve_triangular``,
``linalg.cholesky``/``cholesky_ex``, ``cholesky_solve``, ``cholesky_inverse``.

The factorisations run in NumPy's LAPACK (``numpy.linalg``), batched over
the leading dims; the backward formulas are PyTorch's (real case), written
with batched NumPy products:

* inv: ``gA = -Y^T gY Y^T`` for ``Y = A^-1``;
* det: ``gA = g det(A) A^-T``, and for a singular matrix the cofactor form
  ``g det(U) det(V^T) U diag(prod_{j != i} s_j) V^T`` of its SVD;
* slogdet / logdet: ``gA = g A^-T``;
* solve ``X = A^-1 B``: ``gB = A^-T gX``, ``gA = -gB X^T``;
* solve_triangular: the same, projected onto the triangle used;
* cholesky ``A = L L^T``: ``gA = sym(L^-T Phi(L^T gL) L^-1)`` with Phi the
  lower triangle and half the diagonal (Murray, arXiv:1602.07527).
"""
import numpy as np

from .._errors import ShapeError
from ..autograd.function import Function
from ._common import tensor as _t
from ._linalg_util import (batch_broadcast, check_matrix, check_same_dtype, check_square,
                           chol_failed_order, eye_like, guarded, linalg_cholesky_ex,
                           linalg_inv_ex, linalg_slogdet, linalg_solve_ex, lu_zero_pivot, mT,
                           singular_error, slogdet_result)
from ._util import unbroadcast

__all__ = ["inv", "inv_ex", "det", "slogdet", "torch_slogdet", "logdet", "solve", "solve_ex",
           "solve_triangular", "cholesky", "cholesky_ex", "torch_cholesky", "cholesky_solve",
           "cholesky_inverse"]


def _finish(op, a, out, info, check, kind):
    if check and info.any():
        raise singular_error(op, a, info, kind)
    return out, info


# ------------------------------------------------------------------ inv
def _inv(op, a, check=True):
    """(A^-1, info); raises for a singular matrix when ``check``."""
    out, info = guarded(np.linalg.inv, lu_zero_pivot, 0, a)
    return _finish(op, a, out, info, check, "inv")


class InvFn(Function):
    """``Y = A^-1`` (and LAPACK's info); ``gA = -Y^T gY Y^T``."""
    raw = True

    @staticmethod
    def forward(ctx, a, op, check):
        y, info = _inv(op, a, check)
        ctx.save_for_backward(y)
        return y, info

    @staticmethod
    def backward(ctx, g, _ginfo=None):
        y, = ctx.saved_tensors
        yt = mT(y)
        return -(yt @ g @ yt), None, None


def inv(A):
    """The inverse of each square matrix of ``A`` (..., n, n); LinAlgError
    when one is singular."""
    x = _t(A)
    check_square("linalg.inv", x._array)
    return InvFn.apply(x, "linalg.inv", True)[0]


def inv_ex(A, *, check_errors=False):
    """(inverse, info): info > 0 marks a singular matrix (its inverse is NaN)."""
    x = _t(A)
    check_square("linalg.inv_ex", x._array)
    return linalg_inv_ex(*InvFn.apply(x, "linalg.inv_ex", check_errors))


# ------------------------------------------------------------------ det
def _cofactor_svd(a):
    """The transposed cofactor matrix d det(A)/dA from the SVD (valid for
    singular A): det(U) det(Vh) U diag(prod_{j != i} s_j) Vh."""
    u, s, vh = np.linalg.svd(a)
    alpha = np.linalg.det(u) * np.linalg.det(vh)
    n = s.shape[-1]
    prods = np.empty_like(s)
    for i in range(n):                       # prod of the others (no division: s may be 0)
        prods[..., i] = np.prod(np.delete(s, i, axis=-1), axis=-1)
    return (u * (alpha[..., None] * prods)[..., None, :]) @ vh


class DetFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, a):
        with np.errstate(all="ignore"):
            d = np.linalg.det(a)
        ctx.save_for_backward(a, d)
        return np.asarray(d, a.dtype)

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved_tensors
        yt, info = _inv("linalg.det", a, check=False)
        cof = np.asarray(d)[..., None, None] * mT(yt)
        bad = (info != 0) | (d == 0) | ~np.isfinite(cof).all(axis=(-2, -1))
        if bad.any():
            with np.errstate(all="ignore"):
                cof[bad] = _cofactor_svd(a[bad])
        return np.asarray(g)[..., None, None] * cof


def det(A):
    """The determinant of each square matrix of ``A``."""
    x = _t(A)
    check_square("linalg.det", x._array)
    return DetFn.apply(x)


def _inv_t_or_nan(a):
    """A^-T, NaN for singular matrices (the log-determinant's gradient)."""
    y, _ = _inv("linalg.slogdet", a, check=False)
    return mT(y)


class SlogdetFn(Function):
    """(sign, log|det A|); the gradient flows through log|det|: g A^-T."""
    raw = True

    @staticmethod
    def forward(ctx, a):
        with np.errstate(all="ignore"):
            sign, logabs = np.linalg.slogdet(a)
        ctx.save_for_backward(a)
        return np.asarray(sign, a.dtype), np.asarray(logabs, a.dtype)

    @staticmethod
    def backward(ctx, _gsign, glog):
        a, = ctx.saved_tensors
        return np.asarray(glog)[..., None, None] * _inv_t_or_nan(a)


class LogdetFn(Function):
    """log det A: NaN for a negative determinant, -inf for zero."""
    raw = True

    @staticmethod
    def forward(ctx, a):
        with np.errstate(all="ignore"):
            sign, logabs = np.linalg.slogdet(a)
        ctx.save_for_backward(a)
        out = np.where(sign > 0, logabs, np.where(sign == 0, -np.inf, np.nan))
        return np.asarray(out, a.dtype)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return np.asarray(g)[..., None, None] * _inv_t_or_nan(a)


def slogdet(A):
    """(sign, logabsdet) of each square matrix of ``A``: det = sign * exp(logabsdet)."""
    x = _t(A)
    check_square("linalg.slogdet", x._array)
    return linalg_slogdet(*SlogdetFn.apply(x))


def torch_slogdet(input):
    """``torch.slogdet``: ``linalg.slogdet`` as the ``slogdet`` named tuple."""
    x = _t(input)
    check_square("linalg.slogdet", x._array)
    return slogdet_result(*SlogdetFn.apply(x))


def logdet(A):
    """log det A (NaN where det < 0, -inf where det = 0)."""
    x = _t(A)
    check_square("logdet", x._array)
    return LogdetFn.apply(x)


# ---------------------------------------------------------------- solve
def _validate_solve(op, a, b, left):
    """Checks solve's A (..., n, n) and B ((..., n, k) or a vector (..., n));
    returns whether B is a vector."""
    check_square(op, a)
    check_same_dtype(op, a, b)
    if b.ndim < 1:
        raise ShapeError(f"{op}: The input tensor B must have at least 1 dimensions.")
    vec = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    n = a.shape[-1]
    bm = b[..., :, None] if vec else b             # a vector is a column (n x 1)
    if (bm.shape[-2] if left else bm.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        bs = f"{b.shape[-1]}x1" if vec else f"{b.shape[-2]}x{b.shape[-1]}"
        raise ShapeError(f"{op}: Incompatible shapes of A and B for the equation {eq} "
                         f"({n}x{n} and {bs})")
    return vec


class SolveFn(Function):
    """X = A^-1 B (B (..., n, k)), and info.  gB = A^-T gX, gA = -gB X^T,
    each summed back over broadcast batch dims."""
    raw = True

    @staticmethod
    def forward(ctx, a, b, vec, op, check):
        bm = b[..., :, None] if vec else b
        A, B = batch_broadcast(op, a, bm)
        x, info = guarded(np.linalg.solve, lu_zero_pivot, 1, A, B)
        _finish(op, A, x, info, check, "solve")
        ctx.save_for_backward(a, b, x)
        ctx.vec = vec
        return (x[..., 0] if vec else x), info

    @staticmethod
    def backward(ctx, g, _ginfo=None):
        a, b, x = ctx.saved_tensors
        gm = g[..., None] if ctx.vec else g
        with np.errstate(all="ignore"):
            gb = np.linalg.solve(*batch_broadcast("linalg.solve", mT(a), gm))
        ga = gb_out = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(-(gb @ mT(x)), a.shape)
        if ctx.needs_input_grad[1]:
            gb_out = unbroadcast(gb[..., 0] if ctx.vec else gb, b.shape)
        return ga, gb_out, None, None, None


def _solve(op, A, B, left, check):
    a, b = _t(A), _t(B)
    vec = _validate_solve(op.replace("torch.", ""), a._array, b._array, left)
    if not left:                      # X A = B  <=>  A^T X^T = B^T
        x, info = SolveFn.apply(a.mT, b.mT, False, op, check)
        return x.mT, info
    return SolveFn.apply(a, b, vec, op, check)


def solve(A, B, *, left=True):
    """The solution X of A X = B (``left=False``: X A = B); B is a matrix
    (..., n, k) or a vector (..., n); batch dims broadcast."""
    return _solve("torch.linalg.solve", A, B, left, True)[0]


def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info) of ``solve`` (info > 0 marks a singular A)."""
    return linalg_solve_ex(*_solve("torch.linalg.solve_ex", A, B, left, check_errors))


# ----------------------------------------------------- triangular solve
def _backsub(t, b):
    """Upper-triangular back substitution (the rare path for a zero on the
    diagonal, where LAPACK's solvers stop but PyTorch returns inf/NaN)."""
    n = t.shape[-1]
    x = np.zeros(np.broadcast_shapes(t.shape[:-2], b.shape[:-2]) + b.shape[-2:], b.dtype)
    with np.errstate(all="ignore"):
        for i in range(n - 1, -1, -1):
            r = b[..., i, :] - np.einsum("...j,...jk->...k", t[..., i, i + 1:], x[..., i + 1:, :])
            x[..., i, :] = r / t[..., i, i][..., None]
    return x


def trisolve(a, b, upper, unitriangular):
    """X with T X = B for T the upper/lower triangle of A (unit diagonal if
    ``unitriangular``).  A lower system is solved as the upper one of the
    reversed order (J T J is upper triangular for the reversal J), so
    LAPACK's LU does no pivoting and reduces to substitution."""
    t = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        t = t.copy()
        np.einsum("...ii->...i", t)[...] = 1
    if not upper:
        t, b = t[..., ::-1, ::-1], b[..., ::-1, :]
    t, b = batch_broadcast("linalg.solve_triangular", t, b)
    try:
        with np.errstate(all="ignore"):
            x = np.linalg.solve(t, b)
    except np.linalg.LinAlgError:
        x = _backsub(t, b)
    return x if upper else x[..., ::-1, :]


def _fold(a, b):
    """When B (S..., A-batch..., n, k) has leading batch dims S that A
    lacks, B viewed as (A-batch..., n, prod(S) * k): one solve with many
    columns instead of one per S-index (the Mahalanobis distance of a batch
    of samples under one covariance).  Returns (folded B, S) or (B, None)."""
    extra = b.ndim - a.ndim
    if extra <= 0 or b.shape[extra:-2] != a.shape[:-2]:
        return b, None
    lead = b.shape[:extra]
    moved = np.moveaxis(b, tuple(range(extra)), tuple(range(-extra - 1, -1)))
    return moved.reshape(a.shape[:-2] + (b.shape[-2], -1)), lead


def _unfold(x, lead):
    """The inverse of ``_fold`` for a result x (A-batch..., n, prod(S) * k)."""
    if lead is None:
        return x
    extra = len(lead)
    x = x.reshape(x.shape[:-1] + lead + (-1,))
    return np.moveaxis(x, tuple(range(-extra - 1, -1)), tuple(range(extra)))


class SolveTriangularFn(Function):
    """X = T^-1 B for triangular T; gB = T^-T gX, gA = -gB X^T restricted
    to the triangle read (the strict one when unitriangular).  Batch dims
    only B has are folded into its columns (``_fold``)."""
    raw = True

    @staticmethod
    def forward(ctx, a, b, upper, unitriangular):
        bf, lead = _fold(a, b)
        xf = trisolve(a, bf, upper, unitriangular)
        ctx.save_for_backward(a, b, xf)
        ctx.flags = (upper, unitriangular, lead)
        return np.ascontiguousarray(_unfold(xf, lead))

    @staticmethod
    def backward(ctx, g):
        a, b, xf = ctx.saved_tensors
        upper, unit, lead = ctx.flags
        gf = _fold(a, g)[0] if lead is not None else g
        gb = trisolve(mT(a), gf, not upper, unit)
        ga = gbo = None
        if ctx.needs_input_grad[0]:
            full = -(gb @ mT(xf))                 # (summed over folded columns too)
            k = 1 if unit else 0
            ga = unbroadcast(np.triu(full, k) if upper else np.tril(full, -k), a.shape)
        if ctx.needs_input_grad[1]:
            gbo = unbroadcast(np.ascontiguousarray(_unfold(gb, lead)), b.shape)
        return ga, gbo, None, None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """The solution X of A X = B (``left=False``: X A = B) for a triangular
    A: only its upper (``upper=True``) or lower triangle is read."""
    op = "linalg.solve_triangular"
    a, b = _t(A), _t(B)
    check_square(op, a._array)
    check_matrix(op, b._array, "B")
    check_same_dtype(op, a._array, b._array)
    n = a._array.shape[-1]
    if (b._array.shape[-2] if left else b._array.shape[-1]) != n:
        raise ShapeError(f"{op}: Incompatible shapes of A and B for the equation "
                         f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                         f"{b._array.shape[-2]}x{b._array.shape[-1]})")
    if not left:
        return SolveTriangularFn.apply(a.mT, b.mT, not upper, bool(unitriangular)).mT
    return SolveTriangularFn.apply(a, b, bool(upper), bool(unitriangular))


# ------------------------------------------------------------- cholesky
def _cholesky(op, a, check):
    out, info = guarded(np.linalg.cholesky, chol_failed_order, 0, a)
    return _finish(op, a, out, info, check, "chol")


class CholeskyFn(Function):
    """L with A = L L^T (the lower triangle of A is read); ``upper``
    returns U = L^T.  gA = sym(L^-T Phi(L^T gL) L^-1)."""
    raw = True

    @staticmethod
    def forward(ctx, a, upper, op, check):
        low, info = _cholesky(op, a, check)
        ctx.save_for_backward(low)
        ctx.upper = upper
        return (np.ascontiguousarray(mT(low)) if upper else low), info

    @staticmethod
    def backward(ctx, g, _ginfo=None):
        low, = ctx.saved_tensors
        gl = mT(g) if ctx.upper else g
        phi = np.tril(mT(low) @ gl)
        np.einsum("...ii->...i", phi)[...] *= 0.5
        # L^-T phi L^-1 = (L^-T (L^-T phi)^T)^T
        t1 = trisolve(mT(low), phi, True, False)            # L^-T phi
        ga = mT(trisolve(mT(low), mT(t1), True, False))     # (L^-T (L^-T phi)^T)^T
        return 0.5 * (ga + mT(ga)), None, None, None


def cholesky(A, *, upper=False):
    """The Cholesky factor of each symmetric positive-definite matrix of
    ``A`` (lower; ``upper=True``: L^T).  LinAlgError if one is not."""
    x = _t(A)
    check_square("linalg.cholesky", x._array)
    return CholeskyFn.apply(x, bool(upper), "linalg.cholesky", True)[0]


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): info > 0 is the order of the leading minor that is not
    positive definite (L is NaN there)."""
    x = _t(A)
    check_square("linalg.cholesky_ex", x._array)
    return linalg_cholesky_ex(*CholeskyFn.apply(x, bool(upper), "linalg.cholesky_ex",
                                                check_errors))


def torch_cholesky(input, upper=False):
    """``torch.cholesky(A, upper=False)`` (the deprecated spelling)."""
    x = _t(input)
    check_square("cholesky", x._array)
    return CholeskyFn.apply(x, bool(upper), "cholesky", True)[0]


def _chol_solve_arrays(b, factor, upper):
    """(L L^T)^-1 B for lower L (or (U^T U)^-1 B for upper U)."""
    if upper:
        y = trisolve(mT(factor), b, False, False)
        return trisolve(factor, y, True, False)
    y = trisolve(factor, b, False, False)
    return trisolve(mT(factor), y, True, False)


class CholeskySolveFn(Function):
    """X = A^-1 B with A = L L^T given L.  gB = A^-1 gX and, as in PyTorch,
    the full-matrix gL = -(gB X^T + X gB^T) L (upper: -U (...))."""
    raw = True

    @staticmethod
    def forward(ctx, b, factor, upper):
        x = np.ascontiguousarray(_chol_solve_arrays(b, factor, upper))
        ctx.save_for_backward(b, factor, x)
        ctx.upper = upper
        return x

    @staticmethod
    def backward(ctx, g):
        b, factor, x = ctx.saved_tensors
        gb = _chol_solve_arrays(g, factor, ctx.upper)
        gbo = gf = None
        if ctx.needs_input_grad[0]:
            gbo = unbroadcast(gb, b.shape)
        if ctx.needs_input_grad[1]:
            common = gb @ mT(x)
            common = common + mT(common)
            gf = -(factor @ common) if ctx.upper else -(common @ factor)
            gf = unbroadcast(gf, factor.shape)
        return gbo, gf, None


def cholesky_solve(B, L, upper=False):
    """``torch.cholesky_solve(B, L, upper=False)``: X with (L L^T) X = B."""
    op = "cholesky_solve"
    b, f = _t(B), _t(L)
    check_square(op, f._array, "input2")
    check_matrix(op, b._array, "input")
    check_same_dtype(op, b._array, f._array, ("self", "input2"))
    if b._array.shape[-2] != f._array.shape[-1]:
        raise ShapeError(f"{op}: Incompatible matrix sizes for cholesky_solve: each A matrix "
                         f"is {f._array.shape[-1]} by {f._array.shape[-1]} but each b matrix "
                         f"is {b._array.shape[-2]} by {b._array.shape[-1]}")
    return CholeskySolveFn.apply(b, f, bool(upper))


class CholeskyInverseFn(Function):
    """Y = (L L^T)^-1 given L; gL = -Y (G + G^T) Y L (upper: -U Y (...) Y)."""
    raw = True

    @staticmethod
    def forward(ctx, factor, upper):
        d = np.einsum("...ii->...i", factor)
        if (d == 0).any():
            info = np.zeros(factor.shape[:-2], np.int32)
            flat = np.reshape(d, (-1, d.shape[-1]))
            for i, row in enumerate(flat):
                zero = np.flatnonzero(row == 0)
                info.reshape(-1)[i] = zero[0] + 1 if zero.size else 0
            raise singular_error("cholesky_inverse", factor, info)
        y = np.ascontiguousarray(_chol_solve_arrays(eye_like(factor), factor, upper))
        ctx.save_for_backward(factor, y)
        ctx.upper = upper
        return y

    @staticmethod
    def backward(ctx, g):
        factor, y = ctx.saved_tensors
        common = y @ (g + mT(g)) @ y
        return (-(factor @ common) if ctx.upper else -(common @ factor)), None


def cholesky_inverse(L, upper=False):
    """``torch.cholesky_inverse(L, upper=False)``: (L L^T)^-1."""
    f = _t(L)
    check_square("cholesky_inverse", f._array, "input")
    return CholeskyInverseFn.apply(f, bool(upper))

