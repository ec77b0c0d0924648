"""Spatial transformer ops: ``affine_grid`` and ``grid_sample`` (PyTorch's
``F.affine_grid`` / ``F.grid_sample``: 2-D sampling of 4-D inputs, and 3-D
sampling of 5-D volumes, trilinear or nearest).

``affine_grid`` is a composition (a constant base grid of normalised
coordinates times ``theta``'s transpose), so autograd differentiates it.
``grid_sample`` is one op in vectorised NumPy.  A grid value ``x`` in
[-1, 1] maps to the pixel coordinate

    ((x + 1) / 2) (W - 1)     with align_corners,
    ((x + 1) W - 1) / 2       without (pixel centres at -1 + (2i + 1) / W),

then, by padding mode: 'zeros' leaves it (taps outside read 0), 'border'
clips it to [0, W - 1], 'reflection' reflects it about the edges (about
0 and W - 1 with align_corners, about -1/2 and W - 1/2 without) and clips.
The chain's derivative (the scale, times 0 where clipped and -1 on a
reflected stretch) is kept for the grid's gradient, as PyTorch does.
'bilinear' weights the four taps around the point; 'nearest' reads the tap
at ``rint`` of the coordinate (ties to even) and gives the grid no
gradient; 'bicubic' weights the 4x4 taps by the cubic convolution kernel
(A = -0.75) on the unpadded coordinate, each tap moved inside by the
padding mode on its own (so the grid's gradient has only the scale).
The input gradient scatters ``weight * grad`` onto the taps with one
``np.bincount``.
"""
import warnings

import numpy as np

from .._errors import ShapeError
from ..autograd.function import Function
from ._util import check_float
from .activation import _t
from .factories import _linspace as _linspace_values

__all__ = ["affine_grid", "grid_sample"]

_MODES = ("bilinear", "nearest", "bicubic")
_A = -0.75          # the cubic convolution's parameter (PyTorch's, as in OpenCV)
_PADS = ("zeros", "border", "reflection")


def _default_align(align_corners):
    """align_corners=None means False, with PyTorch's warning (each call)."""
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                      "align_corners=False since 1.3.0. Please specify align_corners=True if "
                      "the old behavior is desired. See the documentation of grid_sample for "
                      "details.", UserWarning, stacklevel=3)
        return False
    return bool(align_corners)


def _linspace(n, align_corners, dtype):
    """Normalised coordinates of n pixel centres (corners with align_corners)."""
    if n <= 1:
        return np.zeros(max(n, 0), dtype)
    r = _linspace_values(-1.0, 1.0, n, dtype)       # torch.linspace's values, bit for bit
    if align_corners:
        return r
    # PyTorch scales as ``r * (n - 1) / n``: two roundings in the dtype, not
    # one multiplication by the rounded ratio
    return (r * dtype.type(n - 1)) / dtype.type(n)


def affine_grid(theta, size, align_corners=None):
    """Sampling grid of an affine transform: theta (N, 2, 3) and size
    (N, C, H, W) -> (N, H, W, 2) ((x, y) per output pixel); theta
    (N, 3, 4) and (N, C, D, H, W) -> (N, D, H, W, 3).

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> theta = fastnn.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    >>> F.affine_grid(theta, (1, 1, 2, 2), align_corners=True)[0, :, :, 0]
    tensor([[-1.,  1.],
            [-1.,  1.]])
    """
    align_corners = _default_align(align_corners)
    theta = _t(theta)
    size = tuple(int(s) for s in size)
    if theta.dtype.kind != "f":
        raise TypeError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) not in (4, 5):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    d = len(size) - 2
    if theta.dim() != 3 or tuple(theta.shape[1:]) != (d, d + 1):
        raise ShapeError(f"Expected a batch of {d}D affine matrices of shape Nx{d}x{d + 1} "
                         f"for size {size}. Got {tuple(theta.shape)}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise ShapeError(f"affine_grid: theta has batch size {theta.shape[0]} but size asks "
                         f"for {size[0]}")
    dt = np.dtype(theta.dtype)
    axes = [_linspace(n, align_corners, dt) for n in size[2:]]   # (D,) H, W
    mesh = np.meshgrid(*axes, indexing="ij")
    # columns (x, y[, z], 1): x runs along the last spatial dim
    base = np.stack(list(mesh)[::-1] + [np.ones_like(mesh[0])], axis=-1).reshape(-1, d + 1)
    grid = _t(base) @ theta.transpose(1, 2)                      # (N, P, d)
    return grid.reshape(size[0], *size[2:], d)


