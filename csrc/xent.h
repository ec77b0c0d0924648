/* xent.h -- fused log-softmax + cross-entropy with class weights,
 * ignore_index, label smoothing and probability targets (the general cases
 * of torch.nn.functional.cross_entropy; the plain case is loss.c's kernel).
 *
 * Logits x (N, C) row-major; per row m = max_c x_c, ls = log sum_c exp(x_c - m),
 * -log p_c = (m - x_c) + ls (kept apart so large logits do not cancel), saved
 * in stats (N, 2) for the backward.  e = label_smoothing, w (C) the class
 * weights (NULL: all ones), W = sum_c w_c.
 *
 * Class-index targets t (N):
 *   fwd: row i with t_i == ignore_index: loss_i = 0, wt_i = 0; else
 *        nll_i = w_t (-log p_t),  smooth_i = sum_c w_c (-log p_c),
 *        loss_i = (1 - e) nll_i + (e / C) smooth_i,  wt_i = w_t
 *        (wt is the weight sum torch divides the 'mean' by).
 *   bwd: gx_ic = g_i [ p_c ((1 - e) w_t + (e / C) W) - (e / C) w_c - (1 - e) w_t [c == t] ],
 *        ignored rows 0.  g (N) is the upstream gradient times scale (NULL: scale).
 *   A target outside [0, C) other than ignore_index returns FNN_EINDEX.
 * Probability targets y (N, C), y'_c = (1 - e) y_c + e / C:
 *   fwd: loss_i = sum_c w_c y'_c (-log p_c)
 *   bwd: gx_ic = g_i [ p_c S_i - w_c y'_c ],  S_i = sum_c w_c y'_c.
 * Rows are independent, so results do not depend on the thread count.
 */
#ifndef FNN_XENT_H
#define FNN_XENT_H
#include "fnn_common.h"

typedef struct {
    int64_t N, C;             /* rows, classes (C >= 1) */
    int64_t ignore_index;     /* class-index targets only */
    double label_smoothing;   /* in [0, 1] */
} fnn_xent_desc;

/* x (N, C), t (N), w (C) or NULL, loss (N), wt (N), stats (N, 2) */
int fnn_xent_index_fwd_f32(const fnn_xent_desc *d, const float *x, const int64_t *t,
                           const float *w, float *loss, float *wt, float *stats, int n_threads);
int fnn_xent_index_fwd_f64(const fnn_xent_desc *d, const double *x, const int64_t *t,
                           const double *w, double *loss, double *wt, double *stats,
                           int n_threads);
/* x (N, C), t (N), w (C) or NULL, stats (N, 2), g (N) or NULL, gx (N, C) */
int fnn_xent_index_bwd_f32(const fnn_xent_desc *d, const float *x, const int64_t *t,
                           const float *w, const float *stats, const float *g, float scale,
                           float *gx, int n_threads);
int fnn_xent_index_bwd_f64(const fnn_xent_desc *d, const double *x, const int64_t *t,
                           const double *w, const double *stats, const double *g,
                           double scale, double *gx, int n_threads);
/* x (N, C), y (N, C), w (C) or NULL, loss (N), stats (N, 2) */
int fnn_xent_prob_fwd_f32(const fnn_xent_desc *d, const float *x, const float *y,
                          const float *w, float *loss, float *stats, int n_threads);
int fnn_xent_prob_fwd_f64(const fnn_xent_desc *d, const double *x, const double *y,
                          const double *w, double *loss, double *stats, int n_threads);
/* x (N, C), y (N, C), w (C) or NULL, stats (N, 2), g (N) or NULL, gx (N, C) */
int fnn_xent_prob_bwd_f32(const fnn_xent_desc *d, const float *x, const float *y,
                          const float *w, const float *stats, const float *g, float scale,
                          float *gx, int n_threads);
int fnn_xent_prob_bwd_f64(const fnn_xent_desc *d, const double *x, const double *y,
                          const double *w, const double *stats, const double *g,
                          double scale, double *gx, int n_threads);
#endif
