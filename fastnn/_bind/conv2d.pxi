# _bind/conv2d.pxi -- bindings for csrc/conv2d.c (implicit-GEMM, Winograd
# and depthwise convolution; stride, padding, dilation, groups).

cdef extern from "conv2d.h":
    ctypedef struct fnn_conv2d_desc:
        int64_t N, C, H, W, K, R, S, sh, sw, ph, pw, dil_h, dil_w, G
        int winograd
        int64_t OH, OW
    int fnn_conv2d_init(fnn_conv2d_desc *d)
    int fnn_conv2d_algorithm(const fnn_conv2d_desc *d, int pass_)
    int fnn_conv2d_set_taps(int on)
    int64_t fnn_conv2d_workspace_len_f32(const fnn_conv2d_desc *d, int n_threads)
    int64_t fnn_conv2d_workspace_len_f64(const fnn_conv2d_desc *d, int n_threads)
    int fnn_conv2d_fwd_f32(const fnn_conv2d_desc *d, const float *x, const float *w,
                           const float *b, float *y, float *ws, int n_threads) nogil
    int fnn_conv2d_fwd_f64(const fnn_conv2d_desc *d, const double *x, const double *w,
                           const double *b, double *y, double *ws, int n_threads) nogil
    int fnn_conv2d_relu_fwd_f32(const fnn_conv2d_desc *d, const float *x, const float *w,
                                const float *b, float *y, float *ws, int n_threads) nogil
    int fnn_conv2d_relu_fwd_f64(const fnn_conv2d_desc *d, const double *x, const double *w,
                                const double *b, double *y, double *ws, int n_threads) nogil
    int fnn_conv2d_bwd_f32(const fnn_conv2d_desc *d, const float *x, const float *w,
                           const float *dy, float *dx, float *dw, float *db,
                           float *ws, int n_threads) nogil
    int fnn_conv2d_bwd_f64(const fnn_conv2d_desc *d, const double *x, const double *w,
                           const double *dy, double *dx, double *dw, double *db,
                           double *ws, int n_threads) nogil
    int fnn_conv2d_bwd_data_f32(const fnn_conv2d_desc *d, const float *w, const float *dy,
                                const float *b, float *dx, float *ws, int n_threads) nogil
    int fnn_conv2d_bwd_data_f64(const fnn_conv2d_desc *d, const double *w, const double *dy,
                                const double *b, double *dx, double *ws, int n_threads) nogil
    int fnn_conv2d_bwd_bias_f32(int64_t N, int64_t K, int64_t P, const float *t, float *db,
                                int n_threads) nogil
    int fnn_conv2d_bwd_bias_f64(int64_t N, int64_t K, int64_t P, const double *t, double *db,
                                int n_threads) nogil


# Winograd F(2x2, 3x3) on (the default) or off: a setting of this binding,
# passed to the kernels in each call's descriptor.
cdef int _conv_winograd = 1


def conv2d_set_winograd(on=None):
    """Switches Winograd F(2x2, 3x3) for the 3x3 stride-1 undilated passes
    (forward, backward data and weight gradient) with at least 16 channels
    in and out per group and an output of at least 2x2 on (True, the
    default) or off (False: the implicit GEMM everywhere; for testing).
    Returns the previous setting; with on=None only reports it."""
    global _conv_winograd
    prev = bool(_conv_winograd)
    if on is not None:
        _conv_winograd = 1 if on else 0
    return prev


def conv2d_set_taps(on=None):
    """Switches the weight gradient by taps (algorithm 'taps': a product
    a kernel tap over the output pixels whose tap is in the image, for
    padded layers on small planes) on (True, the default) or off (False:
    the packed or row path takes those shapes; for testing them).  Returns
    the previous setting; with on=None only reports it."""
    return bool(fnn_conv2d_set_taps(-1 if on is None else (1 if on else 0)))


cdef int _conv_fill(fnn_conv2d_desc *d, int64_t N, int64_t C, int64_t H, int64_t W, int64_t K,
                    int64_t R, int64_t S, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                    int64_t dh, int64_t dw, int64_t groups):
    d.N = N
    d.C = C
    d.H = H
    d.W = W
    d.K = K
    d.R = R
    d.S = S
    d.sh = sh
    d.sw = sw
    d.ph = ph
    d.pw = pw
    d.dil_h = dh
    d.dil_w = dw
    d.G = groups
    d.winograd = _conv_winograd
    return fnn_conv2d_init(d)


