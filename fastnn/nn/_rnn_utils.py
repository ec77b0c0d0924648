"""Packed and padded sequences (PyTorch's ``torch.nn.utils.rnn``).

``PackedSequence`` holds the rows of a batch of sequences of unequal length
time-major, step t holding the ``batch_sizes[t]`` sequences still running,
longest first: the layout ``nn.LSTM``/``GRU``/``RNN`` consume directly (each
step processes the active prefix of the batch).  Packing and unpacking are
one gather/scatter node each, so gradients flow to the padded tensor.
"""
from collections import namedtuple

import numpy as np

from .._core import TensorBase
from .._errors import DTypeError, ShapeError
from ..autograd.function import Function
from .._tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence", "invert_permutation"]


def _arr(x):
    return x._array if isinstance(x, TensorBase) else np.asarray(x)


def _t(x):
    return x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))


def invert_permutation(permutation):
    """The inverse of an index permutation (None stays None)."""
    if permutation is None:
        return None
    p = _arr(permutation).astype(np.int64)
    out = np.empty_like(p)
    out[p] = np.arange(p.shape[0], dtype=np.int64)
    return Tensor._wrap(out)


_PackedSequenceBase = namedtuple("PackedSequence",
                                 ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """A batch of variable-length sequences packed time-major.

    Attributes
    ----------
    data : Tensor (sum(lengths), *)
    batch_sizes : int64 Tensor (T,): sequences active at each step
    sorted_indices : int64 Tensor (B,) or None: batch order of the packing
    unsorted_indices : int64 Tensor (B,) or None: its inverse

    Build it with ``pack_padded_sequence`` or ``pack_sequence``, not directly.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None and not isinstance(batch_sizes, Tensor):
            batch_sizes = Tensor._wrap(np.asarray(batch_sizes, np.int64))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes,
                                                         self.sorted_indices,
                                                         self.unsorted_indices)

    def cpu(self):
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


class _GatherRowsFn(Function):
    """out = x.reshape(-1, *f)[idx]; backward scatters into zeros."""
    raw = True

    @staticmethod
    def forward(ctx, x, idx, shape):
        ctx.shape = x.shape
        ctx.idx = idx
        return np.ascontiguousarray(x.reshape((-1,) + shape)[idx])

    @staticmethod
    def backward(ctx, g):
        out = np.zeros((ctx.shape[0] * ctx.shape[1],) + g.shape[1:], g.dtype)
        out[ctx.idx] = g
        return out.reshape(ctx.shape), None, None


class _ScatterRowsFn(Function):
    """out = full(shape, value); out.reshape(-1, *f)[idx] = x; backward gathers."""
    raw = True

    @staticmethod
    def forward(ctx, x, idx, shape, value):
        out = np.full(shape, value, dtype=x.dtype)
        out.reshape((-1,) + x.shape[1:])[idx] = x
        ctx.idx = idx
        return out

    @staticmethod
    def backward(ctx, g):
        g = np.ascontiguousarray(g)
        return g.reshape((-1,) + g.shape[2:])[ctx.idx], None, None, None


def _row_index(batch_sizes, order, T, B, batch_first):
    """Flat row (in a (T, B) or (B, T) padded layout) of every packed row."""
    t = np.repeat(np.arange(len(batch_sizes), dtype=np.int64), batch_sizes)
    b = np.concatenate([np.arange(n, dtype=np.int64) for n in batch_sizes])
    if order is not None:
        b = order[b]
    return b * T + t if batch_first else t * B + b


class _NotPackedError(TypeError, AttributeError):
    """pad_packed_sequence given something else than a PackedSequence (an
    AttributeError in PyTorch, which reads its fields)."""


class _PadArgError(ValueError, TypeError, RuntimeError):
    """pad_sequence's bad padding_side or non-iterable input: RuntimeErrors
    in PyTorch."""


def _lengths(lengths):
    if isinstance(lengths, TensorBase):
        lengths = lengths._array
    a = np.asarray(lengths)
    # float lengths (e.g. a float mask's ``mask.sum(1)``) are accepted and
    # truncated, as PyTorch's ``torch.as_tensor(lengths, dtype=torch.int64)``
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iuf"):
        # (a RuntimeError in PyTorch; DTypeError is a TypeError and a RuntimeError)
        raise DTypeError(f"pack_padded_sequence: lengths must be a 1-D sequence of ints, got "
                         f"{a.dtype} of shape {a.shape}")
    return a.astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch (T, B, *) ((B, T, *) with ``batch_first``) of
    sequences with the given lengths.

    With ``enforce_sorted`` the lengths must be non-increasing; otherwise the
    batch is sorted by length (stably) and the permutation kept in the result.
    """
    x = _t(input)
    lens = _lengths(lengths)
    if x.ndim < 2:
        raise ShapeError(f"pack_padded_sequence: input must have at least 2 dimensions, got "
                         f"{x.ndim}")
    T, B = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
    if lens.shape[0] != B:
        raise ShapeError(f"pack_padded_sequence: Expected `len(lengths)` to be equal to "
                         f"batch_size, but got {lens.shape[0]} (batch_size={B})")
    if B and lens.min() <= 0:
        raise ShapeError("pack_padded_sequence: Length of all samples has to be greater than "
                         "0, but found an element in 'lengths' that is <= 0")
    if B and lens.max() > T:
        raise ShapeError(f"pack_padded_sequence: a length ({int(lens.max())}) exceeds the "
                         f"padded sequence length {T}")
    sorted_indices = None
    if enforce_sorted:
        if np.any(lens[1:] > lens[:-1]):
            raise ShapeError("`lengths` array must be sorted in decreasing order when "
                             "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                             "pack_padded_sequence and/or pack_sequence to sidestep this "
                             "requirement if you do not need ONNX exportability.")
        order = None
    else:
        order = np.argsort(-lens, kind="stable").astype(np.int64)
        lens = lens[order]
        sorted_indices = Tensor._wrap(order)
    batch_sizes = np.array([(lens > t).sum() for t in range(int(lens[0]) if B else 0)],
                           np.int64)
    idx = _row_index(batch_sizes, order, T, B, batch_first)
    data = _GatherRowsFn.apply(x, idx, tuple(x.shape[2:]))
    return PackedSequence(data, Tensor._wrap(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of ``pack_padded_sequence``: returns (padded, lengths), the
    batch in its original order, padded with ``padding_value`` up to the
    longest sequence (or ``total_length``)."""
    if not isinstance(sequence, PackedSequence):
        raise _NotPackedError(f"pad_packed_sequence: expected a PackedSequence, got "
                              f"{type(sequence).__name__}")
    data, batch_sizes, sorted_indices, unsorted_indices = sequence
    bs = _arr(batch_sizes).astype(np.int64)
    B, T = int(bs[0]), len(bs)
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {T}")
        T = int(total_length)
    order = None if sorted_indices is None else _arr(sorted_indices).astype(np.int64)
    idx = _row_index(bs, order, T, B, batch_first)
    feat = tuple(data.shape[1:])
    shape = ((B, T) if batch_first else (T, B)) + feat
    padded = _ScatterRowsFn.apply(_t(data), idx, shape, padding_value)
    lens = (bs[None, :] > np.arange(B)[:, None]).sum(axis=1).astype(np.int64)
    if unsorted_indices is not None:
        lens = lens[_arr(unsorted_indices).astype(np.int64)]
    return padded, Tensor._wrap(lens)


class _PadFn(Function):
    """pad_sequence: copies each sequence into its slot of the padded batch."""
    raw = True

    @staticmethod
    def forward(ctx, *xs, batch_first, value, left):
        L = max(x.shape[0] for x in xs)
        feat = xs[0].shape[1:]
        out = np.full((len(xs), L) + feat, value, dtype=np.result_type(*xs))
        for i, x in enumerate(xs):
            if x.shape[1:] != feat:
                raise ShapeError(f"pad_sequence: sequence {i} has trailing shape "
                                 f"{tuple(x.shape[1:])}, expected {tuple(feat)}")
            if left:
                out[i, L - x.shape[0]:] = x
            else:
                out[i, :x.shape[0]] = x
        ctx.lens = [x.shape[0] for x in xs]
        ctx.left, ctx.bf = left, batch_first
        return out if batch_first else np.ascontiguousarray(out.swapaxes(0, 1))

    @staticmethod
    def backward(ctx, g):
        if not ctx.bf:
            g = g.swapaxes(0, 1)
        L = g.shape[1]
        return tuple(np.ascontiguousarray(g[i, L - n:] if ctx.left else g[i, :n])
                     for i, n in enumerate(ctx.lens))


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Pads a list of (L_i, *) tensors into (L, B, *) ((B, L, *) with
    ``batch_first``), with ``padding_value`` after (``'right'``) or before
    (``'left'``) each sequence."""
    if padding_side not in ("right", "left"):
        raise _PadArgError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if isinstance(sequences, TensorBase):
        sequences = list(sequences)
    elif not hasattr(sequences, "__iter__"):
        raise _PadArgError(f"pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences).__name__}")
    seqs = [_t(s) for s in sequences]
    if not seqs:
        # (a RuntimeError in PyTorch; ShapeError is a ValueError and a RuntimeError)
        raise ShapeError("pad_sequence: received an empty list of sequences")
    if any(s.ndim == 0 for s in seqs):
        raise ShapeError("pad_sequence: every sequence needs at least 1 dimension")
    return _PadFn.apply(*seqs, batch_first=batch_first, value=padding_value,
                        left=padding_side == "left")


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of (L_i, *) tensors (longest first with ``enforce_sorted``)."""
    lengths = [int(_t(s).shape[0]) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Splits a padded batch back into a list of (L_i, *) tensors."""
    x = _t(padded_sequences)
    if not batch_first:
        x = x.transpose(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(_lengths(lengths))]


def unpack_sequence(packed_sequences):
    """Splits a PackedSequence into its list of (L_i, *) tensors."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
