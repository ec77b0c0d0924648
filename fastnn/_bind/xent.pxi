# _bind/xent.pxi -- bindings for csrc/xent.c (cross-entropy with class weights,
# ignore_index, label smoothing and probability targets).

cdef extern from "xent.h":
    ctypedef struct fnn_xent_desc:
        int64_t N, C, ignore_index
        double label_smoothing
    int fnn_xent_index_fwd_f32(const fnn_xent_desc *d, const float *x, const int64_t *t,
                               const float *w, float *loss, float *wt, float *stats,
                               int nt) nogil
    int fnn_xent_index_fwd_f64(const fnn_xent_desc *d, const double *x, const int64_t *t,
                               const double *w, double *loss, double *wt, double *stats,
                               int nt) nogil
    int fnn_xent_index_bwd_f32(const fnn_xent_desc *d, const float *x, const int64_t *t,
                               const float *w, const float *stats, const float *g,
                               float scale, float *gx, int nt) nogil
    int fnn_xent_index_bwd_f64(const fnn_xent_desc *d, const double *x, const int64_t *t,
                               const double *w, const double *stats, const double *g,
                               double scale, double *gx, int nt) nogil
    int fnn_xent_prob_fwd_f32(const fnn_xent_desc *d, const float *x, const float *y,
                              const float *w, float *loss, float *stats, int nt) nogil
    int fnn_xent_prob_fwd_f64(const fnn_xent_desc *d, const double *x, const double *y,
                              const double *w, double *loss, double *stats, int nt) nogil
    int fnn_xent_prob_bwd_f32(const fnn_xent_desc *d, const float *x, const float *y,
                              const float *w, const float *stats, const float *g,
                              float scale, float *gx, int nt) nogil
    int fnn_xent_prob_bwd_f64(const fnn_xent_desc *d, const double *x, const double *y,
                              const double *w, const double *stats, const double *g,
                              double scale, double *gx, int nt) nogil


