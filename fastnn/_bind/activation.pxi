# _bind/activation.pxi -- bindings for csrc/activation.c (leaky ReLU, the
# element-wise activations through one table, PReLU).

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

cdef extern from "activation.h":
    ctypedef struct fnn_act_params:
        double a, b, c
    int fnn_gelu_fwd_f32(int64_t n, const float *x, float *y, const fnn_act_params *p, int nt) nogil
    int fnn_gelu_fwd_f64(int64_t n, const double *x, double *y,
                         const fnn_act_params *p, int nt) nogil
    int fnn_gelu_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                         const fnn_act_params *p, int nt) nogil
    int fnn_gelu_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                         const fnn_act_params *p, int nt) nogil
    int fnn_gelu_tanh_fwd_f32(int64_t n, const float *x, float *y,
                              const fnn_act_params *p, int nt) nogil
    int fnn_gelu_tanh_fwd_f64(int64_t n, const double *x, double *y,
                              const fnn_act_params *p, int nt) nogil
    int fnn_gelu_tanh_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                              const fnn_act_params *p, int nt) nogil
    int fnn_gelu_tanh_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                              const fnn_act_params *p, int nt) nogil
    int fnn_silu_fwd_f32(int64_t n, const float *x, float *y, const fnn_act_params *p, int nt) nogil
    int fnn_silu_fwd_f64(int64_t n, const double *x, double *y,
                         const fnn_act_params *p, int nt) nogil
    int fnn_silu_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                         const fnn_act_params *p, int nt) nogil
    int fnn_silu_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                         const fnn_act_params *p, int nt) nogil
    int fnn_mish_fwd_f32(int64_t n, const float *x, float *y, const fnn_act_params *p, int nt) nogil
    int fnn_mish_fwd_f64(int64_t n, const double *x, double *y,
                         const fnn_act_params *p, int nt) nogil
    int fnn_mish_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                         const fnn_act_params *p, int nt) nogil
    int fnn_mish_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                         const fnn_act_params *p, int nt) nogil
    int fnn_elu_fwd_f32(int64_t n, const float *x, float *y, const fnn_act_params *p, int nt) nogil
    int fnn_elu_fwd_f64(int64_t n, const double *x, double *y,
                        const fnn_act_params *p, int nt) nogil
    int fnn_elu_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                        const fnn_act_params *p, int nt) nogil
    int fnn_elu_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                        const fnn_act_params *p, int nt) nogil
    int fnn_softplus_fwd_f32(int64_t n, const float *x, float *y,
                             const fnn_act_params *p, int nt) nogil
    int fnn_softplus_fwd_f64(int64_t n, const double *x, double *y,
                             const fnn_act_params *p, int nt) nogil
    int fnn_softplus_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                             const fnn_act_params *p, int nt) nogil
    int fnn_softplus_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                             const fnn_act_params *p, int nt) nogil
    int fnn_logsigmoid_fwd_f32(int64_t n, const float *x, float *y,
                               const fnn_act_params *p, int nt) nogil
    int fnn_logsigmoid_fwd_f64(int64_t n, const double *x, double *y,
                               const fnn_act_params *p, int nt) nogil
    int fnn_logsigmoid_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                               const fnn_act_params *p, int nt) nogil
    int fnn_logsigmoid_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                               const fnn_act_params *p, int nt) nogil
    int fnn_hardtanh_fwd_f32(int64_t n, const float *x, float *y,
                             const fnn_act_params *p, int nt) nogil
    int fnn_hardtanh_fwd_f64(int64_t n, const double *x, double *y,
                             const fnn_act_params *p, int nt) nogil
    int fnn_hardtanh_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                             const fnn_act_params *p, int nt) nogil
    int fnn_hardtanh_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                             const fnn_act_params *p, int nt) nogil
    int fnn_hardswish_fwd_f32(int64_t n, const float *x, float *y,
                              const fnn_act_params *p, int nt) nogil
    int fnn_hardswish_fwd_f64(int64_t n, const double *x, double *y,
                              const fnn_act_params *p, int nt) nogil
    int fnn_hardswish_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                              const fnn_act_params *p, int nt) nogil
    int fnn_hardswish_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                              const fnn_act_params *p, int nt) nogil
    int fnn_hardsigmoid_fwd_f32(int64_t n, const float *x, float *y,
                                const fnn_act_params *p, int nt) nogil
    int fnn_hardsigmoid_fwd_f64(int64_t n, const double *x, double *y,
                                const fnn_act_params *p, int nt) nogil
    int fnn_hardsigmoid_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                                const fnn_act_params *p, int nt) nogil
    int fnn_hardsigmoid_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                                const fnn_act_params *p, int nt) nogil
    int fnn_softsign_fwd_f32(int64_t n, const float *x, float *y,
                             const fnn_act_params *p, int nt) nogil
    int fnn_softsign_fwd_f64(int64_t n, const double *x, double *y,
                             const fnn_act_params *p, int nt) nogil
    int fnn_softsign_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                             const fnn_act_params *p, int nt) nogil
    int fnn_softsign_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                             const fnn_act_params *p, int nt) nogil
    int fnn_threshold_fwd_f32(int64_t n, const float *x, float *y,
                              const fnn_act_params *p, int nt) nogil
    int fnn_threshold_fwd_f64(int64_t n, const double *x, double *y,
                              const fnn_act_params *p, int nt) nogil
    int fnn_threshold_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                              const fnn_act_params *p, int nt) nogil
    int fnn_threshold_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                              const fnn_act_params *p, int nt) nogil
    int64_t fnn_prelu_workspace_len(int64_t outer, int64_t C, int64_t inner)
    int fnn_prelu_fwd_f32(int64_t outer, int64_t C, int64_t inner, const float *x, const float *w,
                          float *y, int nt) nogil
    int fnn_prelu_fwd_f64(int64_t outer, int64_t C, int64_t inner, const double *x, const double *w,
                          double *y, int nt) nogil
    int fnn_prelu_bwd_f32(int64_t outer, int64_t C, int64_t inner, const float *x, const float *w,
                          const float *gy, float *gx, float *gw, double *ws, int nt) nogil
    int fnn_prelu_bwd_f64(int64_t outer, int64_t C, int64_t inner, const double *x, const double *w,
                          const double *gy, double *gx, double *gw, double *ws, int nt) nogil

