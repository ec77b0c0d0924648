"""Reference (conv family): conv2d (stride, padding, dilation, groups), the
transposed convolution, max_pool2d and avg_pool2d, forward and backward,
written as plain loops over output positions in float64.

Conventions (PyTorch's): NCHW input, weight (K, C/groups, R, S) for the
convolution and (C_in, C_out/groups, R, S) for the transposed one, output
size ``(H + 2*pad - dil*(k-1) - 1) // stride + 1``.  Results come back in the
input's dtype.
"""
import numpy as np

__all__ = ["conv2d", "conv2d_backward", "conv_transpose2d", "conv_transpose2d_backward",
           "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward"]


def _pair(v):
    return (v, v) if np.isscalar(v) else tuple(v)


def _out(size, k, stride, pad, dil=1):
    return (size + 2 * pad - dil * (k - 1) - 1) // stride + 1


def _patch(xp, i, j, R, S, sh, sw, dh, dw):
    """The dilated R x S window of output (i, j) in the padded input xp."""
    return xp[..., i * sh:i * sh + dh * (R - 1) + 1:dh, j * sw:j * sw + dw * (S - 1) + 1:dw]


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y[n, g*Kg + k, i, j] = b + sum_{c,r,s} w[g*Kg + k, c, r, s]
    * xpad[n, g*Cg + c, i*sh + r*dh, j*sw + s*dw] for each group g."""
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    N, C, H, W = x.shape
    K, Cg, R, S = w.shape
    Kg = K // groups
    OH, OW = _out(H, R, sh, ph, dh), _out(W, S, sw, pw, dw)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    w64 = w.astype(np.float64)
    y = np.zeros((N, K, OH, OW))
    for g in range(groups):
        xg, wg = xp[:, g * Cg:(g + 1) * Cg], w64[g * Kg:(g + 1) * Kg]
        for i in range(OH):
            for j in range(OW):
                patch = _patch(xg, i, j, R, S, sh, sw, dh, dw)       # (N, Cg, R, S)
                y[:, g * Kg:(g + 1) * Kg, i, j] = np.tensordot(patch, wg,
                                                              axes=([1, 2, 3], [1, 2, 3]))
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None]
    return y.astype(x.dtype)


def conv2d_backward(x, w, dy, stride=1, padding=0, dilation=1, groups=1):
    """(dx, dw, db) of ``conv2d`` for the upstream gradient dy (N, K, OH, OW)."""
    (sh, sw), (ph, pw), (dh, dw_) = _pair(stride), _pair(padding), _pair(dilation)
    N, C, H, W = x.shape
    K, Cg, R, S = w.shape
    Kg = K // groups
    OH, OW = dy.shape[2:]
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    w64, g64 = w.astype(np.float64), dy.astype(np.float64)
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    for g in range(groups):
        cs, ks = slice(g * Cg, (g + 1) * Cg), slice(g * Kg, (g + 1) * Kg)
        for i in range(OH):
            for j in range(OW):
                gij = g64[:, ks, i, j]                                   # (N, Kg)
                rows = slice(i * sh, i * sh + dh * (R - 1) + 1, dh)
                cols = slice(j * sw, j * sw + dw_ * (S - 1) + 1, dw_)
                dxp[:, cs, rows, cols] += np.tensordot(gij, w64[ks], axes=(1, 0))
                dw[ks] += np.tensordot(gij, xp[:, cs, rows, cols], axes=(0, 0))
    dx = dxp[:, :, ph:ph + H, pw:pw + W]
    db = g64.sum(axis=(0, 2, 3))
    return dx.astype(x.dtype), dw.astype(w.dtype), db.astype(w.dtype)


def _convt_geometry(x, w, stride, padding, output_padding, dilation):
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    (oph, opw), (dh, dw) = _pair(output_padding), _pair(dilation)
    H, W = x.shape[2:]
    R, S = w.shape[2:]
    OH = (H - 1) * sh - 2 * ph + dh * (R - 1) + oph + 1
    OW = (W - 1) * sw - 2 * pw + dw * (S - 1) + opw + 1
    return sh, sw, ph, pw, dh, dw, R, S, OH, OW


def _convt_windows(x, w, stride, padding, output_padding, groups, dilation):
    """(canvas shape, crop, windows): the transposed convolution's output
    canvas (padding not yet cropped, room to spare), the crop of the output
    from it, and for every group and input pixel (cs, ks, i, j, rows, cols):
    the input channels, the output channels and the canvas window it adds to."""
    sh, sw, ph, pw, dh, dw, R, S, OH, OW = _convt_geometry(x, w, stride, padding,
                                                           output_padding, dilation)
    N, C, H, W = x.shape
    Ko, Cg = w.shape[1], C // groups
    shape = (N, Ko * groups, OH + 2 * ph + sh + dh * R, OW + 2 * pw + sw + dw * S)
    crop = (slice(None), slice(None), slice(ph, ph + OH), slice(pw, pw + OW))
    wins = [(slice(g * Cg, (g + 1) * Cg), slice(g * Ko, (g + 1) * Ko), i, j,
             slice(i * sh, i * sh + dh * (R - 1) + 1, dh), slice(j * sw, j * sw + dw * (S - 1) + 1, dw))
            for g in range(groups) for i in range(H) for j in range(W)]
    return shape, crop, wins


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Each input pixel x[n, g*Cg + c, i, j] adds x * w[g*Cg + c, k] onto the
    output window at (i*sh - ph, j*sw - pw) (dilated), output channel
    g*Ko + k; w (C_in, C_out/groups, R, S)."""
    shape, crop, wins = _convt_windows(x, w, stride, padding, output_padding, groups, dilation)
    canvas = np.zeros(shape)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    for cs, ks, i, j, rows, cols in wins:
        canvas[:, ks, rows, cols] += np.tensordot(x64[:, cs, i, j], w64[cs], axes=(1, 0))
    y = canvas[crop]
    if b is not None:
        y = y + b.astype(np.float64)[None, :, None, None]
    return y.astype(x.dtype)


def conv_transpose2d_backward(x, w, dy, stride=1, padding=0, output_padding=0, groups=1,
                              dilation=1):
    """(dx, dw, db) of ``conv_transpose2d`` for the upstream gradient dy."""
    shape, crop, wins = _convt_windows(x, w, stride, padding, output_padding, groups, dilation)
    canvas = np.zeros(shape)
    canvas[crop] = dy.astype(np.float64)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    dx, dw = np.zeros(x.shape), np.zeros(w.shape)
    for cs, ks, i, j, rows, cols in wins:
        win = canvas[:, ks, rows, cols]                                  # (N, Ko, R, S)
        dx[:, cs, i, j] = np.tensordot(win, w64[cs], axes=([1, 2, 3], [1, 2, 3]))
        dw[cs] += np.tensordot(x64[:, cs, i, j], win, axes=(0, 0))
    db = dy.astype(np.float64).sum(axis=(0, 2, 3))
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
