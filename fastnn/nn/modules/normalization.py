"""Batch-norm modules (BatchNorm1d, BatchNorm2d), as ``torch.nn``'s.

Parameters ``weight`` (ones) and ``bias`` (zeros) when ``affine``; buffers
``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked``
(int64 0-d) when ``track_running_stats``: the state-dict keys PyTorch uses.
"""
import numpy as np

from ..._errors import ShapeError
from ...ops.normalization import batch_norm_infer, batch_norm_relu
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class _BatchNorm(Module):
    _ranks = ()
    _rank_text = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True):
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, int) or \
                num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, got "
                             f"{num_features!r}")
        if not isinstance(eps, (int, float)) or eps < 0:
            raise ValueError(f"{name}: eps must be a non-negative number, got {eps!r}")
        if momentum is not None and (not isinstance(momentum, (int, float))
                                     or not 0 <= momentum <= 1):
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features = num_features
        self.eps = float(eps)
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if self.affine:
            self.weight = Parameter(np.ones(num_features, dtype=np.float32))
            self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, np.float32)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, np.float32)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._array[...] = 0
            self.running_var._array[...] = 1
            self.num_batches_tracked._array[...] = 0

    def reset_parameters(self):
        """PyTorch's default: running stats reset, weight ones, bias zeros."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _check_input(self, x):
        name = type(self).__name__
        shape = tuple(x.shape)
        if len(shape) not in self._ranks:
            raise ShapeError(f"{name}: expected {self._rank_text} input, got {len(shape)}-D "
                             f"input of shape {shape}")
        if shape[1] != self.num_features:
            raise ShapeError(f"{name}: expected {self.num_features} channels (num_features) in "
                             f"dim 1 of the input, got shape {shape}")

    def forward(self, x):
        return self._forward(x, False)

    def _forward(self, x, relu):
        """The forward; relu: followed by ReLU, fused into one op (used by
        nn.Sequential for a batch norm directly followed by nn.ReLU)."""
        x = F._t(x)
        self._check_input(x)
        if not self.training and self.track_running_stats:
            # inference with nothing to record: the lean path (None: not
            # the plain case, take the full one)
            bufs, params = self._buffers, self._parameters   # (direct: no __getattr__)
            y = batch_norm_infer(x, bufs.get("running_mean"), bufs.get("running_var"),
                                 params.get("weight"), params.get("bias"), self.eps, relu)
            if y is not None:
                return y
        bufs, params = self._buffers, self._parameters   # (direct: no __getattr__)
        rm = bufs["running_mean"] if "running_mean" in bufs else self.running_mean
        rv = bufs["running_var"] if "running_var" in bufs else self.running_var
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            nbt = (bufs["num_batches_tracked"] if "num_batches_tracked" in bufs
                   else self.num_batches_tracked)
            nbt._array[...] += 1
            if self.momentum is None:   # cumulative moving average
                factor = 1.0 / float(nbt._array)
        # batch statistics in training, and always when no running stats are kept
        use_batch = self.training or rm is None
        w = params["weight"] if "weight" in params else self.weight
        b = params["bias"] if "bias" in params else self.bias
        if relu:
            return batch_norm_relu(x, rm, rv, w, b, use_batch, factor, self.eps)
        return F.batch_norm(x, rm, rv, w, b, use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input over N (and L).

    Parameters
    ----------
    num_features : int
        C.
    eps : float
    momentum : float or None
        None: cumulative moving average of the batch statistics.
    affine : bool
        Learnable weight (ones) and bias (zeros).
    track_running_stats : bool

    Shape
    -----
    (N, C) or (N, C, L) -> same.

    Examples
    --------
    >>> import fastnn
    >>> bn = fastnn.nn.BatchNorm1d(3)
    >>> sorted(bn.state_dict())
    ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    """
    _ranks = (2, 3)
    _rank_text = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input over N, H and W.

    Parameters as ``BatchNorm1d``.

    Shape
    -----
    (N, C, H, W) -> same.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.BatchNorm2d(4)(fastnn.randn(2, 4, 3, 3)).shape
    (2, 4, 3, 3)
    """
    _ranks = (4,)
    _rank_text = "4-D (N, C, H, W)"
