/* gemm_kernels.c -- micro-kernels and per-path descriptors (see
 * gemm_kernels.h for the contract), and the choice of path from cpuid.
 *
 * Every kernel is the one body of gemm_ukr.inc, compiled per path and dtype
 * on that path's vectors: the portable kernel on the GCC vector extension
 * (16 bytes, the x86-64 baseline's SSE2; a multiply and an add), the
 * AVX2+FMA and AVX-512 kernels on intrinsics with a per-function target
 * attribute, only ever called when cpuid says the CPU has the
 * instructions, so the shipped build runs on any x86-64.
 */
#include <string.h>
#include "gemm_kernels.h"
#include "fnn_generic.h"
#ifdef FNN_HAVE_X86_KERNELS
#include <immintrin.h>
#endif

/* How many k steps ahead the kernels prefetch the packed A panel. */
#ifndef UKR_PF_A
#define UKR_PF_A 8
#endif

/* The vector operations of every path, from the intrinsics' names: VP is
 * the path's prefix (pv for portable, _mm256, _mm512, sim), VS the packed
 * suffix (f32 / f64 for portable, ps / pd). */
#define V_ZERO() FNN_CAT(FNN_CAT(VP, setzero), VS)()
#define V_LOAD(p) FNN_CAT(FNN_CAT(VP, loadu), VS)(p)
#define V_STORE(p, v) FNN_CAT(FNN_CAT(VP, storeu), VS)((p), (v))
#define V_BCAST(p) FNN_CAT(FNN_CAT(VP, set1), VS)(*(p))
#define V_SET1(x) FNN_CAT(FNN_CAT(VP, set1), VS)(x)
#define V_FMA(a, b, c) FNN_CAT(FNN_CAT(VP, fmadd), VS)((a), (b), (c))
#define V_MUL(a, b) FNN_CAT(FNN_CAT(VP, mul), VS)((a), (b))

/* ---------------------------------------------------------------- portable */

/* 16-byte vectors of the GCC vector extension; "fmadd" is a multiply and an
 * add (the baseline has no FMA; setup.py compiles without contraction) */
typedef float fnn_pv_f32 __attribute__((vector_size(16)));
typedef double fnn_pv_f64 __attribute__((vector_size(16)));
static inline fnn_pv_f32 pv_setzero_f32(void) { return (fnn_pv_f32){0}; }
static inline fnn_pv_f64 pv_setzero_f64(void) { return (fnn_pv_f64){0}; }
static inline fnn_pv_f32 pv_loadu_f32(const float *p) { fnn_pv_f32 v; memcpy(&v, p, sizeof v); return v; }
static inline fnn_pv_f64 pv_loadu_f64(const double *p) { fnn_pv_f64 v; memcpy(&v, p, sizeof v); return v; }
static inline void pv_storeu_f32(float *p, fnn_pv_f32 v) { memcpy(p, &v, sizeof v); }
static inline void pv_storeu_f64(double *p, fnn_pv_f64 v) { memcpy(p, &v, sizeof v); }
static inline fnn_pv_f32 pv_set1_f32(float x) { return (fnn_pv_f32){x, x, x, x}; }
static inline fnn_pv_f64 pv_set1_f64(double x) { return (fnn_pv_f64){x, x}; }
static inline fnn_pv_f32 pv_fmadd_f32(fnn_pv_f32 a, fnn_pv_f32 b, fnn_pv_f32 c) { return a * b + c; }
static inline fnn_pv_f64 pv_fmadd_f64(fnn_pv_f64 a, fnn_pv_f64 b, fnn_pv_f64 c) { return a * b + c; }
static inline fnn_pv_f32 pv_mul_f32(fnn_pv_f32 a, fnn_pv_f32 b) { return a * b; }
static inline fnn_pv_f64 pv_mul_f64(fnn_pv_f64 a, fnn_pv_f64 b) { return a * b; }

