# _bind/norm.pxi -- bindings for csrc/norm.c (layer and group normalisation).

cdef extern from "norm.h":
    int64_t fnn_layer_norm_workspace_len(int64_t M, int64_t D)
    int64_t fnn_group_norm_workspace_len(int64_t N, int64_t C)
    int fnn_layer_norm_fwd_f32(int64_t M, int64_t D, const float *x, const float *gamma,
                               const float *beta, double eps, float *y, float *mean,
                               float *rstd, int n_threads) nogil
    int fnn_layer_norm_fwd_f64(int64_t M, int64_t D, const double *x, const double *gamma,
                               const double *beta, double eps, double *y, double *mean,
                               double *rstd, int n_threads) nogil
    int fnn_layer_norm_bwd_f32(int64_t M, int64_t D, const float *x, const float *gy,
                               const float *mean, const float *rstd, const float *gamma,
                               float *gx, float *dgamma, float *dbeta, double *ws,
                               int n_threads) nogil
    int fnn_layer_norm_bwd_f64(int64_t M, int64_t D, const double *x, const double *gy,
                               const double *mean, const double *rstd, const double *gamma,
                               double *gx, double *dgamma, double *dbeta, double *ws,
                               int n_threads) nogil
    int fnn_group_norm_fwd_f32(int64_t N, int64_t C, int64_t HW, int64_t G, const float *x,
                               const float *gamma, const float *beta, double eps, float *y,
                               float *mean, float *rstd, int n_threads) nogil
    int fnn_group_norm_fwd_f64(int64_t N, int64_t C, int64_t HW, int64_t G, const double *x,
                               const double *gamma, const double *beta, double eps, double *y,
                               double *mean, double *rstd, int n_threads) nogil
    int fnn_group_norm_bwd_f32(int64_t N, int64_t C, int64_t HW, int64_t G, const float *x,
                               const float *gy, const float *mean, const float *rstd,
                               const float *gamma, float *gx, float *dgamma, float *dbeta,
                               double *ws, int n_threads) nogil
    int fnn_group_norm_bwd_f64(int64_t N, int64_t C, int64_t HW, int64_t G, const double *x,
                               const double *gy, const double *mean, const double *rstd,
                               const double *gamma, double *gx, double *dgamma,
                               double *dbeta, double *ws, int n_threads) nogil




cdef int _norm_rows(int64_t rows, int64_t L, object x, str op) except -1:
    if rows < 0 or L < 1 or rows * L != _size(x):
        raise ValueError(f"{op}: view ({rows}, {L}) does not match x's {_size(x)} elements")
    return 0


def layer_norm_fwd(x, gamma, beta, double eps, y, mean, rstd, int64_t M, int64_t D,
                   int n_threads=1):
    """y, mean (M,), rstd (M,) of x viewed as (M, D); gamma, beta (D,) or None."""
    cdef str op = "layer_norm"
    cdef int kind = _kind(x, op, "x")
    _norm_rows(M, D, x, op)
    cdef void *pg = _opt(gamma, kind, op, "weight", D)
    cdef void *pb = _opt(beta, kind, op, "bias", D)
    _same(y, kind, op, "out y", M * D)
    _same(mean, kind, op, "out mean", M)
    _same(rstd, kind, op, "out rstd", M)
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    cdef void *pm = _ptr(mean)
    cdef void *pr = _ptr(rstd)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_layer_norm_fwd_f32(M, D, <const float*>px, <const float*>pg,
                                        <const float*>pb, eps, <float*>py, <float*>pm,
                                        <float*>pr, n_threads)
        else:
            st = fnn_layer_norm_fwd_f64(M, D, <const double*>px, <const double*>pg,
                                        <const double*>pb, eps, <double*>py, <double*>pm,
                                        <double*>pr, n_threads)
    _check_status(st, op)
    return y


def layer_norm_bwd(x, gy, mean, rstd, gamma, gx, dgamma, dbeta, int64_t M, int64_t D,
                   int n_threads=1):
    """gx (M, D), dgamma, dbeta (D,) (each may be None: not wanted), overwritten."""
    cdef str op = "layer_norm_backward"
    cdef int kind = _kind(x, op, "x")
    _norm_rows(M, D, x, op)
    _same(gy, kind, op, "gy", M * D)
    _same(mean, kind, op, "mean", M)
    _same(rstd, kind, op, "rstd", M)
    cdef void *pg = _opt(gamma, kind, op, "weight", D)
    cdef void *pgx = _opt(gx, kind, op, "out gx", M * D)
    cdef void *pdg = _opt(dgamma, kind, op, "out dweight", D)
    cdef void *pdb = _opt(dbeta, kind, op, "out dbias", D)
    ws = _ws_take("layer_norm", 1, fnn_layer_norm_workspace_len(M, D))
    cdef double *pws = <double*>_ptr(ws)
    cdef void *px = _ptr(x)
    cdef void *pgy = _ptr(gy)
    cdef void *pm = _ptr(mean)
    cdef void *pr = _ptr(rstd)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_layer_norm_bwd_f32(M, D, <const float*>px, <const float*>pgy,
                                        <const float*>pm, <const float*>pr, <const float*>pg,
                                        <float*>pgx, <float*>pdg, <float*>pdb, pws, n_threads)
        else:
            st = fnn_layer_norm_bwd_f64(M, D, <const double*>px, <const double*>pgy,
                                        <const double*>pm, <const double*>pr,
                                        <const double*>pg, <double*>pgx, <double*>pdg,
                                        <double*>pdb, pws, n_threads)
    _ws_give("layer_norm", 1, ws)
    _check_status(st, op)
    return gx


cdef int _gn_check(int64_t N, int64_t C, int64_t HW, int64_t G, object x, str op) except -1:
    if N < 0 or C < 1 or HW < 1 or G < 1 or C % G != 0 or N * C * HW != _size(x):
        raise ValueError(f"{op}: invalid view (N={N}, C={C}, HW={HW}, groups={G}) of x's "
                         f"{_size(x)} elements")
    return 0


def group_norm_fwd(x, gamma, beta, double eps, y, mean, rstd, int64_t N, int64_t C,
                   int64_t HW, int64_t G, int n_threads=1):
    """y, mean (N, G), rstd (N, G) of x viewed as (N, C, HW); gamma, beta (C,) or None."""
    cdef str op = "group_norm"
    cdef int kind = _kind(x, op, "x")
    _gn_check(N, C, HW, G, x, op)
    cdef void *pg = _opt(gamma, kind, op, "weight", C)
    cdef void *pb = _opt(beta, kind, op, "bias", C)
    _same(y, kind, op, "out y", N * C * HW)
    _same(mean, kind, op, "out mean", N * G)
    _same(rstd, kind, op, "out rstd", N * G)
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    cdef void *pm = _ptr(mean)
    cdef void *pr = _ptr(rstd)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_group_norm_fwd_f32(N, C, HW, G, <const float*>px, <const float*>pg,
                                        <const float*>pb, eps, <float*>py, <float*>pm,
                                        <float*>pr, n_threads)
        else:
            st = fnn_group_norm_fwd_f64(N, C, HW, G, <const double*>px, <const double*>pg,
                                        <const double*>pb, eps, <double*>py, <double*>pm,
                                        <double*>pr, n_threads)
    _check_status(st, op)
    return y


def group_norm_bwd(x, gy, mean, rstd, gamma, gx, dgamma, dbeta, int64_t N, int64_t C,
                   int64_t HW, int64_t G, int n_threads=1):
    """gx (N, C, HW), dgamma, dbeta (C,) (each may be None), overwritten."""
    cdef str op = "group_norm_backward"
    cdef int kind = _kind(x, op, "x")
    _gn_check(N, C, HW, G, x, op)
    _same(gy, kind, op, "gy", N * C * HW)
    _same(mean, kind, op, "mean", N * G)
    _same(rstd, kind, op, "rstd", N * G)
    cdef void *pg = _opt(gamma, kind, op, "weight", C)
    cdef void *pgx = _opt(gx, kind, op, "out gx", N * C * HW)
    cdef void *pdg = _opt(dgamma, kind, op, "out dweight", C)
    cdef void *pdb = _opt(dbeta, kind, op, "out dbias", C)
    ws = _ws_take("group_norm", 1, fnn_group_norm_workspace_len(N, C))
    cdef double *pws = <double*>_ptr(ws)
    cdef void *px = _ptr(x)
    cdef void *pgy = _ptr(gy)
    cdef void *pm = _ptr(mean)
    cdef void *pr = _ptr(rstd)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_group_norm_bwd_f32(N, C, HW, G, <const float*>px, <const float*>pgy,
                                        <const float*>pm, <const float*>pr, <const float*>pg,
                                        <float*>pgx, <float*>pdg, <float*>pdb, pws, n_threads)
        else:
            st = fnn_group_norm_bwd_f64(N, C, HW, G, <const double*>px, <const double*>pgy,
                                        <const double*>pm, <const double*>pr,
                                        <const double*>pg, <double*>pgx, <double*>pdg,
                                        <double*>pdb, pws, n_threads)
    _ws_give("group_norm", 1, ws)
    _check_status(st, op)
    return gx
