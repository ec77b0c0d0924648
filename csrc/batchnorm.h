/* batchnorm.h -- batch normalisation over (N, C, HW) (HW = H*W; 1 for 2-D
 * (N, C) input), forward (training and eval) and backward.
 *
 * Training forward, per channel c over the M = N*HW values x[n, c, :]:
 *   mean_c = sum x / M,  var_c = sum (x - mean_c)^2 / M  (biased, two-pass),
 *   invstd_c = 1 / sqrt(var_c + eps),
 *   y = x * a_c + b_c with a_c = gamma_c * invstd_c, b_c = beta_c - mean_c * a_c.
 * mean, var and invstd are written out: the caller updates its running
 * statistics from mean and var, and the backward needs mean and invstd.
 * Eval forward uses running_mean / running_var instead and writes invstd.
 *
 * Backward (training), with xhat = (x - mean) * invstd:
 *   dbeta_c  = sum gy,  dgamma_c = sum gy * xhat,
 *   dx = gamma * invstd / M * (M * gy - dbeta - xhat * dgamma).
 * Backward (eval: statistics are constants): dx = gy * gamma * invstd.
 * gamma / beta may be NULL (no affine: 1 and 0).  gx may be NULL (not needed).
 *
 * Fused with a following ReLU (fnn_batchnorm_relu_*): the forward writes
 * relu(y) (NaN passed through) in the normalisation pass; the backward
 * takes that output and masks gy by out > 0 on the fly, then runs the batch
 * norm backward.  Results are bitwise those of batch norm followed by
 * fnn_relu_fwd / fnn_relu_bwd (same operations in the same order).
 *
 * Each channel is reduced and written by one thread, its sums accumulated in
 * a fixed order (16 lanes in T over blocks of 512, block sums in double), so
 * results are bitwise identical for every thread count.  Per channel the
 * statistics and normalisation passes run back to back, so a channel
 * (N*HW values) is read from memory once and re-read from cache.
 */
#ifndef FNN_BATCHNORM_H
#define FNN_BATCHNORM_H
#include "fnn_common.h"

typedef struct {
    int64_t N, C, HW;
    double eps;
} fnn_batchnorm_desc;

/* FNN_OK, or FNN_EINVAL for negative sizes or eps < 0 */
int fnn_batchnorm_init(fnn_batchnorm_desc *d, int64_t N, int64_t C, int64_t HW, double eps);

/* x, y: (N, C, HW); gamma, beta: (C) or NULL; mean, var, invstd: (C) outputs */
int fnn_batchnorm_fwd_train_f32(const fnn_batchnorm_desc *d, const float *x,
                                const float *gamma, const float *beta, float *y,
                                float *mean, float *var, float *invstd, int n_threads);
int fnn_batchnorm_fwd_train_f64(const fnn_batchnorm_desc *d, const double *x,
                                const double *gamma, const double *beta, double *y,
                                double *mean, double *var, double *invstd, int n_threads);

/* running_mean, running_var: (C); invstd: (C) output */
int fnn_batchnorm_fwd_eval_f32(const fnn_batchnorm_desc *d, const float *x,
                               const float *running_mean, const float *running_var,
                               const float *gamma, const float *beta, float *y,
                               float *invstd, int n_threads);
int fnn_batchnorm_fwd_eval_f64(const fnn_batchnorm_desc *d, const double *x,
                               const double *running_mean, const double *running_var,
                               const double *gamma, const double *beta, double *y,
                               double *invstd, int n_threads);

/* x, gy, gx: (N, C, HW); mean, invstd, gamma, dgamma, dbeta: (C) */
int fnn_batchnorm_bwd_f32(const fnn_batchnorm_desc *d, const float *x, const float *gy,
                          const float *mean, const float *invstd, const float *gamma,
                          int training, float *gx, float *dgamma, float *dbeta,
                          int n_threads);
int fnn_batchnorm_bwd_f64(const fnn_batchnorm_desc *d, const double *x, const double *gy,
                          const double *mean, const double *invstd, const double *gamma,
                          int training, double *gx, double *dgamma, double *dbeta,
                          int n_threads);

/* Batch norm + ReLU: the arguments of the three above */
int fnn_batchnorm_relu_fwd_train_f32(const fnn_batchnorm_desc *d, const float *x,
                                     const float *gamma, const float *beta, float *y,
                                     float *mean, float *var, float *invstd, int n_threads);
int fnn_batchnorm_relu_fwd_train_f64(const fnn_batchnorm_desc *d, const double *x,
                                     const double *gamma, const double *beta, double *y,
                                     double *mean, double *var, double *invstd,
                                     int n_threads);
int fnn_batchnorm_relu_fwd_eval_f32(const fnn_batchnorm_desc *d, const float *x,
                                    const float *running_mean, const float *running_var,
                                    const float *gamma, const float *beta, float *y,
                                    float *invstd, int n_threads);
int fnn_batchnorm_relu_fwd_eval_f64(const fnn_batchnorm_desc *d, const double *x,
                                    const double *running_mean, const double *running_var,
                                    const double *gamma, const double *beta, double *y,
                                    double *invstd, int n_threads);

/* The eval batch norm as a per-channel affine map y = x * sc + sh, the
 * scale and shift fnn_batchnorm[_relu]_fwd_eval compute (sc = gamma /
 * sqrt(var + eps), sh = beta - mean * sc; gamma, beta may be NULL): for the
 * ops that apply it themselves (the inference programs' fused convolution
 * epilogue and folding), so their values are the layer's. */
void fnn_batchnorm_eval_affine_f32(int64_t C, const float *mean, const float *var,
                                   const float *gamma, const float *beta, double eps,
                                   float *sc, float *sh);
void fnn_batchnorm_eval_affine_f64(int64_t C, const double *mean, const double *var,
                                   const double *gamma, const double *beta, double eps,
                                   double *sc, double *sh);
/* y: the fused forward's output (N, C, HW), for the ReLU mask */
int fnn_batchnorm_relu_bwd_f32(const fnn_batchnorm_desc *d, const float *x, const float *y,
                               const float *gy, const float *mean, const float *invstd,
                               const float *gamma, int training, float *gx, float *dgamma,
                               float *dbeta, int n_threads);
int fnn_batchnorm_relu_bwd_f64(const fnn_batchnorm_desc *d, const double *x,
                               const double *y, const double *gy, const double *mean,
                               const double *invstd, const double *gamma, int training,
                               double *gx, double *dgamma, double *dbeta, int n_threads);

/* The running statistics after a training forward, in place (either may be
 * NULL), in T as PyTorch and NumPy compute them:
 *   rm = rm * (T)(1 - momentum) + (T)momentum * mean
 *   rv = rv * (T)(1 - momentum) + (T)(momentum * (var * unbias))  (in double)
 * each product and sum rounded to T (no fused multiply-add); unbias is the
 * variance's M / (M - 1).  mean, var, running_mean, running_var: (C).
 * FNN_EINVAL for C < 0. */
int fnn_batchnorm_update_running_f32(int64_t C, const float *mean, const float *var,
                                     double momentum, double unbias, float *running_mean,
                                     float *running_var);
int fnn_batchnorm_update_running_f64(int64_t C, const double *mean, const double *var,
                                     double momentum, double unbias, double *running_mean,
                                     double *running_var);
#endif
