# _bind/attention.pxi -- bindings for csrc/attention.c (scaled dot-product
# attention over strided heads, softmax fused with the scaling and the mask).

cdef extern from "attention.h":
    ctypedef struct fnn_attn_desc:
        int64_t nb, hq, hkv, L, S, E, Ev
        int64_t q_sb, q_sh, q_ld, k_sb, k_sh, k_ld, v_sb, v_sh, v_ld, o_sb, o_sh, o_ld
        double scale
        int causal, safe_softmax
        int64_t m_ld
        double p_drop
        uint64_t seed, stream
    int fnn_attn_check(const fnn_attn_desc *d)
    int64_t fnn_attn_workspace_len_f32(const fnn_attn_desc *d, int n_threads)
    int64_t fnn_attn_workspace_len_f64(const fnn_attn_desc *d, int n_threads)
    int fnn_attn_fwd_f32(const fnn_attn_desc *d, const float *q, const float *k, const float *v,
                         const float *mask, const int64_t *mask_off, float *o, float *p,
                         float *pw, float *ws, int n_threads) nogil
    int fnn_attn_fwd_f64(const fnn_attn_desc *d, const double *q, const double *k,
                         const double *v, const double *mask, const int64_t *mask_off,
                         double *o, double *p, double *pw, double *ws, int n_threads) nogil
    int fnn_attn_bwd_f32(const fnn_attn_desc *d, const float *q, const float *k, const float *v,
                         const float *p, const float *dout, const float *dpw, float *dq,
                         float *dk, float *dv, float *dmask, float *ws, int n_threads) nogil
    int fnn_attn_bwd_f64(const fnn_attn_desc *d, const double *q, const double *k,
                         const double *v, const double *p, const double *dout,
                         const double *dpw, double *dq, double *dk, double *dv, double *dmask,
                         double *ws, int n_threads) nogil


cdef int64_t _attn_view(object a, tuple st, int64_t nb, int64_t heads, int64_t rows,
                        int64_t width, int kind, str op, str name) except -1:
    """Checks that the strided heads st = (offset, sb, sh, ld) of a lie inside
    it; returns the offset."""
    _same(a, kind, op, name)
    cdef int64_t off = st[0], sb = st[1], sh = st[2], ld = st[3]
    if off < 0 or sb < 0 or sh < 0 or ld < width:
        raise ValueError(f"{op}: invalid strides {st} for {name}")
    cdef int64_t last = off + (nb - 1) * sb + (heads - 1) * sh + (rows - 1) * ld + width
    if nb > 0 and last > _size(a):
        raise ValueError(f"{op}: the heads of {name} run past its {_size(a)} elements")
    return off


cdef int _attn_desc(fnn_attn_desc *d, dict g) except -1:
    d.nb = g["nb"]; d.hq = g["hq"]; d.hkv = g["hkv"]
    d.L = g["L"]; d.S = g["S"]; d.E = g["E"]; d.Ev = g["Ev"]
    d.q_sb, d.q_sh, d.q_ld = g["q"][1:]
    d.k_sb, d.k_sh, d.k_ld = g["k"][1:]
    d.v_sb, d.v_sh, d.v_ld = g["v"][1:]
    d.o_sb, d.o_sh, d.o_ld = g["o"][1:]
    d.scale = g["scale"]
    d.causal = g["causal"]
    d.safe_softmax = g["safe"]
    d.m_ld = g.get("m_ld", 0)
    d.p_drop = g.get("p", 0.0)
    d.seed = g.get("seed", 0)
    d.stream = g.get("stream", 0)
    if fnn_attn_check(d) != FNN_OK:
        raise ValueError(f"attention: invalid geometry {g}")
    return 0


cdef inline char *_at(object a, int64_t off, int kind):
    return <char*>_ptr(a) + off * (4 if kind == 0 else 8)


