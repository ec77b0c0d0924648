# _bind/resample.pxi -- bindings for csrc/resample.c (nearest / bilinear up-sampling).

cdef extern from "resample.h":
    ctypedef struct fnn_resample_desc:
        int64_t planes, ih, iw, oh, ow
    int fnn_upsample_bilinear_fwd_f32(const fnn_resample_desc *d, const float *x,
                                      const int64_t *y0, const int64_t *y1, const float *wy0,
                                      const float *wy1, const int64_t *x0, const int64_t *x1,
                                      const float *wx0, const float *wx1, float *out,
                                      int nt) nogil
    int fnn_upsample_bilinear_fwd_f64(const fnn_resample_desc *d, const double *x,
                                      const int64_t *y0, const int64_t *y1, const double *wy0,
                                      const double *wy1, const int64_t *x0, const int64_t *x1,
                                      const double *wx0, const double *wx1, double *out,
                                      int nt) nogil
    int fnn_upsample_bilinear_bwd_f32(const fnn_resample_desc *d, const float *g,
                                      const int64_t *y0, const int64_t *y1, const float *wy0,
                                      const float *wy1, const int64_t *x0, const int64_t *x1,
                                      const float *wx0, const float *wx1, float *gx,
                                      int nt) nogil
    int fnn_upsample_bilinear_bwd_f64(const fnn_resample_desc *d, const double *g,
                                      const int64_t *y0, const int64_t *y1, const double *wy0,
                                      const double *wy1, const int64_t *x0, const int64_t *x1,
                                      const double *wx0, const double *wx1, double *gx,
                                      int nt) nogil
    int fnn_upsample_nearest_fwd_f32(const fnn_resample_desc *d, const float *x,
                                     const int64_t *y0, const int64_t *x0, float *out,
                                     int nt) nogil
    int fnn_upsample_nearest_fwd_f64(const fnn_resample_desc *d, const double *x,
                                     const int64_t *y0, const int64_t *x0, double *out,
                                     int nt) nogil
    int fnn_upsample_nearest_bwd_f32(const fnn_resample_desc *d, const float *g,
                                     const int64_t *y0, const int64_t *x0, float *gx,
                                     int nt) nogil
    int fnn_upsample_nearest_bwd_f64(const fnn_resample_desc *d, const double *g,
                                     const int64_t *y0, const int64_t *x0, double *gx,
                                     int nt) nogil


cdef int _resample_desc(fnn_resample_desc *d, str op, src, int kind, dst, tuple tables,
                        bint linear) except -1:
    """Fills the descriptor from src (planes, ih, iw) and dst (planes, oh, ow)
    and checks the tables (y0, y1, wy0, wy1, x0, x1, wx0, wx1; the
    nearest kernels use y0 and x0 only)."""
    if src.ndim != 3 or dst.ndim != 3 or src.shape[0] != dst.shape[0]:
        raise ValueError(f"{op}: expected (planes, h, w) arrays with the same planes, got "
                         f"{src.shape} and {dst.shape}")
    d.planes = src.shape[0]
    d.ih = src.shape[1]
    d.iw = src.shape[2]
    d.oh = dst.shape[1]
    d.ow = dst.shape[2]
    if d.ih < 1 or d.iw < 1:
        raise ValueError(f"{op}: empty spatial input {src.shape}")
    y0, y1, wy0, wy1, x0, x1, wx0, wx1 = tables
    _check_index(y0, op, "y0", d.oh)
    _check_index(x0, op, "x0", d.ow)
    if linear:
        _check_index(y1, op, "y1", d.oh)
        _check_index(x1, op, "x1", d.ow)
        _same(wy0, kind, op, "wy0", d.oh)
        _same(wy1, kind, op, "wy1", d.oh)
        _same(wx0, kind, op, "wx0", d.ow)
        _same(wx1, kind, op, "wx1", d.ow)
    return 0


