"""Linear algebra composed of other ops (the gradients come from the ops
used): ``matrix_power``, ``multi_dot``/``chain_matmul``, ``vecdot``,
``cond``, the spectral matrix norms, ``tensorinv``, ``tensorsolve``,
``vander``, ``householder_product``; and the ``torch.*`` spellings with
their own conventions (``torch.qr(some=)``, ``torch.svd`` returning V,
``pinverse``, ``triangular_solve``, ``nuclear_norm``, ...).
"""
import math
import numbers

import numpy as np

from .._core import wrap
from .._errors import ShapeError
from ._common import tensor as _t
from ._linalg_util import (check_float, check_matrix, check_square, geqrf_result, qr_result,
                           svd_result, triangular_solve_result)
from .linalg_decomp import pinv, qr, svd, svdvals
from .linalg_solve import inv, inv_ex, solve, solve_triangular

__all__ = ["matrix_power", "multi_dot", "chain_matmul", "vecdot", "cond", "spectral_norm",
           "tensorinv", "tensorsolve", "vander", "householder_product",
           "torch_qr", "torch_svd", "pinverse", "triangular_solve", "nuclear_norm",
           "geqrf", "ormqr"]

_INF = float("inf")


def matrix_power(A, n):
    """A^n for an integer n by repeated squaring (n < 0: of the inverse;
    n = 0: the identity, with a zero gradient)."""
    x = _t(A)
    check_square("linalg.matrix_power", x._array)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"linalg.matrix_power: argument 'n' must be int, not "
                        f"{type(n).__name__}")
    n = int(n)
    if n == 0:
        return x * 0 + wrap(np.eye(x._array.shape[-1], dtype=x._array.dtype))
    if n < 0:
        x, n = inv(x), -n
    result, base = None, x
    while True:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if not n:
            break
        base = base @ base
    return result.clone() if result is x else result