def _clip(c, size):
    """Clips to [0, size - 1]; the derivative is 0 at and beyond the ends."""
    lim = c.dtype.type(size - 1)
    grad = ((c > 0) & (c < lim)).astype(c.dtype)
    return np.clip(c, 0, lim), grad


def _reflect(c, twice_low, twice_high):
    """Reflects c about low = twice_low / 2 and high = twice_high / 2 until it
    lies in [low, high]; the derivative is +1 or -1."""
    T = c.dtype.type
    if twice_low == twice_high:
        return np.zeros_like(c), np.zeros_like(c)
    lo, span = T(twice_low / 2), T((twice_high - twice_low) / 2)
    c = c - lo
    sign = np.where(c < 0, T(-1), T(1))
    c = np.abs(c)
    extra = np.fmod(c, span)
    even = np.floor(c / span) % 2 == 0
    return np.where(even, extra + lo, span - extra + lo), np.where(even, sign, -sign)


def _source(coord, size, padding, align):
    """Pixel coordinates of normalised grid values and d(pixel)/d(grid)."""
    T = coord.dtype.type
    if align:
        c = (coord + T(1)) / T(2) * T(size - 1)
        mult = T((size - 1) / 2)
    else:
        c = ((coord + T(1)) * T(size) - T(1)) / T(2)
        mult = T(size / 2)
    grad = np.full(c.shape, mult, c.dtype)
    if padding == "border":
        c, g = _clip(c, size)
        grad *= g
    elif padding == "reflection":
        c, g = _reflect(c, 0, 2 * (size - 1)) if align else _reflect(c, -1, 2 * size - 1)
        grad *= g
        c, g = _clip(c, size)
        grad *= g
    return c, grad


def _cubic(t):
    """The four cubic-convolution weights of the taps at floor - 1 .. floor + 2
    for the fractional offset t, and their derivatives in t."""
    A = t.dtype.type(_A)

    def near(x):          # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):           # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    def dnear(x):
        return (3 * (A + 2) * x - 2 * (A + 3)) * x

    def dfar(x):
        return (3 * A * x - 10 * A) * x + 8 * A

    one, two = t.dtype.type(1), t.dtype.type(2)
    w = (far(t + one), near(t), near(one - t), far(two - t))
    dw = (dfar(t + one), dnear(t), -dnear(one - t), -dfar(two - t))
    return w, dw


def _pad_tap(c, size, padding, align):
    """A tap's (integer-valued) pixel coordinate moved inside by the padding
    mode, as PyTorch reads bicubic taps (each tap padded on its own)."""
    if padding == "border":
        c, _ = _clip(c, size)
    elif padding == "reflection":
        c, _ = _reflect(c, 0, 2 * (size - 1)) if align else _reflect(c, -1, 2 * size - 1)
        c, _ = _clip(c, size)
    return c


def _tap(fi, size):
    """Integer taps of float positions (bounded, so inf/nan cannot overflow)
    and whether each lies inside [0, size)."""
    i = np.clip(np.nan_to_num(fi, nan=-2.0), -2, size + 1).astype(np.int64)
    ok = (i >= 0) & (i < size)
    return np.where(ok, i, 0), ok


