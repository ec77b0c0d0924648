"""Pooling as autograd Functions over csrc/pool2d.c and csrc/adaptive_pool.c:
max and average pooling (1-D and 2-D; dilation, ceil_mode,
count_include_pad, divisor_override), adaptive average and max pooling,
max unpooling.

Direct kernels, OpenMP over the N*C planes.  1-D pooling runs the 2-D
kernels on ``(N, C, 1, L)``.  Max pooling saves the int64 argmax of every
window (``ih * W + iw`` in its plane, PyTorch's indices) in its forward and
its backward routes each gradient to that winner; average pooling divides by
the window's size counting zero padding (``count_include_pad=True``), by the
real pixels only, or by ``divisor_override``.  Output sizes follow PyTorch
(``ceil_mode``: the last window must start inside the input or its left
padding).

Each op checks its arguments once, in ``_geom`` (cached per input shape and
arguments, so layers called in a loop pay a dictionary look-up), and both
the recording path and the no-graph path of ``max_pool2d`` use that
geometry.
"""
import functools
from collections import namedtuple

import numpy as np

from .. import _core
from .._errors import ShapeError
from ..autograd.function import _TENSOR, Function, _tensor_cls
from ._common import tensor as _data_tensor
from .._core import is_grad_enabled as _grad_enabled
from ._util import check_float, nthreads

__all__ = ["max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool2d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
           "max_unpool2d", "max_unpool1d", "MaxPool2dFn", "AvgPool2dFn",
           "AdaptiveAvgPool2dFn", "AdaptiveMaxPool2dFn", "MaxUnpool2dFn",
           "max_pool2d_with_indices", "max_pool1d_with_indices"]

# A checked pooling geometry: the input's shape, its 4-D kernel view
# (N, C, H, W), the output's shape, the pairs (kernel, stride, padding,
# dilation), ceil_mode, and the average pool's divisor rule.
PoolGeom = namedtuple("PoolGeom", "in_shape view out_shape k s p d ceil include_pad divisor")


def _t(x):
    T = _TENSOR[0] if _TENSOR else _tensor_cls()
    if x is None or isinstance(x, T):
        return x
    if isinstance(x, np.ndarray):
        return T._wrap(x)
    return _data_tensor(x)       # (lists: fastnn's dtypes, not Tensor(...)'s float32)


def _ints(op, name, v, n):
    """v (an int or a sequence of n ints) as a tuple of n ints."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v),) * n
    if isinstance(v, (tuple, list)) and len(v) == 1 and n > 1:
        v = tuple(v) * n
    if isinstance(v, (tuple, list)) and len(v) == n and all(
            isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in v):
        return tuple(int(e) for e in v)
    raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")


def _key(v):
    """A hashable form of an argument (lists become tuples)."""
    return tuple(v) if isinstance(v, list) else v


@functools.lru_cache(maxsize=512)
def _args(op, n, kernel_size, stride, padding, dilation):
    """The checked n-tuples (kernel, stride, padding, dilation)."""
    k = _ints(op, "kernel_size", kernel_size, n)
    s = k if stride is None or stride == () else _ints(op, "stride", stride, n)
    p = _ints(op, "padding", padding, n)
    d = _ints(op, "dilation", dilation, n)
    if min(k) <= 0:
        raise ValueError(f"{op}: kernel size should be greater than zero, but got "
                         f"kernel_size={k}")
    if min(s) <= 0:
        raise ValueError(f"{op}: stride should be greater than zero, but got stride={s}")
    if min(d) <= 0:
        raise ValueError(f"{op}: dilation should be greater than zero, but got dilation={d}")
    if min(p) < 0:
        raise ValueError(f"{op}: negative padding is not supported, got padding={p}")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: pad should be at most half of effective kernel size, but got "
                         f"padding={p} and kernel_size={k}")
    return k, s, p, d


def _check_divisor(op, divisor):
    """An average pool's divisor_override: None or a positive int."""
    if divisor is not None and (isinstance(divisor, bool) or not isinstance(
            divisor, (int, np.integer)) or divisor <= 0):
        raise ValueError(f"{op}: divisor_override must be a positive int, got {divisor!r}")


