"""``linalg.matrix_exp``: the matrix exponential, with its gradient.

Forward: scaling and squaring with diagonal Pade approximants (Higham 2005,
"The scaling and squaring method for the matrix exponential revisited"),
in NumPy, in float64.  Backward: for f = exp, the gradient of <G, f(A)> is
the top-right block of ``f([[A^T, G], [0, A^T]])`` (the Frechet derivative
of a matrix function as a block triangular matrix function), so it is one
more exponential of a 2n x 2n matrix.
"""
import numpy as np

from ..autograd.function import Function
from ._common import tensor as _t
from ._linalg_util import check_square, eye_like, mT

__all__ = ["matrix_exp", "expm"]

# Scaling and squaring with diagonal Pade approximants (Higham 2005, "The
# scaling and squaring method for the matrix exponential revisited"): the
# degree-m approximant is used when ||A||_1 <= theta_m, else A / 2^s with
# ||A / 2^s||_1 <= theta_13 and s squarings.  Computed in float64.
_THETA = ((3, 1.495585217958292e-2), (5, 2.539398330063230e-1), (7, 9.504178996162932e-1),
          (9, 2.097847961257068e0))
_THETA13 = 5.371920351148152
_PADE = {
    3: (120.0, 60.0, 12.0, 1.0),
    5: (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0),
    7: (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
    9: (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0,
        110880.0, 3960.0, 90.0, 1.0),
    13: (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
         129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
         40840800.0, 960960.0, 16380.0, 182.0, 1.0),
}


def _pade(a, m):
    """(U, V): the odd and even parts of the degree-m Pade numerator."""
    b = _PADE[m]
    ident = eye_like(a)
    a2 = a @ a
    if m < 13:
        pw = [ident, a2]
        for _ in range(2, m // 2 + 1):
            pw.append(pw[-1] @ a2)
        u = sum(b[2 * i + 1] * pw[i] for i in range(len(pw)))
        v = sum(b[2 * i] * pw[i] for i in range(len(pw)))
        return a @ u, v
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2)
             + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * ident)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * ident
    return u, v


def expm(a):
    """exp(A) of each square matrix of ``a`` (NumPy, in float64)."""
    dt = a.dtype
    a = np.asarray(a, np.float64)
    if a.size == 0:
        return a.astype(dt)
    norm = np.abs(a).sum(axis=-2).max(axis=-1)
    finite = np.isfinite(norm)
    top = norm[finite].max(initial=0.0)
    with np.errstate(all="ignore"):
        for m, theta in _THETA:
            if top <= theta:
                u, v = _pade(a, m)
                r = np.linalg.solve(v - u, v + u)
                break
        else:
            s = np.zeros(norm.shape, np.int64)
            big = finite & (norm > _THETA13)
            s[big] = np.ceil(np.log2(norm[big] / _THETA13)).astype(np.int64)
            u, v = _pade(a / np.ldexp(1.0, s)[..., None, None], 13)
            r = np.linalg.solve(v - u, v + u)
            for i in range(int(s.max(initial=0))):
                r = np.where((s > i)[..., None, None], r @ r, r)
        r[~finite] = np.nan
    return r.astype(dt)


class MatrixExpFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return expm(a)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        n = a.shape[-1]
        big = np.zeros(a.shape[:-2] + (2 * n, 2 * n), a.dtype)
        big[..., :n, :n] = mT(a)
        big[..., n:, n:] = mT(a)
        big[..., :n, n:] = g
        return np.ascontiguousarray(expm(big)[..., :n, n:])


def matrix_exp(A):
    """The matrix exponential of each square matrix of ``A``."""
    x = _t(A)
    check_square("linalg.matrix_exp", x._array)
    return MatrixExpFn.apply(x)