cdef int _conv_desc(fnn_conv2d_desc *d, xshape, w, int64_t sh, int64_t sw, int64_t ph,
                    int64_t pw, int64_t dh, int64_t dw, int64_t groups, str op) except -1:
    """d for an input of shape xshape (N, C, H, W) and weight w (K, C/G, R, S)."""
    if len(xshape) != 4 or w.ndim != 4:
        raise ValueError(f"{op}: x and w must be 4-D, got shapes {tuple(xshape)} and "
                         f"{tuple(w.shape)}")
    if groups < 1 or w.shape[1] * groups != xshape[1]:
        raise ValueError(f"{op}: x has {xshape[1]} channels but w expects "
                         f"{w.shape[1]} x {groups} groups")
    if _conv_fill(d, xshape[0], xshape[1], xshape[2], xshape[3], w.shape[0], w.shape[2],
                  w.shape[3], sh, sw, ph, pw, dh, dw, groups) != FNN_OK:
        raise ValueError(f"{op}: invalid geometry: x {tuple(xshape)}, w {tuple(w.shape)}, "
                         f"stride ({sh}, {sw}), padding ({ph}, {pw}), dilation ({dh}, {dw}), "
                         f"groups {groups}")
    return 0


cdef object _conv_ws(fnn_conv2d_desc *d, int kind, int n_threads):
    cdef int64_t n = (fnn_conv2d_workspace_len_f32(d, n_threads) if kind == 0
                      else fnn_conv2d_workspace_len_f64(d, n_threads))
    return _ws_take("conv2d", kind, n)


def conv2d_out_size(int64_t H, int64_t W, int64_t R, int64_t S, int64_t sh, int64_t sw,
                    int64_t ph, int64_t pw, int64_t dil_h=1, int64_t dil_w=1):
    """(OH, OW) of a convolution, or None when the geometry is invalid."""
    cdef fnn_conv2d_desc d
    if _conv_fill(&d, 1, 1, H, W, 1, R, S, sh, sw, ph, pw, dil_h, dil_w, 1) != FNN_OK:
        return None
    return (d.OH, d.OW)


def conv2d_fwd(x, w, b, y, int64_t sh=1, int64_t sw=1, int64_t ph=0, int64_t pw=0,
               int n_threads=1, bint relu=False, int64_t dil_h=1, int64_t dil_w=1,
               int64_t groups=1):
    """y = conv2d(x, w) + b (b may be None), written into y (N, K, OH, OW);
    relu=True: y = relu(conv2d(x, w) + b), the ReLU fused into the epilogue
    (bitwise the two ops in sequence).

    x (N, C, H, W), w (K, C/groups, R, S), b (K,): C-contiguous, one float dtype."""
    cdef str op = "conv2d_relu" if relu else "conv2d"
    cdef int kind = _kind(x, op, "x")
    _same(w, kind, op, "w")
    cdef fnn_conv2d_desc d
    _conv_desc(&d, x.shape, w, sh, sw, ph, pw, dil_h, dil_w, groups, op)
    if b is not None:
        _same(b, kind, op, "b", d.K)
    _same(y, kind, op, "out y", d.N * d.K * d.OH * d.OW)
    ws = _conv_ws(&d, kind, n_threads)
    cdef void *px = _ptr(x)
    cdef void *pw_ = _ptr(w)
    cdef void *pb = _ptr(b) if b is not None else NULL
    cdef void *py = _ptr(y)
    cdef void *pws = _ptr(ws)
    cdef int st
    try:
        with nogil:
            if kind == 0 and relu:
                st = fnn_conv2d_relu_fwd_f32(&d, <const float*>px, <const float*>pw_,
                                             <const float*>pb, <float*>py, <float*>pws,
                                             n_threads)
            elif kind == 0:
                st = fnn_conv2d_fwd_f32(&d, <const float*>px, <const float*>pw_,
                                        <const float*>pb, <float*>py, <float*>pws, n_threads)
            elif relu:
                st = fnn_conv2d_relu_fwd_f64(&d, <const double*>px, <const double*>pw_,
                                             <const double*>pb, <double*>py, <double*>pws,
                                             n_threads)
            else:
                st = fnn_conv2d_fwd_f64(&d, <const double*>px, <const double*>pw_,
                                        <const double*>pb, <double*>py, <double*>pws, n_threads)
    finally:
        _ws_give("conv2d", kind, ws)
    _check_status(st, op)
    return y


