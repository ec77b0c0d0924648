"""The adaptive softmax of ``nn.AdaptiveLogSoftmaxWithLoss`` (Grave et al.,
2017), composed from differentiable ops: the head (a linear layer over the
shortlist of frequent classes plus one logit per tail cluster), each tail
cluster (two bias-free linear layers), ``log_softmax``, ``gather``,
``index_select`` and ``index_add``.  No new backward: autograd chains the
pieces.

    log p(c) = log softmax(head(x))[c]                          c < cutoffs[0]
    log p(c) = log softmax(head(x))[shortlist + i]
               + log softmax(tail_i(x))[c - cutoffs[i]]         cutoffs[i] <= c < cutoffs[i+1]

``head`` and ``tail`` are the module's callables (its Linear and
Sequential children), so hooks on them run as in PyTorch.
"""
from collections import namedtuple

import numpy as np

from .._core import TensorBase
from .._errors import ShapeError
from .activation import _t, log_softmax
from .indexing import gather, index_add, index_select
from ..autograd.grad_mode import no_grad
from .shape import CatFn

__all__ = ["adaptive_log_softmax_loss", "adaptive_log_prob", "adaptive_predict"]

# PyTorch's name for the (output, loss) pair
_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


def _targets(input, target, n_classes):
    """(input as (B, F), target as (B,) int64 ndarray, batched) with
    PyTorch's checks."""
    t = target._array if isinstance(target, TensorBase) else np.asarray(target)
    if t.ndim == 1:
        if input.shape[0] != t.shape[0]:
            raise ShapeError("AdaptiveLogSoftmaxWithLoss: Input and target should have the same "
                             f"size in the batch dimension (input {tuple(input.shape)}, "
                             f"target {tuple(t.shape)}).")
        if input.ndim != 2:
            raise ShapeError("AdaptiveLogSoftmaxWithLoss: 1D target tensor expects 2D input "
                             f"tensors, but found inputs with size {tuple(input.shape)}")
    elif t.ndim == 0:
        if input.ndim != 1:
            raise ShapeError("AdaptiveLogSoftmaxWithLoss: 0D target tensor expects 1D input "
                             f"tensors, but found inputs with size {tuple(input.shape)}")
    else:
        raise ShapeError("AdaptiveLogSoftmaxWithLoss: 0D or 1D target tensor expected, "
                         f"multi-target not supported (got shape {tuple(t.shape)})")
    if t.dtype.kind not in "iu":
        raise TypeError("AdaptiveLogSoftmaxWithLoss: target must hold int64 class indices, "
                        f"got dtype {t.dtype}")
    batched = t.ndim == 1
    t = t.reshape(-1).astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        raise IndexError(f"AdaptiveLogSoftmaxWithLoss: Target values should be in [0, "
                         f"{n_classes - 1}], but values in range [{int(t.min())}, "
                         f"{int(t.max())}] were found.")
    return (input if input.ndim == 2 else input.reshape(1, -1)), t, batched


def adaptive_log_softmax_loss(input, target, head, tail, cutoffs, n_classes):
    """(output, loss): the log-probability of each target (B,) (or () for one
    sample) and the mean negative log-likelihood.  ``cutoffs`` ends with
    ``n_classes``."""
    input = _t(input)
    x, t, batched = _targets(input, target, n_classes)
    shortlist = cutoffs[0]
    gather_inds = np.where(t < shortlist, t, 0)
    output = x.new_zeros(t.shape[0])
    for i in range(len(cutoffs) - 1):
        lo, hi = cutoffs[i], cutoffs[i + 1]
        rows = np.flatnonzero((t >= lo) & (t < hi))
        if rows.size == 0:
            continue
        gather_inds[rows] = shortlist + i
        logp = log_softmax(tail[i](index_select(x, 0, rows)), 1)
        local = gather(logp, 1, (t[rows] - lo).reshape(-1, 1)).reshape(-1)
        output = index_add(output, 0, rows, local)
    head_logp = log_softmax(head(x), 1)
    output = output + gather(head_logp, 1, gather_inds.reshape(-1, 1)).reshape(-1)
    loss = (-output).mean()
    return _ASMoutput(output if batched else output.reshape(()), loss)


def _full_log_prob(x, head_output, tail, cutoffs):
    """(B, n_classes) log-probabilities from the head's output."""
    head_logp = log_softmax(head_output, 1)
    shortlist = cutoffs[0]
    parts = [head_logp[:, :shortlist]]
    for i in range(len(cutoffs) - 1):
        parts.append(log_softmax(tail[i](x), 1) + head_logp[:, shortlist + i:shortlist + i + 1])
    return CatFn.apply(*parts, dim=1)


def _check_2d(op, x, in_features):
    if x.ndim != 2:
        raise ShapeError(f"AdaptiveLogSoftmaxWithLoss.{op}: input must be 2-D (N, "
                         f"{in_features}), got shape {tuple(x.shape)}")


def adaptive_log_prob(input, head, tail, cutoffs, in_features):
    """Log-probabilities of every class, (N, n_classes)."""
    x = _t(input)
    _check_2d("log_prob", x, in_features)
    return _full_log_prob(x, head(x), tail, cutoffs)


def adaptive_predict(input, head, tail, cutoffs, in_features):
    """The most probable class of each row, (N,) int64: the head's argmax
    when it is a shortlist class, else the argmax of the full distribution
    (computed only for those rows)."""
    x = _t(input)
    _check_2d("predict", x, in_features)
    with no_grad():
        head_output = head(x)
        out = np.argmax(head_output._array, axis=1).astype(np.int64)
        rest = np.flatnonzero(out >= cutoffs[0])
        if rest.size:
            sub = rest if rest.size < out.size else slice(None)
            lp = _full_log_prob(x[sub], head_output[sub], tail, cutoffs)
            out[rest] = np.argmax(lp._array, axis=1)
    return type(x)._wrap(out)
