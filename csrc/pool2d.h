/* pool2d.h -- 2-D max and average pooling, forward and backward, float and
 * double.  Direct kernels (no im2col); OpenMP over the N*C planes.
 *
 * x (N, C, H, W) -> y (N, C, OH, OW), OH = (H + 2*ph - R) / sh + 1 (floor),
 * OW likewise; the window of output (oh, ow) starts at
 * (oh*sh - ph, ow*sw - pw).  As PyTorch requires, ph <= R/2 and pw <= S/2,
 * so every window holds at least one real pixel.
 *
 * max:  padding acts as -inf.  y = the largest value in the window; a NaN
 *       wins (the last NaN seen, in row-major order, as PyTorch's CPU kernel).
 *       idx (N, C, OH, OW) int64 saves the winner's offset ih*W + iw within
 *       its plane (idx may be NULL: values only, for inference); backward routes dy to that single pixel:
 *       dx[n][c].flat[idx] += dy.
 * avg:  zero padding is counted in the divisor (PyTorch's
 *       count_include_pad=True): y = sum(window ∩ image) / pool_size with
 *       pool_size = (min(hs+R, H+ph) - hs) * (min(ws+S, W+pw) - ws);
 *       backward spreads dy / pool_size over the window.
 * Backward kernels overwrite dx.
 */
#ifndef FNN_POOL2D_H
#define FNN_POOL2D_H
#include "fnn_common.h"

typedef struct {
    int64_t N, C, H, W;     /* input */
    int64_t R, S;           /* window */
    int64_t sh, sw, ph, pw; /* stride, padding */
    int64_t OH, OW;         /* output, filled by fnn_pool2d_init */
} fnn_pool2d_desc;

/* Fills and validates d: sizes >= 1 (N, C >= 0), stride >= 1,
 * 0 <= padding <= window/2, output at least 1x1.  FNN_OK or FNN_EINVAL. */
int fnn_pool2d_init(fnn_pool2d_desc *d, int64_t N, int64_t C, int64_t H,
                    int64_t W, int64_t R, int64_t S, int64_t sh, int64_t sw,
                    int64_t ph, int64_t pw);

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

#endif
