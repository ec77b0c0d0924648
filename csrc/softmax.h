/* softmax.h -- softmax and log-softmax along one axis, forward and backward.
 *
 * The tensor is viewed as (outer, n, inner), contiguous: the reduced axis has
 * n elements at stride `inner`.  inner == 1 is the usual "last axis" case.
 *
 *   softmax:     y = exp(x - m) / s,   m = max_k x_k,  s = sum_k exp(x_k - m)
 *   log_softmax: y = x - m - log(s)
 *   softmax bwd:     gx = y * (gy - sum_k gy_k y_k)
 *   log_softmax bwd: gx = gy - exp(y) * sum_k gy_k
 *
 * Subtracting the row maximum keeps exp() from overflowing (logits of 1e4 are
 * fine).  A NaN anywhere in a line makes the whole line NaN, as in PyTorch.
 * Lines are independent and each is computed by one thread, so the result
 * does not depend on the thread count.
 */
#ifndef FNN_SOFTMAX_H
#define FNN_SOFTMAX_H
#include "fnn_common.h"

/* x, y: (outer, n, inner) */
int fnn_softmax_fwd_f32(int64_t outer, int64_t n, int64_t inner, const float *x, float *y,
                        int n_threads);
int fnn_softmax_fwd_f64(int64_t outer, int64_t n, int64_t inner, const double *x, double *y,
                        int n_threads);
int fnn_log_softmax_fwd_f32(int64_t outer, int64_t n, int64_t inner, const float *x,
                            float *y, int n_threads);
int fnn_log_softmax_fwd_f64(int64_t outer, int64_t n, int64_t inner, const double *x,
                            double *y, int n_threads);

/* y: the forward's output; y, gy, gx: (outer, n, inner) */
int fnn_softmax_bwd_f32(int64_t outer, int64_t n, int64_t inner, const float *y,
                        const float *gy, float *gx, int n_threads);
int fnn_softmax_bwd_f64(int64_t outer, int64_t n, int64_t inner, const double *y,
                        const double *gy, double *gx, int n_threads);
int fnn_log_softmax_bwd_f32(int64_t outer, int64_t n, int64_t inner, const float *y,
                            const float *gy, float *gx, int n_threads);
int fnn_log_softmax_bwd_f64(int64_t outer, int64_t n, int64_t inner, const double *y,
                            const double *gy, double *gx, int n_threads);
#endif