def attn_fwd(q, k, v, o, dict geo, mask=None, mask_off=None, p=None, pw=None,
             int n_threads=1):
    """Attention forward over strided heads (see csrc/attention.h).  geo holds
    nb, hq, hkv, L, S, E, Ev, scale, causal, safe, (m_ld, p, seed, stream) and
    for each of q, k, v, o the tuple (offset, batch stride, head stride, row
    stride) in elements.  p, pw: (nb*hq, L, S) outputs or None."""
    cdef str op = "scaled_dot_product_attention"
    cdef int kind = _kind(q, op, "query")
    cdef fnn_attn_desc d
    _attn_desc(&d, geo)
    cdef int64_t oq = _attn_view(q, geo["q"], d.nb, d.hq, d.L, d.E, kind, op, "query")
    cdef int64_t ok = _attn_view(k, geo["k"], d.nb, d.hkv, d.S, d.E, kind, op, "key")
    cdef int64_t ov = _attn_view(v, geo["v"], d.nb, d.hkv, d.S, d.Ev, kind, op, "value")
    cdef int64_t oo = _attn_view(o, geo["o"], d.nb, d.hq, d.L, d.Ev, kind, op, "out")
    cdef int64_t nps = d.nb * d.hq * d.L * d.S
    cdef void *pm = NULL
    cdef const int64_t *pmo = NULL
    if mask is not None:
        _same(mask, kind, op, "attn_mask")
        _check_index(mask_off, op, "mask_off", d.nb * d.hq)
        if d.nb * d.hq and (mask_off.min() < 0 or mask_off.max() + (d.L - 1) * d.m_ld + d.S
                            > _size(mask)):
            raise ValueError(f"{op}: mask offsets out of range")
        pm = _ptr(mask)
        pmo = <const int64_t*>_ptr(mask_off)
    cdef void *pp = _opt(p, kind, op, "out p", nps)
    cdef void *ppw = _opt(pw, kind, op, "out pw", nps)
    cdef int64_t wl = (fnn_attn_workspace_len_f32(&d, n_threads) if kind == 0
                       else fnn_attn_workspace_len_f64(&d, n_threads))
    ws = _ws_take("attention", kind, wl)
    cdef void *pws = _ptr(ws)
    cdef char *xq = _at(q, oq, kind)
    cdef char *xk = _at(k, ok, kind)
    cdef char *xv = _at(v, ov, kind)
    cdef char *xo = _at(o, oo, kind)
    cdef int st
    try:
        with nogil:
            if kind == 0:
                st = fnn_attn_fwd_f32(&d, <const float*>xq, <const float*>xk, <const float*>xv,
                                      <const float*>pm, pmo, <float*>xo, <float*>pp,
                                      <float*>ppw, <float*>pws, n_threads)
            else:
                st = fnn_attn_fwd_f64(&d, <const double*>xq, <const double*>xk,
                                      <const double*>xv, <const double*>pm, pmo, <double*>xo,
                                      <double*>pp, <double*>ppw, <double*>pws, n_threads)
    finally:
        _ws_give("attention", kind, ws)
    _check_status(st, op)
    return o


def attn_bwd(q, k, v, p, dout, dict geo, dpw=None, dq=None, dk=None, dv=None, dmask=None,
             int n_threads=1):
    """Attention backward: dq, dk, dv (laid out as q, k, v) and dmask
    ((nb*hq, L, S)), each None when not wanted, from the forward's
    probabilities p and the gradient of the output dout (laid out as o)."""
    cdef str op = "scaled_dot_product_attention_backward"
    cdef int kind = _kind(q, op, "query")
    cdef fnn_attn_desc d
    _attn_desc(&d, geo)
    cdef int64_t oq = _attn_view(q, geo["q"], d.nb, d.hq, d.L, d.E, kind, op, "query")
    cdef int64_t ok = _attn_view(k, geo["k"], d.nb, d.hkv, d.S, d.E, kind, op, "key")
    cdef int64_t ov = _attn_view(v, geo["v"], d.nb, d.hkv, d.S, d.Ev, kind, op, "value")
    cdef int64_t oo = _attn_view(dout, geo["o"], d.nb, d.hq, d.L, d.Ev, kind, op, "dout")
    cdef int64_t nps = d.nb * d.hq * d.L * d.S
    _same(p, kind, op, "p", nps)
    cdef void *pdpw = _opt(dpw, kind, op, "dpw", nps)
    cdef char *xdq = NULL
    cdef char *xdk = NULL
    cdef char *xdv = NULL
    if dq is not None:
        _attn_view(dq, geo["q"], d.nb, d.hq, d.L, d.E, kind, op, "out dq")
        xdq = _at(dq, oq, kind)
    if dk is not None:
        _attn_view(dk, geo["k"], d.nb, d.hkv, d.S, d.E, kind, op, "out dk")
        xdk = _at(dk, ok, kind)
    if dv is not None:
        _attn_view(dv, geo["v"], d.nb, d.hkv, d.S, d.Ev, kind, op, "out dv")
        xdv = _at(dv, ov, kind)
    cdef void *pdm = _opt(dmask, kind, op, "out dmask", nps)
    cdef int64_t wl = (fnn_attn_workspace_len_f32(&d, n_threads) if kind == 0
                       else fnn_attn_workspace_len_f64(&d, n_threads))
    ws = _ws_take("attention", kind, wl)
    cdef void *pws = _ptr(ws)
    cdef char *xq = _at(q, oq, kind)
    cdef char *xk = _at(k, ok, kind)
    cdef char *xv = _at(v, ov, kind)
    cdef char *xo = _at(dout, oo, kind)
    cdef void *pp = _ptr(p)
    cdef int st
    try:
        with nogil:
            if kind == 0:
                st = fnn_attn_bwd_f32(&d, <const float*>xq, <const float*>xk, <const float*>xv,
                                      <const float*>pp, <const float*>xo, <const float*>pdpw,
                                      <float*>xdq, <float*>xdk, <float*>xdv, <float*>pdm,
                                      <float*>pws, n_threads)
            else:
                st = fnn_attn_bwd_f64(&d, <const double*>xq, <const double*>xk,
                                      <const double*>xv, <const double*>pp,
                                      <const double*>xo, <const double*>pdpw, <double*>xdq,
                                      <double*>xdk, <double*>xdv, <double*>pdm, <double*>pws,
                                      n_threads)
    finally:
        _ws_give("attention", kind, ws)
    _check_status(st, op)
