"""Decompositions and the functions built on them, with gradients:
``linalg.qr``, ``eigh``/``eigvalsh``, ``svd``/``svdvals``, ``eig``/``eigvals``
(real spectra only: fastnn has no complex dtype), ``pinv``, ``matrix_rank``
and ``lstsq``.

Forward passes are NumPy's LAPACK, batched; the backward formulas are
PyTorch's (real case).  With ``F_ij = 1 / (x_j - x_i)`` off the diagonal
(0 on it) and ``skew(X) = X - X^T``:

* qr, m >= n: ``gA = (gQ + Q copyltu(M)) R^-T`` with ``M = R gR^T - gQ^T Q``
  and copyltu the lower triangle mirrored; m < n splits A = [X | Y];
* eigh: ``gA = V (diag(gw) + F(w) * skew(V^T gV) / 2) V^T``;
* svd (Townsend 2016): ``gA = U (F(s^2) * skew(U^T gU) S + diag(gS) +
  S F(s^2) * skew(V^T gV)) V^T + (I - U U^T) gU S^-1 V^T
  + U S^-1 gV^T (I - V V^T)``;
* eig: ``gA = V^-T (diag(gw) + F(w) * (V^T gV - V^T V diag(V^T gV))) V^T``;
* pinv X = A^+: ``gA = -X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A)``.
"""
import numpy as np

from .._errors import ShapeError
from ..autograd.function import Function
from ._common import tensor as _t
from .._core import wrap
from ._linalg_util import (batch_broadcast, call, check_matrix, check_same_dtype, check_square,
                           linalg_eig, linalg_eigh, linalg_lstsq, linalg_qr,
                           linalg_svd, mT)
from ._util import unbroadcast

__all__ = ["qr", "eigh", "eigvalsh", "svd", "svdvals", "eig", "eigvals", "pinv",
           "matrix_rank", "lstsq"]


def _inv_gaps(x):
    """F_ij = 1 / (x_j - x_i) off the diagonal, 0 on it (x: (..., k))."""
    e = x[..., None, :] - x[..., :, None]
    k = x.shape[-1]
    np.einsum("...ii->...i", e)[...] = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        f = 1.0 / e
    f[..., np.arange(k), np.arange(k)] = 0
    return f


def _solve_right_upper_t(x, r):
    """X R^-T for upper-triangular R: (R^-1 X^T)^T."""
    from .linalg_solve import trisolve
    return mT(trisolve(r, mT(x), True, False))


# ------------------------------------------------------------------- qr
def _qr_grad_tall(q, r, gq, gr):
    """gA for A = Q R with m >= n (Q m x n, R n x n)."""
    m = r @ mT(gr) - mT(gq) @ q
    low = np.tril(m)
    m = low + mT(np.tril(m, -1))
    return _solve_right_upper_t(gq + q @ m, r)


class QrFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, mode):
        if mode == "r":
            r = call("linalg.qr", np.linalg.qr, a, mode="r")
            q = np.zeros((0,), a.dtype)
        else:
            q, r = call("linalg.qr", np.linalg.qr, a, mode=mode)
        ctx.save_for_backward(a, q, r)
        ctx.mode = mode
        return np.ascontiguousarray(q), np.ascontiguousarray(r)

    @staticmethod
    def backward(ctx, gq, gr):
        a, q, r = ctx.saved_tensors
        m, n = a.shape[-2:]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        if m >= n:
            return _qr_grad_tall(q, r, gq, gr), None
        y, gv = a[..., m:], gr[..., m:]
        gx = _qr_grad_tall(q, r[..., :m], gq + y @ mT(gv), gr[..., :m])
        return np.concatenate([gx, q @ gv], axis=-1), None


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R; ``mode`` 'reduced' (Q m x k), 'complete'
    (Q m x m) or 'r' (R only; Q is empty)."""
    x = _t(A)
    check_matrix("linalg.qr", x._array)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr received unrecognized mode '{mode}' but expected one of "
                         "'reduced' (default), 'r', or 'complete'")
    return linalg_qr(*QrFn.apply(x, mode))


# ----------------------------------------------------------------- eigh
def _uplo(op, UPLO):
    if UPLO not in ("L", "U"):
        raise ValueError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO


class EighFn(Function):
    """(w, V) of a symmetric matrix (its ``UPLO`` triangle read)."""
    raw = True

    @staticmethod
    def forward(ctx, a, uplo):
        w, v = call("linalg.eigh", np.linalg.eigh, a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        vtg = mT(v) @ gv
        inner = 0.5 * (vtg - mT(vtg)) * _inv_gaps(w)
        k = w.shape[-1]
        inner[..., np.arange(k), np.arange(k)] = gw
        return v @ inner @ mT(v), None


class EigvalshFn(Function):
    """Eigenvalues of a symmetric matrix; gA = V diag(gw) V^T."""
    raw = True

    @staticmethod
    def forward(ctx, a, uplo):
        if not ctx.needs_input_grad[0]:
            return call("linalg.eigvalsh", np.linalg.eigvalsh, a, UPLO=uplo)
        w, v = call("linalg.eigvalsh", np.linalg.eigh, a, UPLO=uplo)
        ctx.save_for_backward(v)
        return w

    @staticmethod
    def backward(ctx, gw):
        v, = ctx.saved_tensors
        return (v * gw[..., None, :]) @ mT(v), None


def eigh(A, UPLO="L"):
    """(eigenvalues ascending, eigenvectors as columns) of each symmetric
    matrix of ``A``; only its ``UPLO`` triangle is read."""
    x = _t(A)
    check_square("linalg.eigh", x._array)
    return linalg_eigh(*EighFn.apply(x, _uplo("linalg.eigh", UPLO)))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending) of each symmetric matrix of ``A``."""
    x = _t(A)
    check_square("linalg.eigvalsh", x._array)
    return EigvalshFn.apply(x, _uplo("linalg.eigvalsh", UPLO))


# ------------------------------------------------------------------ svd
def svd_grad(u, s, vh, gu, gs, gvh):
    """gA of A = U diag(S) Vh (reduced: U m x k, Vh k x n)."""
    m, n = u.shape[-2], vh.shape[-1]
    if not gu.any() and not gvh.any():
        return (u * gs[..., None, :]) @ vh
    f = _inv_gaps(s * s)
    utgu, vtgv = mT(u) @ gu, vh @ mT(gvh)
    j = f * (utgu - mT(utgu))
    kk = f * (vtgv - mT(vtgv))
    inner = j * s[..., None, :] + s[..., :, None] * kk
    k = s.shape[-1]
    inner[..., np.arange(k), np.arange(k)] += gs
    ga = u @ inner @ vh
    with np.errstate(divide="ignore", invalid="ignore"):
        if m > k:
            ga = ga + ((gu - u @ utgu) / s[..., None, :]) @ vh
        if n > k:
            ga = ga + u @ ((gvh - (gvh @ mT(vh)) @ vh) / s[..., :, None])
    return ga


class SvdFn(Function):
    """(U, S, Vh); with ``full_matrices`` the gradient uses the first k
    columns of U and rows of Vh (the others are not determined by A)."""
    raw = True

    @staticmethod
    def forward(ctx, a, full_matrices):
        u, s, vh = call("linalg.svd", np.linalg.svd, a, full_matrices=full_matrices)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        k = s.shape[-1]
        u, gu, vh, gvh = u[..., :k], gu[..., :k], vh[..., :k, :], gvh[..., :k, :]
        return svd_grad(u, s, vh, gu, gs, gvh), None


class SvdvalsFn(Function):
    """Singular values, descending; gA = U diag(gS) Vh."""
    raw = True

    @staticmethod
    def forward(ctx, a):
        if not ctx.needs_input_grad[0]:
            return call("linalg.svdvals", np.linalg.svd, a, compute_uv=False)
        u, s, vh = call("linalg.svdvals", np.linalg.svd, a, full_matrices=False)
        ctx.save_for_backward(u, vh)
        return s

    @staticmethod
    def backward(ctx, gs):
        u, vh = ctx.saved_tensors
        return (u * gs[..., None, :]) @ vh


def svd(A, full_matrices=True):
    """(U, S, Vh) with A = U diag(S) Vh, S descending."""
    x = _t(A)
    check_matrix("linalg.svd", x._array)
    return linalg_svd(*SvdFn.apply(x, bool(full_matrices)))