def upsample_bilinear_fwd(x, tables, out, int n_threads=1):
    """out (planes, oh, ow) from x (planes, ih, iw) with the row/column tables
    (y0, y1, wy0, wy1, x0, x1, wx0, wx1) (see csrc/resample.h)."""
    cdef str op = "interpolate"
    cdef int kind = _kind(x, op, "input")
    _same(out, kind, op, "out", -1)
    cdef fnn_resample_desc d
    _resample_desc(&d, op, x, kind, out, tables, True)
    y0, y1, wy0, wy1, x0, x1, wx0, wx1 = tables
    cdef const int64_t *py0 = <const int64_t*>_ptr(y0)
    cdef const int64_t *py1 = <const int64_t*>_ptr(y1)
    cdef const int64_t *px0 = <const int64_t*>_ptr(x0)
    cdef const int64_t *px1 = <const int64_t*>_ptr(x1)
    cdef void *a0 = _ptr(wy0)
    cdef void *a1 = _ptr(wy1)
    cdef void *b0 = _ptr(wx0)
    cdef void *b1 = _ptr(wx1)
    cdef void *px = _ptr(x)
    cdef void *po = _ptr(out)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_upsample_bilinear_fwd_f32(&d, <const float*>px, py0, py1, <const float*>a0,
                                               <const float*>a1, px0, px1, <const float*>b0,
                                               <const float*>b1, <float*>po, n_threads)
        else:
            st = fnn_upsample_bilinear_fwd_f64(&d, <const double*>px, py0, py1,
                                               <const double*>a0, <const double*>a1, px0, px1,
                                               <const double*>b0, <const double*>b1,
                                               <double*>po, n_threads)
    _check_status(st, op)
    return out


def upsample_bilinear_bwd(g, tables, gx, int n_threads=1):
    """gx (planes, ih, iw), overwritten: the bilinear forward's transpose applied to g."""
    cdef str op = "interpolate_backward"
    cdef int kind = _kind(g, op, "grad")
    _same(gx, kind, op, "out gx", -1)
    cdef fnn_resample_desc d
    _resample_desc(&d, op, gx, kind, g, tables, True)
    y0, y1, wy0, wy1, x0, x1, wx0, wx1 = tables
    cdef const int64_t *py0 = <const int64_t*>_ptr(y0)
    cdef const int64_t *py1 = <const int64_t*>_ptr(y1)
    cdef const int64_t *px0 = <const int64_t*>_ptr(x0)
    cdef const int64_t *px1 = <const int64_t*>_ptr(x1)
    cdef void *a0 = _ptr(wy0)
    cdef void *a1 = _ptr(wy1)
    cdef void *b0 = _ptr(wx0)
    cdef void *b1 = _ptr(wx1)
    cdef void *pg = _ptr(g)
    cdef void *po = _ptr(gx)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_upsample_bilinear_bwd_f32(&d, <const float*>pg, py0, py1, <const float*>a0,
                                               <const float*>a1, px0, px1, <const float*>b0,
                                               <const float*>b1, <float*>po, n_threads)
        else:
            st = fnn_upsample_bilinear_bwd_f64(&d, <const double*>pg, py0, py1,
                                               <const double*>a0, <const double*>a1, px0, px1,
                                               <const double*>b0, <const double*>b1,
                                               <double*>po, n_threads)
    _check_status(st, op)
    return gx


def upsample_nearest_fwd(x, y0, x0, out, int n_threads=1):
    """out[p, oy, ox] = x[p, y0[oy], x0[ox]]."""
    cdef str op = "interpolate"
    cdef int kind = _kind(x, op, "input")
    _same(out, kind, op, "out", -1)
    cdef fnn_resample_desc d
    _resample_desc(&d, op, x, kind, out, (y0, None, None, None, x0, None, None, None), False)
    cdef const int64_t *py0 = <const int64_t*>_ptr(y0)
    cdef const int64_t *px0 = <const int64_t*>_ptr(x0)
    cdef void *px = _ptr(x)
    cdef void *po = _ptr(out)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_upsample_nearest_fwd_f32(&d, <const float*>px, py0, px0, <float*>po,
                                              n_threads)
        else:
            st = fnn_upsample_nearest_fwd_f64(&d, <const double*>px, py0, px0, <double*>po,
                                              n_threads)
    _check_status(st, op)
    return out


def upsample_nearest_bwd(g, y0, x0, gx, int n_threads=1):
    """gx (overwritten) = the sum of g over the output pixels that copied each input pixel."""
    cdef str op = "interpolate_backward"
    cdef int kind = _kind(g, op, "grad")
    _same(gx, kind, op, "out gx", -1)
    cdef fnn_resample_desc d
    _resample_desc(&d, op, gx, kind, g, (y0, None, None, None, x0, None, None, None), False)
    cdef const int64_t *py0 = <const int64_t*>_ptr(y0)
    cdef const int64_t *px0 = <const int64_t*>_ptr(x0)
    cdef void *pg = _ptr(g)
    cdef void *po = _ptr(gx)
    cdef int st
    with nogil:
        if kind == 0:
            st = fnn_upsample_nearest_bwd_f32(&d, <const float*>pg, py0, px0, <float*>po,
                                              n_threads)
        else:
            st = fnn_upsample_nearest_bwd_f64(&d, <const double*>pg, py0, px0, <double*>po,
                                              n_threads)
    _check_status(st, op)
    return gx
