# _bind/pool2d.pxi -- bindings for csrc/pool2d.c (direct max/avg pooling,
# max unpooling) and csrc/adaptive_pool.c.

cdef extern from "pool2d.h":
    ctypedef struct fnn_pool2d_desc:
        int64_t N, C, H, W, R, S, sh, sw, ph, pw, dh, dw
        int ceil_mode, exclude_pad
        int64_t divisor, OH, OW
    int fnn_pool2d_init(fnn_pool2d_desc *d)
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
    int fnn_max_pool2d_scatter_f32(int64_t P, int64_t HW, int64_t OHW, const float *dy,
                                   const int64_t *idx, float *dx, int n_threads) nogil
    int fnn_max_pool2d_scatter_f64(int64_t P, int64_t HW, int64_t OHW, const double *dy,
                                   const int64_t *idx, double *dx, int n_threads) nogil
    int fnn_max_unpool2d_fwd_f32(int64_t P, int64_t n_in, int64_t n_out, const float *x,
                                 const int64_t *idx, float *y, int n_threads) nogil
    int fnn_max_unpool2d_fwd_f64(int64_t P, int64_t n_in, int64_t n_out, const double *x,
                                 const int64_t *idx, double *y, int n_threads) nogil
    int fnn_max_unpool2d_bwd_f32(int64_t P, int64_t n_in, int64_t n_out, const float *dy,
                                 const int64_t *idx, float *dx, int n_threads) nogil
    int fnn_max_unpool2d_bwd_f64(int64_t P, int64_t n_in, int64_t n_out, const double *dy,
                                 const int64_t *idx, double *dx, int n_threads) nogil

cdef extern from "adaptive_pool.h":
    int fnn_adaptive_avg_pool2d_fwd_f32(int64_t P, int64_t H, int64_t W, int64_t OH,
                                        int64_t OW, const float *x, float *y,
                                        int n_threads) nogil
    int fnn_adaptive_avg_pool2d_fwd_f64(int64_t P, int64_t H, int64_t W, int64_t OH,
                                        int64_t OW, const double *x, double *y,
                                        int n_threads) nogil
    int fnn_adaptive_avg_pool2d_bwd_f32(int64_t P, int64_t H, int64_t W, int64_t OH,
                                        int64_t OW, const float *dy, float *dx,
                                        int n_threads) nogil
    int fnn_adaptive_avg_pool2d_bwd_f64(int64_t P, int64_t H, int64_t W, int64_t OH,
                                        int64_t OW, const double *dy, double *dx,
                                        int n_threads) nogil
    int fnn_adaptive_max_pool2d_fwd_f32(int64_t P, int64_t H, int64_t W, int64_t OH,
                                        int64_t OW, const float *x, float *y, int64_t *idx,
                                        int n_threads) nogil
    int fnn_adaptive_max_pool2d_fwd_f64(int64_t P, int64_t H, int64_t W, int64_t OH,
                                        int64_t OW, const double *x, double *y, int64_t *idx,
                                        int n_threads) nogil


cdef int _desc_fill(fnn_pool2d_desc *d, int64_t N, int64_t C, int64_t H, int64_t W,
                    int64_t R, int64_t S, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                    int64_t dh, int64_t dw, bint ceil_mode, bint exclude_pad,
                    int64_t divisor) noexcept:
    d.N = N; d.C = C; d.H = H; d.W = W; d.R = R; d.S = S
    d.sh = sh; d.sw = sw; d.ph = ph; d.pw = pw; d.dh = dh; d.dw = dw
    d.ceil_mode = ceil_mode; d.exclude_pad = exclude_pad; d.divisor = divisor
    return fnn_pool2d_init(d)


cdef int _pool_desc(fnn_pool2d_desc *d, shape, int64_t R, int64_t S, int64_t sh, int64_t sw,
                    int64_t ph, int64_t pw, str op, int64_t dh=1, int64_t dw=1,
                    bint ceil_mode=False, bint exclude_pad=False,
                    int64_t divisor=0) except -1:
    if len(shape) != 4:
        raise ValueError(f"{op}: x must be 4-D (N, C, H, W), got shape {tuple(shape)}")
    if _desc_fill(d, shape[0], shape[1], shape[2], shape[3], R, S, sh, sw, ph, pw, dh, dw,
                  ceil_mode, exclude_pad, divisor) != FNN_OK:
        raise ValueError(f"{op}: invalid geometry: x {tuple(shape)}, kernel ({R}, {S}), "
                         f"stride ({sh}, {sw}), padding ({ph}, {pw}), dilation ({dh}, {dw}), "
                         f"ceil_mode={bool(ceil_mode)}, divisor={divisor}")
    return 0


