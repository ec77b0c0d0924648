/* gemm.c -- fnn_gemm_f32 / fnn_gemm_f64 and the run-time choice of
 * kernel path (see gemm.h, gemm.inc, gemm_kernels.h). */
#include "gemm.h"
#include "gemm_kernels.h"
#include "gemm_small.h"

/* Path codes: 0 portable, 1 AVX2+FMA, 2 AVX-512, 3 the AVX-512 kernels
 * emulated with AVX2 (testing only; never chosen automatically). */
static int g_isa = -1;   /* -1: not chosen yet */
static const fnn_gemm_desc_f32 *g_desc_f32 = &fnn_gemm_desc_portable_f32;
static const fnn_gemm_desc_f64 *g_desc_f64 = &fnn_gemm_desc_portable_f64;

static int cpu_has_avx2(void) {
#ifdef FNN_HAVE_X86_KERNELS
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int fnn_gemm_cpu_best_isa(void) {
#ifdef FNN_HAVE_X86_KERNELS
    if (!cpu_has_avx2()) return 0;
    if (__builtin_cpu_supports("avx512f")) return 2;
    return 1;
#else
    return 0;
#endif
}

int fnn_gemm_set_isa(int isa) {
    int best = fnn_gemm_cpu_best_isa();
    if (isa == 3) {
        if (!cpu_has_avx2()) isa = best;
    } else if (isa < 0 || isa > best) {
        isa = best;
    }
    const fnn_gemm_desc_f32 *d32 = &fnn_gemm_desc_portable_f32;
    const fnn_gemm_desc_f64 *d64 = &fnn_gemm_desc_portable_f64;
#ifdef FNN_HAVE_X86_KERNELS
    if (isa == 1) { d32 = &fnn_gemm_desc_avx2_f32; d64 = &fnn_gemm_desc_avx2_f64; }
    if (isa == 2) { d32 = &fnn_gemm_desc_avx512_f32; d64 = &fnn_gemm_desc_avx512_f64; }
    if (isa == 3) { d32 = &fnn_gemm_desc_avx512sim_f32; d64 = &fnn_gemm_desc_avx512sim_f64; }
#endif
    g_desc_f32 = d32;
    g_desc_f64 = d64;
    g_isa = isa;
    return isa;
}

static int g_direct = 1;

int fnn_gemm_set_direct(int on) {
    int old = g_direct;
    if (on >= 0) g_direct = on != 0;
    return old;
}

int fnn_gemm_get_isa(void) {
    if (g_isa < 0) fnn_gemm_set_isa(-1);
    return g_isa;
}

static const fnn_gemm_desc_f32 *active_desc_f32(void) {
    if (g_isa < 0) fnn_gemm_set_isa(-1);
    return g_desc_f32;
}

static const fnn_gemm_desc_f64 *active_desc_f64(void) {
    if (g_isa < 0) fnn_gemm_set_isa(-1);
    return g_desc_f64;
}

const fnn_gemm_desc_f32 *fnn_gemm_active_desc_f32(void) { return active_desc_f32(); }
const fnn_gemm_desc_f64 *fnn_gemm_active_desc_f64(void) { return active_desc_f64(); }

int fnn_gemm_get_blocking(int dtype, int64_t *out) {
    if (dtype == 0) {
        const fnn_gemm_desc_f32 *d = active_desc_f32();
        out[0] = d->mr; out[1] = d->nr; out[2] = d->mc; out[3] = d->kc; out[4] = d->nc;
    } else if (dtype == 1) {
        const fnn_gemm_desc_f64 *d = active_desc_f64();
        out[0] = d->mr; out[1] = d->nr; out[2] = d->mc; out[3] = d->kc; out[4] = d->nc;
    } else {
        return FNN_EINVAL;
    }
    return FNN_OK;
}

#ifdef FNN_HAVE_X86_KERNELS
#define FNN_ALL_DESCS_(SFX)                                                    \
    {&fnn_gemm_desc_portable_##SFX, &fnn_gemm_desc_avx2_##SFX,                 \
     &fnn_gemm_desc_avx512_##SFX, &fnn_gemm_desc_avx512sim_##SFX}
#else
#define FNN_ALL_DESCS_(SFX) {&fnn_gemm_desc_portable_##SFX}
#endif

#define FNN_ALL_DESCS(SFX) FNN_ALL_DESCS_(SFX)

/* K-split path (gemm.h): the number of K chunks, 0 when not taken. */
static int64_t ks_chunks(int64_t M, int64_t N, int64_t K) {
    if (M > FNN_GEMM_KS_MN_MAX || N > FNN_GEMM_KS_MN_MAX) return 0;   /* (no overflow) */
    const int64_t mn = M * N, mx = M > N ? M : N;
    if (mn <= 0 || mn > FNN_GEMM_KS_MN_MAX || K < FNN_GEMM_KS_K_MIN ||
        K / FNN_GEMM_KS_K_RATIO < mx)
        return 0;
    int64_t nch = FNN_GEMM_KS_CHUNKS;
    if (nch > K / FNN_GEMM_KS_CHUNK_MIN) nch = K / FNN_GEMM_KS_CHUNK_MIN;
    if (nch > 1 + FNN_GEMM_KS_PART / mn) nch = 1 + FNN_GEMM_KS_PART / mn;
    return nch >= 2 ? nch : 0;
}

int fnn_gemm_ksplit_chunks(int64_t M, int64_t N, int64_t K) {
    if (M < 0 || N < 0 || K < 0) return 0;
    return (int)ks_chunks(M, N, K);
}

/* Packing helpers with SSE (part of the x86-64 baseline): the first columns
 * of an MR-row micro-panel from MR rows of a row-major A, four k steps at a
 * time by 4x4 transposes.  Return how many k steps they did (the generic
 * loop in gemm.inc does the rest). */
#if defined(__SSE2__)
#include <emmintrin.h>
static int64_t pack_rows_simd_f32(int MR, const float *s, int64_t lda, int64_t kc,
                                  float *RESTRICT d) {
    if (MR != 6) return 0;
    const float *r0 = s, *r1 = s + lda, *r2 = s + 2 * lda, *r3 = s + 3 * lda,
                *r4 = s + 4 * lda, *r5 = s + 5 * lda;
    int64_t p = 0;
    for (; p + 4 <= kc; p += 4, d += 24) {
        __m128 a0 = _mm_loadu_ps(r0 + p), a1 = _mm_loadu_ps(r1 + p);
        __m128 a2 = _mm_loadu_ps(r2 + p), a3 = _mm_loadu_ps(r3 + p);
        __m128 a4 = _mm_loadu_ps(r4 + p), a5 = _mm_loadu_ps(r5 + p);
        _MM_TRANSPOSE4_PS(a0, a1, a2, a3);          /* a_k = rows 0-3 at p+k */
        __m128 lo = _mm_unpacklo_ps(a4, a5);       /* r4p0 r5p0 r4p1 r5p1 */
        __m128 hi = _mm_unpackhi_ps(a4, a5);       /* r4p2 r5p2 r4p3 r5p3 */
        _mm_storeu_ps(d, a0);
        _mm_storel_pi((__m64 *)(d + 4), lo);
        _mm_storeu_ps(d + 6, a1);
        _mm_storeh_pi((__m64 *)(d + 10), lo);
        _mm_storeu_ps(d + 12, a2);
        _mm_storel_pi((__m64 *)(d + 16), hi);
        _mm_storeu_ps(d + 18, a3);
        _mm_storeh_pi((__m64 *)(d + 22), hi);
    }
    return p;
}

/* The same for a transposed B: NR (16) rows of B (the panel's columns of
 * op(B)), four k steps at a time, written as d[p*16 + j]. */
static int64_t pack_tcols_simd_f32(int NR, const float *s, int64_t ldb, int64_t kc,
                                   float *RESTRICT d) {
    if (NR != 16) return 0;
    int64_t p = 0;
    for (; p + 4 <= kc; p += 4, d += 64) {
        for (int jb = 0; jb < 16; jb += 4) {
            const float *r = s + jb * ldb + p;
            __m128 a0 = _mm_loadu_ps(r), a1 = _mm_loadu_ps(r + ldb);
            __m128 a2 = _mm_loadu_ps(r + 2 * ldb), a3 = _mm_loadu_ps(r + 3 * ldb);
            _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
            _mm_storeu_ps(d + jb, a0);
            _mm_storeu_ps(d + 16 + jb, a1);
            _mm_storeu_ps(d + 32 + jb, a2);
            _mm_storeu_ps(d + 48 + jb, a3);
        }
    }
    return p;
}
#else
static int64_t pack_rows_simd_f32(int MR, const float *s, int64_t lda, int64_t kc,
                                  float *RESTRICT d) {
    (void)MR; (void)s; (void)lda; (void)kc; (void)d;
    return 0;
}
static int64_t pack_tcols_simd_f32(int NR, const float *s, int64_t ldb, int64_t kc,
                                   float *RESTRICT d) {
    (void)NR; (void)s; (void)ldb; (void)kc; (void)d;
    return 0;
}
#endif
static int64_t pack_tcols_simd_f64(int NR, const double *s, int64_t ldb, int64_t kc,
                                   double *RESTRICT d) {
    (void)NR; (void)s; (void)ldb; (void)kc; (void)d;
    return 0;
}
static int64_t pack_rows_simd_f64(int MR, const double *s, int64_t lda, int64_t kc,
                                  double *RESTRICT d) {
    (void)MR; (void)s; (void)lda; (void)kc; (void)d;
    return 0;
}

#define T float
#define SFX f32
#define DESC fnn_gemm_desc_f32
#define ACTIVE_DESC active_desc_f32
#include "gemm.inc"
#undef T
#undef SFX
#undef DESC
#undef ACTIVE_DESC

#define T double
#define SFX f64
#define DESC fnn_gemm_desc_f64
#define ACTIVE_DESC active_desc_f64
#include "gemm.inc"
