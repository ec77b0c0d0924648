"""Reference (conv family): conv2d, max_pool2d and avg_pool2d, forward and
backward, written as plain loops over output positions in float64.

Conventions (PyTorch's): NCHW input, weight (K, C, R, S), output size
``(H + 2*pad - k) // stride + 1``.  Results come back in the input's dtype.
"""
import numpy as np

__all__ = ["conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward",
           "avg_pool2d", "avg_pool2d_backward"]


def _pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


def _out(size, k, stride, pad):
    return (size + 2 * pad - k) // stride + 1


def conv2d(x, w, b=None, stride=1, padding=0):
    """y[n, k, i, j] = b[k] + sum_{c,r,s} w[k, c, r, s] * xpad[n, c, i*sh + r, j*sw + s]."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    OH, OW = _out(H, R, sh, ph), _out(W, S, sw, pw)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    w64 = w.astype(np.float64)
    y = np.zeros((N, K, OH, OW))
    for i in range(OH):
        for j in range(OW):
            patch = xp[:, :, i * sh:i * sh + R, j * sw:j * sw + S]      # (N, C, R, S)
            y[:, :, i, j] = np.tensordot(patch, w64, axes=([1, 2, 3], [1, 2, 3]))
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None]
    return y.astype(x.dtype)


def conv2d_backward(x, w, dy, stride=1, padding=0):
    """(dx, dw, db) of ``conv2d`` for the upstream gradient dy (N, K, OH, OW)."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    OH, OW = dy.shape[2:]
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    w64, g = w.astype(np.float64), dy.astype(np.float64)
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    for i in range(OH):
        for j in range(OW):
            gij = g[:, :, i, j]                                           # (N, K)
            patch = xp[:, :, i * sh:i * sh + R, j * sw:j * sw + S]
            dxp[:, :, i * sh:i * sh + R, j * sw:j * sw + S] += np.tensordot(gij, w64, axes=(1, 0))
            dw += np.tensordot(gij, patch, axes=(0, 0))
    dx = dxp[:, :, ph:ph + H, pw:pw + W]
    db = g.sum(axis=(0, 2, 3))
    return dx.astype(x.dtype), dw.astype(w.dtype), db.astype(w.dtype)


def _windows(H, W, kernel_size, stride, padding):
    """Yields (i, j, h0, h1, w0, w1, pool_size): output position, the window
    clipped to the image, and the window's size counting zero padding."""
    R, S = _pair(kernel_size)
    sh, sw = (R, S) if stride is None else _pair(stride)
    ph, pw = _pair(padding)
    for i in range(_out(H, R, sh, ph)):
        for j in range(_out(W, S, sw, pw)):
            hs, ws = i * sh - ph, j * sw - pw
            he, we = min(hs + R, H + ph), min(ws + S, W + pw)
            yield i, j, max(hs, 0), min(he, H), max(ws, 0), min(we, W), (he - hs) * (we - ws)


def _winner(win):
    """Flat index of the max of a window, as PyTorch picks it: the first
    largest value, or the last NaN if there is one."""
    flat = win.ravel()
    nans = np.flatnonzero(np.isnan(flat))
    if nans.size:
        return nans[-1]
    return int(np.argmax(flat))


def max_pool2d(x, kernel_size, stride=None, padding=0, return_indices=False):
    """Max over each window (padding never wins).  Indices are ih*W + iw."""
    N, C, H, W = x.shape
    wins = list(_windows(H, W, kernel_size, stride, padding))
    OH, OW = wins[-1][0] + 1, wins[-1][1] + 1
    y = np.zeros((N, C, OH, OW), x.dtype)
    idx = np.zeros((N, C, OH, OW), np.int64)
    for n in range(N):
        for c in range(C):
            for i, j, h0, h1, w0, w1, _ in wins:
                win = x[n, c, h0:h1, w0:w1]
                k = _winner(win)
                r, s = divmod(k, w1 - w0)
                y[n, c, i, j] = win[r, s]
                idx[n, c, i, j] = (h0 + r) * W + (w0 + s)
    return (y, idx) if return_indices else y


def max_pool2d_backward(x, dy, kernel_size, stride=None, padding=0):
    """dx: each dy goes to its window's winner (summed where windows overlap)."""
    _, idx = max_pool2d(x, kernel_size, stride, padding, return_indices=True)
    N, C, H, W = x.shape
    dx = np.zeros((N, C, H * W))
    for n in range(N):
        for c in range(C):
            for o, k in enumerate(idx[n, c].ravel()):
                dx[n, c, k] += dy[n, c].ravel()[o]
    return dx.reshape(x.shape).astype(x.dtype)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Window mean with zero padding counted (PyTorch's count_include_pad)."""
    N, C, H, W = x.shape
    wins = list(_windows(H, W, kernel_size, stride, padding))
    OH, OW = wins[-1][0] + 1, wins[-1][1] + 1
    x64 = x.astype(np.float64)
    y = np.zeros((N, C, OH, OW))
    for i, j, h0, h1, w0, w1, size in wins:
        y[:, :, i, j] = x64[:, :, h0:h1, w0:w1].sum(axis=(2, 3)) / size
    return y.astype(x.dtype)


def avg_pool2d_backward(x, dy, kernel_size, stride=None, padding=0):
    """dx: each dy / pool_size added to every pixel of its window."""
    N, C, H, W = x.shape
    dx = np.zeros((N, C, H, W))
    g = dy.astype(np.float64)
    for i, j, h0, h1, w0, w1, size in _windows(H, W, kernel_size, stride, padding):
        dx[:, :, h0:h1, w0:w1] += (g[:, :, i, j] / size)[:, :, None, None]
    return dx.astype(x.dtype)
