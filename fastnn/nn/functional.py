"""Functional interface (``fastnn.nn.functional``, imported as ``F``).

Each function accepts Tensors or ndarrays and returns a Tensor; the maths is
in the autograd Functions of ``fastnn.ops`` (forward and backward in the
compiled core).
"""
import numpy as np

from ..ops import elementwise as _E
from ..ops import linalg as _L
from .._tensor import Tensor, _wrap_data


def _t(x):
    """Tensor view of an argument (ndarrays and lists are wrapped)."""
    if isinstance(x, Tensor) or x is None:
        return x
    if isinstance(x, np.ndarray):
        return Tensor._wrap(x)
    return _wrap_data(x)


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias.

    Shape
    -----
    input (*, in), weight (out, in), bias (out,) -> (*, out)

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.linear(fastnn.ones(2, 3), fastnn.ones(4, 3)).shape
    fastnn.Size([2, 4])
    """
    return _L.LinearFn.apply(_t(input), _t(weight), _t(bias))


def relu(input, inplace=False):
    """max(input, 0) elementwise; ``inplace=True`` overwrites ``input``
    (``input.relu_()``) and returns it."""
    if inplace:
        return _t(input).relu_()
    return _E.ReluFn.apply(_t(input))


def sigmoid(input):
    """1 / (1 + exp(-input)), stable for large |input|."""
    return _E.SigmoidFn.apply(_t(input))


def tanh(input):
    """Hyperbolic tangent."""
    return _E.TanhFn.apply(_t(input))


def flatten(input, start_dim=1, end_dim=-1):
    """Flattens dims start_dim..end_dim into one.

    Shape
    -----
    (N, C, H, W) -> (N, C*H*W) with the defaults."""
    return _t(input).flatten(start_dim, end_dim)


# Layer ops: each public function lives beside its autograd Function in
# fastnn/ops/<family>.py and is re-exported here.
from ..ops.activation import (celu, elu, gelu, hardsigmoid, hardswish, hardtanh,  # noqa: E402
                              leaky_relu, log_softmax, logsigmoid, mish, prelu, relu6, selu,
                              silu, softmax, softmin, softplus, softsign, threshold)
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: E402
from ..ops.conv_pad import pad  # noqa: E402
from ..ops.dropout import (alpha_dropout, dropout, dropout1d, dropout2d,  # noqa: E402
                           dropout3d, feature_alpha_dropout)
from ..ops.encoding import one_hot  # noqa: E402
from ..ops.resample import (interpolate, pixel_shuffle, pixel_unshuffle,  # noqa: E402
                            upsample)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: E402
                        cosine_embedding_loss, cross_entropy, gaussian_nll_loss,
                        hinge_embedding_loss, huber_loss, kl_div, l1_loss, margin_ranking_loss,
                        mse_loss, multi_margin_loss, multilabel_soft_margin_loss, nll_loss,
                        poisson_nll_loss, smooth_l1_loss, soft_margin_loss, triplet_margin_loss)
from ..ops.distance import cosine_similarity, normalize, pairwise_distance, pdist  # noqa: E402
from ..ops.normalization import (batch_norm, group_norm, instance_norm,  # noqa: E402
                                 layer_norm, local_response_norm, rms_norm)
from ..ops.activation_misc import (celu_, channel_shuffle, elu_, glu, hardshrink,  # noqa: E402
                                   hardtanh_, leaky_relu_, relu_, selu_, softshrink, tanhshrink,
                                   threshold_)
from ..ops.pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d,  # noqa: E402
                           adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d, avg_pool2d,
                           max_pool1d, max_pool1d_with_indices, max_pool2d,
                           max_pool2d_with_indices, max_unpool1d, max_unpool2d)
from ..ops.embedding import embedding, embedding_bag  # noqa: E402
from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: E402
# sliding blocks, spatial transformer, bilinear, extra losses and pooling (branch apinn)
from ..ops.fold import fold, unfold  # noqa: E402
from ..ops.grid_sample import affine_grid, grid_sample  # noqa: E402
from ..ops.bilinear import bilinear  # noqa: E402
from ..ops.gumbel import gumbel_softmax  # noqa: E402


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """(output, indices) whatever return_indices says, as PyTorch's."""
    return adaptive_max_pool1d(input, output_size, return_indices=True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """(output, indices) whatever return_indices says, as PyTorch's."""
    return adaptive_max_pool2d(input, output_size, return_indices=True)


# randomized leaky ReLU, power-average pooling, multi-label margin and
# triplet-with-distance losses (branch nnrest)
from ..ops.rrelu import rrelu, rrelu_  # noqa: E402
from ..ops.lp_pool import lp_pool1d, lp_pool2d  # noqa: E402
from ..ops.loss_margin import (multilabel_margin_loss,  # noqa: E402
                               triplet_margin_with_distance_loss)
# connectionist temporal classification loss (branch ctc)
from ..ops.loss_ctc import ctc_loss  # noqa: E402
# 3-D convolution and pooling, composed of the 2-D ops (branch layers-3d)
from ..ops.conv3d import conv3d, conv_transpose3d  # noqa: E402
from ..ops.pooling3d import (adaptive_avg_pool3d, adaptive_max_pool3d,  # noqa: E402
                             adaptive_max_pool3d_with_indices, avg_pool3d, max_pool3d,
                             max_pool3d_with_indices, max_unpool3d)
from ..ops.lp_pool import lp_pool3d  # noqa: E402



def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction='mean', ignore_index=None, label_smoothing=0.0,
                         options=None):
    """``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)``
    (PyTorch computes it in chunks when ``options`` asks; the numbers are
    those of the two ops, which fastnn runs).  ``ignore_index=None`` is
    cross_entropy's default, -100."""
    logits = linear(input, linear_weight, linear_bias)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=-100 if ignore_index is None else ignore_index,
                         label_smoothing=label_smoothing)
