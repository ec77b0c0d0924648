/* ctc.c -- descriptor checks of the CTC loss; instantiates ctc.inc for float
 * and double (see ctc.h). */
#include <math.h>
#include <string.h>
#include "ctc.h"
#include "fnn_tmath.h"     /* VEXP, LOG */

/* The log of ctc_lse3's sum 1 + e1 + e2 (e1, e2 in [0, 1]): an argument
 * in [1, 3] whenever its result is used (ctc_lse3 selects -inf or NaN
 * itself otherwise).  For float the polynomial log of fnn_vexp.h, so the
 * loops over the states vectorise; libm's for double. */
#define ctc_log_f32 fnn_logf_pos
#define ctc_log_f64 log
#define CTC_LOG FN(ctc_log)

/* The weight of a cell of the recursions in fnn_threads_for's count of
 * element-wise operations.  A cell (two exps and a log, vectorised) takes
 * about 2.5 ns at one thread here, some 20 element-wise operations;
 * counted as 8, a team is forked from about 8,000 cells (some 20 us of work
 * at one thread; ctc_small's forward halves at two threads). */
#define CTC_CELL_COST 8

int fnn_ctc_init(fnn_ctc_desc *d, int64_t T, int64_t N, int64_t C, int64_t blank,
                 int64_t n_targets, const int64_t *targets, const int64_t *offsets,
                 const int64_t *il, const int64_t *tl) {
    if (T < 0 || N < 0 || C < 1 || n_targets < 0 || blank < 0 || blank >= C)
        return FNN_EINVAL;
    int64_t S = 0;
    for (int64_t b = 0; b < N; b++) {
        if (il[b] < 0 || il[b] > T || tl[b] < 0 || tl[b] > n_targets) return FNN_EINVAL;
        if (offsets[b] < 0 || offsets[b] > n_targets - tl[b]) return FNN_EINVAL;
        S = tl[b] > S ? tl[b] : S;
    }
    /* S <= n_targets, an array's size: no overflow */
    const int64_t L = FNN_CTC_LANES, R = 2 + (2 * S + 1 + L - 1) / L * L;
    if (N > 0 && R > INT64_MAX / 5 / N) return FNN_EINVAL;
    if (N > 0 && T > 0 && R > INT64_MAX / T / N) return FNN_EINVAL;
    for (int64_t b = 0; b < N; b++) {
        const int64_t *lab = targets + offsets[b];
        for (int64_t k = 0; k < tl[b]; k++)
            if (lab[k] < 0 || lab[k] >= C) return FNN_EINDEX;
    }
    d->steps = T;
    d->batch = N;
    d->classes = C;
    d->blank = blank;
    d->n_targets = n_targets;
    d->S = S;
    d->row = R;
    d->targets = targets;
    d->offsets = offsets;
    d->il = il;
    d->tl = tl;
    return FNN_OK;
}

int64_t fnn_ctc_alpha_len(const fnn_ctc_desc *d) { return d->batch * d->steps * d->row; }

int64_t fnn_ctc_workspace_len(const fnn_ctc_desc *d) { return d->batch * 5 * d->row; }

#define FNN_BODY "ctc.inc"
#include "fnn_instantiate.inc"
