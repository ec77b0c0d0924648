"""Normalisation modules, as ``torch.nn``'s: BatchNorm1d/2d, LayerNorm,
GroupNorm, InstanceNorm1d/2d, LocalResponseNorm.

Batch and instance norm: parameters ``weight`` (ones) and ``bias`` (zeros)
when ``affine``; buffers ``running_mean`` (zeros), ``running_var`` (ones)
and ``num_batches_tracked`` (int64 0-d) when ``track_running_stats``: the
state-dict keys PyTorch uses.  The modules hold hyper-parameters and state
and call the functional forms, which check the input.  ``LazyBatchNorm1d/2d``
and ``LazyInstanceNorm1d/2d`` take ``num_features`` from their first input
(see ``lazy.py``).
"""
import numbers
import warnings

import numpy as np

from ..._errors import ShapeError
from ...ops.normalization import batch_norm_relu
from ..._tensor import Tensor
from ... import _defaults
from .. import functional as F
from .. import init
from ..parameter import Parameter, UninitializedBuffer, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module


def _make_affine(m, affine, bias, shape):
    """Registers m.weight (ones) and m.bias (zeros; None without bias) of
    this shape, or both None without affine (PyTorch's keys either way)."""
    dt = _defaults.FLOAT
    m.register_parameter("weight", Parameter(np.ones(shape, dt)) if affine else None)
    m.register_parameter("bias", Parameter(np.zeros(shape, dt)) if affine and bias
                         else None)


def _reset_affine(m):
    """PyTorch's default: weight ones, bias zeros."""
    if m.weight is not None:
        init.ones_(m.weight)
    if m.bias is not None:
        init.zeros_(m.bias)


class _BatchNorm(Module):
    _ranks = ()
    _rank_text = ""
    _lazy_features = False     # (the Lazy* forms start with num_features 0)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, int) or \
                num_features < 1 - self._lazy_features:
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
        _make_affine(self, self.affine, bias, (num_features,))
        if self.track_running_stats:
            dt = _defaults.FLOAT
            self.register_buffer("running_mean", Tensor._wrap(np.zeros(num_features, dt)))
            self.register_buffer("running_var", Tensor._wrap(np.ones(num_features, dt)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # As PyTorch: a checkpoint without version metadata (saved before
        # num_batches_tracked existed, or a dict rebuilt from a state_dict)
        # may lack num_batches_tracked; the module's own count is kept rather
        # than the key reported missing (strict loading would raise).
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                nbt = self.num_batches_tracked
                state_dict[key] = (nbt if isinstance(nbt, Tensor) and
                                   not isinstance(nbt, UninitializedBuffer)
                                   else Tensor._wrap(np.array(0, dtype=np.int64)))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._array[...] = 0
            self.running_var._array[...] = 1
            self.num_batches_tracked._array[...] = 0

    def reset_parameters(self):
        """PyTorch's default: running stats reset, weight ones, bias zeros."""
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input(self, x):
        """The rank this module takes (PyTorch's _check_input_dim); the
        channel count is checked by the op against the parameters."""
        name = type(self).__name__
        shape = tuple(x.shape)
        if len(shape) not in self._ranks:
            raise ShapeError(f"{name}: expected {self._rank_text} input, got {len(shape)}-D "
                             f"input of shape {shape}")

    def forward(self, input):
        return self._forward(input, False)

    def _forward(self, x, relu):
        """The forward; relu: followed by ReLU, fused into one op (used by
        nn.Sequential for a batch norm directly followed by nn.ReLU)."""
        x = F._t(x)
        self._check_input(x)
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
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


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
    fastnn.Size([2, 4, 3, 3])
    """
    _ranks = (4,)
    _rank_text = "4-D (N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) input over N, D, H and W.

    Parameters as ``BatchNorm1d``.

    Shape
    -----
    (N, C, D, H, W) -> same.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.BatchNorm3d(4)(fastnn.randn(2, 4, 3, 3, 3)).shape
    fastnn.Size([2, 4, 3, 3, 3])
    """
    _ranks = (5,)
    _rank_text = "5-D (N, C, D, H, W)"


class SyncBatchNorm(_BatchNorm):
    """``torch.nn.SyncBatchNorm``: batch normalisation whose statistics
    PyTorch gathers over every process of a data-parallel job.  fastnn's
    data parallelism (``fastnn.distributed``) keeps batch norm per rank, so
    this is ``BatchNorm`` over the local batch: exact in a single process
    (where PyTorch's falls back to the same), per-rank statistics under MPI.
    ``convert_sync_batchnorm(model)`` swaps it in for every batch norm, as
    DDP scripts do.  ``process_group`` is accepted and unused.

    Shape
    -----
    (N, C), (N, C, L) or (N, C, H, W) -> same.

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.SyncBatchNorm.convert_sync_batchnorm(
    ...     fastnn.nn.Sequential(fastnn.nn.Conv2d(1, 2, 3), fastnn.nn.BatchNorm2d(2)))
    >>> type(m[1]).__name__
    'SyncBatchNorm'
    """
    _ranks = (2, 3, 4)
    _rank_text = "2-D (N, C), 3-D (N, C, L) or 4-D (N, C, H, W)"

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None, *,
                 bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias=bias)
        self.process_group = process_group

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every batch norm in it (itself included) replaced
        by a SyncBatchNorm holding the same parameters, running statistics
        and training mode; returns the (possibly new) module."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, (cls, _InstanceNorm)):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group,
                      bias=module.bias is not None or not module.affine)
            if module.affine:
                out._parameters["weight"] = module.weight
                out._parameters["bias"] = module.bias
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                out._buffers[name] = module._buffers.get(name)
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


