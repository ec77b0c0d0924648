/* pool2d.h -- 2-D max and average pooling, forward and backward, float and
 * double, and max unpooling.  Direct kernels (no im2col); OpenMP over the
 * N*C planes.
 *
 * x (N, C, H, W) -> y (N, C, OH, OW) with PyTorch's output size
 *   OH = (H + 2*ph - dh*(R-1) - 1 + (ceil_mode ? sh-1 : 0)) / sh + 1,
 *   less one when ceil_mode and the last window would start at or past
 *   H + ph (every window starts inside the image or its left padding);
 * OW likewise.  The window of output (oh, ow) holds the rows
 * oh*sh - ph + i*dh (i < R) and the columns likewise.  As PyTorch requires,
 * ph <= R/2 and pw <= S/2.
 *
 * max:  padding acts as -inf.  y = the largest value in the window; a NaN
 *       wins (the last NaN seen, in row-major order, as PyTorch's CPU kernel).
 *       idx (N, C, OH, OW) int64 saves the winner's offset ih*W + iw within
 *       its plane (idx may be NULL: values only, for inference); backward
 *       routes dy to that single pixel: dx[n][c].flat[idx] += dy.
 * avg:  (no dilation) y = sum(window ∩ image) / divisor, the divisor being
 *       divisor when > 0 (divisor_override), else the real pixels of the
 *       window when exclude_pad (count_include_pad=False), else PyTorch's
 *       pool_size = (min(hs+R, H+ph) - hs) * (min(ws+S, W+pw) - ws);
 *       backward spreads dy / divisor over the window.
 * unpool: y (N, C, OHW) zeroed, then y[n][c].flat[idx] = x (the inverse of
 *       max pooling's routing); backward gathers dx = dy[n][c].flat[idx].
 * Backward kernels overwrite dx.
 */
#ifndef FNN_POOL2D_H
#define FNN_POOL2D_H
#include "fnn_common.h"

/* Set the inputs with designated initialisers, then fnn_pool2d_init. */
typedef struct {
    int64_t N, C, H, W;     /* input */
    int64_t R, S;           /* window */
    int64_t sh, sw, ph, pw; /* stride, padding */
    int64_t dh, dw;         /* dilation (>= 1; average pooling: 1) */
    int ceil_mode;          /* round the output size up (PyTorch's rule) */
    int exclude_pad;        /* average: count only real pixels in the divisor */
    int64_t divisor;        /* average: > 0 replaces the divisor */
    int64_t OH, OW;         /* output, filled by fnn_pool2d_init */
} fnn_pool2d_desc;

/* Validates the inputs of d and fills OH, OW: sizes >= 1 (N, C >= 0),
 * stride and dilation >= 1, 0 <= padding <= window/2, divisor >= 0, output
 * at least 1x1, and every window holding an input pixel (only a dilation
 * larger than the input can break that).  FNN_OK or FNN_EINVAL. */
int fnn_pool2d_init(fnn_pool2d_desc *d);

int fnn_max_pool2d_fwd_f32(const fnn_pool2d_desc *d,
                           const float *x,  /* (N, C, H, W) */
                           float *y,        /* (N, C, OH, OW) out */
                           int64_t *idx,    /* (N, C, OH, OW) out */
                           int n_threads);
int fnn_max_pool2d_fwd_f64(const fnn_pool2d_desc *d, const double *x,
                           double *y, int64_t *idx, int n_threads);
/* FNN_EINDEX if an idx is outside [0, H*W) */
int fnn_max_pool2d_bwd_f32(const fnn_pool2d_desc *d,
                           const float *dy,     /* (N, C, OH, OW) */
                           const int64_t *idx,  /* (N, C, OH, OW) */
                           float *dx,           /* (N, C, H, W) out */
                           int n_threads);
int fnn_max_pool2d_bwd_f64(const fnn_pool2d_desc *d, const double *dy,
                           const int64_t *idx, double *dx, int n_threads);

int fnn_avg_pool2d_fwd_f32(const fnn_pool2d_desc *d,
                           const float *x,  /* (N, C, H, W) */
                           float *y,        /* (N, C, OH, OW) out */
                           int n_threads);
int fnn_avg_pool2d_fwd_f64(const fnn_pool2d_desc *d, const double *x,
                           double *y, int n_threads);
int fnn_avg_pool2d_bwd_f32(const fnn_pool2d_desc *d,
                           const float *dy,  /* (N, C, OH, OW) */
                           float *dx,        /* (N, C, H, W) out */
                           int n_threads);
int fnn_avg_pool2d_bwd_f64(const fnn_pool2d_desc *d, const double *dy,
                           double *dx, int n_threads);

/* The general max-pool backward on P planes: dx (P, HW) zeroed, then
 * dx[p][idx] += dy for every output (P, OHW) in order (also adaptive max
 * pooling's backward).  FNN_EINDEX if an idx is outside [0, HW). */
int fnn_max_pool2d_scatter_f32(int64_t P, int64_t HW, int64_t OHW, const float *dy,
                               const int64_t *idx, float *dx, int n_threads);
int fnn_max_pool2d_scatter_f64(int64_t P, int64_t HW, int64_t OHW, const double *dy,
                               const int64_t *idx, double *dx, int n_threads);

/* Max unpooling of P planes: x, idx (P, n_in) -> y (P, n_out); backward
 * dy (P, n_out) -> dx (P, n_in).  FNN_EINDEX if an idx is outside [0, n_out). */
int fnn_max_unpool2d_fwd_f32(int64_t P, int64_t n_in, int64_t n_out, const float *x,
                             const int64_t *idx, float *y, int n_threads);
int fnn_max_unpool2d_fwd_f64(int64_t P, int64_t n_in, int64_t n_out, const double *x,
                             const int64_t *idx, double *y, int n_threads);
int fnn_max_unpool2d_bwd_f32(int64_t P, int64_t n_in, int64_t n_out, const float *dy,
                             const int64_t *idx, float *dx, int n_threads);
int fnn_max_unpool2d_bwd_f64(int64_t P, int64_t n_in, int64_t n_out, const double *dy,
                             const int64_t *idx, double *dx, int n_threads);

/* 2 x 2 / stride 2 max pooling, values only, of OH row pairs (row 2i at
 * x + 2i*W, row 2i + 1 right after it) into y (OH x OW): the kernel
 * fnn_max_pool2d_fwd runs for such a window without indices (the
 * convolution's fused pooling calls it on its output tiles). */
void fnn_max_pool2x2_values_f32(const float *x, int64_t W, int64_t OH, int64_t OW, float *y);
void fnn_max_pool2x2_values_f64(const double *x, int64_t W, int64_t OH, int64_t OW, double *y);

#endif
