# _bind/activation.pxi -- bindings for csrc/activation.c (leaky ReLU).

cdef extern from "activation.h":
    int fnn_leaky_relu_fwd_f32(int64_t n, const float *x, float *y, float slope, int nt) nogil
    int fnn_leaky_relu_fwd_f64(int64_t n, const double *x, double *y, double slope, int nt) nogil
    int fnn_leaky_relu_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                               float slope, int nt) nogil
    int fnn_leaky_relu_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                               double slope, int nt) nogil


def leaky_relu_fwd(x, out, double negative_slope, int n_threads=1):
    """out = x if x > 0 else negative_slope * x; out may be x."""
    cdef int kind = _kind(x, "leaky_relu", "x")
    cdef int64_t n = _size(x)
    _same(out, kind, "leaky_relu", "out", n)
    cdef void *px = _ptr(x)
    cdef void *po = _ptr(out)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_leaky_relu_fwd_f32(n, <const float*>px, <float*>po, <float>negative_slope,
                                        n_threads)
        else:
            st = fnn_leaky_relu_fwd_f64(n, <const double*>px, <double*>po, negative_slope,
                                        n_threads)
    _check_status(st, "leaky_relu")
    return out


def leaky_relu_bwd(x, gy, gx, double negative_slope, int n_threads=1):
    """gx = gy if x > 0 else negative_slope * gy."""
    cdef int kind = _kind(x, "leaky_relu_backward", "x")
    cdef int64_t n = _size(x)
    _same(gy, kind, "leaky_relu_backward", "gy", n)
    _same(gx, kind, "leaky_relu_backward", "out gx", n)
    cdef void *px = _ptr(x)
    cdef void *pg = _ptr(gy)
    cdef void *po = _ptr(gx)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_leaky_relu_bwd_f32(n, <const float*>px, <const float*>pg, <float*>po,
                                        <float>negative_slope, n_threads)
        else:
            st = fnn_leaky_relu_bwd_f64(n, <const double*>px, <const double*>pg, <double*>po,
                                        negative_slope, n_threads)
    _check_status(st, "leaky_relu_backward")
    return gx
