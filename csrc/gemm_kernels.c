/* gemm_kernels.c -- micro-kernels and per-path descriptors (see
 * gemm_kernels.h for the contract).
 *
 * The portable kernel is plain C the compiler vectorises for the baseline
 * ISA.  The AVX2+FMA and AVX-512 kernels share one body (gemm_ukr.inc),
 * compiled with a per-function target attribute and only called when cpuid
 * says the CPU has the instructions, so the shipped build runs on any x86-64.
 */
#include "gemm_kernels.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* ---------------------------------------------------------------- portable */

/* The portable micro-kernel body: BROW(p, NR) is row p of B (b + p*NR for
 * a packed panel, b + boff[p] for the indirect one). */
#define FNN_PORTABLE_BODY(T, MR_, NR_, BROW)                                 \
    T acc[MR_ * NR_];                                                        \
    for (int t = 0; t < MR_ * NR_; t++) acc[t] = (T)0;                       \
    for (int64_t p = 0; p < kc; p++) {                                       \
        const T *ap = a + p * MR_, *bp = BROW(p, NR_);                       \
        for (int i = 0; i < MR_; i++) {                                      \
            T ai = ap[i];                                                    \
            for (int j = 0; j < NR_; j++) acc[i * NR_ + j] += ai * bp[j];    \
        }                                                                    \
    }                                                                        \
    for (int i = 0; i < mr; i++) {                                           \
        T *c = C + (int64_t)i * ldc;                                         \
        const T *t = acc + i * NR_;                                          \
        if (beta == (T)0) {                                                  \
            for (int j = 0; j < nr; j++) c[j] = alpha * t[j];                \
        } else {                                                             \
            for (int j = 0; j < nr; j++) c[j] = alpha * t[j] + beta * c[j];  \
        }                                                                    \
    }

#define FNN_DEFINE_PORTABLE(T, SFX, MR_, NR_)                                \
static void fnn_ukr_portable_##SFX(int64_t kc, const T *RESTRICT a,          \
                                   const T *RESTRICT b, T *C, int64_t ldc,   \
                                   int mr, int nr, T alpha, T beta) {        \
    FNN_PORTABLE_BODY(T, MR_, NR_, FNN_PACKED_ROW)                           \
}

#define FNN_DEFINE_PORTABLE_IB(T, SFX, MR_, NR_)                             \
static void fnn_ukr_portable_##SFX##_ib(int64_t kc, const T *RESTRICT a,     \
                                        const T *RESTRICT b,                 \
                                        const int64_t *RESTRICT boff,        \
                                        T *C, int64_t ldc, int mr, int nr,   \
                                        T alpha, T beta) {                   \
    FNN_PORTABLE_BODY(T, MR_, NR_, FNN_INDIRECT_ROW)                         \
}

#define FNN_PACKED_ROW(p, nr_) (b + (p) * (nr_))
#define FNN_INDIRECT_ROW(p, nr_) (b + boff[p])

FNN_DEFINE_PORTABLE(float, f32, 6, 16)
FNN_DEFINE_PORTABLE(double, f64, 6, 8)
FNN_DEFINE_PORTABLE_IB(float, f32, 6, 16)
FNN_DEFINE_PORTABLE_IB(double, f64, 6, 8)

const fnn_gemm_desc_f32 fnn_gemm_desc_portable_f32 = {6, 16, 144, 256, 3072, fnn_ukr_portable_f32, fnn_ukr_portable_f32_ib};
const fnn_gemm_desc_f64 fnn_gemm_desc_portable_f64 = {6, 8, 96, 256, 1536, fnn_ukr_portable_f64, fnn_ukr_portable_f64_ib};

#ifdef FNN_HAVE_X86_KERNELS

/* How many k steps ahead the kernels prefetch the packed A panel. */
#ifndef UKR_PF_A
#define UKR_PF_A 8
#endif

/* -------------------------------------------------------- AVX2 + FMA (ymm) */