def _chain_order(dims):
    """The parenthesisation minimising scalar multiplications for matrices
    of shapes (dims[i], dims[i+1]): split[i][j] (the classic O(n^3) DP)."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(ts, split, i, j):
    if i == j:
        return ts[i]
    k = split[i][j]
    return _chain(ts, split, i, k) @ _chain(ts, split, k + 1, j)


def multi_dot(tensors):
    """The product of the matrices in ``tensors`` in the cheapest order; the
    first may be a row vector (1-D) and the last a column vector."""
    op = "multi_dot()"
    ts = [_t(t) for t in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"{op}: expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        nd = t._array.ndim
        ok = nd in (1, 2) if i in (0, len(ts) - 1) else nd == 2
        if not ok:
            which = "the first tensor" if i == 0 else ("the last tensor" if i == len(ts) - 1
                                                        else f"tensor {i}")
            need = "1D or 2D" if i in (0, len(ts) - 1) else "2D"
            raise ShapeError(f"{op}: {which} must be {need} but got {nd}D")
        if t._array.dtype != ts[0]._array.dtype:
            raise TypeError(f"{op}: all tensors must have be the same dtype but tensor 0 is "
                            f"{ts[0]._array.dtype} and tensor {i} {t._array.dtype}")
    first_vec, last_vec = ts[0]._array.ndim == 1, ts[-1]._array.ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i in range(len(ts) - 1):
        (a, b), (c, d) = ts[i]._array.shape, ts[i + 1]._array.shape
        if b != c:
            raise ShapeError(f"{op}: tensors {i} and {i + 1} with shapes [{a}, {b}] and "
                             f"[{c}, {d}] cannot be multiplied")
    dims = [t._array.shape[0] for t in ts] + [ts[-1]._array.shape[1]]
    out = _chain(ts, _chain_order(dims), 0, len(ts) - 1)
    if first_vec and last_vec:
        return out.reshape(())
    if first_vec:
        return out.squeeze(0)
    return out.squeeze(-1) if last_vec else out


def chain_matmul(*matrices):
    """``torch.chain_matmul``: ``multi_dot`` of 2-D matrices."""
    for i, m in enumerate(matrices):
        if _t(m)._array.ndim != 2:
            raise ShapeError(f"chain_matmul(): Tensor dimension is {_t(m)._array.ndim}, "
                             "expected 2 instead.")
    if len(matrices) == 1:
        return _t(matrices[0]).clone()
    return multi_dot(matrices)


def vecdot(x, y, *, dim=-1):
    """The dot product of x and y along ``dim`` (broadcast)."""
    return (_t(x) * _t(y)).sum(dim)


def spectral_norm(x, ord, d0, d1, keepdim):
    """``matrix_norm`` for ord 2 (largest singular value), -2 (smallest) and
    'nuc' (their sum) over dims (d0, d1) (non-negative, distinct)."""
    y = x.movedim((d0, d1), (-2, -1))
    s = svdvals(y)
    if ord == 2 and s._array.shape[-1] == 0:          # an empty matrix: 0, as PyTorch
        out = s.sum(-1)
    elif ord == "nuc":
        out = s.sum(-1)
    else:
        out = s.amax(-1) if ord == 2 else s.amin(-1)
    if keepdim:
        for d in sorted((d0, d1)):
            out = out.unsqueeze(d)
    return out


def cond(A, p=None):
    """The condition number of each matrix of ``A`` in norm ``p``: the
    ratio of extreme singular values for p = None, 2, -2 (any shape),
    ||A||_p ||A^-1||_p for 'fro', 'nuc', 1, -1, inf, -inf (square; inf
    for a singular matrix)."""
    from .. import linalg
    x = _t(A)
    if p in (None, 2, -2):
        check_matrix("linalg.cond", x._array)
        s = svdvals(x)
        if s._array.shape[-1] == 0:                   # an empty matrix: 0, as PyTorch
            return s.sum(-1)
        lo, hi = s.amin(-1), s.amax(-1)
        return lo / hi if p == -2 else hi / lo
    if p not in ("fro", "nuc", 1, -1, _INF, -_INF):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    check_square(f"linalg.cond(ord={p})", x._array)
    xinv, info = inv_ex(x)
    if not info._array.any():
        return linalg.matrix_norm(x, p) * linalg.matrix_norm(xinv, p)
    bad = info > 0                      # singular: inf (the NaN inverse replaced first)
    xinv = xinv.masked_fill(bad.unsqueeze(-1).unsqueeze(-1), 0.0)
    return (linalg.matrix_norm(x, p) * linalg.matrix_norm(xinv, p)).masked_fill(bad, _INF)


def tensorinv(A, ind=2):
    """The tensor X with tensordot(X, A, ind) the identity: A reshaped to a
    square matrix (the first ``ind`` dims as rows), inverted, reshaped."""
    x = _t(A)
    if not isinstance(ind, int) or ind <= 0:
        raise ValueError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shp = x._array.shape
    rows, cols = int(np.prod(shp[:ind])), int(np.prod(shp[ind:]))
    if rows != cols:
        raise ShapeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                         f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return inv(x.reshape(rows, cols)).reshape(shp[ind:] + shp[:ind])


def tensorsolve(A, B, dims=None):
    """The X with tensordot(A, X, X.ndim) = B (``dims``: dims of A moved
    to the end first)."""
    a, b = _t(A), _t(B)
    if dims is not None:
        nd = a._array.ndim
        src = [d % nd for d in dims]
        a = a.movedim(src, list(range(nd - len(src), nd)))
    shp = a._array.shape
    nb = b._array.ndim
    out_shape = shp[nb:]
    rows, cols = int(np.prod(shp[:nb])), int(np.prod(out_shape))
    if rows != cols or tuple(shp[:nb]) != tuple(b._array.shape):
        raise ShapeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:])"
                         f" == prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    return solve(a.reshape(rows, cols), b.reshape(rows)).reshape(out_shape)


def _powers(t, n):
    """(..., k) -> (..., k, n): the columns t^0 .. t^(n-1), as products (so
    the gradient is finite at t = 0)."""
    from .._tensor import cat
    xs = t.unsqueeze(-1)
    cols = [wrap(np.ones(xs._array.shape, xs._array.dtype))]
    for _ in range(1, n):
        cols.append(xs if len(cols) == 1 else cols[-1] * xs)
    if n == 0:
        return wrap(np.zeros(xs._array.shape[:-1] + (0,), xs._array.dtype))
    return cat(cols, -1) if n > 1 else cols[0]


def vander(x, *, N=None):
    """``linalg.vander``: (..., n) -> (..., n, N), the columns x^0, x^1, ..."""
    t = _t(x)
    if t._array.ndim < 1:
        raise ShapeError("linalg.vander: x must have at least one dimension")
    n = t._array.shape[-1] if N is None else int(N)
    if n <= 1:
        raise ValueError("N must be greater than 1.")
    return _powers(t, n)


def householder_product(A, tau):
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T, v_i
    the i-th column below the diagonal of A (m x n) with a unit on it."""
    from .shape import tril
    op = "torch.linalg.householder_product"
    a, t = _t(A), _t(tau)
    check_matrix(op, a._array, "input")
    check_float(op, t._array, "tau")
    m, n = a._array.shape[-2:]
    k = t._array.shape[-1]
    if n > m:
        raise ShapeError(f"{op}: input.shape[-2] must be greater than or equal to "
                         "input.shape[-1]")
    if k > n:
        raise ShapeError(f"{op}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if t._array.shape[:-1] != a._array.shape[:-2]:
        raise ShapeError(f"{op}: Expected batch dimensions of tau to be equal to "
                         f"input.shape[:-2], but got {tuple(t._array.shape[:-1])}")
    e = wrap(np.eye(m, n, dtype=a._array.dtype))
    v = tril(a, -1) + e
    q = e.expand(a._array.shape)
    for i in range(k - 1, -1, -1):
        vi = v.narrow(-1, i, 1)
        q = q - (vi * t.narrow(-1, i, 1).unsqueeze(-1)) @ (vi.mT @ q)
    return q


def geqrf(input):
    """``torch.geqrf``: LAPACK's QR in Householder form (a, tau): R on and
    above the diagonal of ``a``, the reflectors below it (no gradient, as
    in PyTorch)."""
    x = _t(input)
    check_matrix("geqrf", x._array, "input")
    h, tau = np.linalg.qr(x._array, mode="raw")
    return geqrf_result(wrap(np.ascontiguousarray(np.swapaxes(h, -1, -2))), wrap(tau))


def ormqr(input, input2, input3, left=True, transpose=False):
    """``torch.ormqr``: the product of Q = H_1 ... H_k (the reflectors of
    ``geqrf``: ``input``, ``input2`` = tau) with ``input3``, Q on the left
    (``left``) or right, transposed with ``transpose``."""
    from .._tensor import cat
    a, tau, c = _t(input), _t(input2), _t(input3)
    check_matrix("ormqr", a._array, "input")
    check_matrix("ormqr", c._array, "other")
    m, n = a._array.shape[-2:]
    rows = c._array.shape[-2] if left else c._array.shape[-1]
    if rows != m:
        raise ShapeError(f"torch.ormqr: other.shape[{-2 if left else -1}] must be equal to "
                         f"input.shape[-2], got {rows} and {m}")
    if n >= m:
        sq = a[..., :m]
    else:
        sq = cat([a, wrap(np.zeros(a._array.shape[:-1] + (m - n,), a._array.dtype))], -1)
    q = householder_product(sq, tau)
    if transpose:
        q = q.mT
    return q @ c if left else c @ q


# ------------------------------------------------------- torch.* spellings
def torch_qr(input, some=True):
    """``torch.qr(A, some=True)``: reduced (``some``) or complete Q, R."""
    return qr_result(*qr(input, "reduced" if some else "complete"))


def torch_svd(input, some=True, compute_uv=True):
    """``torch.svd``: (U, S, V) with A = U diag(S) V^T (V, not V^T);
    ``some=False`` gives full U and V; without ``compute_uv`` U and V are
    zero matrices (m x m, n x n)."""
    x = _t(input)
    if not compute_uv:
        check_matrix("svd", x._array)
        m, n = x._array.shape[-2:]
        batch, dt = x._array.shape[:-2], x._array.dtype
        return svd_result(wrap(np.zeros(batch + (m, m), dt)), svdvals(x),
                          wrap(np.zeros(batch + (n, n), dt)))
    u, s, vh = svd(x, full_matrices=not some)
    return svd_result(u, s, vh.mT)


def pinverse(input, rcond=1e-15):
    """``torch.pinverse``: ``linalg.pinv`` with rtol = rcond."""
    return pinv(input, rtol=rcond)


def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):
    """``torch.triangular_solve(b, A)``: (X with op(A) X = b, A copied);
    op(A) = A^T with ``transpose``."""
    b, a = _t(input), _t(A)
    if transpose:
        x = solve_triangular(a.mT, b, upper=not upper, unitriangular=unitriangular)
    else:
        x = solve_triangular(a, b, upper=upper, unitriangular=unitriangular)
    return triangular_solve_result(x, a.clone())


def nuclear_norm(input, dim=None, keepdim=False):
    """The sum of the singular values over ``dim`` (default the last two)."""
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    from .. import linalg
    return linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)
