/* conv2d.h -- 2-D convolution (cross-correlation, as PyTorch's conv2d),
 * forward and backward, float and double, with stride, zero padding,
 * dilation and groups.
 *
 *   y[n][k][oh][ow] = b[k] + sum_{c', r, s} w[k][c'][r][s]
 *                     * x[n][g*Cg + c'][oh*sh - ph + r*dh][ow*sw - pw + s*dw]
 *
 * with G groups, Cg = C/G input and Kg = K/G output channels per group and
 * g = k / Kg the group of output channel k.  x (N, C, H, W), w (K, Cg, R,
 * S), b (K) or NULL, y (N, K, OH, OW) with
 *   OH = (H + 2*ph - dh*(R-1) - 1) / sh + 1   (OW likewise).
 *
 * Methods (all chosen inside the C driver, one parallel region a pass):
 *  - implicit GEMM on the micro-kernels of fnn_gemm (the path in force,
 *    gemm.h), no column matrix (conv_igemm.inc).  Per group g:
 *      y[n][g] (Kg x OH*OW) = w[g] (Kg x Cg*R*S) @ im2col(x[n][g]) (Cg*R*S x OH*OW),
 *    the groups a channel offset inside the one driver (work items are
 *    (image, group, column block)).  The weights are packed once per call
 *    into the micro-kernel's A panels; the B rows are read in place from a
 *    zero-padded copy of the group's planes through a table of row offsets
 *    when stride_w == 1 and OW is a multiple of the micro-kernel's width,
 *    else packed straight from the image.  The bias goes into each C tile
 *    before its first k block.
 *  - Winograd F(2x2, 3x3) (winograd.h) for 3 x 3, stride-1, undilated
 *    passes with at least 16 channels in and out per group (forward,
 *    backward data, weight gradient) when the descriptor's winograd field
 *    is set.
 *  - direct depthwise kernels (dwconv2d.h) when every group has one input
 *    channel (G == C; K = m*C, channel multiplier m), memory-bound.
 *
 * Backward (overwrites its outputs; any of dx, dw, db may be NULL):
 *   dx = for stride 1 and ph <= dh*(R-1), pw <= dw*(S-1): the stride-1
 *        convolution of dy with w flipped in space and transposed per group
 *        to (C, Kg, R, S), padding dh*(R-1) - ph, dw*(S-1) - pw, the same
 *        dilation (the same implicit GEMM / Winograd as the forward);
 *        otherwise per image and group col2im(w[g]^T @ dy[n][g])
 *        (scatter-add, no atomics)
 *   dw = per group, sum_n dy[n][g] (Kg, OH*OW) @ im2col(x[n][g])^T, one
 *        implicit GEMM over the batch (conv_wgrad.inc)
 *   db[k] = sum_{n,oh,ow} dy[n][k][oh][ow]
 * The input gradient alone, plus a bias per input channel, is the
 * transposed convolution's forward (fnn_conv2d_bwd_data_*).
 *
 * Threads: every output element is computed in the same order whatever
 * the thread count (no partial sums that depend on it), so all results are
 * bitwise identical across thread counts.  Workspace: the packed weights
 * plus, per thread, one padded image or one packed block (never the batch).
 */
#ifndef FNN_CONV2D_H
#define FNN_CONV2D_H
#include "fnn_common.h"

typedef struct {
    int64_t N, C, H, W;     /* input (N, C, H, W) */
    int64_t K, R, S;        /* weight (K, C/G, R, S) */
    int64_t sh, sw;         /* stride */
    int64_t ph, pw;         /* zero padding on both sides */
    int64_t dil_h, dil_w;   /* dilation (1: a dense kernel) */
    int64_t G;              /* groups; C and K are multiples of G */
    int winograd;           /* 1: Winograd F(2x2, 3x3) where it applies */
    int64_t OH, OW;         /* output, filled by fnn_conv2d_init */
} fnn_conv2d_desc;

/* Validates the sizes set in d and fills d->OH, d->OW: N >= 0, every other
 * size >= 1, stride >= 1, padding >= 0, dilation >= 1, G >= 1 dividing C
 * and K, and a dilated kernel no larger than the padded input.
 * FNN_OK, or FNN_EINVAL (OH = OW = 0). */
int fnn_conv2d_init(fnn_conv2d_desc *d);

/* The method each pass of d runs on (the float32 kernels of the kernel
 * path in force): pass 0 the forward, 1 the input gradient, 2 the weight
 * gradient.  For tests,
 * benchmarks and `_core.conv2d_algorithm`; 2 the weight gradient.
 * FNN_EINVAL for an invalid d or pass. */
enum {
    FNN_CONV_ALGO_DEPTHWISE = 1,   /* the direct depthwise kernels */
    FNN_CONV_ALGO_WINOGRAD = 2,    /* Winograd F(2x2, 3x3) */
    FNN_CONV_ALGO_DIRECT = 3,      /* implicit GEMM, B rows read in place */
    FNN_CONV_ALGO_WIDE = 4,        /* the same over the padded width */
    FNN_CONV_ALGO_PACKED = 5,      /* implicit GEMM, B packed per block */
    FNN_CONV_ALGO_COL2IM = 6,      /* input gradient: GEMM then col2im */
    FNN_CONV_ALGO_DOT = 7,         /* weight gradient: dot products (few columns) */
    FNN_CONV_ALGO_S2D = 8,         /* stride 2, even kernel: stride 1 on space-to-depth */
    FNN_CONV_ALGO_XI = 9,          /* implicit GEMM, B packed across images (small outputs) */
    FNN_CONV_ALGO_DEPTHWISE_CL = 10, /* depthwise, channels-last tiles (strided, small planes) */
    FNN_CONV_ALGO_ROWS = 11,        /* channels in the vectors, pixel rows broadcast (conv_rows.inc) */
    FNN_CONV_ALGO_GEMM = 12,        /* one output pixel a window: the GEMM, images as rows */
    FNN_CONV_ALGO_TAPS = 13         /* weight gradient: a product a tap over its pixels in the image */
};
int fnn_conv2d_algorithm(const fnn_conv2d_desc *d, int pass);