#define UKR_ATTR __attribute__((target("avx2,fma")))
#define V_ZERO() _mm256_setzero_ps()
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_storeu_ps((p), (v))
#define V_BCAST(p) _mm256_broadcast_ss(p)
#define V_SET1(x) _mm256_set1_ps(x)
#define V_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define V_MUL(a, b) _mm256_mul_ps((a), (b))
#define T float
#define V __m256
#define VL 8
/* 6x16: 12 accumulators + 2 B vectors + 1 broadcast of the 16 ymm. */
#define UMR 6
#define UNV 2
#define UKR_NAME fnn_ukr_avx2_f32
#include "gemm_ukr.inc"
#undef UKR_NAME
#define UKR_NAME fnn_ukr_avx2_f32_ib
#define UKR_BOFF 1
#include "gemm_ukr.inc"
#undef UKR_BOFF
#undef UKR_NAME
#undef UMR
#undef UNV
/* 2x32 (8 accumulators + 4 B vectors + 1 broadcast), indirect B only */
#define UMR 2
#define UNV 4
#define UKR_NAME fnn_ukr_avx2_f32_m2_ib
#define UKR_BOFF 1
#include "gemm_ukr.inc"
#undef UKR_BOFF
#undef UKR_NAME
#undef UMR
#undef UNV
#undef T
#undef V
#undef VL
#undef V_ZERO
#undef V_LOAD
#undef V_STORE
#undef V_BCAST
#undef V_SET1
#undef V_FMA
#undef V_MUL

#define V_ZERO() _mm256_setzero_pd()
#define V_LOAD(p) _mm256_loadu_pd(p)
#define V_STORE(p, v) _mm256_storeu_pd((p), (v))
#define V_BCAST(p) _mm256_broadcast_sd(p)
#define V_SET1(x) _mm256_set1_pd(x)
#define V_FMA(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#define V_MUL(a, b) _mm256_mul_pd((a), (b))
#define T double
#define V __m256d
#define VL 4
#define UMR 6
#define UNV 2
#define UKR_NAME fnn_ukr_avx2_f64
#include "gemm_ukr.inc"
#undef UKR_NAME
#define UKR_NAME fnn_ukr_avx2_f64_ib
#define UKR_BOFF 1
#include "gemm_ukr.inc"
#undef UKR_BOFF
#undef UKR_NAME
#undef UMR
#undef UNV
#define UMR 2
#define UNV 4
#define UKR_NAME fnn_ukr_avx2_f64_m2_ib
#define UKR_BOFF 1
#include "gemm_ukr.inc"
#undef UKR_BOFF
#undef UKR_NAME
#undef UMR
#undef UNV
#undef T
#undef V
#undef VL
#undef V_ZERO
#undef V_LOAD
#undef V_STORE
#undef V_BCAST
#undef V_SET1
#undef V_FMA
#undef V_MUL

const fnn_gemm_desc_f32 fnn_gemm_desc_avx2_f32 = {6, 16, 144, 256, 3072, fnn_ukr_avx2_f32, fnn_ukr_avx2_f32_ib,
                                                   2, 32, fnn_ukr_avx2_f32_m2_ib};
const fnn_gemm_desc_f64 fnn_gemm_desc_avx2_f64 = {6, 8, 96, 256, 1536, fnn_ukr_avx2_f64, fnn_ukr_avx2_f64_ib,
                                                   2, 16, fnn_ukr_avx2_f64_m2_ib};

/* ----------------------------------------------------------- AVX-512 (zmm) */

/* The 512-bit register block: 12 rows x 2 zmm (12x32 f32, 12x16 f64) = 24
 * accumulators + 2 B vectors + 1 broadcast of the 32 zmm.  kc = 192 keeps
 * the kc x 32 B micro-panel (24 KiB) in a 32-48 KiB L1. */
#define AVX512_MR 12
#define AVX512_NV 2
#define AVX512_MC 240
#define AVX512_KC 192