def svdvals(A):
    """The singular values of each matrix of ``A``, descending."""
    x = _t(A)
    check_matrix("linalg.svdvals", x._array)
    return SvdvalsFn.apply(x)


# ------------------------------------------------------------------ eig
def _real_eig(op, a):
    w, v = call(op, np.linalg.eig, a)
    if w.dtype.kind == "c":
        raise NotImplementedError(f"{op}: the input has complex eigenvalues, and fastnn has no "
                                  "complex dtype (only matrices whose eigenvalues are all real "
                                  "are supported; use linalg.eigh for symmetric matrices)")
    return w, v


class EigFn(Function):
    """(w, V) of a general matrix whose eigenvalues are real."""
    raw = True

    @staticmethod
    def forward(ctx, a, op):
        w, v = _real_eig(op, a)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        vtg = mT(v) @ gv
        dg = np.einsum("...ii->...i", vtg)
        inner = (vtg - (mT(v) @ v) * dg[..., None, :]) * _inv_gaps(w)
        k = w.shape[-1]
        inner[..., np.arange(k), np.arange(k)] = gw
        return np.linalg.solve(mT(v), inner @ mT(v)), None


def eig(A):
    """(eigenvalues, eigenvectors) of each square matrix of ``A``, when all
    eigenvalues are real (NotImplementedError otherwise)."""
    x = _t(A)
    check_square("linalg.eig", x._array)
    return linalg_eig(*EigFn.apply(x, "linalg.eig"))


def eigvals(A):
    """The eigenvalues of each square matrix of ``A`` (real spectra only)."""
    x = _t(A)
    check_square("linalg.eigvals", x._array)
    return EigFn.apply(x, "linalg.eigvals")[0]


# ------------------------------------------------------- pinv and rank
def _tolerance(s_max, atol, rtol, m, n, dtype):
    """PyTorch's threshold max(atol, rtol * s_max): rtol defaults to
    eps * max(m, n) when neither is given, to 0 when only atol is."""
    if rtol is None:
        rtol = np.finfo(dtype).eps * max(m, n) if atol is None or np.all(np.asarray(atol) <= 0) \
            else 0.0
    atol = 0.0 if atol is None else atol
    return np.maximum(np.asarray(atol, dtype), np.asarray(rtol, dtype) * s_max)


def _tol_arg(v):
    if v is None:
        return None
    return v._array if hasattr(v, "_array") else np.asarray(v, np.float64)


def _pinv_array(op, a, atol, rtol, hermitian):
    m, n = a.shape[-2:]
    if hermitian:
        w, v = call(op, np.linalg.eigh, a)
        s = np.abs(w)
        tol = _tolerance(s.max(axis=-1, initial=0.0), atol, rtol, m, n, a.dtype)
        with np.errstate(divide="ignore"):
            winv = np.where(s > np.asarray(tol)[..., None], 1.0 / w, 0.0)
        return (v * winv[..., None, :].astype(a.dtype)) @ mT(v)
    u, s, vh = call(op, np.linalg.svd, a, full_matrices=False)
    tol = _tolerance(s.max(axis=-1, initial=0.0), atol, rtol, m, n, a.dtype)
    with np.errstate(divide="ignore"):
        sinv = np.where(s > np.asarray(tol)[..., None], 1.0 / s, 0.0).astype(a.dtype)
    return (mT(vh) * sinv[..., None, :]) @ mT(u)


def pinv_grad(a, x, g):
    """gA for X = pinv(A) and upstream G (see the module docstring)."""
    xt, gt = mT(x), mT(g)
    ga = -(xt @ g @ xt)
    ga = ga + (gt - a @ (x @ gt)) @ (x @ xt)
    ga = ga + (xt @ x) @ (gt - (gt @ x) @ a)
    return ga


class PinvFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        x = np.ascontiguousarray(_pinv_array("linalg.pinv", a, atol, rtol, hermitian))
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        return pinv_grad(a, x, g), None, None, None


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """The Moore-Penrose pseudo-inverse (singular values at most
    max(atol, rtol * s_max) are dropped; ``rcond`` is the old name of rtol)."""
    x = _t(A)
    check_matrix("linalg.pinv", x._array)
    if rcond is not None:
        rtol = rcond
    return PinvFn.apply(x, _tol_arg(atol), _tol_arg(rtol), bool(hermitian))


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None):
    """The number of singular values above max(atol, rtol * s_max) (int64;
    no gradient).  ``tol`` is the old name of atol."""
    x = _t(A)
    a = x._array
    check_matrix("linalg.matrix_rank", a)
    if tol is not None:
        atol, rtol = tol, 0.0 if rtol is None else rtol
    if hermitian:
        s = np.abs(call("linalg.matrix_rank", np.linalg.eigvalsh, a))
    else:
        s = call("linalg.matrix_rank", np.linalg.svd, a, compute_uv=False)
    t = _tolerance(s.max(axis=-1, initial=0.0), _tol_arg(atol), _tol_arg(rtol),
                   a.shape[-2], a.shape[-1], a.dtype)
    return wrap(np.asarray((s > np.asarray(t)[..., None]).sum(axis=-1), np.int64))


# ---------------------------------------------------------------- lstsq
_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


class LstsqFn(Function):
    """The minimum-norm least-squares solution X of A X ~ B (``np.linalg.lstsq``
    per matrix) and the by-products; the gradient is that of pinv(A) B."""
    raw = True

    @staticmethod
    def forward(ctx, a, b, rcond):
        A, B = batch_broadcast("linalg.lstsq", a, b)
        batch = A.shape[:-2]
        nb = int(np.prod(batch))
        fa, fb = A.reshape((nb,) + A.shape[-2:]), B.reshape((nb,) + B.shape[-2:])
        n, k = A.shape[-1], B.shape[-1]
        x = np.zeros((nb, n, k), a.dtype)
        rank = np.zeros(nb, np.int64)
        sv = np.zeros((nb, min(A.shape[-2:])), a.dtype)
        if min(A.shape[-2:]) and k:                  # (an empty problem: X = 0, rank 0)
            for i in range(nb):
                x[i], _, rank[i], sv[i] = call("linalg.lstsq", np.linalg.lstsq, fa[i], fb[i],
                                               rcond=rcond)
        x = x.reshape(batch + (n, k))
        ctx.save_for_backward(a, b)
        return x, rank.reshape(batch), sv.reshape(batch + sv.shape[-1:])

    @staticmethod
    def backward(ctx, g, _grank=None, _gsv=None):
        a, b = ctx.saved_tensors
        p = _pinv_array("linalg.lstsq", a, None, None, False)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(pinv_grad(a, p, g @ mT(b)), a.shape)
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(mT(p) @ g, b.shape)
        return ga, gb, None


def lstsq(A, B, rcond=None, *, driver=None):
    """(solution, residuals, rank, singular_values) of min ||A X - B||, as
    PyTorch fills them for ``driver`` (default 'gelsy': rank only; 'gels':
    residuals only; 'gelsd'/'gelss': all).  Residuals are given when
    m > n and every A has full rank."""
    op = "torch.linalg.lstsq"
    a, b = _t(A), _t(B)
    check_matrix(op, a._array)
    check_same_dtype(op, a._array, b._array, ("self", "b"))
    if driver is None:
        driver = "gelsy"
    if driver not in _DRIVERS:
        raise RuntimeError(f"{op}: parameter `driver` should be one of (gels, gelsy, gelsd, "
                           f"gelss)")
    vec = b._array.ndim == 1 or (b._array.ndim == a._array.ndim - 1 and
                                 b._array.shape[-1] == a._array.shape[-2])
    bm = b.unsqueeze(-1) if vec else b
    m, n = a._array.shape[-2:]
    if bm._array.shape[-2] != m:
        raise ShapeError(f"{op}: input.size(-2) should match other.size(-2)")
    if rcond is None:
        rcond = np.finfo(a._array.dtype).eps * max(m, n)
    x, rank, sv = LstsqFn.apply(a, bm, float(rcond))
    empty = wrap(np.zeros((0,), a._array.dtype))
    res = empty
    if driver != "gelsy" and m > n and bool((rank._array == n).all()):
        r = (a @ x - bm)
        res = (r * r).sum(-2)
    if vec:
        x = x.squeeze(-1)
    rank_out = rank if driver != "gels" else wrap(np.zeros((0,), np.int64))
    sv_out = sv.detach() if driver in ("gelsd", "gelss") else empty
    return linalg_lstsq(x, res, rank_out, sv_out)
