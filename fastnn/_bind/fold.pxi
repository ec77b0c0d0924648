# _bind/fold.pxi -- binding for fnn_fold_fwd (csrc/im2col.h): F.fold and
# the input gradient of F.unfold.

cdef extern from "im2col.h":
    ctypedef struct fnn_im2col_geom:
        int64_t C, H, W, R, S, sh, sw, ph, pw, dh, dw, OH, OW
    void fnn_fold_fwd_f32(const fnn_im2col_geom *g, int64_t N, const float *col, float *out,
                          int n_threads) nogil
    void fnn_fold_fwd_f64(const fnn_im2col_geom *g, int64_t N, const double *col, double *out,
                          int n_threads) nogil


def fold_fwd(col, out, tuple kernel, tuple dilation, tuple padding, tuple stride,
             int n_threads=1):
    """out (N, C, H, W), overwritten, = the scatter-add of the sliding blocks
    col (N, C*kh*kw, L) (L = OH*OW, the block grid of out's geometry)."""
    cdef str op = "fold"
    cdef int kind = _kind(col, op, "input")
    _same(out, kind, op, "output", -1)
    if col.ndim != 3 or out.ndim != 4 or col.shape[0] != out.shape[0]:
        raise ValueError(f"{op}: expected col (N, C*kh*kw, L) and out (N, C, H, W), got "
                         f"{col.shape} and {out.shape}")
    cdef fnn_im2col_geom g
    g.C = out.shape[1]
    g.H = out.shape[2]
    g.W = out.shape[3]
    g.R, g.S = kernel
    g.dh, g.dw = dilation
    g.ph, g.pw = padding
    g.sh, g.sw = stride
    if g.R < 1 or g.S < 1 or g.dh < 1 or g.dw < 1 or g.sh < 1 or g.sw < 1 or g.ph < 0 or g.pw < 0:
        raise ValueError(f"{op}: bad geometry kernel={kernel} dilation={dilation} "
                         f"padding={padding} stride={stride}")
    g.OH = (g.H + 2 * g.ph - g.dh * (g.R - 1) - 1) // g.sh + 1
    g.OW = (g.W + 2 * g.pw - g.dw * (g.S - 1) - 1) // g.sw + 1
    if g.OH < 1 or g.OW < 1 or col.shape[1] != g.C * g.R * g.S or col.shape[2] != g.OH * g.OW:
        raise ValueError(f"{op}: col {col.shape} does not match the block grid "
                         f"({g.OH} x {g.OW}) of out {out.shape}")
    cdef int64_t N = out.shape[0]
    cdef void *pc = _ptr(col)
    cdef void *po = _ptr(out)
    with nogil:
        if kind == 0:
            fnn_fold_fwd_f32(&g, N, <const float*>pc, <float*>po, n_threads)
        else:
            fnn_fold_fwd_f64(&g, N, <const double*>pc, <double*>po, n_threads)
    return out
