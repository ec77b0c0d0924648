/* dropout.c -- counter-based inverted dropout (see dropout.h): the mask
 * and the float/double instantiations of dropout.inc. */
#include "dropout.h"
#include "fnn_slices.h"
#include <math.h>

#define GOLDEN 0x9E3779B97F4A7C15ULL

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t dropout_key(uint64_t seed, uint64_t stream) {
    return mix64(seed ^ mix64(stream + GOLDEN));
}

/* u_i = r_i * 2^-53 in [0, 1), r_i the top 53 bits of a mixed counter.
 * Element i is kept when u_i >= p, i.e. (u_i being exact) when
 * r_i >= ceil(p * 2^53): the comparison is done on the integers, so the
 * loops stay branch-free (a data-dependent branch on a coin flip
 * mispredicts half the time) without a 64-bit int -> double conversion. */
static inline uint64_t dropout_r(uint64_t key, int64_t i) {
    return mix64(key + (uint64_t)(i + 1) * GOLDEN) >> 11;
}

/* the r threshold of p (p in [0, 1]): keep iff r >= thr; p = 1 gives 2^53,
 * above every r */
static inline uint64_t dropout_thr(double p) {
    return (uint64_t)ceil(p * 0x1.0p53);
}

FNN_CLONES static void mask_chunk(int64_t lo, int64_t hi, uint8_t *RESTRICT mask,
                                  uint64_t key, uint64_t thr) {
    for (int64_t i = lo; i < hi; i++) mask[i] = (uint8_t)(dropout_r(key, i) >= thr);
}

int fnn_dropout_mask(int64_t n, uint8_t *mask, double p, uint64_t seed, uint64_t stream,
                     int n_threads) {
    if (!(p >= 0.0 && p <= 1.0) || n < 0) return FNN_EINVAL;
    uint64_t key = dropout_key(seed, stream), thr = dropout_thr(p);
    int nt = fnn_threads_for(n, n_threads);
    FNN_SLICES(n, nt, mask_chunk(lo, hi, mask, key, thr));
    return FNN_OK;
}

#define FNN_BODY "dropout.inc"
#include "fnn_instantiate.inc"