@functools.lru_cache(maxsize=512)
def _geom(op, n, shape, kernel_size, stride, padding, dilation, ceil_mode, include_pad,
          divisor):
    """The geometry of an n-D (1 or 2) max or average pooling of an input
    of this shape (batched or not), checked: ShapeError for ranks and sizes,
    ValueError for bad hyper-parameters."""
    k, s, p, d = _args(op, n, kernel_size, stride, padding, dilation)
    if len(shape) not in (n + 1, n + 2):
        dims = "(C, L) or 3-D (N, C, L)" if n == 1 else "(C, H, W) or 4-D (N, C, H, W)"
        raise ShapeError(f"{op}: expected {n + 1}-D {dims} input, got {len(shape)}-D input of "
                         f"shape {tuple(shape)}")
    lead = shape[:-n] if len(shape) == n + 2 else (1,) + shape[:-n]
    sp = (1,) * (2 - n) + shape[-n:]
    k2, s2, p2, d2 = ((1,) * (2 - n) + k, (1,) * (2 - n) + s, (0,) * (2 - n) + p,
                      (1,) * (2 - n) + d)
    out = None
    if min(sp) >= 1:
        out = _core.pool2d_out_size(sp[0], sp[1], k2[0], k2[1], s2[0], s2[1], p2[0], p2[1],
                                    d2[0], d2[1], bool(ceil_mode))
    if out is None:
        raise ShapeError(f"{op}: given input size {shape}, the output size would be too small "
                         f"or a window would hold no input (kernel_size={k}, stride={s}, "
                         f"padding={p}, dilation={d}, ceil_mode={bool(ceil_mode)})")
    _check_divisor(op, divisor)
    out_shape = shape[:-n] + out[2 - n:]
    return PoolGeom(shape, lead + sp, out_shape, k2, s2, p2, d2, bool(ceil_mode),
                    bool(include_pad), int(divisor or 0))


def _view(x, g):
    """x as its C-contiguous 4-D kernel view."""
    if x.shape == g.view and x.flags.c_contiguous:
        return x
    return np.ascontiguousarray(x.reshape(g.view))


# (op, shape, arguments) -> geometry, for calls whose arguments are hashable
# as given: a layer called in a loop pays one dictionary look-up
_GEOMS = {}


def _pool_geom(op, n, shape, kernel_size, stride, padding, dilation, ceil_mode, include_pad,
               divisor):
    key = (op, shape, kernel_size, stride, padding, dilation, ceil_mode, include_pad, divisor)
    try:
        return _GEOMS[key]
    except (KeyError, TypeError):
        pass
    g = _geom(op, n, shape, _key(kernel_size), _key(stride), _key(padding), _key(dilation),
              bool(ceil_mode), bool(include_pad), divisor)
    try:
        if len(_GEOMS) > 512:
            _GEOMS.clear()
        _GEOMS[key] = g
    except TypeError:   # a list argument: not kept
        pass
    return g


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


# ---------------------------------------------------------------- max pooling

class _PoolFn(Function):
    """Base of the 2-d poolings: forward(ctx, x, geom[, return_indices]) runs
    ``_pool(x, y, idx, geom)`` into a new y, idx the argmax that
    ``_indices`` allocates for the max poolings (``_argmax``), None for the
    average ones; backward returns ``_scatter(grad, idx, geom, dtype)``,
    the kernel ``_bwd`` scattering the gradient."""
    raw = True
    _argmax = False
    _dx = "view"        # the geometry's shape the backward kernel writes dx in

    @staticmethod
    def _indices(ctx, g, return_indices):
        return None

    @classmethod
    def _scatter(cls, grad, idx, g, dtype):
        """dx by ``_bwd(grad, idx, dx, geom)``, in the input's shape."""
        dx = np.empty(getattr(g, cls._dx), dtype)
        if dx.size:
            cls._bwd(np.ascontiguousarray(grad, dtype=dtype), idx, dx, g)
        return dx if cls._dx == "in_shape" else dx.reshape(g.in_shape)

    @classmethod
    def forward(cls, ctx, x, g, return_indices=False):
        check_float(cls._op, "input", x)
        y = np.empty(g.out_shape, x.dtype)
        idx = cls._indices(ctx, g, return_indices)
        if y.size:
            cls._pool(x, y, idx, g)
        if cls._argmax:
            ctx.save_for_backward(idx)
        ctx.geom = g
        ctx.dtype = x.dtype
        return (y, idx) if return_indices else y

    @classmethod
    def backward(cls, ctx, grad, g_idx=None):
        if cls._argmax:     # forward(ctx, x, geom, return_indices)
            (idx,) = ctx.saved_tensors
            return cls._scatter(grad, idx, ctx.geom, ctx.dtype), None, None
        return cls._scatter(grad, None, ctx.geom, ctx.dtype), None


