"""``bilinear``: y[b, o] = x1[b] @ W[o] @ x2[b] + bias[o] (PyTorch's
``F.bilinear``), as GEMMs over the flattened batch:

    t  (B, out, in2) = x1 (B, in1) @ W viewed as (in1, out*in2)
    y  (B, out)      = sum_j t[:, :, j] x2[:, j]

backward: dx2 = sum_o g t;  dx1 = (g x2) (B, out*in2) @ W viewed as
(out*in2, in1);  dW = g^T (B, out) @ (x1 outer x2) (B, in1*in2);  db = sum g.
"""
import numpy as np

from .._errors import ShapeError
from ..autograd.function import Function
from ._util import check_float
from .activation import _t

__all__ = ["bilinear"]


def _validate(x1, x2, w, b):
    if x1.ndim != x2.ndim:
        raise ShapeError(f"bilinear(): input dimensions do not match: got {x1.ndim} and "
                         f"{x2.ndim}")
    for i in range(x1.ndim - 1):
        if x1.shape[i] != x2.shape[i]:
            raise ShapeError(f"bilinear(): input batch dimensions do not match at dim {i}: "
                             f"got {x1.shape[i]} and {x2.shape[i]}")
    if w.ndim != 3:
        raise ShapeError(f"bilinear(): weight must be 3-D (out, in1, in2), got {w.shape}")
    if x1.ndim == 0 or x1.shape[-1] != w.shape[1]:
        raise ShapeError(f"bilinear(): input1 size does not match weight size: got "
                         f"{x1.shape[-1] if x1.ndim else 0} but expected {w.shape[1]}")
    if x2.shape[-1] != w.shape[2]:
        raise ShapeError(f"bilinear(): input2 size does not match weight size: got "
                         f"{x2.shape[-1]} but expected {w.shape[2]}")
    if b is not None and (b.ndim != 1 or b.shape[0] != w.shape[0]):
        raise ShapeError(f"bilinear(): bias size does not match weight size: got "
                         f"{b.shape[-1] if b.ndim else 0} but expected {w.shape[0]}")
    for n, a in (("input1", x1), ("input2", x2), ("weight", w), ("bias", b)):
        if a is not None:
            check_float("bilinear", n, a)
            if a.dtype != x1.dtype:
                raise TypeError(f"bilinear(): expected {n} to have dtype {x1.dtype}, got "
                                f"{a.dtype}")


class BilinearFn(Function):
    raw = True

    @staticmethod
    def forward(ctx, x1, x2, w, b=None):
        _validate(x1, x2, w, b)
        O, I1, I2 = w.shape
        lead = x1.shape[:-1]
        a1, a2 = x1.reshape(-1, I1), x2.reshape(-1, I2)
        t = (a1 @ w.transpose(1, 0, 2).reshape(I1, O * I2)).reshape(-1, O, I2)
        y = np.matmul(t, a2[:, :, None])[..., 0]
        if b is not None:
            y += b
        ctx.save_for_backward(x1, x2, w)
        ctx.t = t
        return y.reshape(lead + (O,))

    @staticmethod
    def backward(ctx, g):
        x1, x2, w = ctx.saved_tensors
        O, I1, I2 = w.shape
        a1, a2, gr = x1.reshape(-1, I1), x2.reshape(-1, I2), g.reshape(-1, O)
        need = ctx.needs_input_grad
        g1 = g2 = gw = gb = None
        if need[0]:
            gx2o = (gr[:, :, None] * a2[:, None, :]).reshape(-1, O * I2)
            g1 = (gx2o @ w.transpose(0, 2, 1).reshape(O * I2, I1)).reshape(x1.shape)
        if need[1]:
            g2 = np.matmul(gr[:, None, :], ctx.t)[:, 0].reshape(x2.shape)
        if need[2]:
            outer = (a1[:, :, None] * a2[:, None, :]).reshape(-1, I1 * I2)
            gw = (gr.T @ outer).reshape(O, I1, I2)
        if len(need) > 3 and need[3]:
            gb = gr.sum(0)
        return g1, g2, gw, gb


def bilinear(input1, input2, weight, bias=None):
    """y = x1^T A x2 + b over the last dims: input1 (*, in1), input2 (*, in2),
    weight (out, in1, in2), bias (out,) -> (*, out).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.bilinear(fastnn.ones(2, 3), fastnn.ones(2, 4), fastnn.ones(5, 3, 4)).shape
    fastnn.Size([2, 5])
    """
    if bias is None:
        return BilinearFn.apply(_t(input1), _t(input2), _t(weight))
    return BilinearFn.apply(_t(input1), _t(input2), _t(weight), _t(bias))
