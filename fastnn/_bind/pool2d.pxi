# _bind/pool2d.pxi -- bindings for csrc/pool2d.c (direct max/avg pooling).

cdef extern from "pool2d.h":
    ctypedef struct fnn_pool2d_desc:
        int64_t N, C, H, W, R, S, sh, sw, ph, pw, OH, OW
    int fnn_pool2d_init(fnn_pool2d_desc *d, int64_t N, int64_t C, int64_t H, int64_t W,
                        int64_t R, int64_t S, int64_t sh, int64_t sw, int64_t ph, int64_t pw)
    int fnn_max_pool2d_fwd_f32(const fnn_pool2d_desc *d, const float *x, float *y,
                               int64_t *idx, int n_threads) nogil
    int fnn_max_pool2d_fwd_f64(const fnn_pool2d_desc *d, const double *x, double *y,
                               int64_t *idx, int n_threads) nogil
    int fnn_max_pool2d_bwd_f32(const fnn_pool2d_desc *d, const float *dy, const int64_t *idx,
                               float *dx, int n_threads) nogil
    int fnn_max_pool2d_bwd_f64(const fnn_pool2d_desc *d, const double *dy, const int64_t *idx,
                               double *dx, int n_threads) nogil
    int fnn_avg_pool2d_fwd_f32(const fnn_pool2d_desc *d, const float *x, float *y,
                               int n_threads) nogil
    int fnn_avg_pool2d_fwd_f64(const fnn_pool2d_desc *d, const double *x, double *y,
                               int n_threads) nogil
    int fnn_avg_pool2d_bwd_f32(const fnn_pool2d_desc *d, const float *dy, float *dx,
                               int n_threads) nogil
    int fnn_avg_pool2d_bwd_f64(const fnn_pool2d_desc *d, const double *dy, double *dx,
                               int n_threads) nogil


cdef int _pool_desc(fnn_pool2d_desc *d, shape, int64_t R, int64_t S, int64_t sh, int64_t sw,
                    int64_t ph, int64_t pw, str op) except -1:
    if len(shape) != 4:
        raise ValueError(f"{op}: x must be 4-D (N, C, H, W), got shape {tuple(shape)}")
    if fnn_pool2d_init(d, shape[0], shape[1], shape[2], shape[3], R, S, sh, sw, ph, pw) != FNN_OK:
        raise ValueError(f"{op}: invalid geometry: x {tuple(shape)}, kernel ({R}, {S}), "
                         f"stride ({sh}, {sw}), padding ({ph}, {pw})")
    return 0


def pool2d_out_size(int64_t H, int64_t W, int64_t R, int64_t S, int64_t sh, int64_t sw,
                    int64_t ph, int64_t pw):
    """(OH, OW) of a pooling, or None when the geometry is invalid."""
    cdef fnn_pool2d_desc d
    if fnn_pool2d_init(&d, 1, 1, H, W, R, S, sh, sw, ph, pw) != FNN_OK:
        return None
    return (d.OH, d.OW)


def max_pool2d_fwd(x, y, idx, int64_t R, int64_t S, int64_t sh, int64_t sw, int64_t ph=0,
                   int64_t pw=0, int n_threads=1):
    """y, idx = max pooling of x (N, C, H, W); idx (int64, like y) holds each
    winner's offset ih*W + iw within its plane, or is None (values only, for
    inference).  Returns (y, idx)."""
    cdef str op = "max_pool2d"
    cdef int kind = _kind(x, op, "x")
    cdef fnn_pool2d_desc d
    _pool_desc(&d, x.shape, R, S, sh, sw, ph, pw, op)
    cdef int64_t no = d.N * d.C * d.OH * d.OW
    _same(y, kind, op, "out y", no)
    cdef int64_t *pi = NULL
    if idx is not None:
        _check_index(idx, op, "idx", no)
        pi = <int64_t*>_ptr(idx)
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_max_pool2d_fwd_f32(&d, <const float*>px, <float*>py, pi, n_threads)
        else:
            st = fnn_max_pool2d_fwd_f64(&d, <const double*>px, <double*>py, pi, n_threads)
    _check_status(st, op)
    return y, idx


def max_pool2d_bwd(dy, idx, dx, int64_t R, int64_t S, int64_t sh, int64_t sw, int64_t ph=0,
                   int64_t pw=0, int n_threads=1):
    """dx (N, C, H, W), overwritten: each dy routed to its window's winner."""
    cdef str op = "max_pool2d_backward"
    cdef int kind = _kind(dy, op, "dy")
    cdef fnn_pool2d_desc d
    _pool_desc(&d, dx.shape, R, S, sh, sw, ph, pw, op)
    cdef int64_t no = d.N * d.C * d.OH * d.OW
    _same(dy, kind, op, "dy", no)
    _check_index(idx, op, "idx", no)
    _same(dx, kind, op, "out dx", d.N * d.C * d.H * d.W)
    cdef void *pdy = _ptr(dy)
    cdef const int64_t *pi = <const int64_t*>_ptr(idx)
    cdef void *pdx = _ptr(dx)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_max_pool2d_bwd_f32(&d, <const float*>pdy, pi, <float*>pdx, n_threads)
        else:
            st = fnn_max_pool2d_bwd_f64(&d, <const double*>pdy, pi, <double*>pdx, n_threads)
    _check_status(st, op)
    return dx


def avg_pool2d_fwd(x, y, int64_t R, int64_t S, int64_t sh, int64_t sw, int64_t ph=0,
                   int64_t pw=0, int n_threads=1):
    """y = average pooling of x (N, C, H, W), zero padding counted."""
    cdef str op = "avg_pool2d"
    cdef int kind = _kind(x, op, "x")
    cdef fnn_pool2d_desc d
    _pool_desc(&d, x.shape, R, S, sh, sw, ph, pw, op)
    _same(y, kind, op, "out y", d.N * d.C * d.OH * d.OW)
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_avg_pool2d_fwd_f32(&d, <const float*>px, <float*>py, n_threads)
        else:
            st = fnn_avg_pool2d_fwd_f64(&d, <const double*>px, <double*>py, n_threads)
    _check_status(st, op)
    return y


def avg_pool2d_bwd(dy, dx, int64_t R, int64_t S, int64_t sh, int64_t sw, int64_t ph=0,
                   int64_t pw=0, int n_threads=1):
    """dx (N, C, H, W), overwritten: each dy spread evenly over its window."""
    cdef str op = "avg_pool2d_backward"
    cdef int kind = _kind(dy, op, "dy")
    cdef fnn_pool2d_desc d
    _pool_desc(&d, dx.shape, R, S, sh, sw, ph, pw, op)
    _same(dy, kind, op, "dy", d.N * d.C * d.OH * d.OW)
    _same(dx, kind, op, "out dx", d.N * d.C * d.H * d.W)
    cdef void *pdy = _ptr(dy)
    cdef void *pdx = _ptr(dx)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_avg_pool2d_bwd_f32(&d, <const float*>pdy, <float*>pdx, n_threads)
        else:
            st = fnn_avg_pool2d_bwd_f64(&d, <const double*>pdy, <double*>pdx, n_threads)
    _check_status(st, op)
    return dx
