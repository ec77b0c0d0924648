/* dropout.c -- counter-based inverted dropout (see dropout.h). */
#pragma GCC optimize("no-trapping-math")
#include "dropout.h"
#include "fnn_generic.h"

#define GOLDEN 0x9E3779B97F4A7C15ULL

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t dropout_key(uint64_t seed, uint64_t stream) {
    return mix64(seed ^ mix64(stream + GOLDEN));
}

/* u_i in [0, 1) with 53 random bits */
static inline double dropout_u(uint64_t key, int64_t i) {
    uint64_t z = mix64(key + (uint64_t)(i + 1) * GOLDEN);
    return (double)(z >> 11) * 0x1.0p-53;
}

int fnn_dropout_mask(int64_t n, uint8_t *mask, double p, uint64_t seed, uint64_t stream,
                     int n_threads) {
    if (!(p >= 0.0 && p <= 1.0) || n < 0) return FNN_EINVAL;
    uint64_t key = dropout_key(seed, stream);
    int nt = fnn_threads_for(n, n_threads);
    #pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t i = 0; i < n; i++) mask[i] = dropout_u(key, i) >= p;
    return FNN_OK;
}

#define DROPOUT_BLOCK 4096

/* y[i] = x[i] * (keep_i ? scale : 0) for i in [lo, hi) */
#define FNN_DEFINE_DROPOUT(T, SFX)                                                 \
FNN_CLONES static void dropout_block_##SFX(const T *RESTRICT x, T *RESTRICT y,     \
                                           int64_t lo, int64_t hi, double p,       \
                                           uint64_t key, T scale) {                \
    for (int64_t i = lo; i < hi; i++)                                              \
        y[i] = x[i] * (dropout_u(key, i) >= p ? scale : (T)0);                     \
}                                                                                  \
int fnn_dropout_fwd_##SFX(int64_t n, const T *RESTRICT x, T *RESTRICT y, double p,  \
                          uint64_t seed, uint64_t stream, int n_threads) {         \
    if (!(p >= 0.0 && p <= 1.0) || n < 0) return FNN_EINVAL;                       \
    uint64_t key = dropout_key(seed, stream);                                      \
    T scale = p < 1.0 ? (T)(1.0 / (1.0 - p)) : (T)0;                               \
    int nt = fnn_threads_for(n, n_threads);                                        \
    int64_t nb = (n + DROPOUT_BLOCK - 1) / DROPOUT_BLOCK;                          \
    _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")       \
    for (int64_t b = 0; b < nb; b++) {                                             \
        int64_t lo = b * DROPOUT_BLOCK;                                            \
        int64_t hi = lo + DROPOUT_BLOCK < n ? lo + DROPOUT_BLOCK : n;              \
        dropout_block_##SFX(x, y, lo, hi, p, key, scale);                          \
    }                                                                              \
    return FNN_OK;                                                                 \
}                                                                                  \
int fnn_dropout_bwd_##SFX(int64_t n, const T *gy, T *gx, double p, uint64_t seed,  \
                          uint64_t stream, int n_threads) {                        \
    return fnn_dropout_fwd_##SFX(n, gy, gx, p, seed, stream, n_threads);           \
}

FNN_DEFINE_DROPOUT(float, f32)
FNN_DEFINE_DROPOUT(double, f64)