def pool2d_out_size(int64_t H, int64_t W, int64_t R, int64_t S, int64_t sh, int64_t sw,
                    int64_t ph, int64_t pw, int64_t dh=1, int64_t dw=1, bint ceil_mode=False):
    """(OH, OW) of a pooling, or None when the geometry is invalid."""
    cdef fnn_pool2d_desc d
    if _desc_fill(&d, 1, 1, H, W, R, S, sh, sw, ph, pw, dh, dw, ceil_mode, False, 0) != FNN_OK:
        return None
    return (d.OH, d.OW)


def max_pool2d_fwd(x, y, idx, int64_t R, int64_t S, int64_t sh, int64_t sw, int64_t ph=0,
                   int64_t pw=0, int n_threads=1, int64_t dh=1, int64_t dw=1,
                   bint ceil_mode=False):
    """y, idx = max pooling of x (N, C, H, W); idx (int64, like y) holds each
    winner's offset ih*W + iw within its plane, or is None (values only, for
    inference).  Returns (y, idx)."""
    cdef str op = "max_pool2d"
    cdef int kind = _kind(x, op, "x")
    cdef fnn_pool2d_desc d
    _pool_desc(&d, x.shape, R, S, sh, sw, ph, pw, op, dh, dw, ceil_mode)
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
                   int64_t pw=0, int n_threads=1, int64_t dh=1, int64_t dw=1,
                   bint ceil_mode=False):
    """dx (N, C, H, W), overwritten: each dy routed to its window's winner."""
    cdef str op = "max_pool2d_backward"
    cdef int kind = _kind(dy, op, "dy")
    cdef fnn_pool2d_desc d
    _pool_desc(&d, dx.shape, R, S, sh, sw, ph, pw, op, dh, dw, ceil_mode)
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
                   int64_t pw=0, int n_threads=1, bint ceil_mode=False,
                   bint count_include_pad=True, int64_t divisor=0):
    """y = average pooling of x (N, C, H, W); zero padding counted unless
    not count_include_pad; divisor > 0 replaces the divisor."""
    cdef str op = "avg_pool2d"
    cdef int kind = _kind(x, op, "x")
    cdef fnn_pool2d_desc d
    _pool_desc(&d, x.shape, R, S, sh, sw, ph, pw, op, 1, 1, ceil_mode, not count_include_pad,
               divisor)
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
                   int64_t pw=0, int n_threads=1, bint ceil_mode=False,
                   bint count_include_pad=True, int64_t divisor=0):
    """dx (N, C, H, W), overwritten: each dy spread evenly over its window."""
    cdef str op = "avg_pool2d_backward"
    cdef int kind = _kind(dy, op, "dy")
    cdef fnn_pool2d_desc d
    _pool_desc(&d, dx.shape, R, S, sh, sw, ph, pw, op, 1, 1, ceil_mode, not count_include_pad,
               divisor)
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


cdef int _planes(x, int64_t P, int64_t n, str op, str name) except -1:
    if P < 0 or n < 0 or P * n != _size(x):
        raise ValueError(f"{op}: {name} has {_size(x)} elements, expected {P} x {n}")
    return 0


def max_pool2d_scatter(dy, idx, dx, int64_t P, int64_t HW, int64_t OHW, int n_threads=1):
    """dx (P, HW), overwritten: zeroed, then dx[p][idx] += dy for each of the
    (P, OHW) outputs (the backward of max and adaptive max pooling)."""
    cdef str op = "max_pool2d_backward"
    cdef int kind = _kind(dy, op, "dy")
    _planes(dy, P, OHW, op, "dy")
    _check_index(idx, op, "idx", P * OHW)
    _same(dx, kind, op, "out dx", P * HW)
    cdef void *pdy = _ptr(dy)
    cdef const int64_t *pi = <const int64_t*>_ptr(idx)
    cdef void *pdx = _ptr(dx)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_max_pool2d_scatter_f32(P, HW, OHW, <const float*>pdy, pi, <float*>pdx,
                                            n_threads)
        else:
            st = fnn_max_pool2d_scatter_f64(P, HW, OHW, <const double*>pdy, pi, <double*>pdx,
                                            n_threads)
    _check_status(st, op)
    return dx


