"""Convolutions as autograd Functions over csrc/conv2d.c: ``conv2d`` (stride,
padding, dilation, groups), ``conv1d`` (a 2-D call with H = 1), the fused
``conv2d_relu``, and the transposed ``conv_transpose2d`` / ``conv_transpose1d``
(the convolution's input gradient run forward).

Every op validates its arguments once, in ``_validate`` / ``_validate_t``,
which return the normalised geometry (:class:`ConvGeometry`); the one
entry (``conv2d`` etc.) then either records a graph node (``Conv2dFn.apply``)
or, when nothing is to be recorded (grad mode off, or no argument requires
grad), calls the same array-level forward directly (no node, nothing
saved).  The kernels pick the method (implicit GEMM, Winograd F(2x2, 3x3),
direct depthwise) in C; results do not depend on the thread count.  Arrays
are made C-contiguous here before they reach C.
"""
from collections import namedtuple

import numpy as np

from .. import _core
from .._errors import ShapeError
from ..autograd.function import Function
from ._util import is_float, nthreads, untracked

__all__ = ["conv1d", "conv2d", "conv2d_relu", "conv_transpose1d", "conv_transpose2d",
           "Conv1dFn", "Conv2dFn", "Conv2dReLUFn", "ConvTranspose1dFn", "ConvTranspose2dFn",
           "ConvGeometry", "pair_arg"]

ConvGeometry = namedtuple("ConvGeometry", ["stride", "padding", "dilation", "groups", "out",
                                           "extra", "xpad"])
ConvGeometry.__doc__ = """The normalised geometry of one convolution call, as 2-D pairs
(a 1-D op uses H = 1): stride, padding (symmetric zero padding the kernel
applies), dilation, groups; out: the output's (OH, OW); extra: None, or the
(bottom, right) zero rows/columns padded on first (padding='same' with an
even dilated kernel, as PyTorch); xpad: for a transposed convolution whose
output_padding reaches past the stride, the (rows, columns) of zeros its
input is extended by, else None."""


def _as_int(op, name, v):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
    return int(v)


def pair_arg(op, name, v):
    """An int or a pair of ints as a 2-tuple of Python ints (types checked,
    values not)."""
    tv = type(v)
    if tv is int:                                        # the common cases, fast
        return (v, v)
    if tv is tuple and len(v) == 2 and type(v[0]) is int and type(v[1]) is int:
        return v
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            v = (v[0], v[0])
        if len(v) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
        return (_as_int(op, name, v[0]), _as_int(op, name, v[1]))
    v = _as_int(op, name, v)
    return (v, v)


def _single_arg(op, name, v):
    """A 1-D op's int or 1-tuple as the 2-D pair (first, v)."""
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {v!r}")
        v = v[0]
    return _as_int(op, name, v)


def _spatial(op, name, v, nd, first):
    """stride / padding / dilation of an nd-D op as a 2-D pair."""
    if nd == 2:
        return pair_arg(op, name, v)
    return (first, _single_arg(op, name, v))


def _check_ranks(op, x, w, nd):
    if w.ndim != nd + 2:
        raise ShapeError(f"{op}: weight must be {nd + 2}-D (out_channels, in_channels/groups, "
                         f"{'kH, kW' if nd == 2 else 'kW'}), got shape {tuple(w.shape)}")
    if x.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"{op}: expected {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, "
                         f"got {x.ndim}-D input of shape {tuple(x.shape)}")


def _check_dtypes(op, x, w, b):
    if not is_float(x) or x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
        raise TypeError(f"{op}: input ({x.dtype}), weight ({w.dtype})"
                        + (f" and bias ({b.dtype})" if b is not None else "")
                        + " must share one float dtype (float32 or float64)")


def _check_groups(op, groups):
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"{op}: non-positive groups is not supported, got groups={groups}")
    return int(groups)


def _check_positive(op, stride, dilation):
    if stride[0] <= 0 or stride[1] <= 0:
        raise ValueError(f"{op}: non-positive stride is not supported, got stride={stride}")
    if dilation[0] <= 0 or dilation[1] <= 0:
        raise ValueError(f"{op}: dilation should be greater than zero, got dilation={dilation}")