class GridSampleFn(Function):
    """out[n, c, p] = sum over taps k of w_k(p) x[n, c, tap_k(p)]."""
    raw = True

    @staticmethod
    def forward(ctx, x, grid, mode, padding, align):
        with np.errstate(invalid="ignore", over="ignore"):   # inf / nan grid values
            return GridSampleFn._forward(ctx, x, grid, mode, padding, align)

    @staticmethod
    def _forward(ctx, x, grid, mode, padding, align):
        N, C, H, W = x.shape
        T = x.dtype.type
        gx, dgx = _source(grid[..., 0], W, padding, align)       # (N, Ho, Wo)
        gy, dgy = _source(grid[..., 1], H, padding, align)
        Ho, Wo = grid.shape[1:3]
        xs = np.ascontiguousarray(x.reshape(N, C, H * W).transpose(0, 2, 1))   # (N, HW, C)
        nidx = np.arange(N)[:, None]
        if mode == "nearest":
            (ix, okx), (iy, oky) = _tap(np.rint(gx), W), _tap(np.rint(gy), H)
            taps = [(iy * W + ix).reshape(N, -1)]
            ws = [(okx & oky).astype(x.dtype).reshape(N, -1)]
            vals = None
        elif mode == "bicubic":
            # the unpadded coordinates: the padding moves each tap instead,
            # and the grid gradient has only the unnormalisation's factor
            gx, dgx = _source(grid[..., 0], W, "zeros", align)
            gy, dgy = _source(grid[..., 1], H, "zeros", align)
            fx, fy = np.floor(gx), np.floor(gy)
            (wx, dwx), (wy, dwy) = _cubic(gx - fx), _cubic(gy - fy)
            xt = [_tap(_pad_tap(fx + T(k - 1), W, padding, align), W) for k in range(4)]
            yt = [_tap(_pad_tap(fy + T(k - 1), H, padding, align), H) for k in range(4)]
            taps, ws, dws = [], [], []
            for j in range(4):
                yi, oy = yt[j]
                for i in range(4):
                    xi, ox = xt[i]
                    ok = (ox & oy).astype(x.dtype)
                    taps.append((yi * W + xi).reshape(N, -1))
                    ws.append((wx[i] * wy[j] * ok).reshape(N, -1))
                    dws.append(((dwx[i] * wy[j] * ok).reshape(N, -1),
                                (wx[i] * dwy[j] * ok).reshape(N, -1)))
            vals = []
        else:
            fx, fy = np.floor(gx), np.floor(gy)
            ex, ey = gx - fx, gy - fy                            # distances to nw
            (x0, ox0), (x1, ox1) = _tap(fx, W), _tap(fx + T(1), W)
            (y0, oy0), (y1, oy1) = _tap(fy, H), _tap(fy + T(1), H)
            wx, wy = (T(1) - ex, ex), (T(1) - ey, ey)
            taps, ws, dws = [], [], []
            for yi, oy, wyi, sy in ((y0, oy0, wy[0], -1), (y1, oy1, wy[1], 1)):
                for xi, ox, wxi, sx in ((x0, ox0, wx[0], -1), (x1, ox1, wx[1], 1)):
                    ok = (ox & oy).astype(x.dtype)
                    taps.append((yi * W + xi).reshape(N, -1))
                    ws.append((wxi * wyi * ok).reshape(N, -1))
                    dws.append(((sx * wyi * ok).reshape(N, -1), (sy * wxi * ok).reshape(N, -1)))
            vals = []
        out = np.zeros((N, Ho * Wo, C), x.dtype)
        for k in range(len(taps)):
            v = xs[nidx, taps[k]]                                # (N, P, C)
            out += ws[k][..., None] * v
            if vals is not None and ctx.needs_input_grad[1]:
                vals.append(v)
        ctx.info = (x.shape, mode, taps, ws, dws if mode != "nearest" else None, vals,
                    dgx.reshape(N, -1), dgy.reshape(N, -1))
        return np.ascontiguousarray(out.transpose(0, 2, 1)).reshape(N, C, Ho, Wo)

    @staticmethod
    def backward(ctx, g):
        (N, C, H, W), mode, taps, ws, dws, vals, dgx, dgy = ctx.info
        Ho, Wo = g.shape[2:]
        gt = np.ascontiguousarray(g.reshape(N, C, -1).transpose(0, 2, 1))   # (N, P, C)
        gin = ggrid = None
        if ctx.needs_input_grad[0]:
            base = (np.arange(N) * (H * W))[:, None]
            ch = np.arange(C)
            idx = np.concatenate([((t + base)[..., None] * C + ch).ravel() for t in taps])
            wts = np.concatenate([(w[..., None] * gt).ravel() for w in ws])
            flat = np.bincount(idx, weights=wts, minlength=N * H * W * C)
            gin = np.ascontiguousarray(flat.reshape(N, H * W, C).transpose(0, 2, 1))
            gin = gin.reshape(N, C, H, W).astype(g.dtype, copy=False)
        if ctx.needs_input_grad[1]:
            ggrid = np.zeros((N, Ho * Wo, 2), g.dtype)
            if mode != "nearest":
                for (dx, dy), v in zip(dws, vals):
                    s = (v * gt).sum(-1)                         # (N, P)
                    ggrid[..., 0] += dx * s
                    ggrid[..., 1] += dy * s
                ggrid[..., 0] *= dgx
                ggrid[..., 1] *= dgy
            ggrid = ggrid.reshape(N, Ho, Wo, 2)
        return gin, ggrid, None, None, None


