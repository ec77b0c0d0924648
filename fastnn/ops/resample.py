"""Resampling and channel/space rearrangement: ``interpolate`` (modes
'nearest', 'nearest-exact', 'linear', 'bilinear'; 'bicubic', 'area' and 5-D
input ('trilinear') in Python, by matmul, adaptive pooling and
index_select), ``pixel_shuffle``,
``pixel_unshuffle``.

``interpolate`` runs in C (``csrc/resample.c``, forward and backward); the
per-axis source indices and weights are computed here once per call, with
PyTorch's formulas and arithmetic precision (float32 for the nearest
modes' scale; the input's dtype for the linear weights):

* nearest: ``src = min(floor(dst * s), in - 1)`` (identity when ``out == in``,
  ``dst >> 1`` when ``out == 2 in``); nearest-exact: ``floor((dst + 0.5) * s)``.
* linear: ``src = s (dst + 0.5) - 0.5`` clamped at 0 (``s dst`` with
  ``align_corners``, ``s = (in - 1) / (out - 1)``); ``i0 = floor(src)``,
  ``i1 = i0 + (i0 < in - 1)``, ``w1 = src - i0``, ``w0 = 1 - w1``.

``s`` is ``1 / scale_factor`` when a scale factor is given (and not
recomputed), else ``in / out``.
"""
import math

import numpy as np

from .. import _core
from .._errors import ShapeError
from ..autograd.function import Function
from ._util import c_contig, check_float, nthreads
from .activation import _t

__all__ = ["interpolate", "upsample", "pixel_shuffle", "pixel_unshuffle"]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear")
_F32 = np.float32


def _nearest_table(n_in, n_out, sf, exact):
    """Source index of every output position (float32 scale, as PyTorch)."""
    i = np.arange(n_out, dtype=np.int64)
    if not exact and n_out == n_in:
        return i
    if not exact and n_out == 2 * n_in:
        return i >> 1
    s = _F32(1.0 / sf) if sf is not None and sf > 0 else _F32(n_in) / _F32(n_out)
    if exact:
        src = np.floor(((i + 0.5) * float(s)).astype(np.float32))
    else:
        src = np.floor(i.astype(np.float32) * s)
    return np.minimum(src.astype(np.int64), n_in - 1)


def _source(n_in, n_out, sf, align_corners, dtype):
    """The source coordinate of every output position along one axis, in
    dtype (PyTorch's formulas; not clamped: 'linear' clamps it at 0,
    'cubic' does not)."""
    T = dtype.type
    i = np.arange(n_out).astype(dtype)
    if align_corners:
        return (T(n_in - 1) / T(n_out - 1) if n_out > 1 else T(0)) * i
    s = T(1.0 / sf) if sf is not None and sf > 0 else T(n_in) / T(n_out)
    return s * (i + T(0.5)) - T(0.5)


def _linear_table(n_in, n_out, sf, align_corners, dtype):
    """(i0, i1, w0, w1) of every output position (PyTorch's formulas in dtype)."""
    T = dtype.type
    i = np.arange(n_out, dtype=np.int64)
    if n_out == n_in:
        return i, i.copy(), np.ones(n_out, dtype), np.zeros(n_out, dtype)
    src = _source(n_in, n_out, sf, align_corners, dtype)
    if not align_corners:
        src = np.where(src < 0, T(0), src)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    w1 = np.clip(src - i0.astype(dtype), T(0), T(1)).astype(dtype)
    i1 = i0 + (i0 < n_in - 1)
    return i0, i1, (T(1) - w1).astype(dtype), w1


def _sizes(op, x, size, scale_factor, recompute):
    """(output sizes, scale factors or Nones) of the spatial dims."""
    dim = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError(f"{op}: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError(f"{op}: either size or scale_factor should be defined")
    if size is not None:
        if recompute:
            raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit "
                             "size.")
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * dim
        if len(sizes) != dim:
            raise ValueError(f"{op}: Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(x.shape[2:])} and output size of {size}.")
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
            raise TypeError(f"{op}: expected size to be one of int or Tuple[int], but got size "
                            f"{size!r}")
        return [int(s) for s in sizes], [None] * dim
    sfs = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * dim
    if len(sfs) != dim:
        raise ValueError(f"{op}: Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of "
                         f"{list(x.shape[2:])} and scale_factor of shape {scale_factor}.")
    sfs = [float(s) for s in sfs]
    sizes = [int(math.floor(n * s)) for n, s in zip(x.shape[2:], sfs)]
    return sizes, ([None] * dim if recompute else sfs)