def _padding(op, padding, kernel, stride, dilation, nd):
    """(padding pair, extra): 'valid', 'same' (PyTorch's rule: total
    dil*(k-1), the smaller half on the left/top, the rest padded first on
    the right/bottom) or ints."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), None
        if padding != "same":
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                             "('valid', 'same')")
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride={stride[2 - nd:]})")
        tot = (dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1))
        left = (tot[0] // 2, tot[1] // 2)
        extra = (tot[0] - 2 * left[0], tot[1] - 2 * left[1])
        return left, (extra if extra != (0, 0) else None)
    pad = _spatial(op, "padding", padding, nd, 0)
    if pad[0] < 0 or pad[1] < 0:
        raise ValueError(f"{op}: negative padding is not supported, got "
                         f"padding={pad[2 - nd:] if nd == 1 else pad}")
    return pad, None


def _check_size(op, x, kernel, padding, dilation, extra, nd):
    """Raises unless the dilated kernel fits the non-empty padded input."""
    ih, iw = (x.shape[-2] if nd == 2 else 1), x.shape[-1]
    no_batch = x.ndim == nd + 2 and x.shape[0] == 0   # PyTorch takes any padded size then
    if ((ih < 1 or iw < 1) and not no_batch) or min(kernel) < 1:
        raise ShapeError(f"{op}: empty kernel {tuple(kernel)} or input {tuple(x.shape)}")
    e = extra or (0, 0)
    ph_, pw_ = ih + 2 * padding[0] + e[0], iw + 2 * padding[1] + e[1]
    eh, ew = dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1
    if eh > ph_ or ew > pw_:
        shown = f"{eh} x {ew}" if nd == 2 else f"{ew}"
        raise ShapeError(f"{op}: kernel size ({shown}, dilation included) can't be greater "
                         f"than the padded input size ({ph_ if nd == 2 else ''}"
                         f"{' x ' if nd == 2 else ''}{pw_}) (input {tuple(x.shape)})")


_GEOMS = {}   # (op, shapes, dtypes, arguments) -> ConvGeometry of a valid call


def _plain(v):
    """v is an int, a string, or a tuple of ints (no bools): usable as a key."""
    tv = type(v)
    if tv is tuple:
        return (type(v[0]) is int and type(v[1]) is int) if len(v) == 2 else \
            all(type(e) is int for e in v)
    return tv is int or tv is str


def _validate(op, x, w, b, stride, padding, dilation, groups, nd=2):
    """Ranks, channels and groups, bias, dtypes and geometry of conv{nd}d
    (x, w, b ndarrays); returns the :class:`ConvGeometry`.  A valid call's
    geometry is remembered by its shapes, dtypes and arguments (all it
    depends on), so a layer called again skips the checks."""
    key = (op, x.shape, x.dtype, w.shape, w.dtype, None if b is None else (b.shape, b.dtype),
           stride, padding, dilation, groups)
    geom = _GEOMS.get(key) if (_plain(stride) and _plain(padding) and _plain(dilation)
                               and type(groups) is int) else False
    if geom:
        return geom
    geom2 = _validate_all(op, x, w, b, stride, padding, dilation, groups, nd)
    if geom is None:
        if len(_GEOMS) >= 1024:
            _GEOMS.clear()
        _GEOMS[key] = geom2
    return geom2


def _validate_all(op, x, w, b, stride, padding, dilation, groups, nd):
    _check_ranks(op, x, w, nd)
    groups = _check_groups(op, groups)
    K, Cg = w.shape[0], w.shape[1]
    C = x.shape[-nd - 1]
    if K % groups:
        raise ShapeError(f"{op}: given groups={groups}, expected weight to be divisible by "
                         f"{groups} at dimension 0, but got weight of size {list(w.shape)}")
    if C != Cg * groups:
        raise ShapeError(f"{op}: given groups={groups}, weight of size {list(w.shape)} "
                         f"expects input {list(x.shape)} to have {Cg * groups} channels, but "
                         f"got {C} channels instead")
    if b is not None and (b.ndim != 1 or b.shape[0] != K):
        raise ShapeError(f"{op}: bias must have shape ({K},) to match weight of size "
                         f"{list(w.shape)}, got shape {tuple(b.shape)}")
    _check_dtypes(op, x, w, b)
    stride = _spatial(op, "stride", stride, nd, 1)
    dilation = _spatial(op, "dilation", dilation, nd, 1)
    _check_positive(op, stride, dilation)
    kernel = (w.shape[2], w.shape[3]) if nd == 2 else (1, w.shape[2])
    pad, extra = _padding(op, padding, kernel, stride, dilation, nd)
    _check_size(op, x, kernel, pad, dilation, extra, nd)
    ih, iw = (x.shape[-2] if nd == 2 else 1), x.shape[-1]
    e = extra or (0, 0)
    if ih < 1 or iw < 1:   # an empty batch (checked above): the formula, no kernel runs
        out = tuple((i + ex + 2 * p - d * (k - 1) - 1) // s + 1 for i, ex, p, d, k, s in
                    zip((ih, iw), e, pad, dilation, kernel, stride))
    else:
        out = _core.conv2d_out_size(ih + e[0], iw + e[1], *kernel, *stride, *pad, *dilation)
    return ConvGeometry(stride, pad, dilation, groups, out, extra, None)


# ---------------------------------------------------------------- arrays
def _to4d(x, nd):
    """x as a C-contiguous 4-D (N, C, H, W) array, and whether it was unbatched."""
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x[None]
    if nd == 1:
        x = x[:, :, None, :]
    return np.ascontiguousarray(x), unbatched


def _w4d(w, nd):
    return np.ascontiguousarray(w if nd == 2 else w[:, :, None, :])


def _from4d(y, unbatched, nd):
    if nd == 1:
        y = y[:, :, 0, :]
    return y[0] if unbatched else y


def _kernel_args(g):
    return (*g.stride, *g.padding, nthreads())


def _conv_forward(x, w, b, g, relu, nd):
    """y = conv{nd}d(x, w) + b (then ReLU) on arrays; also the 4-D operands."""
    if nd == 2 and x.ndim == 4 and x.flags.c_contiguous and w.flags.c_contiguous:
        x4, w4, unbatched = x, w, False          # the common case, as it comes
    else:
        x4, unbatched = _to4d(x, nd)
        w4 = _w4d(w, nd)
    if b is not None and not b.flags.c_contiguous:
        b = np.ascontiguousarray(b)
    y = np.empty((x4.shape[0], w4.shape[0]) + g.out, x4.dtype)
    if x4.shape[0] > 0:
        _core.conv2d_fwd(x4, w4, b, y, *g.stride, *g.padding, nthreads(), relu, *g.dilation,
                         g.groups)
    return (_from4d(y, unbatched, nd) if unbatched or nd == 1 else y), x4, w4


def _conv_backward(ctx, g):
    """(dx, dw, db) of a recorded convolution for its output gradient g."""
    x4, w4 = ctx.saved_tensors[0], ctx.saved_tensors[1]
    geo, nd = ctx.geom, ctx.nd
    nx, nw, nb = (tuple(ctx.needs_input_grad) + (False,) * 3)[:3]
    if not (nx or nw or nb):
        return None, None, None, None
    if x4.shape[0] == 0:   # an empty batch: nothing flows back
        dw = np.zeros(w4.shape[:2] + w4.shape[4 - nd:], w4.dtype) if nw else None
        db = np.zeros(w4.shape[0], w4.dtype) if nb else None
        return (_from4d(np.empty_like(x4), ctx.unbatched, nd) if nx else None), dw, db, None
    g = np.ascontiguousarray(g.reshape((x4.shape[0], w4.shape[0]) + tuple(geo.out)),
                             dtype=x4.dtype)
    if ctx.relu:   # fused ReLU: g where y > 0, else 0 (as fnn_relu_bwd)
        y = ctx.saved_tensors[2].reshape(g.shape)
        g = _core.relu_bwd(y, g, np.empty_like(g), nthreads())
    dx = np.empty_like(x4) if nx else None
    dw = np.empty_like(w4) if nw else None
    db = np.empty(w4.shape[0], w4.dtype) if nb else None
    _core.conv2d_bwd(x4, w4, g, dx, dw, db, *_kernel_args(geo), *geo.dilation, geo.groups)
    if dx is not None:
        dx = _from4d(dx, ctx.unbatched, nd)
    if dw is not None and nd == 1:
        dw = dw[:, :, 0, :]
    return dx, dw, db, None


def _fn_forward(ctx, x, weight, bias, geom, relu, nd):
    """The forward of a convolution node: saves what the backward needs."""
    y, x4, w4 = _conv_forward(x, weight, bias, geom, relu, nd)
    # the fused backward masks the gradient by the output: y > 0 exactly
    # where the unfused ReLU's input was > 0
    ctx.save_for_backward(*((x4, w4, y) if relu else (x4, w4)))
    ctx.geom, ctx.nd, ctx.relu = geom, nd, relu
    ctx.unbatched = x.ndim == nd + 1
    return y


class _ConvFn(Function):
    """What the convolution nodes share: raw arrays, the backward, and the
    forward on arrays without a node (``arrays``, the no-graph branch)."""
    raw = True

    @classmethod
    def arrays(cls, x, w, b, geom):
        return _conv_forward(x, w, b, geom, cls._relu, cls._nd)[0]

    @staticmethod
    def backward(ctx, g):
        return _conv_backward(ctx, g)


class Conv2dFn(_ConvFn):
    """y = conv2d(x, w) + b as one graph node: forward(ctx, x, weight, bias,
    geom), x (N, C, H, W) or (C, H, W), w (K, C/groups, R, S), b (K,) or
    None, geom the :class:`ConvGeometry` from ``_validate``."""
    _nd, _relu = 2, False

    @staticmethod
    def forward(ctx, x, weight, bias, geom):
        return _fn_forward(ctx, x, weight, bias, geom, False, 2)


class Conv2dReLUFn(_ConvFn):
    """Convolution followed by ReLU as one node: ``relu(conv2d(x, w) + b)``
    with the ReLU applied in the kernel's epilogue (to each output tile once
    it holds its full sum and bias), and a backward that masks the gradient
    by the saved output (``y > 0``) before the convolution's backward.
    Bitwise the same output and gradients as the two ops in sequence.
    Arguments as :class:`Conv2dFn`."""
    _nd, _relu = 2, True

    @staticmethod
    def forward(ctx, x, weight, bias, geom):
        return _fn_forward(ctx, x, weight, bias, geom, True, 2)


class Conv1dFn(_ConvFn):
    """conv1d as one graph node (the 2-D kernels with H = 1): x (N, C, L) or
    (C, L), w (K, C/groups, kW); geom as 2-D pairs (H = 1)."""
    _nd, _relu = 1, False

    @staticmethod
    def forward(ctx, x, weight, bias, geom):
        return _fn_forward(ctx, x, weight, bias, geom, False, 1)


_T = []


def _t(x):
    if not _T:
        from ..nn.functional import _t as wrap
        _T.append(wrap)
    return _T[0](x)


def _arr(t):
    return None if t is None else t._array


def _apply(fn, x, w, b, geom):
    """fn.apply, or -- nothing to record -- the same forward on the arrays."""
    T = untracked(x, w, b)
    if T is not None:
        return T._wrap(fn.arrays(x._array, w._array, _arr(b), geom))
    return fn.apply(x, w, b, geom)


def _pad_extra(x, extra, nd):
    """x with extra zero rows / columns at the bottom / right (padding='same'
    with an even dilated kernel)."""
    from .conv_pad import pad_nd
    pads = (0, extra[1]) if nd == 1 else (0, extra[1], 0, extra[0])
    return pad_nd(x, pads, "constant")


def _conv(fn, op, input, weight, bias, stride, padding, dilation, groups):
    x, w, b = _t(input), _t(weight), _t(bias)
    geom = _validate(op, x._array, w._array, _arr(b), stride, padding, dilation, groups,
                     fn._nd)
    if geom.extra is not None:
        x = _pad_extra(x, geom.extra, fn._nd)
        geom = geom._replace(extra=None)
    return _apply(fn, x, w, b, geom)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch's) over an NCHW batch.

    Parameters
    ----------
    input : Tensor or ndarray, (N, C, H, W) or unbatched (C, H, W)
    weight : Tensor or ndarray, (K, C/groups, R, S)
    bias : Tensor or ndarray, (K,), optional
    stride : int or (int, int)
    padding : int, (int, int), 'valid' or 'same'
        Zero padding added to both sides of each spatial axis; 'same' keeps
        the input size (stride 1; an odd total goes to the bottom/right, as
        PyTorch).
    dilation : int or (int, int)
        Spacing between kernel taps.
    groups : int
        Input and output channels split into this many groups, each
        convolved with its own filters (groups == C: depthwise).

    Returns
    -------
    Tensor, (N, K, OH, OW) with OH = (H + 2*padding[0] - dilation[0]*(R-1) - 1)
    // stride[0] + 1 and OW likewise.

    Shape
    -----
    input (N, C, H, W), weight (K, C/groups, R, S), bias (K,) -> (N, K, OH, OW)

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.conv2d(fastnn.ones(2, 3, 8, 8), fastnn.ones(4, 3, 3, 3), padding=1).shape
    fastnn.Size([2, 4, 8, 8])
    >>> F.conv2d(fastnn.ones(1, 4, 8, 8), fastnn.ones(4, 1, 3, 3), groups=4, dilation=2).shape
    fastnn.Size([1, 4, 4, 4])
    """
    return _conv(Conv2dFn, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv2d_relu(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``relu(conv2d(input, weight, bias, stride, padding, dilation, groups))``
    as one fused op.

    Bitwise the same results (output and every gradient) as
    ``F.relu(F.conv2d(...))``, with one pass less over the output each way:
    the ReLU is applied to each output tile inside the convolution kernel,
    while the tile is in cache, and autograd records one node
    (:class:`Conv2dReLUFn`) whose backward masks the incoming gradient by the
    output before the convolution's backward.  ``nn.Sequential`` uses it for
    an ``nn.Conv2d`` directly followed by ``nn.ReLU``.

    Parameters
    ----------
    As :func:`conv2d`.

    Returns
    -------
    Tensor, (N, K, OH, OW), every element >= 0 (NaN passed through).

    Shape
    -----
    input (N, C, H, W), weight (K, C/groups, R, S), bias (K,) -> (N, K, OH, OW)

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.ops.conv import conv2d_relu
    >>> y = conv2d_relu(fastnn.ones(1, 1, 3, 3), -fastnn.ones(2, 1, 1, 1),
    ...                 fastnn.tensor([0.5, 3.0]))
    >>> y.shape, y.numpy()[:, :, 0, 0].tolist()
    (fastnn.Size([1, 2, 3, 3]), [[0.0, 2.0]])
    """
    return _conv(Conv2dReLUFn, "conv2d", input, weight, bias, stride, padding, dilation,
                 groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over an (N, C, L) batch: the 2-D
    kernels with H = 1.  Arguments as :func:`conv2d` with ints (or
    1-tuples) for stride, padding and dilation.

    Shape
    -----
    input (N, C, L) or (C, L), weight (K, C/groups, kW), bias (K,) -> (N, K, OL)
    with OL = (L + 2*padding - dilation*(kW-1) - 1) // stride + 1

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.conv1d(fastnn.ones(2, 3, 10), fastnn.ones(4, 3, 3), padding=1).shape
    fastnn.Size([2, 4, 10])
    """
    return _conv(Conv1dFn, "conv1d", input, weight, bias, stride, padding, dilation, groups)


from .conv_transpose import (ConvTranspose1dFn, ConvTranspose2dFn,  # noqa: E402
                             conv_transpose1d, conv_transpose2d)