def conv2d_bwd(x, w, dy, dx, dw, db, int64_t sh=1, int64_t sw=1, int64_t ph=0,
               int64_t pw=0, int n_threads=1, int64_t dil_h=1, int64_t dil_w=1,
               int64_t groups=1):
    """Gradients of conv2d: dx (N, C, H, W), dw (K, C/groups, R, S), db (K,),
    each overwritten, each optional (None skips it)."""
    cdef str op = "conv2d_backward"
    cdef int kind = _kind(x, op, "x")
    _same(w, kind, op, "w")
    cdef fnn_conv2d_desc d
    _conv_desc(&d, x.shape, w, sh, sw, ph, pw, dil_h, dil_w, groups, op)
    _same(dy, kind, op, "dy", d.N * d.K * d.OH * d.OW)
    if dx is not None:
        _same(dx, kind, op, "out dx", d.N * d.C * d.H * d.W)
    if dw is not None:
        _same(dw, kind, op, "out dw", d.K * (d.C // d.G) * d.R * d.S)
    if db is not None:
        _same(db, kind, op, "out db", d.K)
    ws = _conv_ws(&d, kind, n_threads)
    cdef void *px = _ptr(x)
    cdef void *pw_ = _ptr(w)
    cdef void *pdy = _ptr(dy)
    cdef void *pdx = _ptr(dx) if dx is not None else NULL
    cdef void *pdw = _ptr(dw) if dw is not None else NULL
    cdef void *pdb = _ptr(db) if db is not None else NULL
    cdef void *pws = _ptr(ws)
    cdef int st
    try:
        with nogil:
            if kind == 0:
                st = fnn_conv2d_bwd_f32(&d, <const float*>px, <const float*>pw_,
                                        <const float*>pdy, <float*>pdx, <float*>pdw,
                                        <float*>pdb, <float*>pws, n_threads)
            else:
                st = fnn_conv2d_bwd_f64(&d, <const double*>px, <const double*>pw_,
                                        <const double*>pdy, <double*>pdx, <double*>pdw,
                                        <double*>pdb, <double*>pws, n_threads)
    finally:
        _ws_give("conv2d", kind, ws)
    _check_status(st, op)
    return dx, dw, db


def conv2d_bwd_data(w, dy, b, dx, int64_t sh=1, int64_t sw=1, int64_t ph=0, int64_t pw=0,
                    int n_threads=1, int64_t dil_h=1, int64_t dil_w=1, int64_t groups=1):
    """dx = b[c] + the input gradient of conv2d for dy, written into dx
    (N, C, H, W), whose shape gives the convolution's input: the forward
    of the transposed convolution.  w (K, C/groups, R, S), dy (N, K, OH,
    OW), b (C,) or None."""
    cdef str op = "conv_transpose2d"
    cdef int kind = _kind(dy, op, "dy")
    _same(w, kind, op, "w")
    _same(dx, kind, op, "out dx")
    cdef fnn_conv2d_desc d
    _conv_desc(&d, dx.shape, w, sh, sw, ph, pw, dil_h, dil_w, groups, op)
    _same(dy, kind, op, "dy", d.N * d.K * d.OH * d.OW)
    if b is not None:
        _same(b, kind, op, "b", d.C)
    ws = _conv_ws(&d, kind, n_threads)
    cdef void *pw_ = _ptr(w)
    cdef void *pdy = _ptr(dy)
    cdef void *pb = _ptr(b) if b is not None else NULL
    cdef void *pdx = _ptr(dx)
    cdef void *pws = _ptr(ws)
    cdef int st
    try:
        with nogil:
            if kind == 0:
                st = fnn_conv2d_bwd_data_f32(&d, <const float*>pw_, <const float*>pdy,
                                             <const float*>pb, <float*>pdx, <float*>pws,
                                             n_threads)
            else:
                st = fnn_conv2d_bwd_data_f64(&d, <const double*>pw_, <const double*>pdy,
                                             <const double*>pb, <double*>pdx, <double*>pws,
                                             n_threads)
    finally:
        _ws_give("conv2d", kind, ws)
    _check_status(st, op)
    return dx


def conv2d_bwd_bias(t, db, int n_threads=1):
    """db[k] = sum of t[:, k] over the batch and every pixel, written into
    db (K,); t (N, K, ...) C-contiguous (a transposed convolution's bias
    gradient over its output)."""
    cdef str op = "conv_transpose2d_backward"
    cdef int kind = _kind(t, op, "t")
    if t.ndim < 2:
        raise ValueError(f"{op}: t must be (N, K, ...), got shape {tuple(t.shape)}")
    cdef int64_t N = t.shape[0], K = t.shape[1], P = 1
    for s in t.shape[2:]:
        P *= s
    _same(db, kind, op, "out db", K)
    if K < 1 or P < 1:
        raise ValueError(f"{op}: empty channels or pixels in shape {tuple(t.shape)}")
    cdef void *pt = _ptr(t)
    cdef void *pdb = _ptr(db)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_conv2d_bwd_bias_f32(N, K, P, <const float*>pt, <float*>pdb, n_threads)
        else:
            st = fnn_conv2d_bwd_bias_f64(N, K, P, <const double*>pt, <double*>pdb, n_threads)
    _check_status(st, op)
    return db


_CONV_ALGOS = {1: "depthwise", 2: "winograd", 3: "direct", 4: "wide", 5: "packed", 6: "col2im",
               7: "dot", 8: "s2d", 9: "packed-batch", 10: "depthwise-cl", 11: "rows",
               12: "gemm", 13: "taps"}


def conv2d_algorithm(xshape, wshape, stride=(1, 1), padding=(0, 0), dilation=(1, 1),
                     int64_t groups=1, int grad_input=0):
    """The method fastnn's convolution runs for an input of shape xshape
    (N, C, H, W) and a weight of shape wshape (K, C/groups, R, S): the
    forward, with grad_input=1 the input gradient, with grad_input=2 the
    weight gradient -- 'depthwise' (per plane), 'depthwise-cl' (depthwise
    on a strided or small plane, channels-last tiles), 'winograd', 'direct' (implicit GEMM reading the input in place), 'wide'
    (the same over the padded width), 'packed' (implicit GEMM packing the
    input per block), 'col2im' (input gradient of a strided convolution),
    'dot' (weight gradient of few input channels x taps, by dot products) or
    's2d' (stride 2 with an even kernel, as stride 1 on the input rearranged
    space-to-depth), 'packed-batch' (small outputs: packed blocks running
    across the images), 'rows' (output channels in the vectors, a row of
    output pixels broadcast from the padded input), 'gemm' (a window that
    is the whole input: one product, images as rows) or 'taps' (weight
    gradient: a product a kernel tap, over the output pixels whose tap is
    in the image).
    For benchmarks and tests (docs/performance.md)."""
    cdef fnn_conv2d_desc d
    if len(xshape) != 4 or len(wshape) != 4 or groups < 1 or wshape[1] * groups != xshape[1]:
        raise ValueError(f"conv2d_algorithm: shapes {tuple(xshape)} and {tuple(wshape)} "
                         f"do not match with groups={groups}")
    if _conv_fill(&d, xshape[0], xshape[1], xshape[2], xshape[3], wshape[0], wshape[2],
                  wshape[3], stride[0], stride[1], padding[0], padding[1], dilation[0],
                  dilation[1], groups) != FNN_OK:
        raise ValueError(f"conv2d_algorithm: invalid geometry {tuple(xshape)}, {tuple(wshape)}")
    cdef int a = fnn_conv2d_algorithm(&d, grad_input)
    if a < 0:
        raise ValueError("conv2d_algorithm: invalid pass")
    return _CONV_ALGOS[a]