def _validate(x, size, scale_factor, mode, align_corners, recompute, antialias):
    """Checks the arguments; returns (out sizes, tables, linear?)."""
    op = "interpolate"
    check_float(op, "input", x)
    if mode not in _MODES:
        raise NotImplementedError(f"{op}: mode {mode!r} is not supported (fastnn supports "
                                  "'nearest', 'nearest-exact', 'linear' and 'bilinear')")
    if mode in ("nearest", "nearest-exact") and align_corners is not None:
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating "
                         "modes: linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: Input Error: Only 3D and 4D input Tensors supported (got "
                         f"{x.ndim}D) for the modes: {' | '.join(_MODES)} (got {mode})")
    need = {"linear": 3, "bilinear": 4}.get(mode)
    if need is not None and x.ndim != need:
        raise ShapeError(f"{op}: Got {x.ndim}D input, but {mode} mode needs {need}D input")
    sizes, sfs = _sizes(op, x, size, scale_factor, bool(recompute))
    if min(sizes) <= 0 or min(x.shape[2:]) <= 0:
        raise ShapeError(f"{op}: Input and output sizes should be greater than 0, but got "
                         f"input {tuple(x.shape[2:])} output {tuple(sizes)}")
    ins = list(x.shape[2:])
    if len(ins) == 1:                              # 1-D: one row
        ins, sizes, sfs = [1] + ins, [1] + sizes, [None] + sfs
    if mode in ("nearest", "nearest-exact"):
        ex = mode == "nearest-exact"
        return sizes, (_nearest_table(ins[0], sizes[0], sfs[0], ex),
                       _nearest_table(ins[1], sizes[1], sfs[1], ex)), False
    ac = bool(align_corners)
    ty = _linear_table(ins[0], sizes[0], sfs[0], ac, x.dtype)
    tx = _linear_table(ins[1], sizes[1], sfs[1], ac, x.dtype)
    return sizes, ty + tx, True


class UpsampleFn(Function):
    """Nearest / (bi)linear resampling of the trailing spatial dims (csrc/resample.c)."""
    raw = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint

    @staticmethod
    def _torch_name(ctx):
        """PyTorch's node: the mode and the number of spatial dims
        ('UpsampleBilinear2DBackward0')."""
        stem = {"nearest-exact": "NearestExact", "linear": "Linear", "bilinear": "Bilinear",
                "bicubic": "Bicubic"}.get(ctx._args[3], "Nearest")
        return f"Upsample{stem}{len(ctx.info[0]) - 2}DBackward0"

    @staticmethod
    def forward(ctx, x, size, scale_factor, mode, align_corners, recompute):
        sizes, tables, linear = _validate(x, size, scale_factor, mode, align_corners,
                                          recompute, False)
        planes = x.shape[0] * x.shape[1]
        src = c_contig(x).reshape(planes, 1 if x.ndim == 3 else x.shape[2], x.shape[-1])
        out = np.empty((planes, sizes[0], sizes[1]), dtype=x.dtype)
        if linear:
            _core.upsample_bilinear_fwd(src, tables, out, nthreads())
        else:
            _core.upsample_nearest_fwd(src, tables[0], tables[1], out, nthreads())
        ctx.info = (x.shape, src.shape, tables, linear)
        return out.reshape(x.shape[:2] + tuple(sizes[-(x.ndim - 2):]))

    @staticmethod
    def backward(ctx, g):
        shape, sshape, tables, linear = ctx.info
        g3 = np.ascontiguousarray(g).reshape(sshape[0], 1 if g.ndim == 3 else g.shape[2],
                                             g.shape[-1])
        gx = np.empty(sshape, dtype=g3.dtype)
        if linear:
            _core.upsample_bilinear_bwd(g3, tables, gx, nthreads())
        else:
            _core.upsample_nearest_bwd(g3, tables[0], tables[1], gx, nthreads())
        return gx.reshape(shape), None, None, None, None, None


def _cubic_matrix(n_in, n_out, sf, align_corners, dtype):
    """(n_out, n_in) weights of PyTorch's bicubic resampling along one axis:
    the cubic convolution kernel with A = -0.75 over the 4 taps floor(src) - 1
    .. floor(src) + 2, taps past an edge clamped onto it; ``src`` as for
    'linear' but not clamped at 0."""
    T = dtype.type
    src = _source(n_in, n_out, sf, align_corners, dtype)
    i0 = np.floor(src).astype(np.int64)
    t = (src - i0).astype(dtype)
    A = T(-0.75)

    def near(x):                      # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):                       # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    w = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1)
    mat = np.zeros((n_out, n_in), dtype)
    rows = np.arange(n_out)
    for k in range(4):
        np.add.at(mat, (rows, np.clip(i0 - 1 + k, 0, n_in - 1)), w[:, k])
    return mat


