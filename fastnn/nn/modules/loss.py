"""Loss modules: thin wrappers that hold ``reduction`` and call ``F.*``."""
from .. import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: {reduction} is not a valid value for "
                             "reduction (expected 'mean', 'sum' or 'none')")
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits and int64 class targets (fused log-softmax + NLL).

    Shape
    -----
    input (N, C) or (N, C, d1, ...); target (N,) or (N, d1, ...); a scalar
    (or the target's shape with ``reduction='none'``).

    Examples
    --------
    >>> import numpy as np, fastnn
    >>> round(fastnn.nn.CrossEntropyLoss()(fastnn.zeros(3, 2), np.array([0, 1, 1])).item(), 4)
    0.6931
    """

    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities and int64 class targets.

    Shape
    -----
    As ``CrossEntropyLoss``.

    Examples
    --------
    >>> import numpy as np, fastnn
    >>> fastnn.nn.NLLLoss()(fastnn.tensor([[-1.0, -3.0]]), np.array([1])).item()
    3.0
    """

    def forward(self, input, target):
        return F.nll_loss(input, target, reduction=self.reduction)


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


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped at -100).

    Shape
    -----
    input and target of the same shape.

    Examples
    --------
    >>> import fastnn
    >>> round(fastnn.nn.BCELoss()(fastnn.tensor([0.5]), fastnn.tensor([0.0])).item(), 4)
    0.6931
    """

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        if weight is not None:
            raise NotImplementedError("BCELoss: weight is not supported")

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, computed stably.

    Shape
    -----
    input and target of the same shape.

    Examples
    --------
    >>> import fastnn
    >>> round(fastnn.nn.BCEWithLogitsLoss()(fastnn.zeros(2), fastnn.ones(2)).item(), 4)
    0.6931
    """

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        if weight is not None or pos_weight is not None:
            raise NotImplementedError("BCEWithLogitsLoss: weight/pos_weight are not supported")

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)
