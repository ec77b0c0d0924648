/* fnn_common.h -- shared definitions for every fastnn kernel.
 *
 * Kernels are plain C11: no Python.h, no malloc, no printf/exit.  Sizes are
 * int64_t.  Every entry point returns an int status (FNN_OK or a negative
 * code) that the Cython binding maps to a Python exception.
 */
#ifndef FNN_COMMON_H
#define FNN_COMMON_H

#include <stdint.h>
#include <stddef.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define RESTRICT __restrict__

enum {
    FNN_OK = 0,
    FNN_EINVAL = -1,   /* an argument is out of range */
    FNN_ESHAPE = -2,   /* sizes do not agree */
    FNN_EINDEX = -3    /* an index (label) is out of range */
};

/* Below this many elements an elementwise (memory-bound) kernel runs
 * serially.  A team saves little on such passes: measured here (2 cores, hot
 * caches), a ReLU over 32768 floats takes 3.4 us on 1 thread and 4.5 us on 2,
 * over 262144 30 and 19 us; the batch-norm and max-pool passes of a batch of
 * 8 at 32x32 (131072-262144 elements) save 20-33 us each on 2 threads.  But
 * on a busy machine (this one is shared) a team waits for its second thread,
 * up to a scheduler slice: a 2-thread region's 10th-percentile cost was then
 * ~1.2 ms, and cnn_train_b8 (13 regions a step) took a median 26.6 ms against
 * 18.3 ms with these passes serial (5 regions), 5.8 against 5.2 ms in a
 * quieter round.  Passes over fewer than 2^19 elements (2 MiB of float32)
 * therefore run on one thread; larger ones (batch 64 and up) keep the team. */
#define FNN_SERIAL_CUTOFF 524288

static inline int fnn_threads_for(int64_t work, int n_threads) {
    if (n_threads < 1) n_threads = 1;
    if (work < FNN_SERIAL_CUTOFF) return 1;
    return n_threads;
}

static inline int fnn_thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static inline int fnn_team_size(void) {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

int fnn_openmp_enabled(void);
int fnn_num_procs(void);

#endif
