# _bind/elementwise.pxi -- bindings for csrc/elementwise.c.

cdef extern from "elementwise.h":
    int fnn_relu_fwd_f32(int64_t n, const float *x, float *y, int nt) nogil
    int fnn_relu_fwd_f64(int64_t n, const double *x, double *y, int nt) nogil
    int fnn_sigmoid_fwd_f32(int64_t n, const float *x, float *y, int nt) nogil
    int fnn_sigmoid_fwd_f64(int64_t n, const double *x, double *y, int nt) nogil
    int fnn_tanh_fwd_f32(int64_t n, const float *x, float *y, int nt) nogil
    int fnn_tanh_fwd_f64(int64_t n, const double *x, double *y, int nt) nogil
    int fnn_relu_bwd_f32(int64_t n, const float *x, const float *gy, float *gx, int nt) nogil
    int fnn_relu_bwd_f64(int64_t n, const double *x, const double *gy, double *gx, int nt) nogil
    int fnn_sigmoid_bwd_f32(int64_t n, const float *y, const float *gy, float *gx, int nt) nogil
    int fnn_sigmoid_bwd_f64(int64_t n, const double *y, const double *gy, double *gx, int nt) nogil
    int fnn_tanh_bwd_f32(int64_t n, const float *y, const float *gy, float *gx, int nt) nogil
    int fnn_tanh_bwd_f64(int64_t n, const double *y, const double *gy, double *gx, int nt) nogil
    int fnn_add_f32(int64_t n, const float *a, const float *b, float *o, int nt) nogil
    int fnn_add_f64(int64_t n, const double *a, const double *b, double *o, int nt) nogil
    int fnn_mul_f32(int64_t n, const float *a, const float *b, float *o, int nt) nogil
    int fnn_mul_f64(int64_t n, const double *a, const double *b, double *o, int nt) nogil
    int fnn_axpy_f32(int64_t n, float alpha, const float *x, float *y, int nt) nogil
    int fnn_axpy_f64(int64_t n, double alpha, const double *x, double *y, int nt) nogil
    int fnn_sum_f32(int64_t n, const float *x, double *out, int nt) nogil
    int fnn_sum_f64(int64_t n, const double *x, double *out, int nt) nogil

ctypedef int (*_map1_f32)(int64_t, const float*, float*, int) nogil
ctypedef int (*_map1_f64)(int64_t, const double*, double*, int) nogil
ctypedef int (*_map2_f32)(int64_t, const float*, const float*, float*, int) nogil
ctypedef int (*_map2_f64)(int64_t, const double*, const double*, double*, int) nogil


cdef object _map1(str op, _map1_f32 f32, _map1_f64 f64, x, out, int nt):
    cdef int kind = _kind(x, op, "x")
    cdef int64_t n = _size(x)
    _same(out, kind, op, "out", n)
    cdef int st
    cdef void *px = _ptr(x)
    cdef void *po = _ptr(out)
    with nogil:
        st = f32(n, <const float*>px, <float*>po, nt) if kind == 0 else \
             f64(n, <const double*>px, <double*>po, nt)
    _check_status(st, op)
    return out


cdef object _map2(str op, _map2_f32 f32, _map2_f64 f64, a, b, out, int nt):
    cdef int kind = _kind(a, op, "a")
    cdef int64_t n = _size(a)
    _same(b, kind, op, "b", n)
    _same(out, kind, op, "out", n)
    cdef int st
    cdef void *pa = _ptr(a)
    cdef void *pb = _ptr(b)
    cdef void *po = _ptr(out)
    with nogil:
        st = f32(n, <const float*>pa, <const float*>pb, <float*>po, nt) if kind == 0 else \
             f64(n, <const double*>pa, <const double*>pb, <double*>po, nt)
    _check_status(st, op)
    return out


def relu_fwd(x, out, int n_threads=1):
    """out = max(x, 0) (NaN kept); out may be x."""
    return _map1("relu", fnn_relu_fwd_f32, fnn_relu_fwd_f64, x, out, n_threads)


def sigmoid_fwd(x, out, int n_threads=1):
    """out = 1 / (1 + exp(-x)), evaluated without overflow."""
    return _map1("sigmoid", fnn_sigmoid_fwd_f32, fnn_sigmoid_fwd_f64, x, out, n_threads)


def tanh_fwd(x, out, int n_threads=1):
    """out = tanh(x)."""
    return _map1("tanh", fnn_tanh_fwd_f32, fnn_tanh_fwd_f64, x, out, n_threads)


def relu_bwd(x, gy, gx, int n_threads=1):
    """gx = gy * (x > 0)."""
    return _map2("relu_backward", fnn_relu_bwd_f32, fnn_relu_bwd_f64, x, gy, gx, n_threads)


def sigmoid_bwd(y, gy, gx, int n_threads=1):
    """gx = gy * y * (1 - y), y the forward output."""
    return _map2("sigmoid_backward", fnn_sigmoid_bwd_f32, fnn_sigmoid_bwd_f64, y, gy, gx, n_threads)


def tanh_bwd(y, gy, gx, int n_threads=1):
    """gx = gy * (1 - y^2), y the forward output."""
    return _map2("tanh_backward", fnn_tanh_bwd_f32, fnn_tanh_bwd_f64, y, gy, gx, n_threads)


def add(a, b, out, int n_threads=1):
    """out = a + b (same shape and dtype)."""
    return _map2("add", fnn_add_f32, fnn_add_f64, a, b, out, n_threads)


def mul(a, b, out, int n_threads=1):
    """out = a * b (same shape and dtype)."""
    return _map2("mul", fnn_mul_f32, fnn_mul_f64, a, b, out, n_threads)


def axpy(double alpha, x, y, int n_threads=1):
    """y += alpha * x, in place."""
    cdef int kind = _kind(x, "axpy", "x")
    cdef int64_t n = _size(x)
    _same(y, kind, "axpy", "out y", n)
    cdef int st
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    with nogil:
        st = fnn_axpy_f32(n, <float>alpha, <const float*>px, <float*>py, n_threads) if kind == 0 else \
             fnn_axpy_f64(n, alpha, <const double*>px, <double*>py, n_threads)
    _check_status(st, "axpy")
    return y


def sum_all(x, int n_threads=1):
    """Sum of every element, accumulated in double (per-thread partials added
    in thread order)."""
    cdef int kind = _kind(x, "sum", "x")
    cdef int64_t n = _size(x)
    cdef double s = 0.0
    cdef int st
    cdef void *px = _ptr(x)
    with nogil:
        st = fnn_sum_f32(n, <const float*>px, &s, n_threads) if kind == 0 else \
             fnn_sum_f64(n, <const double*>px, &s, n_threads)
    _check_status(st, "sum")
    return s
