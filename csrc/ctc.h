/* ctc.h -- connectionist temporal classification loss (Graves et al.,
 * 2006), forward and backward, in log space, with PyTorch's formulas.
 *
 * log_probs lp (T, N, C) time-major (lp[t, b, c]); sample b has input length
 * il[b] <= T and the labels targets[offsets[b] .. offsets[b] + tl[b]) (the
 * op rejects the blank among them).  The extended label sequence l' of length W_b = 2 tl + 1
 * puts a blank before, between and after the labels: l'(s) = blank for even
 * s, label (s - 1) / 2 for odd s.  A skip s - 2 -> s is allowed when
 * l'(s) != l'(s - 2) (never onto a blank, nor between repeated labels).
 *
 *   alpha:  a[0, 0] = lp[0, blank], a[0, 1] = lp[0, l'(1)], -inf elsewhere;
 *           a[t, s] = lse(a[t-1, s], a[t-1, s-1], a[t-1, s-2] if skip)
 *                     + lp[t, l'(s)]
 *   nll = -lse(a[il-1, 2tl], a[il-1, 2tl-1])   (tl = 0: -a[il-1, 0];
 *         il = 0: 0 for tl = 0, +inf otherwise)
 *   beta:   b[il-1, 2tl] = lp[il-1, blank], b[il-1, 2tl-1] = lp[il-1, l'(2tl-1)];
 *           b[t, s] = lse(b[t+1, s], b[t+1, s+1], b[t+1, s+2] if skip at s+2)
 *                     + lp[t, l'(s)]
 *   (both include the emission at t), so the posterior of being in state s
 *   at t is exp(a + b - lp[t, l'(s)] + nll), and for t < il
 *   gx[t, b, c] = (exp(lp[t, b, c]) - sum_{s: l'(s) = c} posterior) * g[b],
 *   0 for t >= il, and 0 everywhere when zero_infinity and nll = +inf.
 * lse(x, y, z) = m + log(1 + e^(lo-m) + e^(mid-m)), m the largest (-inf
 * when all are -inf, NaN when one is): PyTorch's log-sum-exp with the exp
 * of the largest term, 1, not computed.  An impossible alignment gives nll =
 * +inf and (without zero_infinity) NaN gradients for t < il, as PyTorch.
 * The backward computes each state's posterior (the emission divided out
 * before the exp, as PyTorch's kernel) and sums them per class.  A log-prob
 * of -inf (a masked class) has posterior 0 and gradient 0 (where PyTorch's
 * kernel computes -inf + inf and gives NaN).
 *
 * Layout: the recursions run over whole blocks of FNN_CTC_LANES states
 * (a constant trip count the compiler vectorises), with no edge cases: a
 * state row has R = 2 + roundup(2S + 1, FNN_CTC_LANES) cells (d->row, S the
 * longest target), state s in cell 2 + s, and the two cells before it and
 * the cells past W_b hold -inf (emissions -inf there, so they stay -inf).
 * alpha is saved by the forward for the backward: (N, T, R) (rows t < il[b]
 * written).  The workspace (fnn_ctc_workspace_len elements) holds, per
 * sample, five rows: the emissions, the skip mask, two beta rows and the
 * posteriors of a step.
 *
 * Threads: samples are shared out (dynamically, lengths differ); each
 * sample's numbers come from one thread, so the results do not depend on
 * the thread count.
 */
#ifndef FNN_CTC_H
#define FNN_CTC_H
#include "fnn_common.h"

#define FNN_CTC_LANES 16

typedef struct {
    int64_t steps, batch;     /* T, N of log_probs (T, N, C) */
    int64_t classes;          /* C */
    int64_t blank;            /* in [0, C) */
    int64_t n_targets;        /* elements of targets */
    int64_t S;                /* longest target length */
    int64_t row;              /* R, the cells of a state row (see Layout) */
    const int64_t *targets;   /* (n_targets) labels in [0, C); kept by pointer */
    const int64_t *offsets;   /* (N) first label of each sample in targets */
    const int64_t *il;        /* (N) input lengths in [0, T] */
    const int64_t *tl;        /* (N) target lengths >= 0 */
} fnn_ctc_desc;

/* Fills and validates d: sizes >= 0, C >= 1, blank in [0, C), lengths in
 * range, every sample's labels inside targets (offsets[b] >= 0,
 * offsets[b] + tl[b] <= n_targets) and N * T * R representable.
 * FNN_OK, FNN_EINVAL, or FNN_EINDEX for a label of a sample outside [0, C). */
int fnn_ctc_init(fnn_ctc_desc *d, int64_t T, int64_t N, int64_t C, int64_t blank,
                 int64_t n_targets, const int64_t *targets, const int64_t *offsets,
                 const int64_t *il, const int64_t *tl);

/* Elements of alpha: N * T * R. */
int64_t fnn_ctc_alpha_len(const fnn_ctc_desc *d);

/* Elements of the workspace of fwd and bwd: N * 5 * R. */
int64_t fnn_ctc_workspace_len(const fnn_ctc_desc *d);

/* lp (T, N, C); nll (N); alpha (N, T, R); ws (fnn_ctc_workspace_len) */
int fnn_ctc_fwd_f32(const fnn_ctc_desc *d, const float *lp, float *nll, float *alpha,
                    float *ws, int n_threads);
int fnn_ctc_fwd_f64(const fnn_ctc_desc *d, const double *lp, double *nll, double *alpha,
                    double *ws, int n_threads);

/* lp (T, N, C); nll (N) and alpha (N, T, R) from fwd; g (N) the
 * upstream gradient of each sample's nll (reduction scale included);
 * gx (T, N, C), overwritten; ws (fnn_ctc_workspace_len) */
int fnn_ctc_bwd_f32(const fnn_ctc_desc *d, const float *lp, const float *nll,
                    const float *alpha, const float *g, int zero_infinity, float *gx,
                    float *ws, int n_threads);
int fnn_ctc_bwd_f64(const fnn_ctc_desc *d, const double *lp, const double *nll,
                    const double *alpha, const double *g, int zero_infinity, double *gx,
                    double *ws, int n_threads);
#endif
