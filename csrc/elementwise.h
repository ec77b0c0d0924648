/* elementwise.h -- hot elementwise kernels and the full sum.
 * All arrays are contiguous with n elements; in and out may alias for the
 * forward activations (in-place use).  Backward kernels overwrite gx. */
#ifndef FNN_ELEMENTWISE_H
#define FNN_ELEMENTWISE_H
#include "fnn_common.h"

/* x, y: (n) */
int fnn_relu_fwd_f32(int64_t n, const float *x, float *y, int n_threads);
int fnn_relu_fwd_f64(int64_t n, const double *x, double *y, int n_threads);
int fnn_sigmoid_fwd_f32(int64_t n, const float *x, float *y, int n_threads);
int fnn_sigmoid_fwd_f64(int64_t n, const double *x, double *y, int n_threads);
int fnn_tanh_fwd_f32(int64_t n, const float *x, float *y, int n_threads);
int fnn_tanh_fwd_f64(int64_t n, const double *x, double *y, int n_threads);

/* x (relu: the forward input) or y (sigmoid, tanh: the forward output),
 * gy, gx: (n) */
int fnn_relu_bwd_f32(int64_t n, const float *x, const float *gy, float *gx, int n_threads);
int fnn_relu_bwd_f64(int64_t n, const double *x, const double *gy, double *gx, int n_threads);
int fnn_sigmoid_bwd_f32(int64_t n, const float *y, const float *gy, float *gx, int n_threads);
int fnn_sigmoid_bwd_f64(int64_t n, const double *y, const double *gy, double *gx,
                        int n_threads);
int fnn_tanh_bwd_f32(int64_t n, const float *y, const float *gy, float *gx, int n_threads);
int fnn_tanh_bwd_f64(int64_t n, const double *y, const double *gy, double *gx, int n_threads);

/* a, b, out: (n) */
int fnn_add_f32(int64_t n, const float *a, const float *b, float *out, int n_threads);
int fnn_add_f64(int64_t n, const double *a, const double *b, double *out, int n_threads);
int fnn_mul_f32(int64_t n, const float *a, const float *b, float *out, int n_threads);
int fnn_mul_f64(int64_t n, const double *a, const double *b, double *out, int n_threads);

/* y += alpha * x (gradient accumulation); x, y: (n) */
int fnn_axpy_f32(int64_t n, float alpha, const float *x, float *y, int n_threads);
int fnn_axpy_f64(int64_t n, double alpha, const double *x, double *y, int n_threads);

/* *out = the sum of x (n) in double */
int fnn_sum_f32(int64_t n, const float *x, double *out, int n_threads);
int fnn_sum_f64(int64_t n, const double *x, double *out, int n_threads);

#endif