def _bicubic(x, size, scale_factor, align_corners, recompute):
    """mode='bicubic' (4-D input): separable, as two matrix products (autograd
    through matmul)."""
    if x.ndim != 4:
        raise ShapeError(f"interpolate: Got {x.ndim}D input, but bicubic mode needs 4D input")
    check_float("interpolate", "input", x)
    sizes, sfs = _sizes("interpolate", x, size, scale_factor, bool(recompute))
    if min(sizes) <= 0 or min(x.shape[2:]) <= 0:
        raise ShapeError(f"interpolate: Input and output sizes should be greater than 0, but "
                         f"got input {tuple(x.shape[2:])} output {tuple(sizes)}")
    ac = bool(align_corners)
    my = _cubic_matrix(x.shape[2], sizes[0], sfs[0], ac, x.dtype)
    mx = _cubic_matrix(x.shape[3], sizes[1], sfs[1], ac, x.dtype)
    return x.new_tensor(my) @ x @ x.new_tensor(mx.T)


def _aa_matrix(n_in, n_out, sf, align_corners, dtype, taps):
    """(n_out, n_in) weights of antialiased resampling along one axis (PIL's
    resampling, which PyTorch follows): the filter (the triangle for
    'bilinear', taps = 2; the cubic kernel with A = -0.5 for 'bicubic',
    taps = 4; sinc(x) sinc(x / 3) for 'lanczos', taps = 6) is stretched by
    the scale when shrinking, centred at
    ``scale * (i + 0.5)``, cut to the input and normalised to sum 1.
    ``scale`` is as for 'linear' (``(in - 1) / (out - 1)`` with
    align_corners); arithmetic in dtype."""
    T = dtype.type
    if align_corners:
        scale = T((n_in - 1) / (n_out - 1)) if n_out > 1 else T(0)
    else:
        scale = T(1.0 / sf) if sf is not None and sf > 0 else T(n_in) / T(n_out)
    support = T(taps * 0.5) * scale if scale >= 1 else T(taps * 0.5)
    inv = T(1) / scale if scale >= 1 else T(1)
    A = T(-0.5)

    def filt(x):
        x = np.abs(x)
        if taps == 2:
            return np.where(x < 1, T(1) - x, T(0))
        if taps == 6:
            with np.errstate(all="ignore"):
                sinc = np.where(x == 0, T(1), np.sin(np.pi * x) / (np.pi * x))
                sinc3 = np.where(x == 0, T(1), np.sin(np.pi * x / 3) / (np.pi * x / 3))
            return np.where(x < 3, sinc * sinc3, T(0)).astype(dtype)
        near = ((A + 2) * x - (A + 3)) * x * x + 1
        far = (((x - 5) * x + 8) * x - 4) * A
        return np.where(x < 1, near, np.where(x < 2, far, T(0)))

    mat = np.zeros((n_out, n_in), dtype)
    for i in range(n_out):
        center = scale * T(i + 0.5)
        lo = max(int(center - support + T(0.5)), 0)
        hi = min(int(center + support + T(0.5)), n_in)
        w = filt((np.arange(lo, hi).astype(dtype) - center + T(0.5)) * inv).astype(dtype)
        total = w.sum(dtype=dtype)
        mat[i, lo:hi] = w / total if total != 0 else w
    return mat


def _antialias(x, size, scale_factor, mode, align_corners, recompute):
    """antialias=True ('bilinear', 'bicubic', 'lanczos'; 4-D input):
    separable, as two matrix products (autograd through matmul)."""
    if mode not in ("bilinear", "bicubic", "lanczos") or x.ndim != 4:
        raise ValueError("interpolate: Anti-alias option is restricted to bilinear, bicubic, "
                         f"and lanczos modes and requires a 4-D tensor as input (got mode "
                         f"{mode!r} and a {x.ndim}-D input)")
    if mode == "lanczos" and align_corners:
        raise ValueError("interpolate: Lanczos mode does not support align_corners=True")
    check_float("interpolate", "input", x)
    sizes, sfs = _sizes("interpolate", x, size, scale_factor, bool(recompute))
    if min(sizes) <= 0 or min(x.shape[2:]) <= 0:
        raise ShapeError(f"interpolate: Input and output sizes should be greater than 0, but "
                         f"got input {tuple(x.shape[2:])} output {tuple(sizes)}")
    taps = {"bilinear": 2, "bicubic": 4, "lanczos": 6}[mode]
    my = _aa_matrix(x.shape[2], sizes[0], sfs[0], bool(align_corners), x.dtype, taps)
    mx = _aa_matrix(x.shape[3], sizes[1], sfs[1], bool(align_corners), x.dtype, taps)
    return x.new_tensor(my) @ (x @ x.new_tensor(mx.T))


