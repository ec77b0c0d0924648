/* fnn_slices.h -- FNN_SLICES, the per-thread slice driver of the
 * elementwise-style kernels (elementwise.c, activation.inc, dropout.c,
 * batchnorm.inc). */
#ifndef FNN_SLICES_H
#define FNN_SLICES_H
#include "fnn_common.h"
#include "fnn_generic.h"

/* FNN_SLICES(n, nt, CALL): run CALL (an expression using int64_t lo, hi)
 * once per thread of an nt-thread team on that thread's slice [lo, hi) of
 * [0, n) (or once on [0, n) when nt <= 1).  Inner slice ends are rounded
 * down to a multiple of 16 elements so vector loops stay aligned.  CALL is
 * normally a FNN_CLONES helper, so the loop inside it is vectorised for the
 * best ISA: the if clause of a combined "parallel for simd" also disables
 * the simd part when false, and outlined OpenMP bodies cannot be cloned. */
#define FNN_SLICES(n, nt, CALL)                                                \
    do {                                                                       \
        if ((nt) <= 1) { int64_t lo = 0, hi = (n); CALL; break; }              \
        FNN_NOTE_PARALLEL(nt);                                                 \
        _Pragma("omp parallel num_threads(nt)")                                \
        {                                                                      \
            int t_ = fnn_thread_id(), k_ = fnn_team_size();                    \
            int64_t lo = t_ == 0 ? 0 : ((n) * t_ / k_) & ~(int64_t)15;         \
            int64_t hi = t_ == k_ - 1 ? (n) : ((n) * (t_ + 1) / k_) & ~(int64_t)15; \
            CALL;                                                              \
        }                                                                      \
    } while (0)
#endif
