"""Folding an eval-mode batch norm into the convolution or linear layer
before it (PyTorch's ``torch.nn.utils.fusion``):
``w' = w * gamma / sqrt(var + eps)`` per output channel,
``b' = (b - mean) * gamma / sqrt(var + eps) + beta``."""
import copy

import numpy as np

from ..._tensor import Tensor
from ..parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def _a(t):
    return None if t is None else (t._array if isinstance(t, Tensor) else np.asarray(t))


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """(fused weight, fused bias) as Parameters; the output channels are dim 0
    of the weight (dim 1 with ``transpose=True``, a transposed convolution).
    A missing conv bias, bn weight or bn bias counts as 0, 1, 0."""
    w, rm, rv = _a(conv_w), _a(bn_rm), _a(bn_rv)
    b = np.zeros_like(rm) if conv_b is None else _a(conv_b)
    gamma = np.ones_like(rm) if bn_w is None else _a(bn_w)
    beta = np.zeros_like(rm) if bn_b is None else _a(bn_b)
    scale = gamma / np.sqrt(rv + bn_eps)
    shape = [1] * w.ndim
    shape[1 if transpose else 0] = -1
    fw = (w * scale.reshape(shape)).astype(w.dtype)
    fb = ((b - rm) * scale + beta).astype(w.dtype)
    return Parameter(Tensor._wrap(fw), requires_grad=conv_w.requires_grad), \
        Parameter(Tensor._wrap(fb), requires_grad=conv_w.requires_grad if conv_b is None
                  else conv_b.requires_grad)


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` with ``bn`` (both in eval mode) folded into its
    weight and bias."""
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused = copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("fuse_conv_bn_eval: bn needs running statistics")
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """(fused weight, fused bias) of a linear layer followed by a batch norm."""
    return fuse_conv_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` with ``bn`` (both in eval mode) folded in."""
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if linear.out_features != bn.num_features:
        raise AssertionError("To fuse, linear.out_features must equal bn.num_features")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused
