/* winograd.c -- float and double instantiations of winograd.inc (see
 * winograd.h for the entry points, winograd.inc for the maths). */
#include "winograd.h"
#include "conv_internal.h"
#include "gemm_kernels.h"
#include "fnn_generic.h"   /* FN, FNN_CLONES */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(FNN_NO_CLONES)
#include <immintrin.h>

/* U of the weights of MR = 8 output channels [m0, m0 + 8) (lanes past M
 * zero) and input channels [c0, c1), two channels per vector: d is the A
 * panel at position 0, channel c's 8 lanes at d[c*8], positions ups
 * apart.  The operations of wg_weight_lanes, in its order, so U is
 * bitwise the same.  0 when the offsets would not fit the gather. */
__attribute__((target("avx512f"))) static int wg_u_avx512_f32(
        const float *w, int mode, int64_t M, int64_t C, int64_t m0, int64_t c0, int64_t c1,
        int64_t ups, float *d) {
    if (9 * (C * 8 + M + 8) >= INT32_MAX) return 0;
    const int nl = (int)(M - m0 < 8 ? M - m0 : 8);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
    const __m512i half = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    /* lane j: output channel m0 + (j & 7), input channel c + (j >> 3) */
    const __m512i idx = mode == 0
        ? _mm512_mullo_epi32(_mm512_add_epi32(_mm512_mullo_epi32(lane, _mm512_set1_epi32((int)C)),
                                              half), _mm512_set1_epi32(9))
        : _mm512_mullo_epi32(_mm512_add_epi32(_mm512_mullo_epi32(half, _mm512_set1_epi32((int)M)),
                                              lane), _mm512_set1_epi32(9));
    const __mmask16 lanes = (__mmask16)(((1u << nl) - 1) | (((1u << nl) - 1) << 8));
    const __m512 hf = _mm512_set1_ps(0.5f), z = _mm512_setzero_ps();
    for (int64_t c = c0; c < c1; c += 2) {
        const __mmask16 k = c + 1 < c1 ? lanes : (__mmask16)(lanes & 0xFF);
        const float *b = mode == 0 ? w + (m0 * C + c) * 9 : w + (c * M + m0) * 9 + 8;
        if (mode == 1 && c + 9 < c1) {
            /* the two runs of 8 kernels (288 bytes each) of the pair four
             * pairs on, 2 x 9 * M values a pair apart: no stream the
             * hardware follows, and a gather's misses are not overlapped
             * (the input gradient of a 512 -> 512 layer on 4 x 4, batch
             * 16: 4.0-4.4 -> 3.7 ms; the forward's runs, along the rows of
             * w, take 3.1) */
            const char *nx = (const char *)(b + 8 * M * 9 - 8);
            for (int l = 0; l < 320; l += 64) {
                _mm_prefetch(nx + l, _MM_HINT_T0);
                _mm_prefetch(nx + (size_t)M * 36 + l, _MM_HINT_T0);
            }
        }
        __m512 v[9], t[12];
        for (int i = 0; i < 9; i++)
            v[i] = _mm512_mask_i32gather_ps(z, k, idx, b + (mode == 0 ? i : -i), 4);
        for (int s = 0; s < 3; s++) {
            const __m512 a = v[s], e = v[6 + s], bb = v[3 + s];
            t[s] = a;
            t[3 + s] = _mm512_mul_ps(hf, _mm512_add_ps(_mm512_add_ps(a, bb), e));
            t[6 + s] = _mm512_mul_ps(hf, _mm512_add_ps(_mm512_sub_ps(a, bb), e));
            t[9 + s] = e;
        }
        float *dc = d + c * 8;
        const __mmask16 st = c + 1 < c1 ? 0xFFFF : 0xFF;
        for (int r = 0; r < 4; r++) {
            const __m512 a = t[3 * r], bb = t[3 * r + 1], e = t[3 * r + 2];
            _mm512_mask_storeu_ps(dc + (4 * r) * ups, st, a);
            _mm512_mask_storeu_ps(dc + (4 * r + 1) * ups, st,
                                  _mm512_mul_ps(hf, _mm512_add_ps(_mm512_add_ps(a, bb), e)));
            _mm512_mask_storeu_ps(dc + (4 * r + 2) * ups, st,
                                  _mm512_mul_ps(hf, _mm512_add_ps(_mm512_sub_ps(a, bb), e)));
            _mm512_mask_storeu_ps(dc + (4 * r + 3) * ups, st, e);
        }
    }
    return 1;
}

