"""The connectionist temporal classification loss (``F.ctc_loss``).

The alpha (forward) and beta (backward) recursions run in log space in C
(``csrc/ctc.c``), one sample per thread; the gradient with respect to the
log-probabilities is PyTorch's ``exp(log_probs) - posterior`` times the
upstream gradient of each sample's loss.  Targets come padded ``(N, S)`` or
concatenated 1-D; both reach the kernel as one int64 array plus each
sample's offset into it.

Reductions as PyTorch: 'none' gives each sample's negative log-likelihood,
'sum' their sum, 'mean' the batch mean of each loss divided by its target
length (clamped to at least 1).  ``zero_infinity`` replaces infinite losses
(no alignment exists: the input is too short for the targets) and their
gradients by zeros; without it such a sample's gradient is NaN, as
PyTorch's.  Deliberate differences: labels outside ``[0, C)`` and targets
containing the blank raise (PyTorch reads out of bounds or computes a
value), and a log-prob of -inf gets a zero gradient (PyTorch: NaN).
"""
import numpy as np

from .. import _core
from .._core import TensorBase
from .._errors import DTypeError, ShapeError
from ..autograd.function import Function
from ._reduction import check_input, check_reduction
from ._util import c_contig, nthreads
from .activation import _t

__all__ = ["ctc_loss"]

_OP = "ctc_loss"


class CTCValueError(ValueError, RuntimeError):
    """A length or the blank out of its range: a RuntimeError as PyTorch's
    ``ctc_loss`` raises, and a ValueError."""


def _array(v):
    return v._array if isinstance(v, TensorBase) else np.asarray(v)


def _lengths(name, v, N):
    """A length argument (Tensor, ndarray, list, tuple or int) as N int64 values."""
    a = _array(v)
    if a.dtype.kind not in "iu":
        raise DTypeError(f"{_OP}: {name} must be integral (an int64 tensor, list or tuple), "
                         f"got dtype {a.dtype}")
    if a.size != N:
        raise ShapeError(f"{_OP}: {name} must be of size batch_size ({N}), got {a.size} "
                         f"value(s) (shape {tuple(a.shape)})")
    a = a.reshape(-1)
    if a.dtype == np.uint64 and a.size and a.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{_OP}: {name} has a value out of range: {int(a.max())}")
    return np.ascontiguousarray(a, dtype=np.int64)


def _targets(v):
    """The targets as an int64 array (floats truncated, as PyTorch converts them)."""
    a = _array(v)
    if a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise ValueError(f"{_OP}: targets must be finite class indices")
        return a.astype(np.int64)
    if a.dtype.kind not in "iub":
        raise TypeError(f"{_OP}: targets must be class indices (an integer tensor), "
                        f"got dtype {a.dtype}")
    if a.dtype == np.uint64 and a.size and a.max() > np.iinfo(np.int64).max:
        raise IndexError(f"{_OP}: target label {int(a.max())} is out of range")
    return a.astype(np.int64, copy=False)


def _check_range(name, a, lo, hi=None):
    """PyTorch's wording for a length below lo or above hi."""
    if a.size and a.min() < lo:
        raise CTCValueError(f"{_OP}: Expected {name} to have value at least {lo}, but got "
                            f"value {int(a.min())}")
    if hi is not None and a.size and a.max() > hi:
        raise CTCValueError(f"{_OP}: Expected {name} to have value at most {hi}, but got "
                            f"value {int(a.max())}")


def _layout(tg, tl, N):
    """(flat int64 targets, each sample's offset, the labels in use) of
    padded (N, S) or concatenated 1-D targets."""
    if tg.ndim == 2:
        if tg.shape[0] != N:
            raise ShapeError(f"{_OP}: Expected targets to have size {N} at dimension 0 (the "
                             f"batch size), but got size {tg.shape[0]} (targets shape "
                             f"{tuple(tg.shape)})")
        S = tg.shape[1]
        if N and tl.max() > S:
            raise ShapeError(f"{_OP}: Expected targets to have size at least {int(tl.max())} "
                             f"at dimension 1 (the longest target length), but got size {S}")
        used = tg[np.arange(S)[None, :] < tl[:, None]]
        return np.ascontiguousarray(tg.reshape(-1)), np.arange(N, dtype=np.int64) * S, used
    if tg.ndim != 1:
        raise ShapeError(f"{_OP}: Expected targets to be 1-D (concatenated) or 2-D (N, S) "
                         f"(padded), but got a {tg.ndim}-D tensor of shape {tuple(tg.shape)}")
    total = int(tl.sum())
    if tg.shape[0] != total:
        raise ShapeError(f"{_OP}: Expected concatenated targets to have size {total} (the sum "
                         f"of target_lengths), but got size {tg.shape[0]}")
    off = np.zeros(N, dtype=np.int64)
    np.cumsum(tl[:-1], out=off[1:])
    return np.ascontiguousarray(tg), off, tg