/* The weight gradient by taps (FNN_CONV_ALGO_TAPS) on (1, the default) or
 * off (0: the packed or row path takes those shapes; for tests of theirs);
 * returns the previous setting, and only reports it for on < 0.  Process
 * wide: not to be switched while a convolution runs. */
int fnn_conv2d_set_taps(int on);

/* Elements of scratch that every entry point below needs for d at this
 * thread count (the same n_threads must be passed to them). */
int64_t fnn_conv2d_workspace_len_f32(const fnn_conv2d_desc *d, int n_threads);
int64_t fnn_conv2d_workspace_len_f64(const fnn_conv2d_desc *d, int n_threads);
/* ... of the forward entry points alone (fnn_conv2d_fwd, _relu_fwd) */
int64_t fnn_conv2d_fwd_workspace_len_f32(const fnn_conv2d_desc *d, int n_threads);
int64_t fnn_conv2d_fwd_workspace_len_f64(const fnn_conv2d_desc *d, int n_threads);

int fnn_conv2d_fwd_f32(const fnn_conv2d_desc *d,
                       const float *x,   /* (N, C, H, W) */
                       const float *w,   /* (K, C/G, R, S) */
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

/* y = conv2d(x, w) + b, then per output channel k the affine map
 * v * sc[k] + sh[k] (sc, sh: K each, or both NULL; an eval-mode batch
 * norm's, batchnorm.h: sc = gamma / sqrt(var + eps), sh = beta - mean *
 * sc), then the ReLU (relu), then (pool) 2 x 2 / stride 2 max pooling,
 * y (N, K, OH / 2, OW / 2).  Bitwise the layers in turn
 * (fnn_conv2d_fwd, fnn_batchnorm[_relu]_fwd_eval, fnn_relu_fwd,
 * fnn_max_pool2d_fwd): each step in the convolution's epilogue where its
 * method has one (else the map and ReLU in one pass over y), the
 * activations between them never written.  pool only where
 * fnn_conv2d_fused_pool_ok (Winograd's 2 x 2 output tiles are the
 * windows), else FNN_EINVAL.  Workspace as fnn_conv2d_fwd. */
int fnn_conv2d_fused_fwd_f32(const fnn_conv2d_desc *d, const float *x, const float *w,
                             const float *b, const float *sc, const float *sh, int relu,
                             int pool, float *y, float *ws, int n_threads);
int fnn_conv2d_fused_fwd_f64(const fnn_conv2d_desc *d, const double *x, const double *w,
                             const double *b, const double *sc, const double *sh, int relu,
                             int pool, double *y, double *ws, int n_threads);
int fnn_conv2d_fused_pool_ok_f32(const fnn_conv2d_desc *d);
int fnn_conv2d_fused_pool_ok_f64(const fnn_conv2d_desc *d);

int fnn_conv2d_bwd_f32(const fnn_conv2d_desc *d,
                       const float *x,   /* (N, C, H, W) */
                       const float *w,   /* (K, C/G, R, S) */
                       const float *dy,  /* (N, K, OH, OW) */
                       float *dx,        /* (N, C, H, W) out, or NULL */
                       float *dw,        /* (K, C/G, R, S) out, or NULL */
                       float *db,        /* (K) out, or NULL */
                       float *ws, int n_threads);
int fnn_conv2d_bwd_f64(const fnn_conv2d_desc *d, const double *x,
                       const double *w, const double *dy, double *dx,
                       double *dw, double *db, double *ws, int n_threads);

/* The input gradient alone, plus a bias per input channel:
 *   dx[n][c] = b[c] + (gradient of conv2d with respect to x, for dy)[n][c]
 * -- the forward of the transposed convolution (PyTorch's
 * conv_transpose2d with weight w as (in = K, out/G = C/G, R, S)).  b: (C)
 * or NULL.  Same workspace as the other entry points. */
int fnn_conv2d_bwd_data_f32(const fnn_conv2d_desc *d,
                            const float *w,   /* (K, C/G, R, S) */
                            const float *dy,  /* (N, K, OH, OW) */
                            const float *b,   /* (C) or NULL */
                            float *dx,        /* (N, C, H, W) out */
                            float *ws, int n_threads);
int fnn_conv2d_bwd_data_f64(const fnn_conv2d_desc *d, const double *w,
                            const double *dy, const double *b, double *dx,
                            double *ws, int n_threads);

/* db[k] = sum over n and the P pixels of t[n][k] (N, K, P): a bias
 * gradient (the transposed convolution's, over its output).  Summed in
 * double, 8 lanes (pixel mod 8), images in order, channels shared out:
 * the same result at every thread count.  No workspace. */
int fnn_conv2d_bwd_bias_f32(int64_t N, int64_t K, int64_t P, const float *t,
                            float *db, int n_threads);
int fnn_conv2d_bwd_bias_f64(int64_t N, int64_t K, int64_t P, const double *t,
                            double *db, int n_threads);

#endif
