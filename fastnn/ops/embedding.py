"""Embedding lookup and embedding bags over the compiled core
(``csrc/embedding.c``): the gather in C, and the dense weight gradient
accumulated in C (rows at ``padding_idx`` stay zero), in index order, so it
does not depend on the thread count.  ``max_norm`` renormalises the looked-up
rows of the weight in place before the lookup, as PyTorch does.
"""
import numpy as np

from .. import _core
from .._core import TensorBase
from .._errors import DTypeError, ShapeError
from ..autograd.function import Function
from ._util import c_contig, nthreads
from .activation import _t

_BAG_MODES = {"sum": 0, "mean": 1, "max": 2}


class BagIndexError(IndexError, RuntimeError):
    """An index of ``embedding_bag`` outside the table: a RuntimeError as
    PyTorch raises for bags (an IndexError as for ``embedding``)."""


class BagOffsetsError(ValueError, RuntimeError):
    """``embedding_bag`` offsets not starting at 0: a RuntimeError as in
    PyTorch, and a ValueError."""


def _indices(op, input):
    """The int64 array of indices (int tensors of any width accepted)."""
    a = input._array if isinstance(input, TensorBase) else np.asarray(input)
    if a.dtype.kind not in "iu":
        raise DTypeError(f"{op}: Expected tensor for argument #1 'indices' to have one of the "
                         f"following scalar types: Long, Int; but got {a.dtype} instead")
    return np.asarray(a, dtype=np.int64, order="C")  # (ascontiguousarray makes 0-d 1-d)


def _padding(op, padding_idx, num):
    if padding_idx is None:
        return -1
    if not -num <= padding_idx < num:
        raise ValueError(f"{op}: Padding_idx must be within num_embeddings")
    return padding_idx + num if padding_idx < 0 else padding_idx


def _weight(op, weight):
    w = _t(weight)
    if w.ndim != 2:
        raise ShapeError(f"{op}: 'weight' must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {tuple(w.shape)}")
    if w._array.dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: weight must be float32 or float64, got {w._array.dtype}")
    return w


