/* adaptive_pool.c -- instantiates adaptive_pool.inc (see adaptive_pool.h)
 * for float and double. */
#include "adaptive_pool.h"
#include "fnn_generic.h"

/* PyTorch's window of output o of O over an axis of n: [start, end) */
static inline int64_t a_start(int64_t o, int64_t n, int64_t O) { return o * n / O; }
static inline int64_t a_end(int64_t o, int64_t n, int64_t O) { return ((o + 1) * n + O - 1) / O; }

static int a_bad(int64_t P, int64_t H, int64_t W, int64_t OH, int64_t OW) {
    return P < 0 || H < 1 || W < 1 || OH < 1 || OW < 1;
}

#define FNN_BODY "adaptive_pool.inc"
#include "fnn_instantiate.inc"
