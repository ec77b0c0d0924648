"""``Ensemble``: several models answering as one."""
from ..._tensor import from_numpy, stack
from .. import functional as F
from .container import ModuleList
from .module import Module

_REDUCTIONS = ("mean", "sum", "mean_proba", "vote", "none")


class Ensemble(Module):
    """Runs every member on the same input and combines their outputs.

    Parameters
    ----------
    models : sequence of Module
        The members (held in a ``ModuleList`` named ``models``, so the state
        dict keys are ``models.0.weight`` ...). They must give outputs of one shape.
    reduction : {'mean', 'sum', 'mean_proba', 'vote', 'none'}
        'mean' averages the outputs (regression, or logits); 'mean_proba'
        averages the members' class probabilities ``softmax(output, dim=1)``
        (the usual ensemble of classifiers; returns probabilities); 'vote'
        returns the class most members predict (int64, ties to the lowest
        class, no gradient); 'sum' adds the outputs; 'none' stacks them on a
        new leading dimension.

    Shape
    -----
    Members map (N, *) -> (N, C, ...); the ensemble gives (N, C, ...), (N,) for
    'vote' and (M, N, C, ...) for 'none', with M members.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn import nn
    >>> ens = nn.Ensemble([nn.Linear(4, 3) for _ in range(5)], reduction="mean_proba")
    >>> p = ens(fastnn.randn(2, 4))
    >>> p.shape, bool(((p.sum(dim=1) - 1).abs() < 1e-5).numpy().all())
    (fastnn.Size([2, 3]), True)
    """

    def __init__(self, models, reduction="mean"):
        super().__init__()
        if isinstance(models, Module) or not hasattr(models, "__iter__"):
            raise ValueError(f"Ensemble: models must be a sequence of Modules, got {models!r}")
        models = list(models)
        if not models:
            raise ValueError("Ensemble: models must hold at least one Module, got an empty sequence")
        for i, m in enumerate(models):
            if not isinstance(m, Module):
                raise ValueError(f"Ensemble: models[{i}] must be a Module, got {type(m).__name__}")
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Ensemble: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.models = ModuleList(models)
        self.reduction = reduction

    def __len__(self):
        return len(self.models)

    def __iter__(self):
        return iter(self.models)

    def __getitem__(self, idx):
        return self.models[idx]

    def forward(self, *args, **kwargs):
        outs = [m(*args, **kwargs) for m in self.models]
        shapes = {tuple(o.shape) for o in outs}
        if len(shapes) != 1:
            raise ValueError(f"Ensemble: members gave outputs of different shapes {sorted(shapes)}")
        r = self.reduction
        if r == "vote":
            return self._vote(outs)
        if r == "mean_proba":
            if outs[0].ndim < 2:
                raise ValueError(f"Ensemble: reduction='mean_proba' needs outputs (N, C, ...), "
                                 f"got shape {tuple(outs[0].shape)}")
            outs = [F.softmax(o, dim=1) for o in outs]
        stacked = stack(outs, dim=0)
        if r == "none":
            return stacked
        if r == "sum":
            return stacked.sum(dim=0)
        return stacked.mean(dim=0)

    def _vote(self, outs):
        import numpy as np
        if outs[0].ndim != 2:
            raise ValueError(f"Ensemble: reduction='vote' needs outputs (N, C), "
                             f"got shape {tuple(outs[0].shape)}")
        n, c = outs[0].shape
        counts = np.zeros((n, c), dtype=np.int64)
        rows = np.arange(n)
        for o in outs:
            counts[rows, np.asarray(o._array).argmax(axis=1)] += 1
        return from_numpy(counts.argmax(axis=1))

    def extra_repr(self):
        return f"reduction={self.reduction!r}"
