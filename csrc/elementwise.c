/* elementwise.c -- relu/sigmoid/tanh forward and backward, same-shape add
 * and mul, axpy (gradient accumulation) and a deterministic full sum.
 *
 *   relu:    y = max(x, 0) (NaN propagates: x > 0 ? x : 0 would drop it,
 *            so NaN is passed through explicitly); dx = dy * (x > 0)
 *   sigmoid: y = 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) otherwise, so
 *            neither branch overflows;            dx = dy * y * (1 - y)
 *   tanh:    y = tanh(x);                          dx = dy * (1 - y^2)
 *   sum:     per-thread partials in double, added in thread order: bitwise
 *            repeatable at a fixed thread count.
 */
/* No FMA contraction in the AVX2 clones: results stay bitwise those of the
 * baseline build (and of the separate multiply and add PyTorch and the
 * NumPy references do, e.g. axpy's gradient accumulation). */
#pragma GCC optimize("fp-contract=off")
#include <math.h>
#include "elementwise.h"
#include "fnn_vexp.h"
#include "fnn_slices.h"

/* The loops run in per-thread slice helpers compiled for AVX2 and the
 * baseline (FNN_CLONES; FNN_SLICES in fnn_slices.h): an OpenMP outlined
 * loop body cannot be multi-versioned itself, and sigmoid/tanh are
 * compute-bound (AVX2 is ~3x SSE2 on them). */
#define FNN_MAP1(SFX, name, T, EXPR)                                          \
FNN_CLONES static void name##_chunk_##SFX(int64_t lo, int64_t hi,             \
                                          const T *RESTRICT x, T *y) {        \
    for (int64_t i = lo; i < hi; i++) { T v = x[i]; y[i] = (EXPR); }          \
}                                                                             \
int fnn_##name##_##SFX(int64_t n, const T *RESTRICT x, T *y, int n_threads) { \
    int nt = fnn_threads_for(n, n_threads);                                   \
    FNN_SLICES(n, nt, name##_chunk_##SFX(lo, hi, x, y));                      \
    return FNN_OK;                                                            \
}

#define FNN_MAP2(SFX, name, T, EXPR)                                          \
FNN_CLONES static void name##_chunk_##SFX(int64_t lo, int64_t hi,             \
                                          const T *RESTRICT a,                \
                                          const T *RESTRICT b, T *out) {      \
    for (int64_t i = lo; i < hi; i++) { T u = a[i], v = b[i]; out[i] = (EXPR); }\
}                                                                             \
int fnn_##name##_##SFX(int64_t n, const T *RESTRICT a, const T *RESTRICT b,   \
                       T *out, int n_threads) {                               \
    int nt = fnn_threads_for(n, n_threads);                                   \
    FNN_SLICES(n, nt, name##_chunk_##SFX(lo, hi, a, b, out));                 \
    return FNN_OK;                                                            \
}

static inline float sigm_f32(float v) { return fnn_sigmoidf(v); }
static inline double sigm_f64(double v) {
    if (v >= 0.0) return 1.0 / (1.0 + exp(-v));
    double e = exp(v);
    return e / (1.0 + e);
}

#define FNN_DEFINE_EW(T, SFX, TANH)                                           \
FNN_MAP1(SFX, relu_fwd, T, v > (T)0 ? v : (v != v ? v : (T)0))                \
FNN_MAP1(SFX, sigmoid_fwd, T, sigm_##SFX(v))                                  \
FNN_MAP1(SFX, tanh_fwd, T, TANH(v))                                           \
FNN_MAP2(SFX, relu_bwd, T, u > (T)0 ? v : (T)0)                               \
FNN_MAP2(SFX, sigmoid_bwd, T, v * u * ((T)1 - u))                             \
FNN_MAP2(SFX, tanh_bwd, T, v * ((T)1 - u * u))                                \
FNN_MAP2(SFX, add, T, u + v)                                                  \
FNN_MAP2(SFX, mul, T, u * v)                                                  \
FNN_CLONES static void axpy_chunk_##SFX(int64_t lo, int64_t hi, T alpha,      \
                                        const T *RESTRICT x, T *RESTRICT y) { \
    for (int64_t i = lo; i < hi; i++) y[i] += alpha * x[i];                   \
}                                                                             \
int fnn_axpy_##SFX(int64_t n, T alpha, const T *RESTRICT x, T *RESTRICT y,    \
                   int n_threads) {                                           \
    int nt = fnn_threads_for(n, n_threads);                                   \
    FNN_SLICES(n, nt, axpy_chunk_##SFX(lo, hi, alpha, x, y));               \
    return FNN_OK;                                                            \
}                                                                             \
int fnn_sum_##SFX(int64_t n, const T *RESTRICT x, double *out, int n_threads) {\
    int nt = fnn_threads_for(n, n_threads);                                   \
    if (nt > 64) nt = 64;                                                     \
    double part[64];                                                          \
    for (int t = 0; t < nt; t++) part[t] = 0.0;                               \
    _Pragma("omp parallel num_threads(nt) if (nt > 1)")                       \
    {                                                                         \
        int t = fnn_thread_id(), k = fnn_team_size();                         \
        int64_t lo = n * t / k, hi = n * (t + 1) / k;                         \
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                \
        int64_t i = lo;                                                       \
        for (; i + 4 <= hi; i += 4) {                                         \
            s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3];       \
        }                                                                     \
        for (; i < hi; i++) s0 += x[i];                                       \
        part[t] = (s0 + s1) + (s2 + s3);                                      \
    }                                                                         \
    double s = 0.0;                                                           \
    for (int t = 0; t < nt; t++) s += part[t];                                \
    *out = s;                                                                 \
    return FNN_OK;                                                            \
}

FNN_DEFINE_EW(float, f32, fnn_tanhf)
FNN_DEFINE_EW(double, f64, tanh)
