# _bind/softmax.pxi -- bindings for csrc/softmax.c.
# Arrays are viewed as (outer, n, inner) with the reduced axis in the middle.

cdef extern from "softmax.h":
    int fnn_softmax_fwd_f32(int64_t o, int64_t n, int64_t i, const float *x, float *y, int nt) nogil
    int fnn_softmax_fwd_f64(int64_t o, int64_t n, int64_t i, const double *x, double *y, int nt) nogil
    int fnn_log_softmax_fwd_f32(int64_t o, int64_t n, int64_t i, const float *x, float *y, int nt) nogil
    int fnn_log_softmax_fwd_f64(int64_t o, int64_t n, int64_t i, const double *x, double *y, int nt) nogil
    int fnn_softmax_bwd_f32(int64_t o, int64_t n, int64_t i, const float *y, const float *gy,
                            float *gx, int nt) nogil
    int fnn_softmax_bwd_f64(int64_t o, int64_t n, int64_t i, const double *y, const double *gy,
                            double *gx, int nt) nogil
    int fnn_log_softmax_bwd_f32(int64_t o, int64_t n, int64_t i, const float *y, const float *gy,
                                float *gx, int nt) nogil
    int fnn_log_softmax_bwd_f64(int64_t o, int64_t n, int64_t i, const double *y,
                                const double *gy, double *gx, int nt) nogil


cdef void _softmax_dims(object x, int dim, int64_t *o, int64_t *n, int64_t *inner):
    cdef tuple shp = x.shape
    cdef int k
    o[0] = 1
    inner[0] = 1
    n[0] = shp[dim] if len(shp) else 1
    for k in range(dim):
        o[0] *= shp[k]
    for k in range(dim + 1, len(shp)):
        inner[0] *= shp[k]


def softmax_fwd(x, out, int dim, bint log=False, int n_threads=1):
    """Softmax (or log-softmax when log) of x along axis dim into out."""
    cdef str op = "log_softmax" if log else "softmax"
    cdef int kind = _kind(x, op, "x")
    _same(out, kind, op, "out", _size(x))
    if x.ndim and not 0 <= dim < x.ndim:
        raise IndexError(f"{op}: dim {dim} out of range")
    cdef int64_t o, n, inner
    _softmax_dims(x, dim, &o, &n, &inner)
    cdef void *px = _ptr(x)
    cdef void *po = _ptr(out)
    cdef int st
    with nogil:
        if kind == 0:
            st = (fnn_log_softmax_fwd_f32 if log else fnn_softmax_fwd_f32)(
                o, n, inner, <const float*>px, <float*>po, n_threads)
        else:
            st = (fnn_log_softmax_fwd_f64 if log else fnn_softmax_fwd_f64)(
                o, n, inner, <const double*>px, <double*>po, n_threads)
    _check_status(st, op)
    return out


def softmax_bwd(y, gy, gx, int dim, bint log=False, int n_threads=1):
    """Gradient of (log-)softmax along dim from the forward output y."""
    cdef str op = "log_softmax_backward" if log else "softmax_backward"
    cdef int kind = _kind(y, op, "y")
    _same(gy, kind, op, "gy", _size(y))
    _same(gx, kind, op, "out gx", _size(y))
    if y.ndim and not 0 <= dim < y.ndim:
        raise IndexError(f"{op}: dim {dim} out of range")
    cdef int64_t o, n, inner
    _softmax_dims(y, dim, &o, &n, &inner)
    cdef void *py = _ptr(y)
    cdef void *pg = _ptr(gy)
    cdef void *po = _ptr(gx)
    cdef int st
    with nogil:
        if kind == 0:
            st = (fnn_log_softmax_bwd_f32 if log else fnn_softmax_bwd_f32)(
                o, n, inner, <const float*>py, <const float*>pg, <float*>po, n_threads)
        else:
            st = (fnn_log_softmax_bwd_f64 if log else fnn_softmax_bwd_f64)(
                o, n, inner, <const double*>py, <const double*>pg, <double*>po, n_threads)
    _check_status(st, op)
    return gx
