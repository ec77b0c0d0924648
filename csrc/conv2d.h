/* conv2d.h -- 2-D convolution (cross-correlation, as PyTorch's conv2d),
 * forward and backward, float and double.
 *
 *   y[n][k][oh][ow] = b[k] + sum_{c,r,s} w[k][c][r][s]
 *                             * x[n][c][oh*sh - ph + r][ow*sw - pw + s]
 *
 * x (N, C, H, W), w (K, C, R, S), b (K) or NULL, y (N, K, OH, OW) with
 * OH = (H + 2*ph - R) / sh + 1 and OW = (W + 2*pw - S) / sw + 1.
 *
 * Method: per image, im2col into a column matrix col (C*R*S, OH*OW) (see
 * im2col.h) and y[n] = w (K, C*R*S) @ col through fnn_gemm.  A 1x1, stride 1,
 * unpadded convolution skips the unfold: the image itself is col.  Columns
 * are never built for more than one image per thread.
 *
 * Threads: with N >= n_threads the images are shared out (static schedule),
 * each thread unfolding into its own column buffer and running a
 * single-threaded gemm; with fewer images than threads, images run one after
 * the other and the threads go to the unfold and to fnn_gemm.
 *
 * Backward (overwrites its outputs; any of dx, dw, db may be NULL):
 *   dx[n] = col2im(w^T @ dy[n])            (scatter-add, no atomics)
 *   dw    = sum_n dy[n] (K, OH*OW) @ col[n]^T
 *   db[k] = sum_{n,oh,ow} dy[n][k][oh][ow]
 * dw and db are summed per thread into private partials, which are then
 * added in thread order: bitwise repeatable at a fixed thread count.  The
 * forward and dx do not depend on the thread count at all.
 */
#ifndef FNN_CONV2D_H
#define FNN_CONV2D_H
#include "fnn_common.h"

typedef struct {
    int64_t N, C, H, W;     /* input */
    int64_t K, R, S;        /* weight (K, C, R, S) */
    int64_t sh, sw, ph, pw; /* stride, zero padding */
    int64_t OH, OW;         /* output, filled by fnn_conv2d_init */
} fnn_conv2d_desc;

/* Fills d and validates it: sizes >= 1 (N >= 0), stride >= 1, padding >= 0
 * and a kernel no larger than the padded input.  FNN_OK or FNN_EINVAL. */
int fnn_conv2d_init(fnn_conv2d_desc *d, int64_t N, int64_t C, int64_t H,
                    int64_t W, int64_t K, int64_t R, int64_t S, int64_t sh,
                    int64_t sw, int64_t ph, int64_t pw);

/* Elements of scratch that fwd and bwd need at this thread count (the same
 * n_threads must be passed to them). */
int64_t fnn_conv2d_workspace_len_f32(const fnn_conv2d_desc *d, int n_threads);
int64_t fnn_conv2d_workspace_len_f64(const fnn_conv2d_desc *d, int n_threads);

int fnn_conv2d_fwd_f32(const fnn_conv2d_desc *d,
                       const float *x,   /* (N, C, H, W) */
                       const float *w,   /* (K, C, R, S) */
                       const float *b,   /* (K) or NULL */
                       float *y,         /* (N, K, OH, OW) out */
                       float *ws, int n_threads);
int fnn_conv2d_fwd_f64(const fnn_conv2d_desc *d, const double *x,
                       const double *w, const double *b, double *y,
                       double *ws, int n_threads);

int fnn_conv2d_bwd_f32(const fnn_conv2d_desc *d,
                       const float *x,   /* (N, C, H, W) */
                       const float *w,   /* (K, C, R, S) */
                       const float *dy,  /* (N, K, OH, OW) */
                       float *dx,        /* (N, C, H, W) out, or NULL */
                       float *dw,        /* (K, C, R, S) out, or NULL */
                       float *db,        /* (K) out, or NULL */
                       float *ws, int n_threads);
int fnn_conv2d_bwd_f64(const fnn_conv2d_desc *d, const double *x,
                       const double *w, const double *dy, double *dx,
                       double *dw, double *db, double *ws, int n_threads);

#endif
