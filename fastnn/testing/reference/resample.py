"""Naive NumPy references of the resampling ops (loops over pixels)."""
import math

import numpy as np

__all__ = ["interpolate"]


def _src(dst, n_in, n_out, sf, mode, align_corners):
    """Source coordinate of output position dst (float64)."""
    if mode in ("nearest", "nearest-exact"):
        s = 1.0 / sf if sf else n_in / n_out
        c = (dst + 0.5) * s if mode == "nearest-exact" else dst * s
        return min(int(math.floor(c)), n_in - 1)
    if n_in == n_out:
        return float(dst)
    if align_corners:
        return dst * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    s = 1.0 / sf if sf else n_in / n_out
    return max(s * (dst + 0.5) - 0.5, 0.0)


def _lerp_taps(c, n_in):
    i0 = min(int(math.floor(c)), n_in - 1)
    w1 = min(max(c - i0, 0.0), 1.0)
    return [(i0, 1.0 - w1), (min(i0 + 1, n_in - 1), w1)]


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """F.interpolate for (N, C, L) and (N, C, H, W), in float64 loops."""
    x = np.asarray(x, dtype=np.float64)
    ins = x.shape[2:]
    if size is not None:
        outs = tuple(size) if isinstance(size, (tuple, list)) else (size,) * len(ins)
        sfs = (None,) * len(ins)
    else:
        sfs = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else \
            (scale_factor,) * len(ins)
        outs = tuple(int(math.floor(n * s)) for n, s in zip(ins, sfs))
        if recompute_scale_factor:
            sfs = (None,) * len(ins)
    taps = []
    for n_in, n_out, sf in zip(ins, outs, sfs):
        axis = []
        for d in range(n_out):
            c = _src(d, n_in, n_out, sf, mode, align_corners)
            axis.append([(c, 1.0)] if isinstance(c, int) else _lerp_taps(c, n_in))
        taps.append(axis)
    out = np.zeros(x.shape[:2] + outs)
    for idx in np.ndindex(*outs):
        acc = 0.0
        for combo in np.ndindex(*[len(taps[a][i]) for a, i in enumerate(idx)]):
            w, src = 1.0, []
            for a, (i, k) in enumerate(zip(idx, combo)):
                j, wk = taps[a][i][k]
                w *= wk
                src.append(j)
            acc = acc + w * x[(slice(None), slice(None)) + tuple(src)]
        out[(slice(None), slice(None)) + idx] = acc
    return out