class MaxPool2dFn(_PoolFn):
    """y = max over each window, with its argmax; forward(ctx, x, geom,
    return_indices), geom from ``_geom``."""
    _op, _argmax = "max_pool2d", True

    @staticmethod
    def _indices(ctx, g, return_indices):
        needs = ctx.needs_input_grad
        return (np.empty(g.out_shape, np.int64)
                if return_indices or not needs or needs[0] else None)

    @staticmethod
    def _pool(x, y, idx, g):
        _core.max_pool2d_fwd(_view(x, g), y, idx, *g.k, *g.s, *g.p, nthreads(), *g.d, g.ceil)

    @staticmethod
    def _bwd(grad, idx, dx, g):
        _core.max_pool2d_bwd(grad, idx, dx, *g.k, *g.s, *g.p, nthreads(), *g.d, g.ceil)


def _max_pool(op, n, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    T = _TENSOR[0] if _TENSOR else _tensor_cls()
    x = input if type(input) is T else _t(input)
    try:   # (_pool_geom's cache, looked up here: layers call this in a loop)
        g = _GEOMS[(op, x.shape, kernel_size, stride, padding, dilation, ceil_mode, True, None)]
    except (KeyError, TypeError):
        g = _pool_geom(op, n, x.shape, kernel_size, stride, padding, dilation, ceil_mode, True,
                       None)
    if not return_indices and not (_grad_enabled() and x.requires_grad):
        # nothing to record: values only (no argmax), no graph node
        xa = x._array
        if not (xa.dtype == _F32 or xa.dtype == _F64):
            check_float(op, "input", xa)
        y = np.empty(g.out_shape, xa.dtype)
        if y.size:
            _core.max_pool2d_fwd(_view(xa, g), y, None, *g.k, *g.s, *g.p, nthreads(), *g.d,
                                 g.ceil)
        return type(x)._wrap(y)
    return MaxPool2dFn.apply(x, g, bool(return_indices))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over an NCHW batch (padding acts as -inf).

    Parameters
    ----------
    input : Tensor or ndarray, (N, C, H, W) or unbatched (C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), default kernel_size
    padding : int or (int, int), at most half the kernel size
    dilation : int or (int, int)
        Spacing of the window's elements.
    ceil_mode : bool
        Round the output size up (the last window must start inside the
        input or its left padding).
    return_indices : bool
        Also return the int64 flat index ``ih * W + iw`` of each window's
        maximum within its plane (as PyTorch).

    Shape
    -----
    (N, C, H, W) -> (N, C, OH, OW),
    OH = floor or ceil of (H + 2*padding - dilation*(kernel-1) - 1) / stride, + 1

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.max_pool2d(fastnn.ones(2, 3, 8, 8), 2).shape
    fastnn.Size([2, 3, 4, 4])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L) input; arguments as
    ``max_pool2d`` with ints; indices are positions along L.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.max_pool1d(fastnn.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).numpy()
    array([[[3., 2.]]], dtype=float32)
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


# ---------------------------------------------------------------- average pooling

class AvgPool2dFn(_PoolFn):
    """y = mean over each window; forward(ctx, x, geom)."""
    _op = "avg_pool2d"

    @staticmethod
    def _pool(x, y, idx, g):
        _core.avg_pool2d_fwd(_view(x, g), y, *g.k, *g.s, *g.p, nthreads(), g.ceil,
                             g.include_pad, g.divisor)

    @staticmethod
    def _bwd(grad, idx, dx, g):
        _core.avg_pool2d_bwd(grad, dx, *g.k, *g.s, *g.p, nthreads(), g.ceil, g.include_pad,
                             g.divisor)


def _avg_pool(op, n, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x = _t(input)
    g = _pool_geom(op, n, x.shape, kernel_size, stride, padding, 1, ceil_mode,
                   count_include_pad, divisor_override)
    return AvgPool2dFn.apply(x, g)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over an NCHW batch.

    Parameters
    ----------
    input : Tensor or ndarray, (N, C, H, W) or unbatched (C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), default kernel_size
    padding : int or (int, int), at most half the kernel size
    ceil_mode : bool
    count_include_pad : bool
        Count the zero padding in the divisor (default, as PyTorch).
    divisor_override : int, optional
        Divide every window's sum by this instead.

    Shape
    -----
    (N, C, H, W) -> (N, C, OH, OW), OH = (H + 2*padding - kernel) // stride + 1
    (rounded up with ceil_mode)

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.avg_pool2d(fastnn.ones(2, 3, 8, 8), 2).shape
    fastnn.Size([2, 3, 4, 4])
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L) input.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.avg_pool1d(fastnn.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).numpy()
    array([[[2., 1.]]], dtype=float32)
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


