# _bind/embedding.pxi -- bindings for csrc/embedding.c (lookup and bags).

cdef extern from "embedding.h":
    int fnn_embedding_check(int64_t n, const int64_t *idx, int64_t num)
    int fnn_embedding_fwd_f32(int64_t n, int64_t num, int64_t D, const int64_t *idx,
                              const float *w, float *y, int nt) nogil
    int fnn_embedding_fwd_f64(int64_t n, int64_t num, int64_t D, const int64_t *idx,
                              const double *w, double *y, int nt) nogil
    int fnn_embedding_bwd_f32(int64_t n, int64_t num, int64_t D, const int64_t *idx,
                              const float *dy, int64_t pad, const float *scale, float *dw,
                              int nt) nogil
    int fnn_embedding_bwd_f64(int64_t n, int64_t num, int64_t D, const int64_t *idx,
                              const double *dy, int64_t pad, const double *scale, double *dw,
                              int nt) nogil
    int fnn_embedding_bag_fwd_f32(int64_t n, int64_t nbags, int64_t num, int64_t D,
                                  const int64_t *idx, const int64_t *offsets, const float *psw,
                                  int mode, int64_t pad, const float *w, float *y,
                                  int64_t *argmax, int nt) nogil
    int fnn_embedding_bag_fwd_f64(int64_t n, int64_t nbags, int64_t num, int64_t D,
                                  const int64_t *idx, const int64_t *offsets, const double *psw,
                                  int mode, int64_t pad, const double *w, double *y,
                                  int64_t *argmax, int nt) nogil
    int fnn_embedding_bag_bwd_f32(int64_t n, int64_t nbags, int64_t num, int64_t D,
                                  const int64_t *idx, const int64_t *offsets, const float *psw,
                                  int mode, int64_t pad, const int64_t *argmax,
                                  const float *dy, float *dw, int nt) nogil
    int fnn_embedding_bag_bwd_f64(int64_t n, int64_t nbags, int64_t num, int64_t D,
                                  const int64_t *idx, const int64_t *offsets, const double *psw,
                                  int mode, int64_t pad, const int64_t *argmax,
                                  const double *dy, double *dw, int nt) nogil


cdef int _emb_table(object w, str op) except -1:
    cdef int kind = _kind(w, op, "weight")
    if w.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim)")
    return kind


def embedding_fwd(idx, w, y, int n_threads=1):
    """y[i] = w[idx[i]]: idx int64 (n,), w (num, D), y (n, D)."""
    cdef str op = "embedding"
    cdef int kind = _emb_table(w, op)
    _check_index(idx, op, "indices")
    cdef int64_t n = _size(idx), num = w.shape[0], D = w.shape[1]
    _same(y, kind, op, "out y", n * D)
    cdef const int64_t *pi = <const int64_t*>_ptr(idx)
    cdef void *pw = _ptr(w)
    cdef void *py = _ptr(y)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_embedding_fwd_f32(n, num, D, pi, <const float*>pw, <float*>py, n_threads)
        else:
            st = fnn_embedding_fwd_f64(n, num, D, pi, <const double*>pw, <double*>py, n_threads)
    if st == FNN_EINDEX:
        raise IndexError(f"{op}: index out of range in self (indices must be in [0, {num}))")
    _check_status(st, op)
    return y


def embedding_bwd(idx, dy, dw, int64_t padding_idx=-1, scale=None, int n_threads=1):
    """Dense gradient dw (num, D) of embedding_fwd; rows at padding_idx stay
    zero; scale (num,) multiplies each row's contributions (or None)."""
    cdef str op = "embedding_backward"
    cdef int kind = _emb_table(dw, op)
    _check_index(idx, op, "indices")
    cdef int64_t n = _size(idx), num = dw.shape[0], D = dw.shape[1]
    _same(dy, kind, op, "dy", n * D)
    cdef void *ps = NULL
    if scale is not None:
        _same(scale, kind, op, "scale", num)
        ps = _ptr(scale)
    cdef const int64_t *pi = <const int64_t*>_ptr(idx)
    cdef void *pg = _ptr(dy)
    cdef void *pw = _ptr(dw)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_embedding_bwd_f32(n, num, D, pi, <const float*>pg, padding_idx,
                                       <const float*>ps, <float*>pw, n_threads)
        else:
            st = fnn_embedding_bwd_f64(n, num, D, pi, <const double*>pg, padding_idx,
                                       <const double*>ps, <double*>pw, n_threads)
    if st == FNN_EINDEX:
        raise IndexError(f"{op}: index out of range in self")
    _check_status(st, op)
    return dw


