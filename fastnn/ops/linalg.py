"""Matrix products.  Every product goes through ``fnn_gemm`` (csrc/gemm.c);
a transposed view is passed to it as a transpose flag, not copied."""
import numpy as np

from .. import _core
from .._errors import ShapeError
from ..autograd.function import Function
from .._config import state as _state
from ._util import is_float, unbroadcast, untracked


def _operand(a, trans):
    """(C-contiguous array, transpose flag) giving op(a), copying only if needed."""
    if a.flags.c_contiguous:
        return a, trans
    if a.flags.f_contiguous:
        return a.T, not trans
    return np.ascontiguousarray(a), trans


def mm(a, b, out=None, trans_a=False, trans_b=False, beta=0.0):
    """2-D product ``op(a) @ op(b)`` through fnn_gemm (float32/float64 only).

    ``out`` (C-contiguous) receives the result, accumulated as
    ``out = product + beta * out``."""
    A, ta = _operand(a, trans_a)
    B, tb = _operand(b, trans_b)
    M = a.shape[1] if trans_a else a.shape[0]
    K = a.shape[0] if trans_a else a.shape[1]
    N = b.shape[0] if trans_b else b.shape[1]
    if out is None:
        out = np.empty((M, N), dtype=a.dtype)
        beta = 0.0
    # a small product runs on one thread (the GEMM's result does not depend
    # on the thread count): a team saves a few microseconds at best there,
    # and on a busy machine can wait a scheduler slice for its second thread
    nt = _state.threads if M * N * K >= _GEMM_SERIAL_MACS else 1
    _core.gemm(A, B, out, ta, tb, 1.0, beta, nt)
    return out


# Products below this many multiply-adds run serially (the convolution's
# cut-off too).  Measured: the Linear(4096 -> 10) products of a batch of 8
# (327,680 multiply-adds) take 17-20 us on 1 thread and 11-17 us on 2.
_GEMM_SERIAL_MACS = 1 << 19


def _check(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("matmul: both arguments need at least 1 dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                         f"multiplied ({ka} != {kb})")


def matmul_arrays(a, b):
    """NumPy ``matmul`` semantics (1-D, 2-D and broadcast batches), computed
    with fnn_gemm for float arrays."""
    _check(a, b)
    if not (is_float(a) and is_float(b)):
        if a.dtype.kind in "cUSOV" or b.dtype.kind in "cUSOV":
            raise TypeError(f"matmul: unsupported dtypes {a.dtype} and {b.dtype}")
        return np.matmul(a, b)  # integer products: NumPy (no float kernel applies)
    dt = np.result_type(a, b)
    a = a.astype(dt, copy=False)
    b = b.astype(dt, copy=False)
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    if a2.ndim == 2 and b2.ndim == 2:
        out = mm(a2, b2)
    else:
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        A = np.broadcast_to(a2, batch + a2.shape[-2:]).reshape(-1, *a2.shape[-2:])
        B = np.broadcast_to(b2, batch + b2.shape[-2:]).reshape(-1, *b2.shape[-2:])
        out = np.empty((A.shape[0], a2.shape[-2], b2.shape[-1]), dt)
        for i in range(A.shape[0]):
            mm(A[i], B[i], out=out[i])
        out = out.reshape(batch + out.shape[-2:])
    if a.ndim == 1:
        out = out.reshape(out.shape[:-2] + out.shape[-1:])
    if b.ndim == 1:
        out = out.reshape(out.shape[:-1])
    return out


class MatMul(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if (a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype and is_float(a)
                and a.shape[1] == b.shape[0]):
            return mm(a, b)
        return matmul_arrays(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        if a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype == g.dtype:
            return (mm(g, b, trans_b=True) if na else None,
                    mm(a, g, trans_a=True) if nb else None)
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = gb = None
        if na:
            ga = matmul_arrays(g2, np.swapaxes(b2, -1, -2))
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        if nb:
            gb = matmul_arrays(np.swapaxes(a2, -1, -2), g2)
            gb = unbroadcast(gb, b2.shape).reshape(b.shape)
        return ga, gb


def _linear_fwd(x, weight, bias):
    """x @ weight.T + bias on arrays, with the checks of ``linear``."""
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{tuple(weight.shape)}")
    if x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape "
                         f"{tuple(x.shape)}) but weight expects {weight.shape[1]} (weight "
                         f"shape {tuple(weight.shape)})")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise ShapeError(f"linear: bias must have shape ({weight.shape[0]},), got "
                         f"{tuple(bias.shape)}")
    if not (is_float(x) and x.dtype == weight.dtype):
        raise TypeError(f"linear: input dtype {x.dtype} must be float32/float64 and match "
                        f"weight dtype {weight.dtype}")
    x2 = x.reshape(-1, x.shape[-1])
    out = np.empty((x2.shape[0], weight.shape[0]), x.dtype)
    if bias is not None:
        out[...] = bias
        mm(x2, weight, out=out, trans_b=True, beta=1.0)
    else:
        mm(x2, weight, out=out, trans_b=True)
    return out.reshape(x.shape[:-1] + (weight.shape[0],))


class Linear(Function):
    """y = x W^T + b with W of shape (out, in); x of shape (*, in).

    Forward: one fnn_gemm with W passed transposed (no copy) and the bias
    broadcast-added.  Backward: dx = g W, dW = g^T x (both fnn_gemm, the
    transposes as flags), db = sum of g over the batch."""
    raw = True

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        out = _linear_fwd(x, weight, bias)
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        nx, nw, nb = (tuple(ctx.needs_input_grad) + (False,))[:3]
        g2 = g.reshape(-1, w.shape[0])
        gx = gw = gb = None
        if nx:
            gx = mm(g2, w).reshape(x.shape)
        if nw:
            gw = mm(g2, x.reshape(-1, x.shape[-1]), trans_a=True)
        if nb:
            gb = g2.sum(axis=0)
        return gx, gw, gb


def linear_infer(x, weight, bias):
    """``linear`` straight on the arrays when nothing is to be recorded for
    backward (grad mode off, or no argument requires grad): no graph node,
    the same computation as the full path.  Returns a Tensor, or None when
    an argument is not a Tensor (the full path wraps it).  ``nn.Linear``
    tries it first."""
    T = untracked(x, weight, bias)
    if T is None:
        return None
    return T._wrap(_linear_fwd(x._array, weight._array, None if bias is None else bias._array))