def _positive_int(name, arg, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise ValueError(f"{name}: {arg} must be a positive int, got {v!r}")
    return int(v)


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` dims, with
    an element-wise ``weight`` (ones) and ``bias`` (zeros) when
    ``elementwise_affine`` (``bias=False``: no bias).

    Shape
    -----
    (*, *normalized_shape) -> the same.

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.LayerNorm(4)
    >>> m(fastnn.randn(2, 4)).shape, sorted(m.state_dict())
    (fastnn.Size([2, 4]), ['bias', 'weight'])
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(d) for d in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _make_affine(self, elementwise_affine, bias, self.normalized_shape)

    def reset_parameters(self):
        """PyTorch's default: weight ones, bias zeros."""
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalisation: ``num_channels`` split into ``num_groups``
    groups, with a per-channel ``weight`` (ones) and ``bias`` (zeros) when
    ``affine``.

    Shape
    -----
    (N, C, *) -> the same.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.GroupNorm(2, 4)(fastnn.randn(3, 4, 5)).shape
    fastnn.Size([3, 4, 5])
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        num_groups = _positive_int("GroupNorm", "num_groups", num_groups)
        num_channels = _positive_int("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels must be divisible by num_groups, got "
                             f"num_channels={num_channels} and num_groups={num_groups}")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _make_affine(self, affine, bias, (num_channels,))

    def reset_parameters(self):
        """PyTorch's default: weight ones, bias zeros."""
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    """Instance norm: the parameters and buffers of batch norm (defaults
    affine=False, track_running_stats=False), each sample's channels
    normalised over their own positions."""
    _batched = 3

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias=bias)

    def forward(self, input):
        input = F._t(input)
        self._check_input(input)
        unbatched = input.ndim == self._batched - 1
        fdim = input.ndim - self._batched + 1
        if input.shape[fdim] != self.num_features:
            if self.affine:
                raise ShapeError(f"{type(self).__name__}: expected input's size at dim={fdim} "
                                 f"to match num_features ({self.num_features}), but got: "
                                 f"{input.shape[fdim]}.")
            warnings.warn(f"input's size at dim={fdim} does not match num_features. You can "
                          "silence this warning by not passing in num_features, which is not "
                          "used because affine=False", stacklevel=2)
        if unbatched:
            input = input.unsqueeze(0)
        use_input = self.training or not self.track_running_stats
        y = F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                            use_input, 0.0 if self.momentum is None else self.momentum,
                            self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or unbatched (C, L) input.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.InstanceNorm1d(3)(fastnn.randn(2, 3, 5)).shape
    fastnn.Size([2, 3, 5])
    """
    _ranks = (2, 3)
    _rank_text = "2-D (C, L) or 3-D (N, C, L)"
    _batched = 3


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or unbatched (C, H, W) input.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.InstanceNorm2d(3)(fastnn.randn(2, 3, 4, 4)).shape
    fastnn.Size([2, 3, 4, 4])
    """
    _ranks = (3, 4)
    _rank_text = "3-D (C, H, W) or 4-D (N, C, H, W)"
    _batched = 4


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or unbatched (C, D, H, W) input.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.InstanceNorm3d(3)(fastnn.randn(2, 3, 4, 4, 4)).shape
    fastnn.Size([2, 3, 4, 4, 4])
    """
    _ranks = (4, 5)
    _rank_text = "4-D (C, D, H, W) or 5-D (N, C, D, H, W)"
    _batched = 5


class _LazyNormBase(LazyModuleMixin, _BatchNorm):
    """What the lazy batch and instance norms share: num_features from the
    input's dim 1; weight, bias, running_mean and running_var materialised
    then (num_batches_tracked is there from the start), initialised as the
    ordinary layer's."""

    _lazy_features = True

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__(0, eps, momentum, False, False, bias=False)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if self.affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if self.track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = Tensor._wrap(np.array(0, dtype=np.int64))

    def reset_parameters(self):
        """The ordinary layer's initialisation, once the shapes are known."""
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        """num_features = input's size at dim 1; materialises and initialises."""
        if self.has_uninitialized_params():
            if len(input.shape) < 2:
                raise ShapeError(f"{type(self).__name__}: expected {self._rank_text} input, "
                                 f"got {len(input.shape)}-D input of shape "
                                 f"{tuple(input.shape)}")
            self.num_features = int(input.shape[1])
            if self.affine:
                self.weight.materialize((self.num_features,))
                if self.bias is not None:
                    self.bias.materialize((self.num_features,))
            if self.track_running_stats:
                self.running_mean.materialize((self.num_features,))
                self.running_var.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """A ``BatchNorm1d`` whose ``num_features`` is its first input's size at
    dim 1; becomes a ``BatchNorm1d`` on that call.

    Examples
    --------
    >>> import fastnn
    >>> m = fastnn.nn.LazyBatchNorm1d()
    >>> m(fastnn.randn(4, 3)).shape, m.num_features
    (fastnn.Size([4, 3]), 3)
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """A ``BatchNorm2d`` whose ``num_features`` is its first input's size at
    dim 1; becomes a ``BatchNorm2d`` on that call."""

    cls_to_become = BatchNorm2d


class LazyInstanceNorm1d(_LazyNormBase, InstanceNorm1d):
    """An ``InstanceNorm1d`` whose ``num_features`` is its first input's
    size at dim 1 (as PyTorch's, also for unbatched input); becomes an
    ``InstanceNorm1d`` on that call.  Defaults as PyTorch's lazy form:
    ``affine=True``, ``track_running_stats=True``."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormBase, InstanceNorm2d):
    """An ``InstanceNorm2d`` whose ``num_features`` is its first input's
    size at dim 1; becomes an ``InstanceNorm2d`` on that call."""

    cls_to_become = InstanceNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """A ``BatchNorm3d`` whose ``num_features`` is its first input's size at
    dim 1; becomes a ``BatchNorm3d`` on that call."""

    cls_to_become = BatchNorm3d


class LazyInstanceNorm3d(_LazyNormBase, InstanceNorm3d):
    """An ``InstanceNorm3d`` whose ``num_features`` is its first input's
    size at dim 1; becomes an ``InstanceNorm3d`` on that call."""

    cls_to_become = InstanceNorm3d


class LocalResponseNorm(Module):
    """Local response normalisation across channels (composed, as PyTorch).

    Examples
    --------
    >>> import fastnn
    >>> fastnn.nn.LocalResponseNorm(2)(fastnn.ones(1, 3, 2, 2)).shape
    fastnn.Size([1, 3, 2, 2])
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