class GridSample3dFn(Function):
    """Volumetric sampling: x (N, C, D, H, W) at grid (N, Do, Ho, Wo, 3)
    holding (x, y, z) per point; 'bilinear' is trilinear over the 8 taps
    around the point, 'nearest' reads the tap at ``rint``."""
    raw = True

    @staticmethod
    def forward(ctx, x, grid, mode, padding, align):
        with np.errstate(invalid="ignore", over="ignore"):
            return GridSample3dFn._forward(ctx, x, grid, mode, padding, align)

    @staticmethod
    def _forward(ctx, x, grid, mode, padding, align):
        N, C = x.shape[:2]
        sizes = x.shape[2:]                                  # D, H, W
        T = x.dtype.type
        P = int(np.prod(grid.shape[1:4]))
        # per spatial axis (D, H, W): pixel coordinates and d(pixel)/d(grid)
        src = [_source(grid[..., 2 - a], sizes[a], padding, align) for a in range(3)]
        strides = (sizes[1] * sizes[2], sizes[2], 1)
        xs = np.ascontiguousarray(x.reshape(N, C, -1).transpose(0, 2, 1))   # (N, DHW, C)
        nidx = np.arange(N)[:, None]
        taps, ws, dws = [], [], None
        if mode == "nearest":
            idx = 0
            ok = True
            for a in range(3):
                i, o = _tap(np.rint(src[a][0]), sizes[a])
                idx = idx + i * strides[a]
                ok = ok & o
            taps.append(idx.reshape(N, -1))
            ws.append(ok.astype(x.dtype).reshape(N, -1))
        else:
            axes = []
            for a in range(3):
                c = src[a][0]
                f = np.floor(c)
                e = c - f
                axes.append((_tap(f, sizes[a]), _tap(f + T(1), sizes[a]), (T(1) - e, e)))
            dws = []
            for corner in range(8):                          # z-major: t/b, n/s, w/e
                bits = ((corner >> 2) & 1, (corner >> 1) & 1, corner & 1)
                idx, ok, w = 0, True, T(1)
                parts = []
                for a in range(3):
                    (i, o) = axes[a][bits[a]]
                    wa = axes[a][2][bits[a]]
                    idx = idx + i * strides[a]
                    ok = ok & o
                    parts.append(wa)
                    w = w * wa
                okf = ok.astype(x.dtype)
                taps.append(idx.reshape(N, -1))
                ws.append((w * okf).reshape(N, -1))
                d = []
                for a in range(3):                           # d weight / d coord_a
                    g = T(1) if bits[a] else T(-1)
                    for b in range(3):
                        if b != a:
                            g = g * parts[b]
                    d.append((g * okf).reshape(N, -1))
                dws.append(d)
        out = np.zeros((N, P, C), x.dtype)
        vals = [] if (dws is not None and ctx.needs_input_grad[1]) else None
        for k in range(len(taps)):
            v = xs[nidx, taps[k]]
            out += ws[k][..., None] * v
            if vals is not None:
                vals.append(v)
        ctx.info = (x.shape, taps, ws, dws, vals, [g.reshape(N, -1) for _, g in src])
        return np.ascontiguousarray(out.transpose(0, 2, 1)).reshape(N, C, *grid.shape[1:4])

    @staticmethod
    def backward(ctx, g):
        xshape, taps, ws, dws, vals, dg = ctx.info
        N, C = xshape[:2]
        V = int(np.prod(xshape[2:]))
        gt = np.ascontiguousarray(g.reshape(N, C, -1).transpose(0, 2, 1))    # (N, P, C)
        gin = ggrid = None
        if ctx.needs_input_grad[0]:
            base = (np.arange(N) * V)[:, None]
            ch = np.arange(C)
            idx = np.concatenate([((t + base)[..., None] * C + ch).ravel() for t in taps])
            wts = np.concatenate([(w[..., None] * gt).ravel() for w in ws])
            flat = np.bincount(idx, weights=wts, minlength=N * V * C)
            gin = np.ascontiguousarray(flat.reshape(N, V, C).transpose(0, 2, 1))
            gin = gin.reshape(xshape).astype(g.dtype, copy=False)
        if ctx.needs_input_grad[1]:
            ggrid = np.zeros((N, gt.shape[1], 3), g.dtype)
            if dws is not None:
                for d, v in zip(dws, vals):
                    s = (v * gt).sum(-1)
                    for a in range(3):                       # axis a is grid column 2 - a
                        ggrid[..., 2 - a] += d[a] * s
                for a in range(3):
                    ggrid[..., 2 - a] *= dg[a]
            ggrid = ggrid.reshape(N, *g.shape[2:], 3)
        return gin, ggrid, None, None, None


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Samples input (N, C, H, W) at the normalised (x, y) positions of grid
    (N, Ho, Wo, 2) -> (N, C, Ho, Wo) (or a volume (N, C, D, H, W) at grid
    (N, Do, Ho, Wo, 3) of (x, y, z) -> (N, C, Do, Ho, Wo), trilinear or
    nearest); modes 'bilinear', 'nearest' and
    'bicubic' (cubic convolution with A = -0.75 over the 4x4 taps around the
    point, each tap moved inside by the padding mode), padding modes
    'zeros', 'border' and 'reflection'; differentiable with respect to input
    and (bilinear, bicubic) grid.

    Examples
    --------
    >>> import fastnn, fastnn.nn.functional as F
    >>> x = fastnn.arange(4.0).reshape(1, 1, 2, 2)
    >>> F.grid_sample(x, fastnn.zeros(1, 1, 1, 2), align_corners=False)
    tensor([[[[1.5000]]]])
    """
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADS:
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    align_corners = _default_align(align_corners)
    x, gr = _t(input), _t(grid)
    check_float("grid_sample", "input", x._array)
    check_float("grid_sample", "grid", gr._array)
    if x.dtype != gr.dtype:
        raise TypeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                        f"input has {x.dtype} and grid has {gr.dtype}")
    xs, gs = list(x.shape), list(gr.shape)
    # PyTorch's order: the checks common to 2-D and 3-D first, then the rank
    if len(xs) < 1 or len(gs) < 1 or xs[0] != gs[0]:
        raise ShapeError(f"grid_sampler(): expected grid and input to have same batch size, but "
                         f"got input with sizes {xs} and grid with sizes {gs}")
    if gs[-1] != x.dim() - 2:
        raise ShapeError(f"grid_sampler(): expected grid to have size {x.dim() - 2} in last "
                         f"dimension, but got grid with sizes {gs}")
    for d in range(2, x.dim()):
        if xs[d] == 0:
            raise ShapeError(f"grid_sampler(): expected input to have non-empty spatial "
                             f"dimensions, but input has sizes {xs} with dimension {d} being "
                             f"empty")
    if x.dim() == 5 and gr.dim() == 5:
        if mode == "bicubic":
            raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
        return GridSample3dFn.apply(x, gr, mode, padding_mode, bool(align_corners))
    if x.dim() != 4 or gr.dim() != 4:
        rank = 5 if x.dim() == 5 else 4
        raise ShapeError(f"grid_sampler(): expected {rank}D input and grid with same number of "
                         f"dimensions, but got input with sizes {xs} and grid with sizes {gs}")
    return GridSampleFn.apply(x, gr, mode, padding_mode, bool(align_corners))
