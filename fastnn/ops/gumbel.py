"""``gumbel_softmax`` (PyTorch's ``F.gumbel_softmax``): softmax((logits + g) /
tau) with g = -log(E), E ~ Exponential(1) drawn from fastnn's global
generator (seeded by ``fastnn.manual_seed``); with ``hard`` the one-hot of
the argmax in the forward pass and the soft sample's gradient
(straight-through: ``y_hard - y_soft.detach() + y_soft``).  A composition of
differentiable ops."""
import numpy as np

from .. import _config
from .activation import _t, softmax

__all__ = ["gumbel_softmax"]


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax distribution over ``dim``; ``eps`` is
    unused (deprecated in PyTorch too).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> _ = fastnn.manual_seed(0)
    >>> y = F.gumbel_softmax(fastnn.zeros(2, 5), tau=0.5, hard=True)
    >>> y.sum(-1).tolist()
    [1.0, 1.0]
    """
    logits = _t(logits)
    a = logits._array
    e = _config.rng().standard_exponential(a.shape).astype(a.dtype, copy=False)
    with np.errstate(divide="ignore"):
        gumbels = -np.log(e)
    y_soft = softmax((logits + _t(gumbels)) / tau, dim)
    if not hard:
        return y_soft
    s = y_soft._array
    d = dim % max(s.ndim, 1)
    idx = np.expand_dims(np.argmax(s, axis=d), d) if s.ndim else None
    hard_arr = np.zeros_like(s)
    if s.ndim:
        np.put_along_axis(hard_arr, idx, 1, axis=d)
    else:
        hard_arr[...] = 1
    return _t(hard_arr) - y_soft.detach() + y_soft