cdef int _bag_args(object idx, object offsets, object psw, int kind, str op) except -1:
    _check_index(idx, op, "indices")
    _check_index(offsets, op, "offsets")
    if psw is not None:
        _same(psw, kind, op, "per_sample_weights", _size(idx))
    return 0


def embedding_bag_fwd(idx, offsets, w, psw, int mode, int64_t padding_idx, y, argmax,
                      int n_threads=1):
    """Bags: y[b] reduces w[idx[offsets[b]:offsets[b+1]]] (mode 0 sum, 1 mean,
    2 max with argmax (nbags, D) int64); offsets (nbags + 1,)."""
    cdef str op = "embedding_bag"
    cdef int kind = _emb_table(w, op)
    _bag_args(idx, offsets, psw, kind, op)
    cdef int64_t n = _size(idx), nb = _size(offsets) - 1, num = w.shape[0], D = w.shape[1]
    if nb < 0:
        raise ValueError(f"{op}: offsets must have at least one element")
    _same(y, kind, op, "out y", nb * D)
    cdef int64_t *pam = NULL
    if argmax is not None:
        _check_index(argmax, op, "out argmax", nb * D)
        pam = <int64_t*>_ptr(argmax)
    cdef const int64_t *pi = <const int64_t*>_ptr(idx)
    cdef const int64_t *po = <const int64_t*>_ptr(offsets)
    cdef void *pp = _ptr(psw) if psw is not None else NULL
    cdef void *pw = _ptr(w)
    cdef void *py = _ptr(y)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_embedding_bag_fwd_f32(n, nb, num, D, pi, po, <const float*>pp, mode,
                                           padding_idx, <const float*>pw, <float*>py, pam,
                                           n_threads)
        else:
            st = fnn_embedding_bag_fwd_f64(n, nb, num, D, pi, po, <const double*>pp, mode,
                                           padding_idx, <const double*>pw, <double*>py, pam,
                                           n_threads)
    if st == FNN_EINDEX:
        raise IndexError(f"{op}: index out of range in self (indices must be in [0, {num}))")
    _check_status(st, op)
    return y


def embedding_bag_bwd(idx, offsets, psw, int mode, int64_t padding_idx, argmax, dy, dw,
                      int n_threads=1):
    """Dense gradient dw (num, D) of embedding_bag_fwd."""
    cdef str op = "embedding_bag_backward"
    cdef int kind = _emb_table(dw, op)
    _bag_args(idx, offsets, psw, kind, op)
    cdef int64_t n = _size(idx), nb = _size(offsets) - 1, num = dw.shape[0], D = dw.shape[1]
    _same(dy, kind, op, "dy", nb * D)
    cdef const int64_t *pam = NULL
    if argmax is not None:
        _check_index(argmax, op, "argmax", nb * D)
        pam = <const int64_t*>_ptr(argmax)
    cdef const int64_t *pi = <const int64_t*>_ptr(idx)
    cdef const int64_t *po = <const int64_t*>_ptr(offsets)
    cdef void *pp = _ptr(psw) if psw is not None else NULL
    cdef void *pg = _ptr(dy)
    cdef void *pw = _ptr(dw)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_embedding_bag_bwd_f32(n, nb, num, D, pi, po, <const float*>pp, mode,
                                           padding_idx, pam, <const float*>pg, <float*>pw,
                                           n_threads)
        else:
            st = fnn_embedding_bag_bwd_f64(n, nb, num, D, pi, po, <const double*>pp, mode,
                                           padding_idx, pam, <const double*>pg, <double*>pw,
                                           n_threads)
    _check_status(st, op)
    return dw
