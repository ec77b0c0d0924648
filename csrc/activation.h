/* activation.h -- leaky ReLU (relu/sigmoid/tanh live in elementwise.h).
 *
 *   fwd: y = x > 0 ? x : slope * x          (NaN propagates)
 *   bwd: gx = x > 0 ? gy : slope * gy       (PyTorch's convention at x = 0)
 *
 * x, y, gy, gx: n contiguous elements; y may alias x (in-place use).
 */
#ifndef FNN_ACTIVATION_H
#define FNN_ACTIVATION_H
#include "fnn_common.h"

int fnn_leaky_relu_fwd_f32(int64_t n, const float *x, float *y, float slope, int n_threads);
int fnn_leaky_relu_fwd_f64(int64_t n, const double *x, double *y, double slope, int n_threads);
int fnn_leaky_relu_bwd_f32(int64_t n, const float *x, const float *gy, float *gx, float slope,
                           int n_threads);
int fnn_leaky_relu_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                           double slope, int n_threads);
#endif
