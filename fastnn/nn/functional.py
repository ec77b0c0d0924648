"""Functional interface (``fastnn.nn.functional``, imported as ``F``).

Each function accepts Tensors or ndarrays and returns a Tensor; the maths is
in the autograd Functions of ``fastnn.ops`` (forward and backward in the
compiled core).
"""
import numpy as np

from ..ops import elementwise as _E
from ..ops import linalg as _L
from ..tensor import Tensor


def _t(x):
    """Tensor view of an argument (ndarrays and lists are wrapped)."""
    if isinstance(x, Tensor) or x is None:
        return x
    if isinstance(x, np.ndarray):
        return Tensor._wrap(x)
    return Tensor(x)


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias.

    Shape
    -----
    input (*, in), weight (out, in), bias (out,) -> (*, out)

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.linear(fastnn.ones(2, 3), fastnn.ones(4, 3)).shape
    (2, 4)
    """
    return _L.Linear.apply(_t(input), _t(weight), _t(bias))


def relu(input, inplace=False):
    """max(input, 0) elementwise."""
    return _E.Relu.apply(_t(input))


def sigmoid(input):
    """1 / (1 + exp(-input)), stable for large |input|."""
    return _E.Sigmoid.apply(_t(input))


def tanh(input):
    """Hyperbolic tangent."""
    return _E.Tanh.apply(_t(input))


def flatten(input, start_dim=1, end_dim=-1):
    """Flattens dims start_dim..end_dim into one.

    Shape
    -----
    (N, C, H, W) -> (N, C*H*W) with the defaults."""
    return _t(input).flatten(start_dim, end_dim)


# Layer ops: each public function lives beside its autograd Function in
# fastnn/ops/<family>.py and is re-exported here.
from ..ops.activation import leaky_relu, log_softmax, softmax  # noqa: E402
from ..ops.conv import conv2d  # noqa: E402
from ..ops.dropout import dropout  # noqa: E402
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: E402
                        cross_entropy, mse_loss, nll_loss)
from ..ops.normalization import batch_norm  # noqa: E402
from ..ops.pooling import avg_pool2d, max_pool2d  # noqa: E402
from ..ops.embedding import embedding, embedding_bag  # noqa: E402
from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: E402