cdef int _xent_desc(fnn_xent_desc *d, str op, x, int kind, w, double label_smoothing,
                    int64_t ignore_index) except -1:
    """Fills the descriptor from logits x (N, C); checks w (C) and the smoothing."""
    if x.ndim != 2:
        raise ValueError(f"{op}: logits must be a 2-D (N, C) ndarray")
    d.N = x.shape[0]
    d.C = x.shape[1]
    if d.C < 1:
        raise ValueError(f"{op}: need at least one class, got C = {d.C}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    d.label_smoothing = label_smoothing
    d.ignore_index = ignore_index
    if w is not None:
        _same(w, kind, op, "weight", d.C)
    return 0


def xent_index_fwd(x, t, w, loss, wt, stats, int64_t ignore_index=-100,
                   double label_smoothing=0.0, int n_threads=1):
    """Per-row cross-entropy of logits x (N, C) and int64 targets t (N) with
    class weights w (C, or None), ignore_index and label smoothing, into loss
    (N); wt (N) receives each row's target weight (0 where ignored), stats
    (N, 2) each row's max and log-sum-exp.  A target outside [0, C) that is
    not ignore_index raises IndexError."""
    cdef str op = "cross_entropy"
    cdef int kind = _kind(x, op, "input")
    cdef fnn_xent_desc d
    _xent_desc(&d, op, x, kind, w, label_smoothing, ignore_index)
    _check_index(t, op, "target", d.N)
    _same(loss, kind, op, "out loss", d.N)
    _same(wt, kind, op, "out wt", d.N)
    _same(stats, kind, op, "out stats", 2 * d.N)
    cdef void *px = _ptr(x)
    cdef const int64_t *pt = <const int64_t*>_ptr(t)
    cdef void *pw = _ptr(w) if w is not None else NULL
    cdef void *pl = _ptr(loss)
    cdef void *pq = _ptr(wt)
    cdef void *ps = _ptr(stats)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_xent_index_fwd_f32(&d, <const float*>px, pt, <const float*>pw, <float*>pl,
                                        <float*>pq, <float*>ps, n_threads)
        else:
            st = fnn_xent_index_fwd_f64(&d, <const double*>px, pt, <const double*>pw,
                                        <double*>pl, <double*>pq, <double*>ps, n_threads)
    _check_status(st, op)
    return loss


def xent_index_bwd(x, t, w, stats, g, double scale, gx, int64_t ignore_index=-100,
                   double label_smoothing=0.0, int n_threads=1):
    """gx (N, C): the gradient of xent_index_fwd's per-row losses times
    g (N, or None for ones) times scale."""
    cdef str op = "cross_entropy_backward"
    cdef int kind = _kind(x, op, "input")
    cdef fnn_xent_desc d
    _xent_desc(&d, op, x, kind, w, label_smoothing, ignore_index)
    _check_index(t, op, "target", d.N)
    _same(stats, kind, op, "stats", 2 * d.N)
    _same(gx, kind, op, "out gx", d.N * d.C)
    cdef void *pg = NULL
    if g is not None:
        _same(g, kind, op, "g", d.N)
        pg = _ptr(g)
    cdef void *px = _ptr(x)
    cdef const int64_t *pt = <const int64_t*>_ptr(t)
    cdef void *pw = _ptr(w) if w is not None else NULL
    cdef void *ps = _ptr(stats)
    cdef void *po = _ptr(gx)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_xent_index_bwd_f32(&d, <const float*>px, pt, <const float*>pw,
                                        <const float*>ps, <const float*>pg, <float>scale,
                                        <float*>po, n_threads)
        else:
            st = fnn_xent_index_bwd_f64(&d, <const double*>px, pt, <const double*>pw,
                                        <const double*>ps, <const double*>pg, scale,
                                        <double*>po, n_threads)
    _check_status(st, op)
    return gx


def xent_prob_fwd(x, y, w, loss, stats, double label_smoothing=0.0, int n_threads=1):
    """Per-row cross-entropy of logits x (N, C) and probability targets y
    (N, C) with class weights w (C, or None) and label smoothing."""
    cdef str op = "cross_entropy"
    cdef int kind = _kind(x, op, "input")
    cdef fnn_xent_desc d
    _xent_desc(&d, op, x, kind, w, label_smoothing, -100)
    _same(y, kind, op, "target", d.N * d.C)
    _same(loss, kind, op, "out loss", d.N)
    _same(stats, kind, op, "out stats", 2 * d.N)
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    cdef void *pw = _ptr(w) if w is not None else NULL
    cdef void *pl = _ptr(loss)
    cdef void *ps = _ptr(stats)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_xent_prob_fwd_f32(&d, <const float*>px, <const float*>py,
                                       <const float*>pw, <float*>pl, <float*>ps, n_threads)
        else:
            st = fnn_xent_prob_fwd_f64(&d, <const double*>px, <const double*>py,
                                       <const double*>pw, <double*>pl, <double*>ps, n_threads)
    _check_status(st, op)
    return loss


def xent_prob_bwd(x, y, w, stats, g, double scale, gx, double label_smoothing=0.0,
                  int n_threads=1):
    """gx (N, C): the gradient of xent_prob_fwd's per-row losses times g (N,
    or None for ones) times scale."""
    cdef str op = "cross_entropy_backward"
    cdef int kind = _kind(x, op, "input")
    cdef fnn_xent_desc d
    _xent_desc(&d, op, x, kind, w, label_smoothing, -100)
    _same(y, kind, op, "target", d.N * d.C)
    _same(stats, kind, op, "stats", 2 * d.N)
    _same(gx, kind, op, "out gx", d.N * d.C)
    cdef void *pg = NULL
    if g is not None:
        _same(g, kind, op, "g", d.N)
        pg = _ptr(g)
    cdef void *px = _ptr(x)
    cdef void *py = _ptr(y)
    cdef void *pw = _ptr(w) if w is not None else NULL
    cdef void *ps = _ptr(stats)
    cdef void *po = _ptr(gx)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_xent_prob_bwd_f32(&d, <const float*>px, <const float*>py,
                                       <const float*>pw, <const float*>ps, <const float*>pg,
                                       <float>scale, <float*>po, n_threads)
        else:
            st = fnn_xent_prob_bwd_f64(&d, <const double*>px, <const double*>py,
                                       <const double*>pw, <const double*>ps,
                                       <const double*>pg, scale, <double*>po, n_threads)
    _check_status(st, op)
    return gx