#undef UKR_ATTR
#define UKR_ATTR __attribute__((target("avx512f")))
#define V_ZERO() _mm512_setzero_ps()
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps((p), (v))
#define V_BCAST(p) _mm512_set1_ps(*(p))
#define V_SET1(x) _mm512_set1_ps(x)
#define V_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define V_MUL(a, b) _mm512_mul_ps((a), (b))
#define T float
#define V __m512
#define VL 16
#define UMR AVX512_MR
#define UNV AVX512_NV
#define UKR_NAME fnn_ukr_avx512_f32
#include "gemm_ukr.inc"
#undef UKR_NAME
#define UKR_NAME fnn_ukr_avx512_f32_ib
#define UKR_BOFF 1
#include "gemm_ukr.inc"
#undef UKR_BOFF
#undef UKR_NAME
#undef T
#undef V
#undef VL
#undef V_ZERO
#undef V_LOAD
#undef V_STORE
#undef V_BCAST
#undef V_SET1
#undef V_FMA
#undef V_MUL

#define V_ZERO() _mm512_setzero_pd()
#define V_LOAD(p) _mm512_loadu_pd(p)
#define V_STORE(p, v) _mm512_storeu_pd((p), (v))
#define V_BCAST(p) _mm512_set1_pd(*(p))
#define V_SET1(x) _mm512_set1_pd(x)
#define V_FMA(a, b, c) _mm512_fmadd_pd((a), (b), (c))
#define V_MUL(a, b) _mm512_mul_pd((a), (b))
#define T double
#define V __m512d
#define VL 8
#define UKR_NAME fnn_ukr_avx512_f64
#include "gemm_ukr.inc"
#undef UKR_NAME
#define UKR_NAME fnn_ukr_avx512_f64_ib
#define UKR_BOFF 1
#include "gemm_ukr.inc"
#undef UKR_BOFF
#undef UKR_NAME
#undef T
#undef V
#undef VL
#undef V_ZERO
#undef V_LOAD
#undef V_STORE
#undef V_BCAST
#undef V_SET1
#undef V_FMA
#undef V_MUL

const fnn_gemm_desc_f32 fnn_gemm_desc_avx512_f32 = {
    AVX512_MR, AVX512_NV * 16, AVX512_MC, AVX512_KC, 4096, fnn_ukr_avx512_f32, fnn_ukr_avx512_f32_ib};
const fnn_gemm_desc_f64 fnn_gemm_desc_avx512_f64 = {
    AVX512_MR, AVX512_NV * 8, AVX512_MC, AVX512_KC, 2048, fnn_ukr_avx512_f64, fnn_ukr_avx512_f64_ib};

/* ------------------------- the AVX-512 body compiled for AVX2 (testing) */

typedef struct { __m256 lo, hi; } fnn_sim_ps;
typedef struct { __m256d lo, hi; } fnn_sim_pd;
#define SIM_FN static inline __attribute__((target("avx2,fma"), always_inline))
SIM_FN fnn_sim_ps sim_zero_ps(void) { fnn_sim_ps r = {_mm256_setzero_ps(), _mm256_setzero_ps()}; return r; }
SIM_FN fnn_sim_ps sim_load_ps(const float *p) { fnn_sim_ps r = {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; return r; }
SIM_FN void sim_store_ps(float *p, fnn_sim_ps v) { _mm256_storeu_ps(p, v.lo); _mm256_storeu_ps(p + 8, v.hi); }
SIM_FN fnn_sim_ps sim_set1_ps(float x) { fnn_sim_ps r = {_mm256_set1_ps(x), _mm256_set1_ps(x)}; return r; }
SIM_FN fnn_sim_ps sim_fma_ps(fnn_sim_ps a, fnn_sim_ps b, fnn_sim_ps c) {
    fnn_sim_ps r = {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)}; return r; }
SIM_FN fnn_sim_ps sim_mul_ps(fnn_sim_ps a, fnn_sim_ps b) {
    fnn_sim_ps r = {_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)}; return r; }