ctypedef int (*_act_fwd32)(int64_t, const float*, float*, const fnn_act_params*, int) nogil
ctypedef int (*_act_fwd64)(int64_t, const double*, double*, const fnn_act_params*, int) nogil
ctypedef int (*_act_bwd32)(int64_t, const float*, const float*, float*, const fnn_act_params*,
                           int) nogil
ctypedef int (*_act_bwd64)(int64_t, const double*, const double*, double*, const fnn_act_params*,
                           int) nogil

cdef struct _act_entry:
    _act_fwd32 f32
    _act_fwd64 f64
    _act_bwd32 b32
    _act_bwd64 b64

cdef _act_entry _ACT[12]
_ACT[0] = _act_entry(fnn_gelu_fwd_f32, fnn_gelu_fwd_f64,
                     fnn_gelu_bwd_f32, fnn_gelu_bwd_f64)
_ACT[1] = _act_entry(fnn_gelu_tanh_fwd_f32, fnn_gelu_tanh_fwd_f64,
                     fnn_gelu_tanh_bwd_f32, fnn_gelu_tanh_bwd_f64)
_ACT[2] = _act_entry(fnn_silu_fwd_f32, fnn_silu_fwd_f64,
                     fnn_silu_bwd_f32, fnn_silu_bwd_f64)
_ACT[3] = _act_entry(fnn_mish_fwd_f32, fnn_mish_fwd_f64,
                     fnn_mish_bwd_f32, fnn_mish_bwd_f64)
_ACT[4] = _act_entry(fnn_elu_fwd_f32, fnn_elu_fwd_f64,
                     fnn_elu_bwd_f32, fnn_elu_bwd_f64)
_ACT[5] = _act_entry(fnn_softplus_fwd_f32, fnn_softplus_fwd_f64,
                     fnn_softplus_bwd_f32, fnn_softplus_bwd_f64)
_ACT[6] = _act_entry(fnn_logsigmoid_fwd_f32, fnn_logsigmoid_fwd_f64,
                     fnn_logsigmoid_bwd_f32, fnn_logsigmoid_bwd_f64)
_ACT[7] = _act_entry(fnn_hardtanh_fwd_f32, fnn_hardtanh_fwd_f64,
                     fnn_hardtanh_bwd_f32, fnn_hardtanh_bwd_f64)
_ACT[8] = _act_entry(fnn_hardswish_fwd_f32, fnn_hardswish_fwd_f64,
                     fnn_hardswish_bwd_f32, fnn_hardswish_bwd_f64)
_ACT[9] = _act_entry(fnn_hardsigmoid_fwd_f32, fnn_hardsigmoid_fwd_f64,
                     fnn_hardsigmoid_bwd_f32, fnn_hardsigmoid_bwd_f64)
_ACT[10] = _act_entry(fnn_softsign_fwd_f32, fnn_softsign_fwd_f64,
                      fnn_softsign_bwd_f32, fnn_softsign_bwd_f64)
_ACT[11] = _act_entry(fnn_threshold_fwd_f32, fnn_threshold_fwd_f64,
                      fnn_threshold_bwd_f32, fnn_threshold_bwd_f64)
