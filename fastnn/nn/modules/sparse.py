"""``Embedding`` and ``EmbeddingBag`` (PyTorch's ``torch.nn.modules.sparse``):
a lookup table of ``num_embeddings`` rows, initialised from N(0, 1) with the
``padding_idx`` row zeroed, as PyTorch.  The maths is in
``fastnn.ops.embedding``."""
from ...ops import embedding as _E
from ..._tensor import empty
from .. import init
from ..parameter import Parameter
from .module import Module, _changed_repr

__all__ = ["Embedding", "EmbeddingBag"]


def _check_padding(num, padding_idx):
    if padding_idx is None:
        return None
    if padding_idx > 0 and padding_idx >= num:
        raise AssertionError("Padding_idx must be within num_embeddings")
    if padding_idx < 0:
        if padding_idx < -num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = num + padding_idx
    return padding_idx


def _norm_repr(m):
    return _changed_repr(m, (("max_norm", None), ("norm_type", 2),
                             ("scale_grad_by_freq", False)))


def _table(num, dim, _weight, _freeze, dtype):
    if _weight is None:
        return Parameter(empty(num, dim, dtype=dtype), requires_grad=not _freeze), True
    w = _weight
    if tuple(w.shape) != (num, dim):
        raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
    return Parameter(w, requires_grad=not _freeze), False


class _EmbeddingTable:
    """What Embedding and EmbeddingBag share: their common arguments and
    the table (given as ``_weight``, or fresh and initialised)."""

    def _init_table(self, num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                    scale_grad_by_freq, sparse, _weight, _freeze, dtype):
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _check_padding(num_embeddings, padding_idx)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        self.weight, fresh = _table(num_embeddings, embedding_dim, _weight, _freeze, dtype)
        if fresh:
            self.reset_parameters()

    def reset_parameters(self):
        """N(0, 1), the padding row zero (PyTorch's default)."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            self.weight._array[self.padding_idx] = 0


class Embedding(_EmbeddingTable, Module):
    """A lookup table: ``forward(input)`` returns ``weight[input]``.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
    padding_idx : int, optional (that row is zero at init and gets no gradient)
    max_norm, norm_type : rows looked up are renormalised to at most max_norm
    scale_grad_by_freq, sparse : as PyTorch (the gradient is always dense)

    Shape
    -----
    (*) int -> (*, embedding_dim)

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.Embedding(10, 3)(fastnn.tensor([[1, 2], [4, 5]])).shape
    fastnn.Size([2, 2, 3])
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        self._init_table(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                         scale_grad_by_freq, sparse, _weight, _freeze, dtype)

    def forward(self, input):
        return _E.embedding(input, self.weight, self.padding_idx, self.max_norm,
                            self.norm_type, self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        s += _norm_repr(self)
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding holding ``embeddings`` (2-D), frozen unless freeze=False."""
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx,
                   max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(_EmbeddingTable, Module):
    """Sums, means or maxima of bags of embeddings without building the
    intermediate (n, D) lookup.

    Shape
    -----
    input (B, N) with offsets None, or (n,) with offsets (B,) -> (B, embedding_dim).

    Examples
    --------
    >>> import fastnn
    >>> bag = fastnn.nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag(fastnn.tensor([1, 2, 4, 5, 4]), fastnn.tensor([0, 2])).shape
    fastnn.Size([2, 3])
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.include_last_offset = include_last_offset
        self._init_table(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type,
                         scale_grad_by_freq, sparse, _weight, False, dtype)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return _E.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                                self.scale_grad_by_freq, self.mode, self.sparse,
                                per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}" + _norm_repr(self)
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, _weight=embeddings, max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag
