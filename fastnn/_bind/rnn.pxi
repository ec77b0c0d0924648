# _bind/rnn.pxi -- bindings for csrc/rnn.c (one direction of one recurrent
# layer over a whole packed sequence, forward and backward through time).

cdef extern from "rnn.h":
    ctypedef struct fnn_rnn_desc:
        int mode, reverse
        int64_t steps, batch, n_in, hidden, proj, hout, gates, rows, ldy
        const int64_t *batch_sizes
    int fnn_rnn_init(fnn_rnn_desc *d, int mode, int reverse, int64_t T, int64_t n_in, int64_t H,
                     int64_t P, int64_t ldy, const int64_t *batch_sizes)
    int64_t fnn_rnn_saved_len(const fnn_rnn_desc *d)
    int64_t fnn_rnn_fwd_workspace_len_f32(const fnn_rnn_desc *d, int training, int n_threads)
    int64_t fnn_rnn_fwd_workspace_len_f64(const fnn_rnn_desc *d, int training, int n_threads)
    int64_t fnn_rnn_bwd_workspace_len_f32(const fnn_rnn_desc *d, int n_threads)
    int64_t fnn_rnn_bwd_workspace_len_f64(const fnn_rnn_desc *d, int n_threads)
    int fnn_rnn_fwd_f32(const fnn_rnn_desc *d, const float *x, const float *w_ih,
                        const float *w_hh, const float *b_ih, const float *b_hh,
                        const float *w_hr, const float *h0, const float *c0, float *y,
                        float *hn, float *cn, float *saved, float *ws, int n_threads) nogil
    int fnn_rnn_fwd_f64(const fnn_rnn_desc *d, const double *x, const double *w_ih,
                        const double *w_hh, const double *b_ih, const double *b_hh,
                        const double *w_hr, const double *h0, const double *c0, double *y,
                        double *hn, double *cn, double *saved, double *ws, int n_threads) nogil
    int fnn_rnn_bwd_f32(const fnn_rnn_desc *d, const float *x, const float *w_ih,
                        const float *w_hh, const float *w_hr, const float *saved,
                        const float *dy, const float *dhn, const float *dcn, float *dx,
                        int accumulate_dx, float *dw_ih, float *dw_hh, float *db_ih,
                        float *db_hh, float *dw_hr, float *dh0, float *dc0, float *ws,
                        int n_threads) nogil
    int fnn_rnn_bwd_f64(const fnn_rnn_desc *d, const double *x, const double *w_ih,
                        const double *w_hh, const double *w_hr, const double *saved,
                        const double *dy, const double *dhn, const double *dcn, double *dx,
                        int accumulate_dx, double *dw_ih, double *dw_hh, double *db_ih,
                        double *db_hh, double *dw_hr, double *dh0, double *dc0, double *ws,
                        int n_threads) nogil

RNN_MODES = {"RNN_TANH": 0, "RNN_RELU": 1, "LSTM": 2, "GRU": 3}
_RNN_GATES = (1, 1, 4, 3)


cdef int _rnn_desc(fnn_rnn_desc *d, int mode, bint reverse, object x, object w_ih, object w_hh,
                   object w_hr, object y, object batch_sizes, int kind, str op) except -1:
    """Fills d from the arrays and checks every size C relies on."""
    if not 0 <= mode <= 3:
        raise ValueError(f"{op}: unknown mode {mode}")
    _check_index(batch_sizes, op, "batch_sizes")
    _same(w_ih, kind, op, "w_ih")
    _same(w_hh, kind, op, "w_hh")
    if x.ndim != 2 or w_ih.ndim != 2 or w_hh.ndim != 2 or y.ndim != 2 or batch_sizes.ndim != 1:
        raise ValueError(f"{op}: x, w_ih, w_hh, y must be 2-D and batch_sizes 1-D")
    cdef int64_t G = w_hh.shape[0]
    cdef int64_t H = G // _RNN_GATES[mode]
    cdef int64_t P = 0
    if w_hr is not None:
        _same(w_hr, kind, op, "w_hr")
        if w_hr.ndim != 2 or w_hr.shape[1] != H:
            raise ValueError(f"{op}: w_hr must be (P, {H}), got {tuple(w_hr.shape)}")
        P = w_hr.shape[0]
    cdef int64_t HO = P if P else H
    if G != H * _RNN_GATES[mode] or w_hh.shape[1] != HO or w_ih.shape[0] != G \
            or w_ih.shape[1] != x.shape[1]:
        raise ValueError(f"{op}: weight shapes do not agree: w_ih {tuple(w_ih.shape)}, "
                         f"w_hh {tuple(w_hh.shape)}, x {tuple(x.shape)}")
    if fnn_rnn_init(d, mode, reverse, batch_sizes.shape[0], x.shape[1], H, P, y.shape[1],
                    <const int64_t*>_ptr(batch_sizes)) != FNN_OK:
        raise ValueError(f"{op}: invalid geometry (batch_sizes must be >= 1 and "
                         f"non-increasing; proj_size < hidden_size)")
    if x.shape[0] != d.rows or y.shape[0] != d.rows:
        raise ValueError(f"{op}: x and y must have {d.rows} rows (sum of batch_sizes), got "
                         f"{x.shape[0]} and {y.shape[0]}")
    return 0




def rnn_saved_len(int mode, int64_t n_in, int64_t H, int64_t P, batch_sizes):
    """Elements of the activations a training forward saves."""
    cdef fnn_rnn_desc d
    _check_index(batch_sizes, "rnn", "batch_sizes")
    if fnn_rnn_init(&d, mode, 0, batch_sizes.shape[0], n_in, H, P, P if P else H,
                    <const int64_t*>_ptr(batch_sizes)) != FNN_OK:
        raise ValueError("rnn: invalid geometry")
    return fnn_rnn_saved_len(&d)


def rnn_fwd(int mode, bint reverse, x, w_ih, w_hh, b_ih, b_hh, w_hr, h0, c0, y,
            int64_t ycol, hn, cn, saved, batch_sizes, int n_threads=1):
    """One direction of one layer over the packed sequence x (N, I).

    y (N, ldy): this direction writes columns [ycol, ycol + HO); hn (B, HO),
    cn (B, H) (LSTM) receive the final states; saved (training) receives the
    activations the backward needs (None: inference).  b_ih, b_hh, w_hr, h0,
    c0 may be None (no bias, no projection, zero states)."""
    cdef str op = "rnn"
    cdef int kind = _kind(x, op, "x")
    _same(y, kind, op, "out y")
    cdef fnn_rnn_desc d
    _rnn_desc(&d, mode, reverse, x, w_ih, w_hh, w_hr, y, batch_sizes, kind, op)
    if ycol < 0 or ycol + d.hout > d.ldy:
        raise ValueError(f"{op}: column offset {ycol} out of range")
    cdef void *pbi = _opt(b_ih, kind, op, "b_ih", d.gates)
    cdef void *pbh = _opt(b_hh, kind, op, "b_hh", d.gates)
    cdef void *ph0 = _opt(h0, kind, op, "h0", d.batch * d.hout)
    cdef void *pc0 = _opt(c0, kind, op, "c0", d.batch * d.hidden) if mode == 2 else NULL
    _same(hn, kind, op, "out hn", d.batch * d.hout)
    cdef void *pcn = _opt(cn, kind, op, "out cn", d.batch * d.hidden) if mode == 2 else NULL
    if mode == 2 and pcn == NULL:
        raise ValueError(f"{op}: an LSTM needs cn")
    cdef void *psv = _opt(saved, kind, op, "out saved", fnn_rnn_saved_len(&d))
    cdef void *pwr = _ptr(w_hr) if w_hr is not None else NULL
    cdef int training = psv != NULL
    cdef int64_t wl = (fnn_rnn_fwd_workspace_len_f32(&d, training, n_threads) if kind == 0
                       else fnn_rnn_fwd_workspace_len_f64(&d, training, n_threads))
    ws = _ws_take("rnn_fwd", kind, wl)
    cdef void *pw = _ptr(ws)
    cdef void *px = _ptr(x)
    cdef void *pwi = _ptr(w_ih)
    cdef void *pwh = _ptr(w_hh)
    cdef char *py = <char*>_ptr(y) + ycol * (4 if kind == 0 else 8)
    cdef void *phn = _ptr(hn)
    cdef int st
    try:
        with nogil:
            if kind == 0:
                st = fnn_rnn_fwd_f32(&d, <const float*>px, <const float*>pwi, <const float*>pwh,
                                     <const float*>pbi, <const float*>pbh, <const float*>pwr,
                                     <const float*>ph0, <const float*>pc0, <float*>py,
                                     <float*>phn, <float*>pcn, <float*>psv, <float*>pw,
                                     n_threads)
            else:
                st = fnn_rnn_fwd_f64(&d, <const double*>px, <const double*>pwi,
                                     <const double*>pwh, <const double*>pbi,
                                     <const double*>pbh, <const double*>pwr,
                                     <const double*>ph0, <const double*>pc0, <double*>py,
                                     <double*>phn, <double*>pcn, <double*>psv, <double*>pw,
                                     n_threads)
    finally:
        _ws_give("rnn_fwd", kind, ws)
    _check_status(st, op)
    return y


def rnn_bwd(int mode, bint reverse, x, w_ih, w_hh, w_hr, saved, dy, int64_t ycol, dhn, dcn,
            dx, bint accumulate_dx, dw_ih, dw_hh, db_ih, db_hh, dw_hr, dh0, dc0, batch_sizes,
            int n_threads=1):
    """Backward through time of rnn_fwd: from the saved activations and the
    gradients of y's columns [ycol, ycol + HO) (dy (N, ldy)), hn and cn
    (None: zeros), writes every output given (None: not computed); dx is
    added to when accumulate_dx."""
    cdef str op = "rnn_backward"
    cdef int kind = _kind(x, op, "x")
    _same(dy, kind, op, "dy")
    cdef fnn_rnn_desc d
    _rnn_desc(&d, mode, reverse, x, w_ih, w_hh, w_hr, dy, batch_sizes, kind, op)
    if ycol < 0 or ycol + d.hout > d.ldy:
        raise ValueError(f"{op}: column offset {ycol} out of range")
    _same(saved, kind, op, "saved", fnn_rnn_saved_len(&d))
    cdef void *pdhn = _opt(dhn, kind, op, "dhn", d.batch * d.hout)
    cdef void *pdcn = _opt(dcn, kind, op, "dcn", d.batch * d.hidden) if mode == 2 else NULL
    cdef void *pdx = _opt(dx, kind, op, "out dx", d.rows * d.n_in)
    cdef void *pdwi = _opt(dw_ih, kind, op, "out dw_ih", d.gates * d.n_in)
    cdef void *pdwh = _opt(dw_hh, kind, op, "out dw_hh", d.gates * d.hout)
    cdef void *pdbi = _opt(db_ih, kind, op, "out db_ih", d.gates)
    cdef void *pdbh = _opt(db_hh, kind, op, "out db_hh", d.gates)
    cdef void *pdwr = _opt(dw_hr, kind, op, "out dw_hr", d.proj * d.hidden) if d.proj else NULL
    cdef void *pdh0 = _opt(dh0, kind, op, "out dh0", d.batch * d.hout)
    cdef void *pdc0 = _opt(dc0, kind, op, "out dc0", d.batch * d.hidden) if mode == 2 else NULL
    cdef void *pwr = _ptr(w_hr) if w_hr is not None else NULL
    cdef int64_t wl = (fnn_rnn_bwd_workspace_len_f32(&d, n_threads) if kind == 0
                       else fnn_rnn_bwd_workspace_len_f64(&d, n_threads))
    ws = _ws_take("rnn_bwd", kind, wl)
    cdef void *pw = _ptr(ws)
    cdef void *px = _ptr(x)
    cdef void *pwi = _ptr(w_ih)
    cdef void *pwh = _ptr(w_hh)
    cdef void *psv = _ptr(saved)
    cdef char *pdy = <char*>_ptr(dy) + ycol * (4 if kind == 0 else 8)
    cdef int st
    try:
        with nogil:
            if kind == 0:
                st = fnn_rnn_bwd_f32(&d, <const float*>px, <const float*>pwi, <const float*>pwh,
                                     <const float*>pwr, <const float*>psv, <const float*>pdy,
                                     <const float*>pdhn, <const float*>pdcn, <float*>pdx,
                                     accumulate_dx, <float*>pdwi, <float*>pdwh, <float*>pdbi,
                                     <float*>pdbh, <float*>pdwr, <float*>pdh0, <float*>pdc0,
                                     <float*>pw, n_threads)
            else:
                st = fnn_rnn_bwd_f64(&d, <const double*>px, <const double*>pwi,
                                     <const double*>pwh, <const double*>pwr,
                                     <const double*>psv, <const double*>pdy,
                                     <const double*>pdhn, <const double*>pdcn, <double*>pdx,
                                     accumulate_dx, <double*>pdwi, <double*>pdwh,
                                     <double*>pdbi, <double*>pdbh, <double*>pdwr,
                                     <double*>pdh0, <double*>pdc0, <double*>pw, n_threads)
    finally:
        _ws_give("rnn_bwd", kind, ws)
    _check_status(st, op)
