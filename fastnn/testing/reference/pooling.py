"""Reference (pooling with every PyTorch option): max pooling with dilation
and ceil_mode, average pooling with ceil_mode, count_include_pad and
divisor_override, adaptive average and max pooling, max unpooling; plain
loops over output positions in float64, NCHW.  Results in the input's dtype.
"""
import math

import numpy as np

__all__ = ["pool_out", "max_pool2d_ex", "max_pool2d_ex_backward", "avg_pool2d_ex",
           "avg_pool2d_ex_backward", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "adaptive_pool2d_backward", "max_unpool2d"]


def _pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


def pool_out(size, k, s, p, d=1, ceil_mode=False):
    """PyTorch's pooling output size (0 when not even one window fits)."""
    num = size + 2 * p - d * (k - 1) - 1
    if num < 0:
        return 0
    o = (math.ceil(num / s) if ceil_mode else num // s) + 1
    if ceil_mode and (o - 1) * s >= size + p:
        o -= 1
    return o


def _axis(size, k, s, p, d, ceil_mode):
    """Per output position: the in-image indices of the window, and its
    length counting padding (the average pool's pool_size)."""
    out = []
    for o in range(pool_out(size, k, s, p, d, ceil_mode)):
        start = o * s - p
        idx = [start + i * d for i in range(k) if 0 <= start + i * d < size]
        padded = min(start + (k - 1) * d + 1, size + p) - start
        out.append((idx, padded))
    return out


def max_pool2d_ex(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """(y, idx): the max of each window (the first largest, or the last NaN)."""
    R, S = _pair(kernel_size)
    sh, sw = (R, S) if stride is None else _pair(stride)
    (ph, pw), (dh, dw) = _pair(padding), _pair(dilation)
    N, C, H, W = x.shape
    rows, cols = _axis(H, R, sh, ph, dh, ceil_mode), _axis(W, S, sw, pw, dw, ceil_mode)
    y = np.zeros((N, C, len(rows), len(cols)), x.dtype)
    idx = np.zeros(y.shape, np.int64)
    for n in range(N):
        for c in range(C):
            for i, (hi, _) in enumerate(rows):
                for j, (wi, _) in enumerate(cols):
                    flat = [(x[n, c, h, w], h * W + w) for h in hi for w in wi]
                    nans = [f for v, f in flat if np.isnan(v)]
                    best = nans[-1] if nans else max(flat, key=lambda t: (t[0], -t[1]))[1]
                    idx[n, c, i, j] = best
                    y[n, c, i, j] = x[n, c].ravel()[best]
    return y, idx


def max_pool2d_ex_backward(x, dy, *args, **kw):
    _, idx = max_pool2d_ex(x, *args, **kw)
    N, C, H, W = x.shape
    dx = np.zeros((N, C, H * W))
    for n in range(N):
        for c in range(C):
            np.add.at(dx[n, c], idx[n, c].ravel(), np.asarray(dy, np.float64)[n, c].ravel())
    return dx.reshape(x.shape).astype(x.dtype)


def _avg_windows(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor):
    R, S = _pair(kernel_size)
    sh, sw = (R, S) if stride is None else _pair(stride)
    ph, pw = _pair(padding)
    H, W = x.shape[2:]
    for i, (hi, hp) in enumerate(_axis(H, R, sh, ph, 1, ceil_mode)):
        for j, (wi, wp) in enumerate(_axis(W, S, sw, pw, 1, ceil_mode)):
            div = divisor or (hp * wp if count_include_pad else len(hi) * len(wi))
            yield i, j, slice(hi[0], hi[-1] + 1), slice(wi[0], wi[-1] + 1), div


def avg_pool2d_ex(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                  count_include_pad=True, divisor_override=None):
    v = np.asarray(x, np.float64)
    wins = list(_avg_windows(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                             divisor_override))
    y = np.zeros(x.shape[:2] + (wins[-1][0] + 1, wins[-1][1] + 1))
    for i, j, hs, ws, div in wins:
        y[:, :, i, j] = v[:, :, hs, ws].sum(axis=(2, 3)) / div
    return y.astype(x.dtype)


def avg_pool2d_ex_backward(x, dy, kernel_size, stride=None, padding=0, ceil_mode=False,
                           count_include_pad=True, divisor_override=None):
    dx = np.zeros(x.shape)
    g = np.asarray(dy, np.float64)
    for i, j, hs, ws, div in _avg_windows(x, kernel_size, stride, padding, ceil_mode,
                                          count_include_pad, divisor_override):
        dx[:, :, hs, ws] += (g[:, :, i, j] / div)[:, :, None, None]
    return dx.astype(x.dtype)


def _adaptive_windows(H, W, OH, OW):
    for i in range(OH):
        h0, h1 = (i * H) // OH, -((-(i + 1) * H) // OH)
        for j in range(OW):
            w0, w1 = (j * W) // OW, -((-(j + 1) * W) // OW)
            yield i, j, h0, h1, w0, w1


def adaptive_avg_pool2d(x, OH, OW):
    N, C, H, W = x.shape
    v = np.asarray(x, np.float64)
    y = np.zeros((N, C, OH, OW))
    for i, j, h0, h1, w0, w1 in _adaptive_windows(H, W, OH, OW):
        y[:, :, i, j] = v[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return y.astype(x.dtype)


def adaptive_max_pool2d(x, OH, OW):
    """(y, idx) with idx = h * W + w of the first largest value."""
    N, C, H, W = x.shape
    y = np.zeros((N, C, OH, OW), x.dtype)
    idx = np.zeros(y.shape, np.int64)
    for i, j, h0, h1, w0, w1 in _adaptive_windows(H, W, OH, OW):
        win = x[:, :, h0:h1, w0:w1].reshape(N, C, -1)
        k = win.argmax(axis=2)
        y[:, :, i, j] = np.take_along_axis(win, k[..., None], 2)[..., 0]
        idx[:, :, i, j] = (h0 + k // (w1 - w0)) * W + w0 + k % (w1 - w0)
    return y, idx


def adaptive_pool2d_backward(x, dy, OH, OW, kind):
    """dx of adaptive 'avg' or 'max' pooling."""
    N, C, H, W = x.shape
    g = np.asarray(dy, np.float64)
    if kind == "max":
        _, idx = adaptive_max_pool2d(x, OH, OW)
        dx = np.zeros((N, C, H * W))
        for n in range(N):
            for c in range(C):
                np.add.at(dx[n, c], idx[n, c].ravel(), g[n, c].ravel())
        return dx.reshape(x.shape).astype(x.dtype)
    dx = np.zeros(x.shape)
    for i, j, h0, h1, w0, w1 in _adaptive_windows(H, W, OH, OW):
        dx[:, :, h0:h1, w0:w1] += (g[:, :, i, j] / ((h1 - h0) * (w1 - w0)))[:, :, None, None]
    return dx.astype(x.dtype)


def max_unpool2d(x, idx, OH, OW):
    """y (N, C, OH, OW): zeros, and y.flat[idx] = x per plane."""
    N, C = x.shape[:2]
    y = np.zeros((N, C, OH * OW), x.dtype)
    for n in range(N):
        for c in range(C):
            y[n, c, idx[n, c].ravel()] = x[n, c].ravel()
    return y.reshape(N, C, OH, OW)