def _renorm(weight, idx, max_norm, norm_type):
    """PyTorch's embedding_renorm_: rows of ``idx`` with a norm above
    max_norm are scaled to max_norm / (norm + 1e-7), in place."""
    w = weight._array
    rows = np.unique(idx)
    rows = rows[(rows >= 0) & (rows < w.shape[0])]
    if rows.size == 0:
        return
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if np.any(big):
        r = rows[big]
        w[r] = w[r] * (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
        weight._bump()


class EmbeddingFn(Function):
    """y = weight[idx]; backward: the dense gradient of the weight."""
    raw = True

    @staticmethod
    def forward(ctx, weight, idx, padding_idx, scale_grad_by_freq):
        weight = c_contig(weight)
        flat = idx.reshape(-1)
        y = np.empty((flat.shape[0], weight.shape[1]), weight.dtype)
        _core.embedding_fwd(flat, weight, y, nthreads())
        ctx.idx, ctx.num, ctx.pad, ctx.freq = flat, weight.shape[0], padding_idx, \
            scale_grad_by_freq
        ctx.dim = weight.shape[1]
        # the indices, as PyTorch's node saves them (saved_tensors_hooks see
        # them; ctx.idx stays for the double backward and the ONNX export)
        ctx.save_for_backward(idx)
        return y.reshape(idx.shape + (weight.shape[1],))

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        flat = np.ascontiguousarray(idx, dtype=np.int64).reshape(-1)
        g = np.ascontiguousarray(g).reshape(flat.shape[0], ctx.dim)
        scale = None
        if ctx.freq:
            counts = np.bincount(flat, minlength=ctx.num)
            scale = (1.0 / np.maximum(counts, 1)).astype(g.dtype)
        dw = np.empty((ctx.num, g.shape[1]), g.dtype)
        _core.embedding_bwd(flat, g, dw, ctx.pad, scale, nthreads())
        return dw, None, None, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Looks up rows of ``weight`` by the integer ``input``.

    Parameters
    ----------
    input : int Tensor of any shape
    weight : Tensor (num_embeddings, embedding_dim)
    padding_idx : int, optional
        That row gets no gradient.
    max_norm : float, optional
        Rows looked up with a larger ``norm_type``-norm are rescaled in place.
    scale_grad_by_freq : bool
        Scale each row's gradient by 1 / its frequency in the batch.
    sparse : bool
        The gradient is always dense; the rows it touches are noted for
        ``optim.SparseAdam`` (see ``_record_sparse_rows``).

    Shape
    -----
    (*) -> (*, embedding_dim)

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.embedding(fastnn.tensor([[0, 2]]), fastnn.ones(3, 4)).shape
    fastnn.Size([1, 2, 4])
    """
    w = _weight("embedding", weight)
    idx = _indices("embedding", input)
    pad = _padding("embedding", padding_idx, w.shape[0])
    if max_norm is not None:
        _renorm(w, idx, float(max_norm), float(norm_type))
    out = EmbeddingFn.apply(w, idx, pad, bool(scale_grad_by_freq))
    if sparse and out.requires_grad:
        _record_sparse_rows(out, w, idx)
    return out


def _record_sparse_rows(out, weight, idx):
    """``sparse=True``: the gradient stays dense, but the rows a backward
    reaches are noted on the weight (``weight._sparse_rows``, a list of index
    arrays), which are the indices PyTorch's sparse gradient would list;
    ``optim.SparseAdam`` updates exactly those rows and clears the list."""
    rows = idx.ravel().copy()

    def note(grad):
        weight.__dict__.setdefault("_sparse_rows", []).append(rows)
    out.register_hook(note)


class EmbeddingBagFn(Function):
    """Bag reductions (sum, mean, max) of looked-up rows; gradients for the
    weight (dense) and the per-sample weights."""
    raw = True

    @staticmethod
    def forward(ctx, weight, psw, idx, offsets, mode, padding_idx):
        weight = c_contig(weight)
        psw = c_contig(psw) if psw is not None else None
        nb = offsets.shape[0] - 1
        y = np.empty((nb, weight.shape[1]), weight.dtype)
        am = np.empty((nb, weight.shape[1]), np.int64) if mode == 2 else None
        _core.embedding_bag_fwd(idx, offsets, weight, psw, mode, padding_idx, y, am,
                                nthreads())
        ctx.save_for_backward(weight, psw)
        ctx.idx, ctx.offsets, ctx.mode, ctx.pad, ctx.am = idx, offsets, mode, padding_idx, am
        return y

    @staticmethod
    def backward(ctx, g):
        weight, psw = ctx.saved_tensors
        g = np.ascontiguousarray(g, dtype=weight.dtype)
        nw, npsw = ctx.needs_input_grad[:2]
        dw = dpsw = None
        if nw:
            dw = np.empty_like(weight)
            _core.embedding_bag_bwd(ctx.idx, ctx.offsets, psw, ctx.mode, ctx.pad, ctx.am, g,
                                    dw, nthreads())
        if npsw:
            bag = np.repeat(np.arange(ctx.offsets.shape[0] - 1), np.diff(ctx.offsets))
            dpsw = np.einsum("ij,ij->i", g[bag], weight[ctx.idx])
            dpsw[ctx.idx == ctx.pad] = 0
        return dw, dpsw, None, None, None, None


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, means or maxima of bags of embeddings (PyTorch's
    ``F.embedding_bag``).

    Shape
    -----
    input (B, N) (fixed-size bags, offsets None) or (n,) with offsets (B,)
    (B + 1 with ``include_last_offset``) -> (B, embedding_dim).
    """
    op = "embedding_bag"
    w = _weight(op, weight)
    idx = _indices(op, input)
    in_shape = tuple(idx.shape)
    if mode not in _BAG_MODES:
        raise ValueError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    if scale_grad_by_freq:
        raise NotImplementedError(f"{op}: scale_grad_by_freq is not supported")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences.")
        B, L = idx.shape
        offs = np.arange(0, B * L + 1, max(L, 1), dtype=np.int64)[:B + 1]
        if L == 0:
            offs = np.zeros(B + 1, np.int64)
        idx = idx.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        offs = _indices(op, offsets)
        if offs.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        if offs.size and offs[0] != 0:
            raise BagOffsetsError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                                  f"mini-batch has to start from position 0. However, "
                                  f"got {int(offs[0])}")
        if not include_last_offset:
            offs = np.append(offs, np.int64(idx.shape[0]))
        elif offs.size and offs[-1] != idx.shape[0]:
            # PyTorch's result is undefined here (its last bag and gradient
            # read past the offsets): refused, with the reason
            raise ValueError(f"{op}: with include_last_offset=True the last offset ends the "
                             f"last bag and must equal the number of indices "
                             f"({idx.shape[0]}), got {int(offs[-1])}")
        if offs.size and (offs[-1] > idx.shape[0] or np.any(np.diff(offs) < 0)):
            raise ValueError(f"{op}: offsets must be non-decreasing and at most the number of "
                             f"indices ({idx.shape[0]})")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{idx.ndim}")
    if per_sample_weights is not None:
        psw = _t(per_sample_weights)
        if tuple(psw.shape) != in_shape:
            raise ShapeError(f"{op}: If per_sample_weights ({tuple(psw.shape)}) is not None, "
                             f"then it must have the same shape as the input ({in_shape})")
        if psw.ndim == 2:           # fixed-size bags: flattened with the input
            psw = psw.reshape(-1)
        if psw._array.dtype != w._array.dtype:
            raise TypeError(f"{op}: per_sample_weights dtype {psw._array.dtype} must match "
                            f"weight dtype {w._array.dtype}")
    else:
        psw = None
    bad = np.flatnonzero((idx < 0) | (idx >= w.shape[0])) if idx.size else idx
    if bad.size:
        raise BagIndexError(f"{op}: Index {int(bad[0])} of input takes value "
                            f"{int(idx[bad[0]])} which is not in the valid range "
                            f"[0, {w.shape[0]})")
    pad = _padding(op, padding_idx, w.shape[0])
    if max_norm is not None:
        _renorm(w, idx, float(max_norm), float(norm_type))
    return EmbeddingBagFn.apply(w, psw, idx, offs, _BAG_MODES[mode], pad)
