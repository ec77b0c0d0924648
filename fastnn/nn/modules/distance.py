"""``CosineSimilarity`` and ``PairwiseDistance`` modules."""
from .. import functional as F
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Cosine similarity of x1 and x2 along ``dim``.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.CosineSimilarity(dim=1)(fastnn.ones(2, 3), fastnn.ones(2, 3)).shape
    fastnn.Size([2])
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm distance between rows of x1 and x2 (``||x1 - x2 + eps||_p``).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.PairwiseDistance()(fastnn.ones(2, 3), fastnn.ones(2, 3)).shape
    fastnn.Size([2])
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
