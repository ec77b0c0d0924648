/* gemm_kernels.c -- micro-kernels (see gemm_kernels.h for the contract).
 *
 * The portable kernel is plain C the compiler vectorises for the baseline
 * ISA.  The AVX2+FMA kernels are compiled with a per-function target
 * attribute and only called when cpuid says the CPU has both, so the shipped
 * build runs on any x86-64.
 */
#include "gemm_kernels.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* Writes a finished tile into C with alpha/beta; tile is MRxNR row-major. */
#define FNN_TILE_UPDATE(T, tile, NR_, C, ldc, mr, nr, alpha, beta)            \
    do {                                                                     \
        for (int i_ = 0; i_ < (mr); i_++) {                                  \
            T *c_ = (C) + (int64_t)i_ * (ldc);                               \
            const T *t_ = (tile) + i_ * (NR_);                               \
            if ((beta) == (T)0) {                                            \
                for (int j_ = 0; j_ < (nr); j_++) c_[j_] = (alpha) * t_[j_]; \
            } else {                                                         \
                for (int j_ = 0; j_ < (nr); j_++)                            \
                    c_[j_] = (alpha) * t_[j_] + (beta) * c_[j_];             \
            }                                                                \
        }                                                                    \
    } while (0)

#define FNN_DEFINE_PORTABLE(T, SFX, MR_, NR_)                                \
void fnn_ukr_portable_##SFX(int64_t kc, const T *RESTRICT a,                 \
                            const T *RESTRICT b, T *C, int64_t ldc,          \
                            int mr, int nr, T alpha, T beta) {               \
    T acc[MR_ * NR_];                                                        \
    for (int t = 0; t < MR_ * NR_; t++) acc[t] = (T)0;                       \
    for (int64_t p = 0; p < kc; p++) {                                       \
        const T *ap = a + p * MR_, *bp = b + p * NR_;                        \
        for (int i = 0; i < MR_; i++) {                                      \
            T ai = ap[i];                                                    \
            for (int j = 0; j < NR_; j++) acc[i * NR_ + j] += ai * bp[j];    \
        }                                                                    \
    }                                                                        \
    FNN_TILE_UPDATE(T, acc, NR_, C, ldc, mr, nr, alpha, beta);               \
}

FNN_DEFINE_PORTABLE(float, f32, FNN_MR_F32, FNN_NR_F32)
FNN_DEFINE_PORTABLE(double, f64, FNN_MR_F64, FNN_NR_F64)

#ifdef FNN_HAVE_X86_KERNELS

/* 6x16 float tile: 12 ymm accumulators, 2 loads of B and 6 broadcasts of A
 * per k step (the Haswell-style register block). */
__attribute__((target("avx2,fma")))
void fnn_ukr_avx2_f32(int64_t kc, const float *RESTRICT a,
                      const float *RESTRICT b, float *C, int64_t ldc,
                      int mr, int nr, float alpha, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int64_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 av;
        av = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
        a += 6; b += 16;
    }
    __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (mr == 6 && nr == 16) {
        __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
        for (int i = 0; i < 6; i++) {
            float *c = C + (int64_t)i * ldc;
            __m256 r0 = _mm256_mul_ps(va, acc[2 * i]);
            __m256 r1 = _mm256_mul_ps(va, acc[2 * i + 1]);
            if (beta != 0.0f) {
                r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), r1);
            }
            _mm256_storeu_ps(c, r0);
            _mm256_storeu_ps(c + 8, r1);
        }
        return;
    }
    float tile[6 * 16];
    for (int i = 0; i < 12; i++) _mm256_storeu_ps(tile + 8 * i, acc[i]);
    FNN_TILE_UPDATE(float, tile, 16, C, ldc, mr, nr, alpha, beta);
}

/* 6x8 double tile: the same register block with 4-wide vectors. */
__attribute__((target("avx2,fma")))
void fnn_ukr_avx2_f64(int64_t kc, const double *RESTRICT a,
                      const double *RESTRICT b, double *C, int64_t ldc,
                      int mr, int nr, double alpha, double beta) {
    __m256d acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_setzero_pd();
    for (int64_t p = 0; p < kc; p++) {
        __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
        for (int i = 0; i < 6; i++) {
            __m256d av = _mm256_broadcast_sd(a + i);
            acc[2 * i] = _mm256_fmadd_pd(av, b0, acc[2 * i]);
            acc[2 * i + 1] = _mm256_fmadd_pd(av, b1, acc[2 * i + 1]);
        }
        a += 6; b += 8;
    }
    double tile[6 * 8];
    for (int i = 0; i < 12; i++) _mm256_storeu_pd(tile + 4 * i, acc[i]);
    FNN_TILE_UPDATE(double, tile, 8, C, ldc, mr, nr, alpha, beta);
}
#endif
