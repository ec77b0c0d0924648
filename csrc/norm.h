/* norm.h -- layer normalisation and group normalisation, forward and
 * backward, float and double.
 *
 * Both normalise contiguous rows: layer norm the M rows of D elements of x
 * viewed as (M, D); group norm the N*G rows of (C/G)*HW elements of x
 * (N, C, HW) (group g of sample n: channels [g*C/G, (g+1)*C/G)).  Per row:
 *   mean = sum(x) / L,  var = sum((x - mean)^2) / L  (two passes, in double),
 *   rstd = 1 / sqrt(var + eps),  xhat = (x - mean) * rstd,
 *   y = xhat * gamma + beta      (layer norm: gamma, beta (D,) per element;
 *                                 group norm: (C,) per channel; NULL: 1, 0)
 * The forward saves mean and rstd per row (M, or N*G) for the backward:
 *   dxhat = gy * gamma,  dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
 *   dgamma = sum over rows of gy * xhat,  dbeta = sum over rows of gy
 * written as dx = gy * gamma * rstd + x * c2 + c3 per row (PyTorch's form),
 * with the row sums in double.  The parameter gradients are summed over
 * fixed row blocks (layer norm) or per (n, c) (group norm) into the double
 * workspace ws and then in a fixed order: the same bits at any thread count.
 * gx, dgamma, dbeta may each be NULL (not wanted).
 */
#ifndef FNN_NORM_H
#define FNN_NORM_H
#include "fnn_common.h"

/* ws of the backward, in doubles */
int64_t fnn_layer_norm_workspace_len(int64_t M, int64_t D);
int64_t fnn_group_norm_workspace_len(int64_t N, int64_t C);

int fnn_layer_norm_fwd_f32(int64_t M, int64_t D,
                           const float *x,      /* (M, D) */
                           const float *gamma,  /* (D,) or NULL */
                           const float *beta,   /* (D,) or NULL */
                           double eps,
                           float *y,            /* (M, D) out */
                           float *mean,         /* (M,) out */
                           float *rstd,         /* (M,) out */
                           int n_threads);
int fnn_layer_norm_fwd_f64(int64_t M, int64_t D, const double *x, const double *gamma,
                           const double *beta, double eps, double *y, double *mean,
                           double *rstd, int n_threads);
int fnn_layer_norm_bwd_f32(int64_t M, int64_t D,
                           const float *x,      /* (M, D) */
                           const float *gy,     /* (M, D) */
                           const float *mean,   /* (M,) */
                           const float *rstd,   /* (M,) */
                           const float *gamma,  /* (D,) or NULL */
                           float *gx,           /* (M, D) out, or NULL */
                           float *dgamma,       /* (D,) out, or NULL */
                           float *dbeta,        /* (D,) out, or NULL */
                           double *ws,          /* fnn_layer_norm_workspace_len */
                           int n_threads);
int fnn_layer_norm_bwd_f64(int64_t M, int64_t D, const double *x, const double *gy,
                           const double *mean, const double *rstd, const double *gamma,
                           double *gx, double *dgamma, double *dbeta, double *ws,
                           int n_threads);

int fnn_group_norm_fwd_f32(int64_t N, int64_t C, int64_t HW, int64_t G,
                           const float *x,      /* (N, C, HW) */
                           const float *gamma,  /* (C,) or NULL */
                           const float *beta,   /* (C,) or NULL */
                           double eps,
                           float *y,            /* (N, C, HW) out */
                           float *mean,         /* (N, G) out */
                           float *rstd,         /* (N, G) out */
                           int n_threads);
int fnn_group_norm_fwd_f64(int64_t N, int64_t C, int64_t HW, int64_t G, const double *x,
                           const double *gamma, const double *beta, double eps, double *y,
                           double *mean, double *rstd, int n_threads);
int fnn_group_norm_bwd_f32(int64_t N, int64_t C, int64_t HW, int64_t G,
                           const float *x,      /* (N, C, HW) */
                           const float *gy,     /* (N, C, HW) */
                           const float *mean,   /* (N, G) */
                           const float *rstd,   /* (N, G) */
                           const float *gamma,  /* (C,) or NULL */
                           float *gx,           /* (N, C, HW) out, or NULL */
                           float *dgamma,       /* (C,) out, or NULL */
                           float *dbeta,        /* (C,) out, or NULL */
                           double *ws,          /* fnn_group_norm_workspace_len */
                           int n_threads);
int fnn_group_norm_bwd_f64(int64_t N, int64_t C, int64_t HW, int64_t G, const double *x,
                           const double *gy, const double *mean, const double *rstd,
                           const double *gamma, double *gx, double *dgamma, double *dbeta,
                           double *ws, int n_threads);
#endif