#define UKR_ATTR
#define VP pv
#define UMR 6
#define UNV 4
/* 6x16 */
#define T float
#define V fnn_pv_f32
#define VS f32
#define VL 4
#define UKR_NAME fnn_ukr_portable_f32
#include "gemm_ukr.inc"
#undef T
#undef V
#undef VS
#undef VL
/* 6x8 */
#define T double
#define V fnn_pv_f64
#define VS f64
#define VL 2
#define UKR_NAME fnn_ukr_portable_f64
#include "gemm_ukr.inc"
#undef T
#undef V
#undef VS
#undef VL
#undef UMR
#undef UNV
#undef VP
#undef UKR_ATTR

static const fnn_gemm_desc_f32 desc_portable_f32 = {
    .mr = 6, .nr = 16, .mc = 144, .kc = 256, .nc = 3072,
    .ukr = fnn_ukr_portable_f32, .ukri = fnn_ukr_portable_f32_ib};
static const fnn_gemm_desc_f64 desc_portable_f64 = {
    .mr = 6, .nr = 8, .mc = 96, .kc = 256, .nc = 1536,
    .ukr = fnn_ukr_portable_f64, .ukri = fnn_ukr_portable_f64_ib};

#ifdef FNN_HAVE_X86_KERNELS
/* -------------------------------------------------------- AVX2 + FMA (ymm) */

#define UKR_ATTR __attribute__((target("avx2,fma")))
#define VP _mm256
/* 6x16 f32, 6x8 f64: 12 accumulators + 2 B vectors + 1 broadcast of the
 * 16 ymm; 2x32, 2x16 (8 accumulators + 4 B vectors + 1 broadcast),
 * indirect B only (the descriptors' small kernel) */
#define T float
#define V __m256
#define VS ps
#define VL 8
#define UMR 6
#define UNV 2
#define UKR_NAME fnn_ukr_avx2_f32
#include "gemm_ukr.inc"
#undef UMR
#undef UNV
#define UMR 2
#define UNV 4
#define UKR_NAME fnn_ukr_avx2_f32_m2
#define UKR_IB_ONLY
#include "gemm_ukr.inc"
#undef UMR
#undef UNV
#undef T
#undef V
#undef VS
#undef VL

#define T double
#define V __m256d
#define VS pd
#define VL 4
#define UMR 6
#define UNV 2
#define UKR_NAME fnn_ukr_avx2_f64
#include "gemm_ukr.inc"
#undef UMR
#undef UNV
#define UMR 2
#define UNV 4
#define UKR_NAME fnn_ukr_avx2_f64_m2
#define UKR_IB_ONLY
#include "gemm_ukr.inc"
#undef UMR
#undef UNV
#undef T
#undef V
#undef VS
#undef VL
#undef VP
#undef UKR_ATTR

static const fnn_gemm_desc_f32 desc_avx2_f32 = {
    .mr = 6, .nr = 16, .mc = 144, .kc = 256, .nc = 3072,
    .ukr = fnn_ukr_avx2_f32, .ukri = fnn_ukr_avx2_f32_ib,
    .mr_s = 2, .nr_s = 32, .ukri_s = fnn_ukr_avx2_f32_m2_ib};
static const fnn_gemm_desc_f64 desc_avx2_f64 = {
    .mr = 6, .nr = 8, .mc = 96, .kc = 256, .nc = 1536,
    .ukr = fnn_ukr_avx2_f64, .ukri = fnn_ukr_avx2_f64_ib,
    .mr_s = 2, .nr_s = 16, .ukri_s = fnn_ukr_avx2_f64_m2_ib};

/* ------------------------------------------- AVX-512 (zmm), and emulated */

/* The 512-bit register block: 12 rows x 2 zmm (12x32 f32, 12x16 f64) = 24
 * accumulators + 2 B vectors + 1 broadcast of the 32 zmm.  kc = 192 keeps
 * the kc x 32 B micro-panel (24 KiB) in a 32-48 KiB L1. */
#define UMR 12
#define UNV 2

#define UKR_ATTR __attribute__((target("avx512f")))
#define VP _mm512
#define T float
#define V __m512
#define VS ps
#define VL 16
#define UKR_NAME fnn_ukr_avx512_f32
#include "gemm_ukr.inc"
#undef T
#undef V
#undef VS
#undef VL
#define T double
#define V __m512d
#define VS pd
#define VL 8
#define UKR_NAME fnn_ukr_avx512_f64
#include "gemm_ukr.inc"
#undef T
#undef V
#undef VS
#undef VL
#undef VP
#undef UKR_ATTR