# ---------------------------------------------------------------- adaptive pooling

AdaptiveGeom = namedtuple("AdaptiveGeom", "in_shape P H W OH OW out_shape")


@functools.lru_cache(maxsize=512)
def _adaptive_geom(op, n, shape, output_size):
    """The geometry of an n-D adaptive pooling of an input of this shape
    (batched or not) to output_size (None entries keep the input's size)."""
    if len(shape) not in (n + 1, n + 2):
        dims = "(C, L) or 3-D (N, C, L)" if n == 1 else "(C, H, W) or 4-D (N, C, H, W)"
        raise ShapeError(f"{op}: expected {n + 1}-D {dims} input, got {len(shape)}-D input of "
                         f"shape {tuple(shape)}")
    sizes = shape[-n:]
    if min(shape[1:] if len(shape) == n + 2 else shape) < 1:
        raise ShapeError(f"{op}: expected input with non-zero sizes for the non-batch "
                         f"dimensions, got shape {shape}")
    if output_size is None or isinstance(output_size, (int, np.integer)):
        out = (output_size,) * n
    elif isinstance(output_size, tuple) and len(output_size) == n:
        out = output_size
    else:
        raise TypeError(f"{op}: output_size must be an int, None or a tuple of {n} of them, "
                        f"got {output_size!r}")
    out = tuple(sz if o is None else o for o, sz in zip(out, sizes))
    if any(isinstance(o, bool) or not isinstance(o, (int, np.integer)) or o < 1 for o in out):
        raise ValueError(f"{op}: elements of output_size must be positive ints or None, got "
                         f"{output_size!r}")
    out = tuple(int(o) for o in out)
    P = int(np.prod(shape[:-n]))
    H, W = ((1,) + sizes) if n == 1 else sizes
    OH, OW = ((1,) + out) if n == 1 else out
    return AdaptiveGeom(shape, P, H, W, OH, OW, shape[:-n] + out)


class _AdaptivePoolFn(_PoolFn):
    """The adaptive poolings: one forward kernel (the argmax kept when idx
    is given); dx written in the input's shape."""
    _dx = "in_shape"

    @staticmethod
    def _pool(x, y, idx, g):
        _core.adaptive_pool2d_fwd(np.ascontiguousarray(x), y, idx, g.P, g.H, g.W, g.OH, g.OW,
                                  nthreads())


class AdaptiveAvgPool2dFn(_AdaptivePoolFn):
    """Adaptive average pooling; forward(ctx, x, geom).  Output (1, 1) is
    global average pooling, one pass over each plane."""
    _op = "adaptive_avg_pool2d"

    @staticmethod
    def _bwd(grad, idx, dx, g):
        _core.adaptive_avg_pool2d_bwd(grad, dx, g.P, g.H, g.W, g.OH, g.OW, nthreads())


class AdaptiveMaxPool2dFn(_AdaptivePoolFn):
    """Adaptive max pooling with its argmax; forward(ctx, x, geom,
    return_indices)."""
    _op, _argmax = "adaptive_max_pool2d", True

    @staticmethod
    def _indices(ctx, g, return_indices):
        return np.empty(g.out_shape, np.int64)

    @staticmethod
    def _bwd(grad, idx, dx, g):
        _core.max_pool2d_scatter(grad, idx, dx, g.P, g.H * g.W, g.OH * g.OW, nthreads())


def _adaptive(op, n, input, output_size):
    x = _t(input)
    return x, _adaptive_geom(op, n, tuple(x.shape), _key(output_size))


def adaptive_avg_pool2d(input, output_size):
    """Adaptive 2-D average pooling to ``output_size`` (an int, or a pair whose
    None entries keep the input's size); PyTorch's windows
    ``[floor(o*H/OH), ceil((o+1)*H/OH))``.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.adaptive_avg_pool2d(fastnn.ones(2, 3, 7, 7), 1).shape
    fastnn.Size([2, 3, 1, 1])
    """
    return AdaptiveAvgPool2dFn.apply(*_adaptive("adaptive_avg_pool2d", 2, input, output_size))


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Adaptive 2-D max pooling (windows as ``adaptive_avg_pool2d``); with
    ``return_indices`` also the int64 argmax ``ih * W + iw``."""
    x, g = _adaptive("adaptive_max_pool2d", 2, input, output_size)
    return AdaptiveMaxPool2dFn.apply(x, g, bool(return_indices))


def adaptive_avg_pool1d(input, output_size):
    """Adaptive 1-D average pooling of (N, C, L) or (C, L) input."""
    return AdaptiveAvgPool2dFn.apply(*_adaptive("adaptive_avg_pool1d", 1, input, output_size))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Adaptive 1-D max pooling of (N, C, L) or (C, L) input."""
    x, g = _adaptive("adaptive_max_pool1d", 1, input, output_size)
    return AdaptiveMaxPool2dFn.apply(x, g, bool(return_indices))


