# _bind/dropout.pxi -- bindings for csrc/dropout.c (counter-based inverted dropout).

cdef extern from "dropout.h":
    int fnn_dropout_fwd_f32(int64_t n, const float *x, float *y, double p, uint64_t seed,
                            uint64_t stream, int nt) nogil
    int fnn_dropout_fwd_f64(int64_t n, const double *x, double *y, double p, uint64_t seed,
                            uint64_t stream, int nt) nogil
    int fnn_dropout_mask(int64_t n, unsigned char *mask, double p, uint64_t seed,
                         uint64_t stream, int nt) nogil


def dropout_fwd(x, out, double p, uint64_t seed, uint64_t stream, int n_threads=1):
    """out = x * keep / (1 - p), keep_i a pure function of (seed, stream, i).
    The backward is the same map applied to the upstream gradient."""
    cdef str op = "dropout"
    cdef int kind = _kind(x, op, "input")
    cdef int64_t n = _size(x)
    _same(out, kind, op, "out", n)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: probability has to be between 0 and 1, but got {p}")
    cdef void *px = _ptr(x)
    cdef void *po = _ptr(out)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_dropout_fwd_f32(n, <const float*>px, <float*>po, p, seed, stream, n_threads)
        else:
            st = fnn_dropout_fwd_f64(n, <const double*>px, <double*>po, p, seed, stream,
                                     n_threads)
    _check_status(st, op)
    return out


def dropout_mask(int64_t n, double p, uint64_t seed, uint64_t stream, int n_threads=1):
    """The keep mask (bool, n) that dropout_fwd uses for (seed, stream)."""
    if n < 0 or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout_mask: bad n={n} or p={p}")
    mask = np.empty(n, dtype=np.uint8)
    cdef void *pm = _ptr(mask)
    cdef int st
    with nogil:
        st = fnn_dropout_mask(n, <unsigned char*>pm, p, seed, stream, n_threads)
    _check_status(st, "dropout_mask")
    return mask.view(np.bool_)
