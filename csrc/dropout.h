/* dropout.h -- inverted dropout with a counter-based mask.
 *
 * Element i is kept when u_i >= p, where u_i in [0, 1) is the top 53 bits of
 * splitmix64 applied to key + (i + 1) * 0x9E3779B97F4A7C15, and
 * key = splitmix64(seed ^ splitmix64(stream)).  The mask is a pure function of
 * (seed, stream, i): it does not depend on the thread count or the dtype, and
 * the backward regenerates it instead of storing it.
 *
 *   fwd: y  = x  * (keep_i ? 1/(1-p) : 0)     (p == 1: every scale is 0)
 *   bwd: gx = gy * (keep_i ? 1/(1-p) : 0)     (the same map: fnn_dropout_fwd_*
 *                                              applied to gy)
 * A NaN input stays NaN even where dropped (x * 0), as in PyTorch.
 */
#ifndef FNN_DROPOUT_H
#define FNN_DROPOUT_H
#include "fnn_common.h"

/* x, y: (n); p in [0, 1] else FNN_EINVAL */
int fnn_dropout_fwd_f32(int64_t n, const float *x, float *y, double p, uint64_t seed,
                        uint64_t stream, int n_threads);
int fnn_dropout_fwd_f64(int64_t n, const double *x, double *y, double p, uint64_t seed,
                        uint64_t stream, int n_threads);
/* mask (n) of 0/1 bytes: 1 where kept (for tests and inspection) */
int fnn_dropout_mask(int64_t n, uint8_t *mask, double p, uint64_t seed, uint64_t stream,
                     int n_threads);
#endif