/* The AVX-512 body compiled for AVX2 (testing only): each 512-bit vector
 * is two 256-bit ones, the operations named as the intrinsics (sim_*). */
typedef struct { __m256 lo, hi; } fnn_sim_ps;
typedef struct { __m256d lo, hi; } fnn_sim_pd;
#define SIM_FN static inline __attribute__((target("avx2,fma"), always_inline))
SIM_FN fnn_sim_ps sim_setzero_ps(void) { fnn_sim_ps r = {_mm256_setzero_ps(), _mm256_setzero_ps()}; return r; }
SIM_FN fnn_sim_ps sim_loadu_ps(const float *p) { fnn_sim_ps r = {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; return r; }
SIM_FN void sim_storeu_ps(float *p, fnn_sim_ps v) { _mm256_storeu_ps(p, v.lo); _mm256_storeu_ps(p + 8, v.hi); }
SIM_FN fnn_sim_ps sim_set1_ps(float x) { fnn_sim_ps r = {_mm256_set1_ps(x), _mm256_set1_ps(x)}; return r; }
SIM_FN fnn_sim_ps sim_fmadd_ps(fnn_sim_ps a, fnn_sim_ps b, fnn_sim_ps c) {
    fnn_sim_ps r = {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)}; return r; }
SIM_FN fnn_sim_ps sim_mul_ps(fnn_sim_ps a, fnn_sim_ps b) {
    fnn_sim_ps r = {_mm256_mul_ps(a.lo, b.lo), _mm256_mul_ps(a.hi, b.hi)}; return r; }
SIM_FN fnn_sim_pd sim_setzero_pd(void) { fnn_sim_pd r = {_mm256_setzero_pd(), _mm256_setzero_pd()}; return r; }
SIM_FN fnn_sim_pd sim_loadu_pd(const double *p) { fnn_sim_pd r = {_mm256_loadu_pd(p), _mm256_loadu_pd(p + 4)}; return r; }
SIM_FN void sim_storeu_pd(double *p, fnn_sim_pd v) { _mm256_storeu_pd(p, v.lo); _mm256_storeu_pd(p + 4, v.hi); }
SIM_FN fnn_sim_pd sim_set1_pd(double x) { fnn_sim_pd r = {_mm256_set1_pd(x), _mm256_set1_pd(x)}; return r; }
SIM_FN fnn_sim_pd sim_fmadd_pd(fnn_sim_pd a, fnn_sim_pd b, fnn_sim_pd c) {
    fnn_sim_pd r = {_mm256_fmadd_pd(a.lo, b.lo, c.lo), _mm256_fmadd_pd(a.hi, b.hi, c.hi)}; return r; }
SIM_FN fnn_sim_pd sim_mul_pd(fnn_sim_pd a, fnn_sim_pd b) {
    fnn_sim_pd r = {_mm256_mul_pd(a.lo, b.lo), _mm256_mul_pd(a.hi, b.hi)}; return r; }

#define UKR_ATTR __attribute__((target("avx2,fma")))
#define VP sim
#define T float
#define V fnn_sim_ps
#define VS ps
#define VL 16
#define UKR_NAME fnn_ukr_avx512sim_f32
#include "gemm_ukr.inc"
#undef T
#undef V
#undef VS
#undef VL
#define T double
#define V fnn_sim_pd
#define VS pd
#define VL 8
#define UKR_NAME fnn_ukr_avx512sim_f64
#include "gemm_ukr.inc"
#undef T
#undef V
#undef VS
#undef VL
#undef VP
#undef UKR_ATTR
#undef UMR
#undef UNV

/* the AVX-512 blocking, shared by its emulation */
#define AVX512_F32 .mr = 12, .nr = 32, .mc = 240, .kc = 192, .nc = 4096
#define AVX512_F64 .mr = 12, .nr = 16, .mc = 240, .kc = 192, .nc = 2048
static const fnn_gemm_desc_f32 desc_avx512_f32 = {
    AVX512_F32, .ukr = fnn_ukr_avx512_f32, .ukri = fnn_ukr_avx512_f32_ib};