def max_unpool2d(src, idx, out, int64_t P, int64_t n_in, int64_t n_out, bint backward=False,
                 int n_threads=1):
    """Forward (backward=False): src, idx (P, n_in) -> out (P, n_out), zeroed,
    out[p][idx] = src.  Backward: src (P, n_out) -> out (P, n_in) gathered
    at idx.  IndexError when an index is outside [0, n_out)."""
    cdef str op = "max_unpool2d_backward" if backward else "max_unpool2d"
    cdef int kind = _kind(src, op, "src")
    _planes(src, P, n_out if backward else n_in, op, "src")
    _check_index(idx, op, "indices", P * n_in)
    _same(out, kind, op, "out", P * (n_in if backward else n_out))
    cdef void *ps = _ptr(src)
    cdef const int64_t *pi = <const int64_t*>_ptr(idx)
    cdef void *po = _ptr(out)
    cdef int st
    with nogil:
        if kind == 0 and not backward:
            st = fnn_max_unpool2d_fwd_f32(P, n_in, n_out, <const float*>ps, pi, <float*>po,
                                          n_threads)
        elif kind == 0:
            st = fnn_max_unpool2d_bwd_f32(P, n_in, n_out, <const float*>ps, pi, <float*>po,
                                          n_threads)
        elif not backward:
            st = fnn_max_unpool2d_fwd_f64(P, n_in, n_out, <const double*>ps, pi, <double*>po,
                                          n_threads)
        else:
            st = fnn_max_unpool2d_bwd_f64(P, n_in, n_out, <const double*>ps, pi, <double*>po,
                                          n_threads)
    if st == FNN_EINDEX:
        raise IndexError(f"{op}: an index is outside the output's {n_out} elements per plane")
    _check_status(st, op)
    return out


def adaptive_pool2d_fwd(x, y, idx, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW,
                        int n_threads=1):
    """Adaptive pooling of x (P, H, W) into y (P, OH, OW): max with its
    argmax when idx (int64, P*OH*OW) is given, else average."""
    cdef str op = "adaptive_max_pool2d" if idx is not None else "adaptive_avg_pool2d"
    cdef int kind = _kind(x, op, "x")
    if P < 0 or H < 1 or W < 1 or OH < 1 or OW < 1:
        raise ValueError(f"{op}: invalid sizes P={P}, ({H}, {W}) -> ({OH}, {OW})")
    _planes(x, P, H * W, op, "x")
    _same(y, kind, op, "out y", P * OH * OW)
    cdef int64_t *pi = NULL
    if idx is not None:
        _check_index(idx, op, "idx", P * OH * OW)
        pi = <int64_t*>_ptr(idx)
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    cdef int st
    with nogil:
        if kind == 0 and pi != NULL:
            st = fnn_adaptive_max_pool2d_fwd_f32(P, H, W, OH, OW, <const float*>px, <float*>py,
                                                 pi, n_threads)
        elif kind == 0:
            st = fnn_adaptive_avg_pool2d_fwd_f32(P, H, W, OH, OW, <const float*>px, <float*>py,
                                                 n_threads)
        elif pi != NULL:
            st = fnn_adaptive_max_pool2d_fwd_f64(P, H, W, OH, OW, <const double*>px,
                                                 <double*>py, pi, n_threads)
        else:
            st = fnn_adaptive_avg_pool2d_fwd_f64(P, H, W, OH, OW, <const double*>px,
                                                 <double*>py, n_threads)
    _check_status(st, op)
    return y


def adaptive_avg_pool2d_bwd(dy, dx, int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW,
                            int n_threads=1):
    """dx (P, H, W), overwritten: each dy spread over its window."""
    cdef str op = "adaptive_avg_pool2d_backward"
    cdef int kind = _kind(dy, op, "dy")
    if P < 0 or H < 1 or W < 1 or OH < 1 or OW < 1:
        raise ValueError(f"{op}: invalid sizes P={P}, ({H}, {W}) -> ({OH}, {OW})")
    _planes(dy, P, OH * OW, op, "dy")
    _same(dx, kind, op, "out dx", P * H * W)
    cdef void *pdy = _ptr(dy)
    cdef void *pdx = _ptr(dx)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_adaptive_avg_pool2d_bwd_f32(P, H, W, OH, OW, <const float*>pdy,
                                                 <float*>pdx, n_threads)
        else:
            st = fnn_adaptive_avg_pool2d_bwd_f64(P, H, W, OH, OW, <const double*>pdy,
                                                 <double*>pdx, n_threads)
    _check_status(st, op)
    return dx
