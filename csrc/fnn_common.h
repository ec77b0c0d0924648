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

/* Below this many elements an elementwise kernel runs serially: forking a
 * team costs more than it saves.  Measured here (2 cores, hot caches): a
 * ReLU over 32768 floats takes 3.4 us on 1 thread and 4.5 us on 2; over
 * 131072, 18.8 and 10.7 us.  On a busy machine a team can also wait up to a
 * scheduler slice for its second thread, so a region must save real time.
 * (Not higher: with 2^19, the batch-norm and max-pool passes of
 * cnn_train_b8 ran serially and its step took a median 5.67 ms against
 * 4.64 ms with this cut-off, alternating runs on a moderately loaded
 * machine; only under heavy load, where every region waited ~1 ms, did the
 * serial passes win, 18.3 against 26.6 ms.) */
#define FNN_SERIAL_CUTOFF 65536

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

/* Parallel-path accounting, for the tests.  FNN_NOTE_PARALLEL(nt) stands
 * right before every OpenMP region; when the kernel asks for a team of more
 * than one thread it counts one entry for that source site ("file:line").
 * tests/test_parallel_coverage.py asserts that the thread-invariance tests
 * drive every site in parallel (a test of 1 versus 2 threads below the
 * serial cut-off compares two serial runs and would prove nothing).  Cost:
 * one short mutex-protected table update per parallel region. */
void fnn_note_parallel(const char *site);
/* Copies up to max (site, count) pairs; returns how many sites are known. */
int fnn_parallel_sites(const char **sites, int64_t *counts, int max);
void fnn_parallel_reset(void);
#define FNN_STR_(x) #x
#define FNN_STR(x) FNN_STR_(x)
#define FNN_NOTE_PARALLEL(nt) \
    do { if ((nt) > 1) fnn_note_parallel(__FILE__ ":" FNN_STR(__LINE__)); } while (0)

#endif
