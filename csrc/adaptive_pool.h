/* adaptive_pool.h -- adaptive average and max pooling over P = N*C planes,
 * forward and backward, float and double.
 *
 * x (P, H, W) -> y (P, OH, OW); output (oh, ow) pools the rows
 * [floor(oh*H/OH), ceil((oh+1)*H/OH)) and the columns likewise (PyTorch's
 * start/end index rule; windows may overlap when OH does not divide H).
 *   avg: y = sum(window) / its size (sum in double); backward spreads dy /
 *        size over the window (overlaps add up).  OH = OW = 1 (global
 *        average pooling) is one pass over each plane at memory speed.
 *   max: y = the largest value (a NaN wins, as max pooling), idx (P, OH, OW)
 *        its offset ih*W + iw in the plane; backward is
 *        fnn_max_pool2d_scatter (pool2d.h).
 * Backward kernels overwrite dx.
 */
#ifndef FNN_ADAPTIVE_POOL_H
#define FNN_ADAPTIVE_POOL_H
#include "fnn_common.h"

int fnn_adaptive_avg_pool2d_fwd_f32(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                    const float *x, float *y, int n_threads);
int fnn_adaptive_avg_pool2d_fwd_f64(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                    const double *x, double *y, int n_threads);
int fnn_adaptive_avg_pool2d_bwd_f32(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                    const float *dy, float *dx, int n_threads);
int fnn_adaptive_avg_pool2d_bwd_f64(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                    const double *dy, double *dx, int n_threads);
int fnn_adaptive_max_pool2d_fwd_f32(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                    const float *x, float *y, int64_t *idx, int n_threads);
int fnn_adaptive_max_pool2d_fwd_f64(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                    const double *x, double *y, int64_t *idx, int n_threads);
#endif
