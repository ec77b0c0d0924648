"""``AdaptiveLogSoftmaxWithLoss``: the adaptive softmax of Grave et al. (2017)
for large vocabularies; the maths is in ``fastnn.ops.adaptive``."""
from ...ops.adaptive import (_ASMoutput, adaptive_log_prob,  # noqa: F401
                             adaptive_log_softmax_loss, adaptive_predict)
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]


class AdaptiveLogSoftmaxWithLoss(Module):
    """Efficient softmax approximation: the frequent classes (below
    ``cutoffs[0]``) in a head, the others in tail clusters of decreasing
    width (``in_features // div_value**(i + 1)`` hidden units).

    Parameters
    ----------
    in_features : int
    n_classes : int
    cutoffs : sequence of int
        Increasing, unique, in ``[1, n_classes - 1]``: the cluster bounds.
    div_value : float
        The hidden width divisor of each further cluster.
    head_bias : bool
        A bias in the head.

    Attributes
    ----------
    head : Linear (in_features -> shortlist_size + n_clusters)
    tail : ModuleList of Sequential(Linear(in_features, h, bias=False),
        Linear(h, cluster size, bias=False)), PyTorch's state-dict keys
        (``head.weight``, ``tail.0.0.weight``, ``tail.0.1.weight``, ...).

    Shape
    -----
    input (N, in_features) or (in_features,); target (N,) or () int64 in
    ``[0, n_classes)``; returns ``(output, loss)``: output (N,) or () the
    log-probability of each target, loss a scalar (the mean negative
    log-likelihood).

    Examples
    --------
    >>> import numpy as np, fastnn
    >>> m = fastnn.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4])
    >>> out, loss = m(fastnn.randn(3, 8), np.array([0, 5, 9]))
    >>> tuple(out.shape), tuple(m.log_prob(fastnn.randn(3, 8)).shape)
    ((3,), (3, 10))
    """

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             f"n_classes-1 (got cutoffs={cutoffs}, n_classes={n_classes})")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = [int(c) for c in cutoffs] + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, dtype=dtype),
                                        Linear(hsz, osz, bias=False, dtype=dtype)))

    def reset_parameters(self):
        """PyTorch's: each Linear's default initialisation again."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input, target):
        return adaptive_log_softmax_loss(input, target, self.head, self.tail, self.cutoffs,
                                         self.n_classes)

    def log_prob(self, input):
        """Log-probabilities of all ``n_classes`` classes, (N, n_classes)."""
        return adaptive_log_prob(input, self.head, self.tail, self.cutoffs, self.in_features)

    def predict(self, input):
        """The most probable class of each row, (N,) int64 (as
        ``log_prob(input).argmax(1)``, computing the tails only where the
        head's best is a cluster)."""
        return adaptive_predict(input, self.head, self.tail, self.cutoffs, self.in_features)
