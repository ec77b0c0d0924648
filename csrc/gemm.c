/* gemm.c -- fnn_gemm_ex_f32 / fnn_gemm_ex_f64 (see gemm.h, gemm.inc,
 * gemm_kernels.h): the float and double instantiations of gemm.inc, the
 * K-split rule and the SSE packing helpers. */
#include <string.h>
#include "gemm.h"
#include "gemm_kernels.h"
#include "gemm_small.h"
#include "fnn_generic.h"

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
 * of an MR-row micro-panel (MR = 4q or 4q + 2: 6, 8, 12 and 14 are used)
 * from MR rows of a row-major A, four k steps at a time by 4x4 transposes.
 * Return how many k steps they did (the generic loop in gemm.inc, or the
 * caller of fnn_gemm_pack_rows, does the rest). */
#if defined(__SSE2__)
#include <emmintrin.h>
static int64_t pack_rows_simd_f32(int MR, const float *s, int64_t lda, int64_t kc,
                                  float *RESTRICT d) {
    /* MR = 4q or 4q + 2 rows: q groups of four rows by 4x4 transposes,
     * then a pair by unpacks */
    if (MR < 4 || (MR % 4 != 0 && MR % 4 != 2)) return 0;
    const int q = MR / 4, pair = MR % 4 == 2;
    int64_t p = 0;
    for (; p + 4 <= kc; p += 4, d += 4 * MR) {
        for (int g = 0; g < q; g++) {
            const float *r = s + 4 * g * lda + p;
            __m128 a0 = _mm_loadu_ps(r), a1 = _mm_loadu_ps(r + lda);
            __m128 a2 = _mm_loadu_ps(r + 2 * lda), a3 = _mm_loadu_ps(r + 3 * lda);
            _MM_TRANSPOSE4_PS(a0, a1, a2, a3);      /* a_k = rows 4g..4g+3 at p+k */
            _mm_storeu_ps(d + 4 * g, a0);
            _mm_storeu_ps(d + MR + 4 * g, a1);
            _mm_storeu_ps(d + 2 * MR + 4 * g, a2);
            _mm_storeu_ps(d + 3 * MR + 4 * g, a3);
        }
        if (pair) {
            const float *r = s + 4 * q * lda + p;
            __m128 a4 = _mm_loadu_ps(r), a5 = _mm_loadu_ps(r + lda);
            __m128 lo = _mm_unpacklo_ps(a4, a5);    /* r4p0 r5p0 r4p1 r5p1 */
            __m128 hi = _mm_unpackhi_ps(a4, a5);    /* r4p2 r5p2 r4p3 r5p3 */
            _mm_storel_pi((__m64 *)(d + 4 * q), lo);
            _mm_storeh_pi((__m64 *)(d + MR + 4 * q), lo);
            _mm_storel_pi((__m64 *)(d + 2 * MR + 4 * q), hi);
            _mm_storeh_pi((__m64 *)(d + 3 * MR + 4 * q), hi);
        }
    }
    return p;
}

/* The same for a transposed B: NR (8, 16 or 32) rows of B (the panel's
 * columns of op(B)), four k steps at a time, written as d[p*NR + j]. */
static int64_t pack_tcols_simd_f32(int NR, const float *s, int64_t ldb, int64_t kc,
                                   float *RESTRICT d) {
    if (NR != 8 && NR != 16 && NR != 32) return 0;
    int64_t p = 0;
    for (; p + 4 <= kc; p += 4, d += 4 * NR) {
        for (int jb = 0; jb < NR; jb += 4) {
            const float *r = s + jb * ldb + p;
            __m128 a0 = _mm_loadu_ps(r), a1 = _mm_loadu_ps(r + ldb);
            __m128 a2 = _mm_loadu_ps(r + 2 * ldb), a3 = _mm_loadu_ps(r + 3 * ldb);
            _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
            _mm_storeu_ps(d + jb, a0);
            _mm_storeu_ps(d + NR + jb, a1);
            _mm_storeu_ps(d + 2 * NR + jb, a2);
            _mm_storeu_ps(d + 3 * NR + jb, a3);
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

int64_t fnn_gemm_pack_rows_f32(int MR, const float *s, int64_t lda, int64_t kc, float *d) {
    return pack_rows_simd_f32(MR, s, lda, kc, d);
}
int64_t fnn_gemm_pack_rows_f64(int MR, const double *s, int64_t lda, int64_t kc, double *d) {
    return pack_rows_simd_f64(MR, s, lda, kc, d);
}

#define DESC FN(fnn_gemm_desc)
#define FNN_BODY "gemm.inc"
#include "fnn_instantiate.inc"
#undef DESC

/* ---- Transitional (gemm.h, issue 12): the path in force, for conv2d.inc.
 * fnn_gemm_ex never reads it. */
static int g_conv_isa = FNN_GEMM_AUTO;

int fnn_gemm_set_isa(int isa) {
    g_conv_isa = fnn_gemm_resolve_isa(isa);
    return g_conv_isa;
}

int fnn_gemm_active_isa(void) { return fnn_gemm_resolve_isa(g_conv_isa); }

const fnn_gemm_desc_f32 *fnn_gemm_active_desc_f32(void) {
    return fnn_gemm_conv_kernels_f32(fnn_gemm_resolve_isa(g_conv_isa));
}

const fnn_gemm_desc_f64 *fnn_gemm_active_desc_f64(void) {
    return fnn_gemm_conv_kernels_f64(fnn_gemm_resolve_isa(g_conv_isa));
}

int fnn_gemm_f32(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                 float *C, int64_t ldc, float *ws, int n_threads) {
    const fnn_gemm_opts o = {.isa = g_conv_isa, .direct = 1};
    return fnn_gemm_ex_f32(&o, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C,
                           ldc, ws, n_threads);
}

int fnn_gemm_f64(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                 const double *A, int64_t lda, const double *B, int64_t ldb, double beta,
                 double *C, int64_t ldc, double *ws, int n_threads) {
    const fnn_gemm_opts o = {.isa = g_conv_isa, .direct = 1};
    return fnn_gemm_ex_f64(&o, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C,
                           ldc, ws, n_threads);
}
