/* im2col.h -- fold a column matrix back onto an image (col2im).
 *
 * For one image x (C, H, W), a kernel R x S, stride (sh, sw), zero padding
 * (ph, pw) and dilation (dh, dw), the column matrix has C*R*S rows and
 * OH*OW columns:
 *
 *   col[(c*R + r)*S + s][oh*OW + ow] = x[c][oh*sh - ph + r*dh][ow*sw - pw + s*dw]
 *                                      (0 where that falls in the padding)
 *
 * so that conv(x) = W (K, C*R*S) @ col.  col2im is the adjoint: it
 * scatter-adds every entry of a column matrix back onto the pixel it was
 * read from (dx = col2im(W^T @ dY)), the convolution's input-gradient
 * fallback for strided passes.  It works on the channel range [c0, c1) so
 * a caller can split one image over threads (channels write disjoint rows
 * and planes).  Serial; OpenMP is the caller's business, except in
 * fnn_fold_fwd (a batch of images, F.fold / the input gradient of F.unfold).
 */
#ifndef FNN_IM2COL_H
#define FNN_IM2COL_H
#include "fnn_common.h"

typedef struct {
    int64_t C, H, W;        /* image */
    int64_t R, S;           /* kernel */
    int64_t sh, sw, ph, pw; /* stride, zero padding */
    int64_t dh, dw;         /* dilation */
    int64_t OH, OW;         /* output size */
} fnn_im2col_geom;

/* col: (C*R*S, OH*OW); dx: (C, H, W), planes [c0, c1) overwritten with
 * bias[c] (0 when bias is NULL) plus the scatter-add of col. */
void fnn_col2im_f32(const fnn_im2col_geom *g, const float *RESTRICT col,
                    const float *bias, float *RESTRICT dx, int64_t c0, int64_t c1);
void fnn_col2im_f64(const fnn_im2col_geom *g, const double *RESTRICT col,
                    const double *bias, double *RESTRICT dx, int64_t c0, int64_t c1);

/* The same with col's rows ld elements apart (ld >= OH*OW: the columns of
 * one image among several side by side). */
void fnn_col2im_ld_f32(const fnn_im2col_geom *g, const float *RESTRICT col, int64_t ld,
                       const float *bias, float *RESTRICT dx, int64_t c0, int64_t c1);
void fnn_col2im_ld_f64(const fnn_im2col_geom *g, const double *RESTRICT col, int64_t ld,
                       const double *bias, double *RESTRICT dx, int64_t c0, int64_t c1);

/* PyTorch's fold (batched col2im): col (N, C*R*S, OH*OW) -> out (N, C, H,
 * W), overwritten.  The N*C output planes are shared out over threads (each
 * plane written by one thread, so the result does not depend on the count). */
void fnn_fold_fwd_f32(const fnn_im2col_geom *g, int64_t N, const float *RESTRICT col,
                      float *RESTRICT out, int n_threads);
void fnn_fold_fwd_f64(const fnn_im2col_geom *g, int64_t N, const double *RESTRICT col,
                      double *RESTRICT out, int n_threads);

#endif