static const fnn_gemm_desc_f64 desc_avx512_f64 = {
    AVX512_F64, .ukr = fnn_ukr_avx512_f64, .ukri = fnn_ukr_avx512_f64_ib};
static const fnn_gemm_desc_f32 desc_avx512sim_f32 = {
    AVX512_F32, .ukr = fnn_ukr_avx512sim_f32, .ukri = fnn_ukr_avx512sim_f32_ib};
static const fnn_gemm_desc_f64 desc_avx512sim_f64 = {
    AVX512_F64, .ukr = fnn_ukr_avx512sim_f64, .ukri = fnn_ukr_avx512sim_f64_ib};
#undef AVX512_F32
#undef AVX512_F64
#endif
#undef V_ZERO
#undef V_LOAD
#undef V_STORE
#undef V_BCAST
#undef V_SET1
#undef V_FMA
#undef V_MUL

/* ----------------------------------------------------- the path table */

const fnn_gemm_desc_f32 *fnn_gemm_kernels_f32(int isa) {
#ifdef FNN_HAVE_X86_KERNELS
    if (isa == FNN_GEMM_AVX2) return &desc_avx2_f32;
    if (isa == FNN_GEMM_AVX512) return &desc_avx512_f32;
    if (isa == FNN_GEMM_AVX512SIM) return &desc_avx512sim_f32;
#endif
    (void)isa;
    return &desc_portable_f32;
}

const fnn_gemm_desc_f64 *fnn_gemm_kernels_f64(int isa) {
#ifdef FNN_HAVE_X86_KERNELS
    if (isa == FNN_GEMM_AVX2) return &desc_avx2_f64;
    if (isa == FNN_GEMM_AVX512) return &desc_avx512_f64;
    if (isa == FNN_GEMM_AVX512SIM) return &desc_avx512sim_f64;
#endif
    (void)isa;
    return &desc_portable_f64;
}

static int cpu_has_avx2(void) {
#ifdef FNN_HAVE_X86_KERNELS
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static int cpu_best_isa(void) {
#ifdef FNN_HAVE_X86_KERNELS
    if (!cpu_has_avx2()) return FNN_GEMM_PORTABLE;
    if (__builtin_cpu_supports("avx512f")) return FNN_GEMM_AVX512;
    return FNN_GEMM_AVX2;
#else
    return FNN_GEMM_PORTABLE;
#endif
}

/* The cpuid answer, cached (the GEMM's one global: every thread that fills
 * it writes the same value). */
static int g_best_isa = -1;

int fnn_gemm_cpu_best_isa(void) {
    int best = __atomic_load_n(&g_best_isa, __ATOMIC_RELAXED);
    if (best < 0) {
        best = cpu_best_isa();
        __atomic_store_n(&g_best_isa, best, __ATOMIC_RELAXED);
    }
    return best;
}

int fnn_gemm_resolve_isa(int isa) {
    const int best = fnn_gemm_cpu_best_isa();
    if (isa == FNN_GEMM_AVX512SIM) return best >= FNN_GEMM_AVX2 ? isa : best;
    return isa < 0 || isa > best ? best : isa;
}

int fnn_gemm_get_blocking(int isa, int dtype, int64_t *out) {
    isa = fnn_gemm_resolve_isa(isa);
    if (dtype == 0) {
        const fnn_gemm_desc_f32 *d = fnn_gemm_kernels_f32(isa);
        out[0] = d->mr; out[1] = d->nr; out[2] = d->mc; out[3] = d->kc; out[4] = d->nc;
    } else if (dtype == 1) {
        const fnn_gemm_desc_f64 *d = fnn_gemm_kernels_f64(isa);
        out[0] = d->mr; out[1] = d->nr; out[2] = d->mc; out[3] = d->kc; out[4] = d->nc;
    } else {
        return FNN_EINVAL;
    }
    return FNN_OK;
}
