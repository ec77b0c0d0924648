/* conv2d.h -- 2-D convolution (cross-correlation, as PyTorch's conv2d),
 * forward and backward, float and double.
 *
 *   y[n][k][oh][ow] = b[k] + sum_{c,r,s} w[k][c][r][s]
 *                             * x[n][c][oh*sh - ph + r][ow*sw - pw + s]
 *
 * x (N, C, H, W), w (K, C, R, S), b (K) or NULL, y (N, K, OH, OW) with
 * OH = (H + 2*ph - R) / sh + 1 and OW = (W + 2*pw - S) / sw + 1.
 *
 * Method: implicit GEMM on the micro-kernels of fnn_gemm (the path in force,
 * gemm.h), no column matrix.  The forward is y[n] (K x OH*OW) = w (K x CRS)
 * @ im2col(x[n]) with w packed once per call into the micro-kernel's A
 * panels; the B rows are read in place from a zero-padded copy of the image
 * through a table of row offsets when stride_w == 1 and OW is a multiple of
 * the micro-kernel's width NR, and otherwise packed straight from the image,
 * one cache-sized block at a time.  The bias is written into each C tile
 * before its first k block (no extra pass over y).
 *
 * 3 x 3 stride-1 passes with at least 16 channels in and out (the forward,
 * the backward data, the weight gradient) run on Winograd F(2x2, 3x3)
 * instead (winograd.inc: 2.25 times fewer multiplies, the 16 products on
 * the same micro-kernels; fnn_conv2d_set_winograd turns it off).
 *
 * Backward (overwrites its outputs; any of dx, dw, db may be NULL):
 *   dx = for stride 1 and padding < kernel size: the stride-1 convolution of
 *        dy with w flipped in space and transposed to (C, K, R, S), padding
 *        (R-1-ph, S-1-pw), the same implicit GEMM as the forward; otherwise
 *        per image col2im(w^T @ dy[n]) (scatter-add, no atomics)
 *   dw = sum_n dy[n] (K, OH*OW) @ im2col(x[n])^T, one implicit GEMM over the
 *        batch (dy rows packed as A panels, the im2col columns packed from
 *        the padded image as B panels)
 *   db[k] = sum_{n,oh,ow} dy[n][k][oh][ow]
 *
 * Threads: one parallel region per pass.  The forward and dx share out
 * (image, column block) items dynamically; dw shares out its register tiles
 * (each thread walks the whole batch for its tiles) and db its channels.
 * Every output element is computed in the same order whatever the thread
 * count, so all results are bitwise identical across thread counts (the
 * col2im fallback of dx included).  Workspace: the packed weights plus, per
 * thread, one padded image or one packed block (never the batch).
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

/* Forward fused with a following ReLU: y = relu(conv2d(x, w) + b), the
 * ReLU applied to each output tile once it holds its full sum and bias
 * (while it is in cache), as fnn_relu_fwd does it (NaN passed through):
 * bitwise the two ops in sequence.  Same arguments and workspace as
 * fnn_conv2d_fwd_*.  The backward of the pair is fnn_conv2d_bwd_* of dy
 * masked by y > 0 (fnn_relu_bwd_* with y in place of the ReLU input). */
int fnn_conv2d_relu_fwd_f32(const fnn_conv2d_desc *d, const float *x,
                            const float *w, const float *b, float *y,
                            float *ws, int n_threads);
int fnn_conv2d_relu_fwd_f64(const fnn_conv2d_desc *d, const double *x,
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

/* Winograd F(2x2, 3x3) for the 3 x 3 stride-1 passes (forward, backward
 * data and the weight gradient) with at least 16 channels in and out and
 * an output of at least 2 x 2: on (1, the default)
 * or off (0: the implicit GEMM everywhere; for testing).  on < 0 only
 * queries.  Returns the previous setting. */
int fnn_conv2d_set_winograd(int on);

#endif