# name -> row of _ACT
_ACT_INDEX = {
    "gelu": 0, "gelu_tanh": 1, "silu": 2, "mish": 3, "elu": 4, "softplus": 5, "logsigmoid": 6,
    "hardtanh": 7, "hardswish": 8, "hardsigmoid": 9, "softsign": 10, "threshold": 11
}

cdef int _act_row(str name) except -1:
    r = _ACT_INDEX.get(name)
    if r is None:
        raise ValueError(f"unknown activation {name!r}")
    return r


def act_fwd(str name, x, y, double a=0.0, double b=0.0, double c=0.0, int n_threads=1):
    """y = the activation ``name`` (a key of ``_ACT_INDEX``) of x, with its
    parameters a, b, c (csrc/activation.h); y may be x.  Returns y."""
    cdef int r = _act_row(name)
    cdef int kind = _kind(x, name, "x")
    cdef int64_t n = _size(x)
    _same(y, kind, name, "out y", n)
    cdef fnn_act_params p = fnn_act_params(a, b, c)
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    cdef int st
    with nogil:
        if kind == 0:
            st = _ACT[r].f32(n, <const float*>px, <float*>py, &p, n_threads)
        else:
            st = _ACT[r].f64(n, <const double*>px, <double*>py, &p, n_threads)
    _check_status(st, name)
    return y


def act_bwd(str name, x, gy, gx, double a=0.0, double b=0.0, double c=0.0, int n_threads=1):
    """gx = gy * (d name / dx)(x), overwritten.  Returns gx."""
    cdef int r = _act_row(name)
    cdef str op = name + "_backward"
    cdef int kind = _kind(x, op, "x")
    cdef int64_t n = _size(x)
    _same(gy, kind, op, "gy", n)
    _same(gx, kind, op, "out gx", n)
    cdef fnn_act_params p = fnn_act_params(a, b, c)
    cdef void *px = _ptr(x)
    cdef void *pg = _ptr(gy)
    cdef void *po = _ptr(gx)
    cdef int st
    with nogil:
        if kind == 0:
            st = _ACT[r].b32(n, <const float*>px, <const float*>pg, <float*>po, &p, n_threads)
        else:
            st = _ACT[r].b64(n, <const double*>px, <const double*>pg, <double*>po, &p,
                             n_threads)
    _check_status(st, op)
    return gx


cdef int _prelu_check(x, w, int64_t outer, int64_t C, int64_t inner, str op) except -1:
    if outer < 0 or C < 1 or inner < 0 or outer * C * inner != _size(x):
        raise ValueError(f"{op}: view ({outer}, {C}, {inner}) does not match x's "
                         f"{_size(x)} elements")
    _same(w, _kind(x, op, "x"), op, "weight", C)
    return 0


def prelu_fwd(x, w, y, int64_t outer, int64_t C, int64_t inner, int n_threads=1):
    """y = x > 0 ? x : w[c] * x over x viewed as (outer, C, inner)."""
    _prelu_check(x, w, outer, C, inner, "prelu")
    cdef int kind = _kind(x, "prelu", "x")
    _same(y, kind, "prelu", "out y", _size(x))
    cdef void *px = _ptr(x)
    cdef void *pw = _ptr(w)
    cdef void *py = _ptr(y)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_prelu_fwd_f32(outer, C, inner, <const float*>px, <const float*>pw,
                                   <float*>py, n_threads)
        else:
            st = fnn_prelu_fwd_f64(outer, C, inner, <const double*>px, <const double*>pw,
                                   <double*>py, n_threads)
    _check_status(st, "prelu")
    return y


def prelu_bwd(x, w, gy, gx, gw, int64_t outer, int64_t C, int64_t inner, int n_threads=1):
    """gx (or None) and gw (C,) (or None), overwritten."""
    cdef str op = "prelu_backward"
    _prelu_check(x, w, outer, C, inner, op)
    cdef int kind = _kind(x, op, "x")
    _same(gy, kind, op, "gy", _size(x))
    cdef void *pgx = NULL
    cdef void *pgw = NULL
    if gx is not None:
        _same(gx, kind, op, "out gx", _size(x))
        pgx = _ptr(gx)
    if gw is not None:
        _same(gw, kind, op, "out gw", C)
        pgw = _ptr(gw)
    ws = np.empty(max(fnn_prelu_workspace_len(outer, C, inner), 1), np.float64)
    cdef double *pws = <double*>_ptr(ws)
    cdef void *px = _ptr(x)
    cdef void *pw = _ptr(w)
    cdef void *pg = _ptr(gy)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_prelu_bwd_f32(outer, C, inner, <const float*>px, <const float*>pw,
                                   <const float*>pg, <float*>pgx, <float*>pgw, pws, n_threads)
        else:
            st = fnn_prelu_bwd_f64(outer, C, inner, <const double*>px, <const double*>pw,
                                   <const double*>pg, <double*>pgx, <double*>pgw, pws,
                                   n_threads)
    _check_status(st, op)
    return gx, gw