def _validate(log_probs, targets, input_lengths, target_lengths, blank):
    """Checks the arguments; returns (log_probs as contiguous (T, N, C),
    flat int64 targets, offsets (N), input lengths (N), target lengths (N),
    batched)."""
    check_input(_OP, log_probs, "log_probs")
    if log_probs.ndim not in (2, 3):
        raise ShapeError(f"{_OP}: Expected log_probs to be 3-D (T, N, C) or unbatched 2-D "
                         f"(T, C), but got a {log_probs.ndim}-D tensor of shape "
                         f"{tuple(log_probs.shape)}")
    batched = log_probs.ndim == 3
    lp = log_probs if batched else log_probs[:, None, :]
    if lp.size == 0:
        raise ShapeError(f"{_OP}: log_probs tensor must not be empty, got shape "
                         f"{tuple(log_probs.shape)}")
    T, N, C = lp.shape
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)):
        raise TypeError(f"{_OP}: blank must be an int, got {type(blank).__name__}")
    if not 0 <= blank < C:
        raise CTCValueError(f"{_OP}: blank must be in label range [0, {C}), got blank={blank}")
    il = _lengths("input_lengths", input_lengths, N)
    tl = _lengths("target_lengths", target_lengths, N)
    _check_range("input_lengths", il, 0, T)
    _check_range("target_lengths", tl, 0)
    tg, off, used = _layout(_targets(targets), tl, N)
    bad = used[(used < 0) | (used >= C)]
    if bad.size:
        raise IndexError(f"{_OP}: target label {int(bad[0])} is out of range for {C} classes "
                         f"(valid labels are 0..{C - 1})")
    if (used == blank).any():
        raise ValueError(f"{_OP}: targets must not contain the blank label ({blank})")
    return c_contig(lp), tg, off, il, tl, batched


class CtcLossFn(Function):
    """CTC negative log-likelihood, reduced (csrc/ctc.c)."""
    raw = True

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, reduction,
                zero_infinity):
        lp, tg, off, il, tl, batched = _validate(log_probs, targets, input_lengths,
                                                 target_lengths, blank)
        nll, alpha = _core.ctc_fwd(lp, tg, off, il, tl, int(blank), nthreads())
        loss = nll.copy()                  # (nll itself is kept for the backward)
        if zero_infinity:
            loss[nll == np.inf] = 0
        ctx.save_for_backward(lp, tg, off, il, tl, nll, alpha)
        ctx.info = (log_probs.shape, int(blank), reduction, bool(zero_infinity))
        dt = log_probs.dtype
        if reduction == "none":
            return loss if batched else loss.reshape(())
        if reduction == "sum":
            return np.array(loss.sum(dtype=np.float64), dtype=dt)
        return np.array((loss / np.maximum(tl, 1)).mean(dtype=np.float64), dtype=dt)

    @staticmethod
    def backward(ctx, g):
        if not ctx.needs_input_grad[0]:
            return (None,) * 7
        lp, tg, off, il, tl, nll, alpha = ctx.saved_tensors
        shape, blank, reduction, zi = ctx.info
        N = lp.shape[1]
        if reduction == "none":
            gv = np.asarray(g, dtype=lp.dtype).reshape(N)
        elif reduction == "sum":
            gv = np.full(N, float(g), dtype=lp.dtype)
        else:
            gv = (float(g) / N / np.maximum(tl, 1)).astype(lp.dtype)
        gx = _core.ctc_bwd(lp, tg, off, il, tl, blank, nll, alpha,
                           np.ascontiguousarray(gv), zi, nthreads())
        return (gx.reshape(shape),) + (None,) * 6


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """The connectionist temporal classification loss: the negative
    log-probability of the targets summed over every alignment of the
    inputs (blank symbols between labels, repeats merged).

    Parameters
    ----------
    log_probs : Tensor (float32/float64)
        Log-probabilities over the classes (``log_softmax`` output), time-major.
    targets : Tensor or array of int
        Padded ``(N, S)`` labels (each row's first ``target_lengths[b]``
        used) or all targets concatenated 1-D; never the blank.
    input_lengths, target_lengths : Tensor, list or tuple of ints
        One per sample: ``0 <= input_lengths[b] <= T``, ``target_lengths[b] >= 0``.
        A target longer than its input can align to (repeated labels need a
        blank between them) gives an infinite loss.
    blank : int
        The blank label, in ``[0, C)``.
    reduction : {'mean', 'sum', 'none'}
        'mean': each loss divided by its target length (at least 1), then
        averaged over the batch.
    zero_infinity : bool
        Replace infinite losses and their gradients by zeros.

    Shape
    -----
    log_probs (T, N, C) or unbatched (T, C); targets (N, S) or
    (sum(target_lengths),); lengths (N,); output a scalar, or (N,) with
    ``reduction='none'`` (a scalar when unbatched).

    Examples
    --------
    >>> import numpy as np, fastnn, fastnn.nn.functional as F
    >>> lp = fastnn.tensor(np.log(np.full((3, 1, 2), 0.5)))
    >>> round(F.ctc_loss(lp, np.array([[1]]), [3], [1], reduction='sum').item(), 4)  # -log 6/8
    0.2877
    """
    check_reduction(_OP, reduction)
    return CtcLossFn.apply(_t(log_probs), _unwrap(targets), _unwrap(input_lengths),
                           _unwrap(target_lengths), blank, reduction, bool(zero_infinity))


def _unwrap(v):
    """Index arguments go to the Function as ndarrays or Python values (not
    Tensors: the engine would treat them as inputs)."""
    return v._array if isinstance(v, TensorBase) else v
