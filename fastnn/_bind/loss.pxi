# _bind/loss.pxi -- bindings for csrc/loss.c (fused cross-entropy, BCE with logits).

cdef extern from "loss.h":
    int fnn_cross_entropy_fwd_f32(int64_t N, int64_t C, const float *x, const int64_t *t,
                                  float *loss, float *lse, int nt) nogil
    int fnn_cross_entropy_fwd_f64(int64_t N, int64_t C, const double *x, const int64_t *t,
                                  double *loss, double *lse, int nt) nogil
    int fnn_cross_entropy_bwd_f32(int64_t N, int64_t C, const float *x, const int64_t *t,
                                  const float *lse, const float *g, float scale, float *gx,
                                  int nt) nogil
    int fnn_cross_entropy_bwd_f64(int64_t N, int64_t C, const double *x, const int64_t *t,
                                  const double *lse, const double *g, double scale, double *gx,
                                  int nt) nogil
    int fnn_bce_logits_fwd_f32(int64_t n, const float *x, const float *y, float *loss, int nt) nogil
    int fnn_bce_logits_fwd_f64(int64_t n, const double *x, const double *y, double *loss,
                               int nt) nogil
    int fnn_bce_logits_bwd_f32(int64_t n, const float *x, const float *y, const float *g,
                               float scale, float *gx, int nt) nogil
    int fnn_bce_logits_bwd_f64(int64_t n, const double *x, const double *y, const double *g,
                               double scale, double *gx, int nt) nogil


cdef int _ce_check(str op, x, t) except -1:
    if not isinstance(x, np.ndarray) or x.ndim != 2:
        raise ValueError(f"{op}: logits must be a 2-D (N, C) ndarray")
    _check_index(t, op, "target", x.shape[0])
    if x.shape[1] < 1:
        raise ValueError(f"{op}: need at least one class, got C = {x.shape[1]}")
    return 0


def cross_entropy_fwd(x, t, loss, lse, int n_threads=1):
    """Per-sample cross-entropy of logits x (N, C) and int64 targets t (N)
    into loss (N); lse (N, 2) receives each row's max and log-sum-exp of the
    shifted row, for the backward.
    A target outside [0, C) raises IndexError."""
    cdef str op = "cross_entropy"
    cdef int kind = _kind(x, op, "input")
    _ce_check(op, x, t)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    _same(loss, kind, op, "out loss", N)
    _same(lse, kind, op, "out lse", 2 * N)
    cdef void *px = _ptr(x)
    cdef const int64_t *pt = <const int64_t*>_ptr(t)
    cdef void *pl = _ptr(loss)
    cdef void *ps = _ptr(lse)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_cross_entropy_fwd_f32(N, C, <const float*>px, pt, <float*>pl, <float*>ps,
                                           n_threads)
        else:
            st = fnn_cross_entropy_fwd_f64(N, C, <const double*>px, pt, <double*>pl,
                                           <double*>ps, n_threads)
    _check_status(st, op)
    return loss


def cross_entropy_bwd(x, t, lse, g, double scale, gx, int n_threads=1):
    """gx = (softmax(x) - onehot(t)) * g[:, None] * scale; g (N) or None (ones)."""
    cdef str op = "cross_entropy_backward"
    cdef int kind = _kind(x, op, "input")
    _ce_check(op, x, t)
    cdef int64_t N = x.shape[0], C = x.shape[1]
    _same(lse, kind, op, "lse", 2 * N)
    _same(gx, kind, op, "out gx", N * C)
    cdef void *pg = NULL
    if g is not None:
        _same(g, kind, op, "g", N)
        pg = _ptr(g)
    cdef void *px = _ptr(x)
    cdef const int64_t *pt = <const int64_t*>_ptr(t)
    cdef void *ps = _ptr(lse)
    cdef void *po = _ptr(gx)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_cross_entropy_bwd_f32(N, C, <const float*>px, pt, <const float*>ps,
                                           <const float*>pg, <float>scale, <float*>po, n_threads)
        else:
            st = fnn_cross_entropy_bwd_f64(N, C, <const double*>px, pt, <const double*>ps,
                                           <const double*>pg, scale, <double*>po, n_threads)
    _check_status(st, op)
    return gx


def bce_logits_fwd(x, y, loss, int n_threads=1):
    """Elementwise max(x, 0) - x*y + log1p(exp(-|x|)) into loss."""
    cdef str op = "binary_cross_entropy_with_logits"
    cdef int kind = _kind(x, op, "input")
    cdef int64_t n = _size(x)
    _same(y, kind, op, "target", n)
    _same(loss, kind, op, "out loss", n)
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    cdef void *pl = _ptr(loss)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_bce_logits_fwd_f32(n, <const float*>px, <const float*>py, <float*>pl,
                                        n_threads)
        else:
            st = fnn_bce_logits_fwd_f64(n, <const double*>px, <const double*>py, <double*>pl,
                                        n_threads)
    _check_status(st, op)
    return loss


def bce_logits_bwd(x, y, g, double scale, gx, int n_threads=1):
    """gx = (sigmoid(x) - y) * g * scale; g of x's size or None (ones)."""
    cdef str op = "binary_cross_entropy_with_logits_backward"
    cdef int kind = _kind(x, op, "input")
    cdef int64_t n = _size(x)
    _same(y, kind, op, "target", n)
    _same(gx, kind, op, "out gx", n)
    cdef void *pg = NULL
    if g is not None:
        _same(g, kind, op, "g", n)
        pg = _ptr(g)
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    cdef void *po = _ptr(gx)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_bce_logits_bwd_f32(n, <const float*>px, <const float*>py,
                                        <const float*>pg, <float>scale, <float*>po, n_threads)
        else:
            st = fnn_bce_logits_bwd_f64(n, <const double*>px, <const double*>py,
                                        <const double*>pg, scale, <double*>po, n_threads)
    _check_status(st, op)
    return gx
