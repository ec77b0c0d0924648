# _bind/conv2d.pxi -- bindings for csrc/conv2d.c (implicit-GEMM convolution).

cdef extern from "conv2d.h":
    ctypedef struct fnn_conv2d_desc:
        int64_t N, C, H, W, K, R, S, sh, sw, ph, pw, OH, OW
    int fnn_conv2d_init(fnn_conv2d_desc *d, int64_t N, int64_t C, int64_t H, int64_t W,
                        int64_t K, int64_t R, int64_t S, int64_t sh, int64_t sw,
                        int64_t ph, int64_t pw)
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
    int fnn_conv2d_set_winograd(int on)


cdef int _conv_desc(fnn_conv2d_desc *d, x, w, int64_t sh, int64_t sw, int64_t ph,
                    int64_t pw, str op) except -1:
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"{op}: x and w must be 4-D, got shapes {tuple(x.shape)} and "
                         f"{tuple(w.shape)}")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"{op}: x has {x.shape[1]} channels but w expects {w.shape[1]}")
    if fnn_conv2d_init(d, x.shape[0], x.shape[1], x.shape[2], x.shape[3], w.shape[0],
                       w.shape[2], w.shape[3], sh, sw, ph, pw) != FNN_OK:
        raise ValueError(f"{op}: invalid geometry: x {tuple(x.shape)}, w {tuple(w.shape)}, "
                         f"stride ({sh}, {sw}), padding ({ph}, {pw})")
    return 0


cdef object _conv_ws(fnn_conv2d_desc *d, int kind, int n_threads):
    cdef int64_t n = (fnn_conv2d_workspace_len_f32(d, n_threads) if kind == 0
                      else fnn_conv2d_workspace_len_f64(d, n_threads))
    return _ws_take("conv2d", kind, n)


def conv2d_set_winograd(on=None):
    """Switches Winograd F(2x2, 3x3) for the 3x3 stride-1 passes (forward,
    backward data and weight gradient) with at least 16 channels in and out
    and an output of at least 2x2 on (True, the default) or off (False: the
    implicit GEMM everywhere; for testing).
    Returns the previous setting; with on=None only reports it."""
    return bool(fnn_conv2d_set_winograd(-1 if on is None else (1 if on else 0)))


def conv2d_out_size(int64_t H, int64_t W, int64_t R, int64_t S, int64_t sh, int64_t sw,
                    int64_t ph, int64_t pw):
    """(OH, OW) of a convolution, or None when the geometry is invalid."""
    cdef fnn_conv2d_desc d
    if fnn_conv2d_init(&d, 1, 1, H, W, 1, R, S, sh, sw, ph, pw) != FNN_OK:
        return None
    return (d.OH, d.OW)


def conv2d_fwd(x, w, b, y, int64_t sh=1, int64_t sw=1, int64_t ph=0, int64_t pw=0,
               int n_threads=1, bint relu=False):
    """y = conv2d(x, w) + b (b may be None), written into y (N, K, OH, OW);
    relu=True: y = relu(conv2d(x, w) + b), the ReLU fused into the epilogue
    (bitwise the two ops in sequence).

    x (N, C, H, W), w (K, C, R, S), b (K,): C-contiguous, one float dtype."""
    cdef str op = "conv2d_relu" if relu else "conv2d"
    cdef int kind = _kind(x, op, "x")
    _same(w, kind, op, "w")
    cdef fnn_conv2d_desc d
    _conv_desc(&d, x, w, sh, sw, ph, pw, op)
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
               int64_t pw=0, int n_threads=1):
    """Gradients of conv2d: dx (N, C, H, W), dw (K, C, R, S), db (K,), each
    overwritten, each optional (None skips it)."""
    cdef str op = "conv2d_backward"
    cdef int kind = _kind(x, op, "x")
    _same(w, kind, op, "w")
    cdef fnn_conv2d_desc d
    _conv_desc(&d, x, w, sh, sw, ph, pw, op)
    _same(dy, kind, op, "dy", d.N * d.K * d.OH * d.OW)
    if dx is not None:
        _same(dx, kind, op, "out dx", d.N * d.C * d.H * d.W)
    if dw is not None:
        _same(dw, kind, op, "out dw", d.K * d.C * d.R * d.S)
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