static int wg_u_vec_f32(const float *w, int mode, int64_t M, int64_t C, int64_t m0, int64_t c0,
                        int64_t c1, int MR, int64_t ups, float *d) {
    if (MR != 8 || !__builtin_cpu_supports("avx512f")) return 0;
    return wg_u_avx512_f32(w, mode, M, C, m0, c0, c1, ups, d);
}
#define WG_U_VEC wg_u_vec_f32

/* The column streams of wg_rows for one padded input row (valid padded
 * columns [w0, w1), at src[j]), sixteen tiles a vector: stream k (d + k*S)
 * gets the padded columns (k & 1) + 2 (k >> 1) + 2u, u < TW. */
__attribute__((target("avx512f"))) static void wg_row_avx512_f32(
        const float *src, int64_t w0, int64_t w1, int64_t TW, int64_t S, float *d) {
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                         28, 30);
    const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27,
                                         29, 31);
    for (int64_t u0 = 0; u0 < TW; u0 += 16) {
        __m512 L[3];
        for (int i = 0; i < 3; i++) {   /* padded columns 2u0 + 16i .. + 15 */
            const int64_t b = 2 * u0 + 16 * i;
            int64_t lo = w0 - b, hi = w1 - b;
            lo = lo < 0 ? 0 : lo > 16 ? 16 : lo;
            hi = hi < 0 ? 0 : hi > 16 ? 16 : hi;
            const __mmask16 m = (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
            /* (no load at all for no column: a masked load whose lanes
             * are all off still costs an access, outside the row) */
            L[i] = m == 0 ? _mm512_setzero_ps()
                   : m == 0xFFFF ? _mm512_loadu_ps(src + b) : _mm512_maskz_loadu_ps(m, src + b);
        }
        const __m512 s0 = _mm512_castsi512_ps(
            _mm512_alignr_epi32(_mm512_castps_si512(L[1]), _mm512_castps_si512(L[0]), 2));
        const __m512 s1 = _mm512_castsi512_ps(
            _mm512_alignr_epi32(_mm512_castps_si512(L[2]), _mm512_castps_si512(L[1]), 2));
        const int64_t n = TW - u0 < 16 ? TW - u0 : 16;
        const __mmask16 st = (__mmask16)((1u << n) - 1);
        _mm512_mask_storeu_ps(d + u0, st, _mm512_permutex2var_ps(L[0], ev, L[1]));
        _mm512_mask_storeu_ps(d + S + u0, st, _mm512_permutex2var_ps(L[0], od, L[1]));
        _mm512_mask_storeu_ps(d + 2 * S + u0, st, _mm512_permutex2var_ps(s0, ev, s1));
        _mm512_mask_storeu_ps(d + 3 * S + u0, st, _mm512_permutex2var_ps(s0, od, s1));
    }
}

static int wg_row_vec_f32(const float *src, int64_t w0, int64_t w1, int64_t TW, int64_t S,
                          float *d) {
    if (!__builtin_cpu_supports("avx512f")) return 0;
    wg_row_avx512_f32(src, w0, w1, TW, S, d);
    return 1;
}
#define WG_ROW_VEC wg_row_vec_f32
#endif

#define GDESC FN(fnn_gemm_desc)
#define GACTIVE FN(fnn_gemm_active_desc)
#define FNN_BODY "winograd.inc"
#define FNN_BODY2 "winograd_wgrad.inc"
#include "fnn_instantiate.inc"
