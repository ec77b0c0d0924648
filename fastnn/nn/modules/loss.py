"""Loss modules: thin wrappers that hold the hyper-parameters (class
weights as buffers, as PyTorch's ``_WeightedLoss``) and call ``F.*``."""
from ...ops._reduction import legacy_reduction
from .. import functional as F
from .distance import PairwiseDistance
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss",
           "SmoothL1Loss", "HuberLoss", "KLDivLoss", "MarginRankingLoss", "HingeEmbeddingLoss",
           "CosineEmbeddingLoss", "TripletMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss",
           "MultiMarginLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
           "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss", "CTCLoss"]


class _Loss(Module):
    _extra_reductions = ()

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        reduction = legacy_reduction(size_average, reduce, reduction)
        if reduction not in ("mean", "sum", "none") + self._extra_reductions:
            raise ValueError(f"{type(self).__name__}: {reduction} is not a valid value for "
                             "reduction (expected 'mean', 'sum' or 'none')")
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of logits and class targets (fused log-softmax + NLL):
    class ``weight``, ``ignore_index``, ``label_smoothing`` and probability
    targets as ``F.cross_entropy``.

    Shape
    -----
    input (N, C) or (N, C, d1, ...); target (N,) or (N, d1, ...) (or the
    input's shape for probabilities); a scalar (or the per-sample shape with
    ``reduction='none'``).

    Examples
    --------
    >>> import numpy as np, fastnn
    >>> round(fastnn.nn.CrossEntropyLoss()(fastnn.zeros(3, 2), np.array([0, 1, 1])).item(), 4)
    0.6931
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= float(label_smoothing) <= 1.0:
            raise ValueError("CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0. "
                             f"Got: {label_smoothing}")
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities and int64 class targets
    (class ``weight``, ``ignore_index``).

    Shape
    -----
    As ``CrossEntropyLoss``.

    Examples
    --------
    >>> import numpy as np, fastnn
    >>> fastnn.nn.NLLLoss()(fastnn.tensor([[-1.0, -3.0]]), np.array([1])).item()
    3.0
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error.

    Shape
    -----
    input and target of the same (broadcastable) shape.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.MSELoss()(fastnn.ones(2), fastnn.zeros(2)).item()
    1.0
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.L1Loss()(fastnn.tensor([1.0, -3.0]), fastnn.zeros(2)).item()
    2.0
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped at -100),
    with an optional element ``weight``.

    Shape
    -----
    input and target of the same shape.

    Examples
    --------
    >>> import fastnn
    >>> round(fastnn.nn.BCELoss()(fastnn.tensor([0.5]), fastnn.tensor([0.0])).item(), 4)
    0.6931
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, computed stably; element ``weight`` and
    per-class ``pos_weight`` (both buffers, as PyTorch).

    Shape
    -----
    input and target of the same shape.

    Examples
    --------
    >>> import fastnn
    >>> round(fastnn.nn.BCEWithLogitsLoss()(fastnn.zeros(2), fastnn.ones(2)).item(), 4)
    0.6931
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss (quadratic below ``beta``, linear above).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.SmoothL1Loss(beta=1.0)(fastnn.tensor([0.5]), fastnn.zeros(1)).item()
    0.125
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss (quadratic below ``delta``, linear above, scaled by delta).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.HuberLoss(delta=1.0)(fastnn.tensor([3.0]), fastnn.zeros(1)).item()
    2.5
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities ``input`` from ``target``
    (``reduction='batchmean'`` for the true KL divergence).

    Examples
    --------
    >>> import fastnn
    >>> p = fastnn.tensor([[0.25, 0.75]])
    >>> fastnn.nn.KLDivLoss(reduction="batchmean")(p.log(), p).item()
    0.0
    """
    _extra_reductions = ("batchmean",)

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_Loss):
    """``max(0, -y (x1 - x2) + margin)``.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.MarginRankingLoss(margin=0.5)(fastnn.tensor([1.0]), fastnn.tensor([1.0]),
    ...                                         fastnn.tensor([1.0])).item()
    0.5
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``x`` for target 1, ``max(0, margin - x)`` for target -1.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.HingeEmbeddingLoss()(fastnn.tensor([0.25]), fastnn.tensor([-1.0])).item()
    0.75
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """``1 - cos(x1, x2)`` for target 1, ``max(0, cos(x1, x2) - margin)`` for -1.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.CosineEmbeddingLoss()(fastnn.tensor([[1.0, 0.0]]), fastnn.tensor([[1.0, 0.0]]),
    ...                                 fastnn.tensor([-1.0])).item()
    1.0
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """``max(0, margin + d(a, p) - d(a, n))`` with the p-norm distance.

    Examples
    --------
    >>> import fastnn
    >>> a = fastnn.zeros(1, 2)
    >>> fastnn.nn.TripletMarginLoss(margin=1.0, eps=0.0)(a, a, a).item()
    1.0
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if not float(margin) > 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """``max(0, margin + d(a, p) - d(a, n))`` for any distance function
    (default ``PairwiseDistance()``, a child module as in PyTorch).

    Examples
    --------
    >>> import fastnn
    >>> a = fastnn.zeros(1, 2)
    >>> fastnn.nn.TripletMarginWithDistanceLoss()(a, a, a).item()
    1.0
    """

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(size_average=None, reduce=None, reduction=reduction)
        if not float(margin) > 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        self.distance_function = (distance_function if distance_function is not None
                                  else PairwiseDistance())
        self.margin, self.swap = margin, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.PoissonNLLLoss()(fastnn.zeros(2), fastnn.ones(2)).item()
    1.0
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with a predicted variance.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.GaussianNLLLoss()(fastnn.zeros(2), fastnn.ones(2), fastnn.ones(2)).item()
    0.5
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge (SVM) loss, p in {1, 2}, optional class ``weight``.

    Examples
    --------
    >>> import numpy as np, fastnn
    >>> round(fastnn.nn.MultiMarginLoss()(fastnn.tensor([[0.1, 0.2, 0.4, 0.8]]),
    ...                                   np.array([3])).item(), 4)
    0.325
    """

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("MultiMarginLoss: only p == 1 and p == 2 supported")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-class multi-label hinge loss (``F.multilabel_margin_loss``): the
    target holds each sample's class indices, ended by the first -1.

    Examples
    --------
    >>> import numpy as np, fastnn
    >>> round(fastnn.nn.MultiLabelMarginLoss()(fastnn.tensor([[0.1, 0.2, 0.4, 0.8]]),
    ...                                        np.array([[3, 0, -1, 1]])).item(), 4)
    0.85
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss ``log(1 + exp(-y x))``.

    Examples
    --------
    >>> import fastnn
    >>> round(fastnn.nn.SoftMarginLoss()(fastnn.zeros(1), fastnn.ones(1)).item(), 4)
    0.6931
    """

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label one-versus-all logistic loss, optional class ``weight``.

    Examples
    --------
    >>> import fastnn
    >>> round(fastnn.nn.MultiLabelSoftMarginLoss()(fastnn.zeros(1, 2),
    ...                                            fastnn.ones(1, 2)).item(), 4)
    0.6931
    """

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (``F.ctc_loss``): the
    negative log-probability of each target summed over its alignments to
    the input sequence.

    Parameters
    ----------
    blank : int
        The blank label.
    reduction : {'mean', 'sum', 'none'}
        'mean' divides each loss by its target length, then averages.
    zero_infinity : bool
        Replace infinite losses (inputs too short to align) and their
        gradients by zeros.

    Shape
    -----
    log_probs (T, N, C) or (T, C); targets (N, S) or concatenated
    (sum(target_lengths),); input_lengths and target_lengths (N,) (Tensors,
    lists or tuples); output a scalar, or (N,) with ``reduction='none'``.

    Examples
    --------
    >>> import numpy as np, fastnn
    >>> lp = fastnn.tensor(np.log(np.full((3, 1, 2), 0.5)))
    >>> round(fastnn.nn.CTCLoss()(lp, np.array([[1]]), [3], [1]).item(), 4)
    0.2877
    """

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)
