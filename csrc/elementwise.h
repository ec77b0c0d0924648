/* elementwise.h -- hot elementwise kernels and the full sum.
 * All arrays are contiguous with n elements; in and out may alias for the
 * forward activations (in-place use).  Backward kernels overwrite gx. */
#ifndef FNN_ELEMENTWISE_H
#define FNN_ELEMENTWISE_H
#include "fnn_common.h"

#define FNN_DECL_EW(T, SFX)                                                        \
int fnn_relu_fwd_##SFX(int64_t n, const T *x, T *y, int n_threads);                \
int fnn_relu_bwd_##SFX(int64_t n, const T *x, const T *gy, T *gx, int n_threads);  \
int fnn_sigmoid_fwd_##SFX(int64_t n, const T *x, T *y, int n_threads);             \
int fnn_sigmoid_bwd_##SFX(int64_t n, const T *y, const T *gy, T *gx, int n_threads);\
int fnn_tanh_fwd_##SFX(int64_t n, const T *x, T *y, int n_threads);                \
int fnn_tanh_bwd_##SFX(int64_t n, const T *y, const T *gy, T *gx, int n_threads);  \
int fnn_add_##SFX(int64_t n, const T *a, const T *b, T *out, int n_threads);       \
int fnn_mul_##SFX(int64_t n, const T *a, const T *b, T *out, int n_threads);       \
int fnn_axpy_##SFX(int64_t n, T alpha, const T *x, T *y, int n_threads);           \
int fnn_sum_##SFX(int64_t n, const T *x, double *out, int n_threads);

FNN_DECL_EW(float, f32)
FNN_DECL_EW(double, f64)

#endif
