/* loss.h -- fused cross-entropy and stable binary cross-entropy with logits.
 *
 * Cross-entropy (log-softmax + NLL in one pass), logits x (N, C), int64
 * targets t (N):
 *   fwd: m_i = max_c x_ic,  ls_i = log(sum_c exp(x_ic - m_i)),
 *        loss_i = (m_i - x_{i,t_i}) + ls_i          (per sample; the caller
 *        reduces).  stats (N, 2) = (m_i, ls_i) is saved for the backward;
 *        keeping m and log-sum apart avoids the cancellation of
 *        (m + ls) - x in float32 when |x| is large.
 *   bwd: gx_ic = (exp((x_ic - m_i) - ls_i) - [c == t_i]) * g_i * scale
 *        g (N) is the upstream gradient per sample, or NULL for all ones.
 *   A target outside [0, C) returns FNN_EINDEX (outputs then undefined).
 *
 * BCE with logits, x and y (n), elementwise:
 *   fwd: l = max(x, 0) - x*y + log1p(exp(-|x|))     (never overflows)
 *   bwd: gx = (sigmoid(x) - y) * g * scale, g (n) or NULL for all ones.
 *
 * Rows/elements are independent, so results do not depend on the thread count.
 */
#ifndef FNN_LOSS_H
#define FNN_LOSS_H
#include "fnn_common.h"

/* x (N, C), t (N), loss (N), stats (N, 2) */
int fnn_cross_entropy_fwd_f32(int64_t N, int64_t C, const float *x, const int64_t *t,
                              float *loss, float *stats, int n_threads);
int fnn_cross_entropy_fwd_f64(int64_t N, int64_t C, const double *x, const int64_t *t,
                              double *loss, double *stats, int n_threads);

/* x (N, C), t (N), stats (N, 2), g (N) or NULL, gx (N, C) */
int fnn_cross_entropy_bwd_f32(int64_t N, int64_t C, const float *x, const int64_t *t,
                              const float *stats, const float *g, float scale, float *gx,
                              int n_threads);
int fnn_cross_entropy_bwd_f64(int64_t N, int64_t C, const double *x, const int64_t *t,
                              const double *stats, const double *g, double scale, double *gx,
                              int n_threads);

/* x, y, loss: (n) */
int fnn_bce_logits_fwd_f32(int64_t n, const float *x, const float *y, float *loss,
                           int n_threads);
int fnn_bce_logits_fwd_f64(int64_t n, const double *x, const double *y, double *loss,
                           int n_threads);

/* x, y, gx: (n); g (n) or NULL */
int fnn_bce_logits_bwd_f32(int64_t n, const float *x, const float *y, const float *g,
                           float scale, float *gx, int n_threads);
int fnn_bce_logits_bwd_f64(int64_t n, const double *x, const double *y, const double *g,
                           double scale, double *gx, int n_threads);
#endif