SIM_FN fnn_sim_pd sim_zero_pd(void) { fnn_sim_pd r = {_mm256_setzero_pd(), _mm256_setzero_pd()}; return r; }
SIM_FN fnn_sim_pd sim_load_pd(const double *p) { fnn_sim_pd r = {_mm256_loadu_pd(p), _mm256_loadu_pd(p + 4)}; return r; }
SIM_FN void sim_store_pd(double *p, fnn_sim_pd v) { _mm256_storeu_pd(p, v.lo); _mm256_storeu_pd(p + 4, v.hi); }
SIM_FN fnn_sim_pd sim_set1_pd(double x) { fnn_sim_pd r = {_mm256_set1_pd(x), _mm256_set1_pd(x)}; return r; }
SIM_FN fnn_sim_pd sim_fma_pd(fnn_sim_pd a, fnn_sim_pd b, fnn_sim_pd c) {
    fnn_sim_pd r = {_mm256_fmadd_pd(a.lo, b.lo, c.lo), _mm256_fmadd_pd(a.hi, b.hi, c.hi)}; return r; }
SIM_FN fnn_sim_pd sim_mul_pd(fnn_sim_pd a, fnn_sim_pd b) {
    fnn_sim_pd r = {_mm256_mul_pd(a.lo, b.lo), _mm256_mul_pd(a.hi, b.hi)}; return r; }

#undef UKR_ATTR
#define UKR_ATTR __attribute__((target("avx2,fma")))
#define V_ZERO() sim_zero_ps()
#define V_LOAD(p) sim_load_ps(p)
#define V_STORE(p, v) sim_store_ps((p), (v))
#define V_BCAST(p) sim_set1_ps(*(p))
#define V_SET1(x) sim_set1_ps(x)
#define V_FMA(a, b, c) sim_fma_ps((a), (b), (c))
#define V_MUL(a, b) sim_mul_ps((a), (b))
#define T float
#define V fnn_sim_ps
#define VL 16
#define UKR_NAME fnn_ukr_avx512sim_f32
#include "gemm_ukr.inc"
#undef UKR_NAME
#define UKR_NAME fnn_ukr_avx512sim_f32_ib
#define UKR_BOFF 1
#include "gemm_ukr.inc"
#undef UKR_BOFF
#undef UKR_NAME
#undef T
#undef V
#undef VL
#undef V_ZERO
#undef V_LOAD
#undef V_STORE
#undef V_BCAST
#undef V_SET1
#undef V_FMA
#undef V_MUL

#define V_ZERO() sim_zero_pd()
#define V_LOAD(p) sim_load_pd(p)
#define V_STORE(p, v) sim_store_pd((p), (v))
#define V_BCAST(p) sim_set1_pd(*(p))
#define V_SET1(x) sim_set1_pd(x)
#define V_FMA(a, b, c) sim_fma_pd((a), (b), (c))
#define V_MUL(a, b) sim_mul_pd((a), (b))
#define T double
#define V fnn_sim_pd
#define VL 8
#define UKR_NAME fnn_ukr_avx512sim_f64
#include "gemm_ukr.inc"
#undef UKR_NAME
#define UKR_NAME fnn_ukr_avx512sim_f64_ib
#define UKR_BOFF 1
#include "gemm_ukr.inc"
#undef UKR_BOFF
#undef UKR_NAME
#undef T
#undef V
#undef VL
#undef UMR
#undef UNV
#undef UKR_ATTR

const fnn_gemm_desc_f32 fnn_gemm_desc_avx512sim_f32 = {
    AVX512_MR, AVX512_NV * 16, AVX512_MC, AVX512_KC, 4096, fnn_ukr_avx512sim_f32, fnn_ukr_avx512sim_f32_ib};
const fnn_gemm_desc_f64 fnn_gemm_desc_avx512sim_f64 = {
    AVX512_MR, AVX512_NV * 8, AVX512_MC, AVX512_KC, 2048, fnn_ukr_avx512sim_f64, fnn_ukr_avx512sim_f64_ib};
#endif