def _area(x, size, scale_factor, align_corners):
    """mode='area' is adaptive average pooling to the output size."""
    from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
    if align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if x.ndim not in (3, 4):
        raise ShapeError(f"interpolate: Input Error: Only 3D and 4D input Tensors supported "
                         f"(got {x.ndim}D) for the modes: nearest | area")
    sizes, _ = _sizes("interpolate", x, size, scale_factor, False)
    if min(sizes) == 0:                 # PyTorch gives an empty result (pooling refuses 0)
        dims = tuple(range(2, x.ndim))
        return x.sum(dims, keepdim=True).expand(*x.shape[:2], *sizes) * 0
    if x.ndim == 3:
        return adaptive_avg_pool1d(x, sizes[0])
    return adaptive_avg_pool2d(x, tuple(sizes))


def _volumetric(x, size, scale_factor, mode, align_corners, recompute):
    """5-D input ('nearest', 'nearest-exact', 'trilinear'; 3-D models use
    them): one axis at a time with the same tables as the C path, by
    index_select (autograd follows)."""
    from ._common import tensor
    from .indexing import index_select
    op = "interpolate"
    check_float(op, "input", x)
    if mode in ("nearest", "nearest-exact") and align_corners is not None:
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating "
                         "modes: linear | bilinear | bicubic | trilinear")
    sizes, sfs = _sizes(op, x, size, scale_factor, bool(recompute))
    if min(sizes) <= 0 or min(x.shape[2:]) <= 0:
        raise ShapeError(f"{op}: Input and output sizes should be greater than 0, but got "
                         f"input {tuple(x.shape[2:])} output {tuple(sizes)}")
    for d, (n_out, sf) in enumerate(zip(sizes, sfs)):
        n_in, ax = x.shape[2 + d], 2 + d
        if mode == "trilinear":
            i0, i1, w0, w1 = _linear_table(n_in, n_out, sf, bool(align_corners), x.dtype)
            wshape = [1] * x.ndim
            wshape[ax] = n_out
            x = (index_select(x, ax, tensor(i0)) * tensor(w0.reshape(wshape)) +
                 index_select(x, ax, tensor(i1)) * tensor(w1.reshape(wshape)))
        else:
            t = _nearest_table(n_in, n_out, sf, mode == "nearest-exact")
            x = index_select(x, ax, tensor(t))
    return x


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resamples the spatial dimensions to ``size`` or by ``scale_factor``.

    Parameters
    ----------
    input : Tensor (N, C, L), (N, C, H, W) or (N, C, D, H, W)
    size : int or tuple of int, optional
        Output spatial size.
    scale_factor : float or tuple of float, optional
        Multiplier of the spatial size (output ``floor(in * scale_factor)``).
    mode : {'nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area', 'lanczos'}
        'linear' for 3-D input, 'bilinear' and 'bicubic' for 4-D, 'trilinear' for 5-D;
        'lanczos' (4-D, with antialias=True only) is PIL's Lanczos-3 filter.
    align_corners : bool, optional
        Linear modes only: map the corner pixels' centres onto each other
        (default False).
    recompute_scale_factor : bool, optional
        Derive the interpolation scale from the computed output size.
    antialias : bool
        'bilinear', 'bicubic' and 'lanczos' (4-D input) only: when shrinking, widen the
        filter by the scale so that every input pixel contributes (as PIL
        and torchvision's Resize).

    Shape
    -----
    (N, C, H, W) -> (N, C, H_out, W_out); (N, C, L) -> (N, C, L_out).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> x = fastnn.tensor([[[[1.0, 2.0]]]])
    >>> F.interpolate(x, scale_factor=2, mode="nearest").numpy()
    array([[[[1., 1., 2., 2.],
             [1., 1., 2., 2.]]]], dtype=float32)
    >>> F.interpolate(x, size=(1, 3), mode="bilinear", align_corners=True).numpy()
    array([[[[1. , 1.5, 2. ]]]], dtype=float32)
    """
    size = tuple(size) if isinstance(size, list) else size
    scale_factor = tuple(scale_factor) if isinstance(scale_factor, list) else scale_factor
    if mode == "lanczos" and not antialias:
        raise ValueError("interpolate: Lanczos mode requires antialias=True")
    if antialias:
        if mode not in ("nearest", "nearest-exact", "area") and align_corners is None:
            align_corners = False
        return _antialias(_t(input), size, scale_factor, mode, align_corners,
                          recompute_scale_factor)
    # 'area' and 'bicubic' are common in real models (pos-embedding resizing,
    # image resizing); built here from pooling and matmul
    if mode == "area":
        return _area(_t(input), size, scale_factor, align_corners)
    if mode not in ("nearest", "nearest-exact") and align_corners is None:
        align_corners = False
    if mode == "bicubic":
        return _bicubic(_t(input), size, scale_factor, align_corners, recompute_scale_factor)
    x = _t(input)
    if x.ndim == 5 and mode in ("nearest", "nearest-exact", "trilinear"):
        return _volumetric(x, size, scale_factor, mode, align_corners, recompute_scale_factor)
    if mode == "trilinear":
        raise ShapeError(f"interpolate: Got {x.ndim}D input, but trilinear mode needs 5D input")
    return UpsampleFn.apply(x, size, scale_factor, mode, align_corners,
                            recompute_scale_factor)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def _check_factor(op, name, r):
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {type(r).__name__}")
    if r <= 0:
        raise ValueError(f"{op} expects a positive {name}, but got {r}")
    return int(r)


def _shuffle(x, r):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    *b, c, h, w = x.shape
    y = x.reshape(*b, c // (r * r), r, r, h, w)
    n = len(b)
    y = y.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return np.ascontiguousarray(y).reshape(*b, c // (r * r), h * r, w * r)


def _unshuffle(x, r):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    *b, c, h, w = x.shape
    y = x.reshape(*b, c, h // r, r, w // r, r)
    n = len(b)
    y = y.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return np.ascontiguousarray(y).reshape(*b, c * r * r, h // r, w // r)


class PixelShuffleFn(Function):
    """Depth to space: a pure rearrangement (its backward is the inverse one)."""
    raw = True
    _keep_args = True     # linear in x: differentiable backward by its adjoint

    @staticmethod
    def forward(ctx, x, r, inverse):
        op = "pixel_unshuffle" if inverse else "pixel_shuffle"
        if x.ndim < 3:
            raise ShapeError(f"{op} expects input to have at least 3 dimensions, but got input "
                             f"with {x.ndim} dimension(s)")
        if inverse:
            for ax, nm in ((-2, "height"), (-1, "width")):
                if x.shape[ax] % r:
                    raise ShapeError(f"{op} expects {nm} to be divisible by downscale_factor, "
                                     f"but input.size({ax})={x.shape[ax]} is not divisible by "
                                     f"{r}")
        elif x.shape[-3] % (r * r):
            raise ShapeError(f"{op} expects its input's 'channel' dimension to be divisible by "
                             f"the square of upscale_factor, but input.size(-3)={x.shape[-3]} "
                             f"is not divisible by {r * r}")
        ctx.info = (r, inverse)
        return _unshuffle(x, r) if inverse else _shuffle(x, r)

    @staticmethod
    def backward(ctx, g):
        r, inverse = ctx.info
        return (_shuffle(g, r) if inverse else _unshuffle(g, r)), None, None


def pixel_shuffle(input, upscale_factor):
    """Rearranges (*, C r^2, H, W) into (*, C, H r, W r) (sub-pixel convolution).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.pixel_shuffle(fastnn.zeros(1, 8, 3, 3), 2).shape
    fastnn.Size([1, 2, 6, 6])
    """
    r = _check_factor("pixel_shuffle", "upscale_factor", upscale_factor)
    return PixelShuffleFn.apply(_t(input), r, False)


def pixel_unshuffle(input, downscale_factor):
    """Rearranges (*, C, H r, W r) into (*, C r^2, H, W) (the inverse of pixel_shuffle).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> F.pixel_unshuffle(fastnn.zeros(1, 2, 6, 6), 2).shape
    fastnn.Size([1, 8, 3, 3])
    """
    r = _check_factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    return PixelShuffleFn.apply(_t(input), r, True)
