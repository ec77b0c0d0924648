# _bind/ctc.pxi -- bindings for csrc/ctc.c (the CTC loss, forward and backward).

cdef extern from "ctc.h":
    ctypedef struct fnn_ctc_desc:
        int64_t steps, batch, classes, blank, n_targets, S, row
    int fnn_ctc_init(fnn_ctc_desc *d, int64_t T, int64_t N, int64_t C, int64_t blank,
                     int64_t n_targets, const int64_t *targets, const int64_t *offsets,
                     const int64_t *il, const int64_t *tl)
    int64_t fnn_ctc_alpha_len(const fnn_ctc_desc *d)
    int64_t fnn_ctc_workspace_len(const fnn_ctc_desc *d)
    int fnn_ctc_fwd_f32(const fnn_ctc_desc *d, const float *lp, float *nll, float *alpha,
                        float *ws, int nt) nogil
    int fnn_ctc_fwd_f64(const fnn_ctc_desc *d, const double *lp, double *nll, double *alpha,
                        double *ws, int nt) nogil
    int fnn_ctc_bwd_f32(const fnn_ctc_desc *d, const float *lp, const float *nll,
                        const float *alpha, const float *g, int zero_infinity, float *gx,
                        float *ws, int nt) nogil
    int fnn_ctc_bwd_f64(const fnn_ctc_desc *d, const double *lp, const double *nll,
                        const double *alpha, const double *g, int zero_infinity, double *gx,
                        double *ws, int nt) nogil


cdef int _ctc_desc(fnn_ctc_desc *d, str op, lp, targets, offsets, il, tl,
                   int64_t blank) except -1:
    """Fills the descriptor from log_probs (T, N, C) and the int64 targets,
    offsets (N), input and target lengths (N); the C side checks lengths,
    offsets, blank and labels."""
    if lp.ndim != 3:
        raise ValueError(f"{op}: log_probs must be 3-D (T, N, C), got shape {lp.shape}")
    cdef int64_t T = lp.shape[0], N = lp.shape[1], C = lp.shape[2]
    _check_index(targets, op, "targets")
    _check_index(offsets, op, "offsets", N)
    _check_index(il, op, "input_lengths", N)
    _check_index(tl, op, "target_lengths", N)
    cdef int st = fnn_ctc_init(d, T, N, C, blank, _size(targets),
                               <const int64_t*>_ptr(targets), <const int64_t*>_ptr(offsets),
                               <const int64_t*>_ptr(il), <const int64_t*>_ptr(tl))
    if st == FNN_EINDEX:
        raise IndexError(f"{op}: a target label is outside [0, {C})")
    if st != FNN_OK:
        raise ValueError(f"{op}: invalid blank ({blank} for {C} classes), lengths or offsets "
                         f"(input lengths must be in [0, {T}], each target inside targets)")
    return 0


def ctc_fwd(lp, targets, offsets, il, tl, int64_t blank, int n_threads=1):
    """CTC negative log-likelihood of each sample: log_probs lp (T, N, C),
    sample b's labels targets[offsets[b] : offsets[b] + tl[b]] (int64), input
    lengths il (N).  Returns (nll (N,), alpha) with alpha the (N, T, R)
    log-alphas the backward takes (R: csrc/ctc.h)."""
    cdef str op = "ctc_loss"
    cdef int kind = _kind(lp, op, "log_probs")
    cdef fnn_ctc_desc d
    _ctc_desc(&d, op, lp, targets, offsets, il, tl, blank)
    cdef object dt = lp.dtype
    nll = np.empty(d.batch, dtype=dt)
    alpha = np.empty((d.batch, d.steps, d.row), dtype=dt)
    cdef int64_t nws = fnn_ctc_workspace_len(&d)
    ws = _ws_take("ctc", kind, nws)
    cdef void *pl = _ptr(lp)
    cdef void *pn = _ptr(nll)
    cdef void *pa = _ptr(alpha)
    cdef void *pw = _ptr(ws)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_ctc_fwd_f32(&d, <const float*>pl, <float*>pn, <float*>pa, <float*>pw,
                                 n_threads)
        else:
            st = fnn_ctc_fwd_f64(&d, <const double*>pl, <double*>pn, <double*>pa,
                                 <double*>pw, n_threads)
    _ws_give("ctc", kind, ws)
    _check_status(st, op)
    return nll, alpha


def ctc_bwd(lp, targets, offsets, il, tl, int64_t blank, nll, alpha, g, bint zero_infinity,
            int n_threads=1):
    """Gradient (T, N, C) of sum_b g[b] * nll[b] with respect to log_probs,
    from ctc_fwd's nll and alpha (same arguments); with zero_infinity the
    samples whose nll is +inf get zeros."""
    cdef str op = "ctc_loss_backward"
    cdef int kind = _kind(lp, op, "log_probs")
    cdef fnn_ctc_desc d
    _ctc_desc(&d, op, lp, targets, offsets, il, tl, blank)
    _same(nll, kind, op, "nll", d.batch)
    _same(alpha, kind, op, "alpha", fnn_ctc_alpha_len(&d))
    _same(g, kind, op, "g", d.batch)
    gx = np.empty_like(lp)
    cdef int64_t nws = fnn_ctc_workspace_len(&d)
    ws = _ws_take("ctc", kind, nws)
    cdef void *pl = _ptr(lp)
    cdef void *pn = _ptr(nll)
    cdef void *pa = _ptr(alpha)
    cdef void *pg = _ptr(g)
    cdef void *po = _ptr(gx)
    cdef void *pw = _ptr(ws)
    cdef int zi = zero_infinity
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_ctc_bwd_f32(&d, <const float*>pl, <const float*>pn, <const float*>pa,
                                 <const float*>pg, zi, <float*>po, <float*>pw, n_threads)
        else:
            st = fnn_ctc_bwd_f64(&d, <const double*>pl, <const double*>pn, <const double*>pa,
                                 <const double*>pg, zi, <double*>po, <double*>pw, n_threads)
    _ws_give("ctc", kind, ws)
    _check_status(st, op)
    return gx
