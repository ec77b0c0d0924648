/* activation.h -- element-wise activations beyond relu/sigmoid/tanh (those
 * live in elementwise.h), forward and backward, and PReLU.  Formulas as
 * PyTorch's (x the input, gy the output gradient, gx = gy * dy/dx):
 *
 *   leaky_relu  y = x > 0 ? x : slope*x        gx = x > 0 ? gy : slope*gy
 *   gelu        y = x * Phi(x) (Phi the normal CDF, exact erf form)
 *               gx = gy * (Phi(x) + x * phi(x))
 *   gelu_tanh   y = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3),
 *               computed as x sigmoid(2u) (no cancellation for x << 0)
 *   silu        y = x * sigmoid(x)             gx = gy * s (1 + x (1 - s))
 *   mish        y = x * tanh(softplus(x))
 *   elu         y = x > 0 ? b*x : b*a*expm1(c*x)   (a alpha, b scale,
 *               c input_scale: ELU (a, 1, 1), SELU, CELU (a, 1, 1/a))
 *               gx = x <= 0 ? gy*c*b*a*exp(c*x) : gy*b  (NaN: gy*b, as PyTorch)
 *   softplus    z = a*x (a beta, b threshold): y = z > b ? x : log1p(e^z)/a
 *               gx = z > b ? gy : gy * sigmoid(z)
 *   logsigmoid  y = min(x, 0) - log1p(exp(-|x|))   gx = gy * sigmoid(-x)
 *   hardtanh    y = clamp(x, a, b)             gx = x <= a || x >= b ? 0 : gy
 *   hardswish   y = x * min(max(x + 3, 0), 6) / 6
 *               gx = x <= -3 ? 0 : x < 3 ? gy * (x/3 + 1/2) : gy
 *   hardsigmoid y = min(max(x + 3, 0), 6) / 6  gx = -3 < x < 3 ? gy/6 : 0
 *   softsign    y = x / (1 + |x|)              gx = gy / (1 + |x|)^2
 *   threshold   y = x <= a ? b : x (a threshold, b value)  gx = x <= a ? 0 : gy
 *
 * NaN propagates through every forward.  x, y, gy, gx: n contiguous
 * elements; y may alias x (in-place use); backward kernels overwrite gx.
 * The float versions use the vectorisable exp of fnn_vexp.h / fnn_vmath.h
 * (a few ulp), the double ones libm.  Results do not depend on the thread
 * count (each element is computed alone).
 */
#ifndef FNN_ACTIVATION_H
#define FNN_ACTIVATION_H
#include "fnn_common.h"

/* The hyper-parameters of a parametrised activation (a, b, c as listed
 * above; unused ones are ignored, p may be NULL for the others). */
typedef struct {
    double a, b, c;
} fnn_act_params;

int fnn_leaky_relu_fwd_f32(int64_t n, const float *x, float *y, float slope, int n_threads);
int fnn_leaky_relu_fwd_f64(int64_t n, const double *x, double *y, double slope, int n_threads);
int fnn_leaky_relu_bwd_f32(int64_t n, const float *x, const float *gy, float *gx, float slope,
                           int n_threads);
int fnn_leaky_relu_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                           double slope, int n_threads);

/* fwd: (n, x, y, p, n_threads); bwd: (n, x, gy, gx, p, n_threads) */
int fnn_gelu_fwd_f32(int64_t n, const float *x, float *y, const fnn_act_params *p, int n_threads);
int fnn_gelu_fwd_f64(int64_t n, const double *x, double *y, const fnn_act_params *p, int n_threads);
int fnn_gelu_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                     const fnn_act_params *p, int n_threads);
int fnn_gelu_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                     const fnn_act_params *p, int n_threads);
int fnn_gelu_tanh_fwd_f32(int64_t n, const float *x, float *y,
                          const fnn_act_params *p, int n_threads);
int fnn_gelu_tanh_fwd_f64(int64_t n, const double *x, double *y,
                          const fnn_act_params *p, int n_threads);
int fnn_gelu_tanh_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                          const fnn_act_params *p, int n_threads);
int fnn_gelu_tanh_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                          const fnn_act_params *p, int n_threads);
int fnn_silu_fwd_f32(int64_t n, const float *x, float *y, const fnn_act_params *p, int n_threads);
int fnn_silu_fwd_f64(int64_t n, const double *x, double *y, const fnn_act_params *p, int n_threads);
int fnn_silu_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                     const fnn_act_params *p, int n_threads);
int fnn_silu_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                     const fnn_act_params *p, int n_threads);
int fnn_mish_fwd_f32(int64_t n, const float *x, float *y, const fnn_act_params *p, int n_threads);
int fnn_mish_fwd_f64(int64_t n, const double *x, double *y, const fnn_act_params *p, int n_threads);
int fnn_mish_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                     const fnn_act_params *p, int n_threads);
int fnn_mish_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                     const fnn_act_params *p, int n_threads);
int fnn_elu_fwd_f32(int64_t n, const float *x, float *y, const fnn_act_params *p, int n_threads);
int fnn_elu_fwd_f64(int64_t n, const double *x, double *y, const fnn_act_params *p, int n_threads);
int fnn_elu_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                    const fnn_act_params *p, int n_threads);
int fnn_elu_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                    const fnn_act_params *p, int n_threads);
int fnn_softplus_fwd_f32(int64_t n, const float *x, float *y,
                         const fnn_act_params *p, int n_threads);
int fnn_softplus_fwd_f64(int64_t n, const double *x, double *y,
                         const fnn_act_params *p, int n_threads);
int fnn_softplus_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                         const fnn_act_params *p, int n_threads);
int fnn_softplus_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                         const fnn_act_params *p, int n_threads);
int fnn_logsigmoid_fwd_f32(int64_t n, const float *x, float *y,
                           const fnn_act_params *p, int n_threads);
int fnn_logsigmoid_fwd_f64(int64_t n, const double *x, double *y,
                           const fnn_act_params *p, int n_threads);
int fnn_logsigmoid_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                           const fnn_act_params *p, int n_threads);
int fnn_logsigmoid_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                           const fnn_act_params *p, int n_threads);
int fnn_hardtanh_fwd_f32(int64_t n, const float *x, float *y,
                         const fnn_act_params *p, int n_threads);
int fnn_hardtanh_fwd_f64(int64_t n, const double *x, double *y,
                         const fnn_act_params *p, int n_threads);
int fnn_hardtanh_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                         const fnn_act_params *p, int n_threads);
int fnn_hardtanh_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                         const fnn_act_params *p, int n_threads);
int fnn_hardswish_fwd_f32(int64_t n, const float *x, float *y,
                          const fnn_act_params *p, int n_threads);
int fnn_hardswish_fwd_f64(int64_t n, const double *x, double *y,
                          const fnn_act_params *p, int n_threads);
int fnn_hardswish_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                          const fnn_act_params *p, int n_threads);
int fnn_hardswish_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                          const fnn_act_params *p, int n_threads);
int fnn_hardsigmoid_fwd_f32(int64_t n, const float *x, float *y,
                            const fnn_act_params *p, int n_threads);
int fnn_hardsigmoid_fwd_f64(int64_t n, const double *x, double *y,
                            const fnn_act_params *p, int n_threads);
int fnn_hardsigmoid_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                            const fnn_act_params *p, int n_threads);
int fnn_hardsigmoid_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                            const fnn_act_params *p, int n_threads);
int fnn_softsign_fwd_f32(int64_t n, const float *x, float *y,
                         const fnn_act_params *p, int n_threads);
int fnn_softsign_fwd_f64(int64_t n, const double *x, double *y,
                         const fnn_act_params *p, int n_threads);
int fnn_softsign_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                         const fnn_act_params *p, int n_threads);
int fnn_softsign_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                         const fnn_act_params *p, int n_threads);
int fnn_threshold_fwd_f32(int64_t n, const float *x, float *y,
                          const fnn_act_params *p, int n_threads);
int fnn_threshold_fwd_f64(int64_t n, const double *x, double *y,
                          const fnn_act_params *p, int n_threads);
int fnn_threshold_bwd_f32(int64_t n, const float *x, const float *gy, float *gx,
                          const fnn_act_params *p, int n_threads);
int fnn_threshold_bwd_f64(int64_t n, const double *x, const double *gy, double *gx,
                          const fnn_act_params *p, int n_threads);

/* PReLU: x viewed as (outer, C, inner), one weight per channel (C = 1: one
 * weight for all).  y = x > 0 ? x : w[c]*x; gx = x > 0 ? gy : w[c]*gy;
 * gw[c] = sum of (x > 0 ? 0 : x*gy) over the channel.  The weight gradient
 * is summed in double over fixed chunks of FNN_PRELU_CHUNK elements (ws,
 * fnn_prelu_workspace_len doubles), then the chunks in order: the same bits
 * at any thread count.  gx or gw may be NULL (not wanted). */
#define FNN_PRELU_CHUNK 4096
int64_t fnn_prelu_workspace_len(int64_t outer, int64_t C, int64_t inner);
int fnn_prelu_fwd_f32(int64_t outer, int64_t C, int64_t inner, const float *x, const float *w,
                      float *y, int n_threads);
int fnn_prelu_fwd_f64(int64_t outer, int64_t C, int64_t inner, const double *x,
                      const double *w, double *y, int n_threads);
int fnn_prelu_bwd_f32(int64_t outer, int64_t C, int64_t inner, const float *x, const float *w,
                      const float *gy, float *gx, float *gw, double *ws, int n_threads);
int fnn_prelu_bwd_f64(int64_t outer, int64_t C, int64_t inner, const double *x,
                      const double *w, const double *gy, double *gx, double *gw, double *ws,
                      int n_threads);
/* The float sigmoid by table on the AVX-512 path (act_table.inc): 1 when
 * done, 0 on the paths without it (the caller runs its own loop). */
int fnn_act_sigmoid_table_f32(int64_t n, const float *x, float *y, int n_threads);

#endif