# ---------------------------------------------------------------- max unpooling

UnpoolGeom = namedtuple("UnpoolGeom", "in_shape P n_in n_out out_shape")


def _unpool_geom(op, n, x, indices, kernel_size, stride, padding, output_size):
    """Checks max_unpool's arguments; the geometry (planes, sizes)."""
    k = _ints(op, "kernel_size", kernel_size, n)
    s = k if stride is None else _ints(op, "stride", stride, n)
    p = _ints(op, "padding", padding, n)
    if len(x.shape) not in (n + 1, n + 2):
        raise ShapeError(f"{op}: expected {n + 1}-D or {n + 2}-D input, got shape "
                         f"{tuple(x.shape)}")
    if tuple(indices.shape) != tuple(x.shape):
        raise ShapeError(f"{op}: expected indices of the input's shape {tuple(x.shape)}, got "
                         f"{tuple(indices.shape)}")
    if indices.dtype != np.int64:
        raise TypeError(f"{op}: indices must be int64, got {indices.dtype}")
    default = tuple((x.shape[-n + i] - 1) * s[i] + k[i] - 2 * p[i] for i in range(n))
    if output_size is None:
        out = default
    else:
        out = tuple(int(o) for o in output_size)
        if len(out) == n + 2 or (len(out) == n + 1 and len(x.shape) == n + 1):
            out = out[-n:]
        if len(out) != n:
            raise ValueError(f"{op}: output_size should be a sequence of {n} or {n + 2} ints, "
                             f"got {output_size!r}")
        for i in range(n):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < out[i] < hi:
                raise ValueError(f"{op}: invalid output_size {tuple(out)} (dim {i} must be "
                                 f"between {lo} and {hi})")
    if min(out) < 1:
        raise ShapeError(f"{op}: the output size {out} is too small")
    lead = tuple(x.shape[:-n])
    P = int(np.prod(lead)) if lead else 1
    return UnpoolGeom(tuple(x.shape), P, int(np.prod(x.shape[-n:])), int(np.prod(out)),
                      lead + out)


class MaxUnpool2dFn(Function):
    """The inverse of max pooling: y zeroed, y.flat[indices] = x per plane;
    forward(ctx, x, indices, geom); backward gathers the gradient."""
    raw = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint

    @staticmethod
    def forward(ctx, x, indices, g):
        check_float("max_unpool2d", "input", x)
        idx = np.ascontiguousarray(indices)
        y = np.empty(g.out_shape, x.dtype)
        if y.size:
            _core.max_unpool2d(np.ascontiguousarray(x), idx, y, g.P, g.n_in, g.n_out, False,
                               nthreads())
        ctx.save_for_backward(idx)
        ctx.geom = g
        ctx.dtype = x.dtype
        return y

    @staticmethod
    def backward(ctx, grad):
        (idx,) = ctx.saved_tensors
        g = ctx.geom
        dx = np.empty(g.in_shape, ctx.dtype)
        if dx.size:
            grad = np.ascontiguousarray(grad, dtype=ctx.dtype)
            _core.max_unpool2d(grad, idx, dx, g.P, g.n_in, g.n_out, True, nthreads())
        return dx, None, None


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``: each value put back at its index
    (from ``return_indices=True``), zeros elsewhere.

    Shape
    -----
    (N, C, H, W) -> (N, C, OH, OW), OH = (H - 1)*stride - 2*padding + kernel
    unless output_size says otherwise.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> y, i = F.max_pool2d(fastnn.randn(1, 1, 4, 4), 2, return_indices=True)
    >>> F.max_unpool2d(y, i, 2).shape
    fastnn.Size([1, 1, 4, 4])
    """
    x, ind = _t(input), _t(indices)
    g = _unpool_geom("max_unpool2d", 2, x, ind, kernel_size, stride, padding, output_size)
    return MaxUnpool2dFn.apply(x, ind, g)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``, as ``max_unpool2d``."""
    x, ind = _t(input), _t(indices)
    g = _unpool_geom("max_unpool1d", 1, x, ind, kernel_size, stride, padding, output_size)
    return MaxUnpool2dFn.apply(x, ind, g)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool2d(..., return_indices=True)``: (output, indices) always."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool1d(..., return_indices=True)``: (output, indices) always."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)
