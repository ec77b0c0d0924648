/* pool2d.c -- descriptor set-up and the float/double instantiations of
 * pool2d.inc (see pool2d.h for the semantics). */
#include <math.h>
#include "pool2d.h"
#include "fnn_generic.h"

/* PyTorch's pooling_output_shape (a floor division, the ceil_mode term
 * added before it: with ceil_mode a kernel longer than the padded input
 * still gives one window); 0 when not even one window fits */
static int64_t pool_out(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, int ceil) {
    int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0);
    if (num < 0) return 0;
    int64_t o = num / s + 1;
    if (ceil && (o - 1) * s >= in + p) o--;
    return o;
}

/* 1 when every window along one axis holds an input index: a window
 * starting at or after 0 does (the output size keeps starts below in);
 * the ones starting in the left padding are checked. */
static int windows_hit(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, int64_t out) {
    for (int64_t o = 0; o < out && o * s < p; o++) {
        int64_t start = o * s - p, j = (-start + d - 1) / d;   /* first index >= 0 */
        if (j >= k || start + j * d >= in) return 0;
    }
    return 1;
}

int fnn_pool2d_init(fnn_pool2d_desc *d) {
    d->OH = d->OW = 0;
    if (d->N < 0 || d->C < 0 || d->H < 1 || d->W < 1 || d->R < 1 || d->S < 1) return FNN_EINVAL;
    if (d->sh < 1 || d->sw < 1 || d->dh < 1 || d->dw < 1 || d->divisor < 0) return FNN_EINVAL;
    if (d->ph < 0 || d->pw < 0 || d->ph > d->R / 2 || d->pw > d->S / 2) return FNN_EINVAL;
    int64_t OH = pool_out(d->H, d->R, d->sh, d->ph, d->dh, d->ceil_mode);
    int64_t OW = pool_out(d->W, d->S, d->sw, d->pw, d->dw, d->ceil_mode);
    if (OH < 1 || OW < 1) return FNN_EINVAL;
    if (!windows_hit(d->H, d->R, d->sh, d->ph, d->dh, OH) ||
        !windows_hit(d->W, d->S, d->sw, d->pw, d->dw, OW))
        return FNN_EINVAL;
    d->OH = OH;
    d->OW = OW;
    return FNN_OK;
}

static int pool_check(const fnn_pool2d_desc *d) {
    fnn_pool2d_desc e = *d;
    if (fnn_pool2d_init(&e) != FNN_OK) return FNN_EINVAL;
    return (e.OH == d->OH && e.OW == d->OW) ? FNN_OK : FNN_EINVAL;
}

/* The part [lo, hi) of a window that lies in the image (lo the first index
 * >= 0 on the dilation grid; visit lo, lo + dil, ... below hi), and the
 * window's length counting padding (PyTorch: min(start + k, size + pad) -
 * start; average pooling, dil = 1). */
typedef struct { int64_t lo, hi, padded; } win_t;

__attribute__((always_inline)) static inline win_t window(int64_t o, int64_t stride,
                                                          int64_t pad, int64_t k, int64_t dil,
                                                          int64_t size) {
    win_t w;
    int64_t start = o * stride - pad, end = start + (k - 1) * dil + 1;
    if (end > size + pad) end = size + pad;
    w.padded = end - start;
    w.lo = start;
    if (start < 0)   /* only windows in the left padding pay the divide */
        w.lo = dil == 1 ? 0 : start + (-start + dil - 1) / dil * dil;
    w.hi = end > size ? size : end;
    return w;
}

/* The divisor of an average-pool window (see pool2d.h) */
static inline int64_t avg_divisor(const fnn_pool2d_desc *d, win_t wh, win_t ww) {
    if (d->divisor > 0) return d->divisor;
    if (d->exclude_pad) return (wh.hi - wh.lo) * (ww.hi - ww.lo);
    return wh.padded * ww.padded;
}

/* 2x2 windows, stride 2, no padding or dilation, only full windows, the
 * plain divisor: the common case, with fast paths. */
static int pool_is_2x2(const fnn_pool2d_desc *d) {
    return d->R == 2 && d->S == 2 && d->sh == 2 && d->sw == 2 && d->ph == 0 && d->pw == 0 &&
           d->dh == 1 && d->dw == 1 && d->OH == d->H / 2 && d->OW == d->W / 2 &&
           d->divisor == 0;
}

#if defined(__SSE2__)
#include <emmintrin.h>
/* Four 2x2 / stride-2 windows at a time (see max_row_2x2 in pool2d.inc);
 * returns how many outputs it wrote (a multiple of 4). */
static int64_t row_2x2_sse_f32(const float *r0, const float *r1, int64_t b0, int64_t W,
                               int64_t OW, float *yr, int64_t *ir) {
    int64_t ow = 0;
    const __m128i one = _mm_set1_epi32(1);
    for (; ow + 4 <= OW; ow += 4) {
        __m128 p0 = _mm_loadu_ps(r0 + 2 * ow), p1 = _mm_loadu_ps(r0 + 2 * ow + 4);
        __m128 q0 = _mm_loadu_ps(r1 + 2 * ow), q1 = _mm_loadu_ps(r1 + 2 * ow + 4);
        __m128 a = _mm_shuffle_ps(p0, p1, _MM_SHUFFLE(2, 0, 2, 0));
        __m128 b = _mm_shuffle_ps(p0, p1, _MM_SHUFFLE(3, 1, 3, 1));
        __m128 e = _mm_shuffle_ps(q0, q1, _MM_SHUFFLE(2, 0, 2, 0));
        __m128 f = _mm_shuffle_ps(q0, q1, _MM_SHUFFLE(3, 1, 3, 1));
        /* _mm_max_ps(x, y) = x > y ? x : y */
        __m128 best = _mm_max_ps(_mm_max_ps(f, e), _mm_max_ps(b, a));
        __m128i na = _mm_castps_si128(_mm_cmpneq_ps(a, best));
        __m128i nab = _mm_and_si128(na, _mm_castps_si128(_mm_cmpneq_ps(b, best)));
        __m128i nabe = _mm_and_si128(nab, _mm_castps_si128(_mm_cmpneq_ps(e, best)));
        /* k = 0 (a), 1 (b), 2 (e), 3 (f) */
        __m128i k = _mm_add_epi32(_mm_and_si128(na, one),
                                  _mm_add_epi32(_mm_and_si128(nab, one), _mm_and_si128(nabe, one)));
        int32_t kk[4];
        _mm_storeu_si128((__m128i *)kk, k);
        _mm_storeu_ps(yr + ow, best);
        for (int j = 0; j < 4; j++)
            ir[ow + j] = b0 + 2 * (ow + j) + (kk[j] >> 1) * W + (kk[j] & 1);
    }
    return ow;
}

/* Values only (no argmax), four 2x2 / stride-2 windows at a time: a value
 * wins when it is > the best so far or NaN (PyTorch's rule, no NaN scan
 * needed).  Returns how many outputs it wrote (a multiple of 4). */
static int64_t row_2x2_values_sse_f32(const float *r0, const float *r1, int64_t OW,
                                      float *yr) {
    int64_t ow = 0;
    for (; ow + 4 <= OW; ow += 4) {
        __m128 p0 = _mm_loadu_ps(r0 + 2 * ow), p1 = _mm_loadu_ps(r0 + 2 * ow + 4);
        __m128 q0 = _mm_loadu_ps(r1 + 2 * ow), q1 = _mm_loadu_ps(r1 + 2 * ow + 4);
        __m128 best = _mm_shuffle_ps(p0, p1, _MM_SHUFFLE(2, 0, 2, 0));
        __m128 v[3] = {_mm_shuffle_ps(p0, p1, _MM_SHUFFLE(3, 1, 3, 1)),
                       _mm_shuffle_ps(q0, q1, _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm_shuffle_ps(q0, q1, _MM_SHUFFLE(3, 1, 3, 1))};
        for (int t = 0; t < 3; t++) {
            __m128 take = _mm_or_ps(_mm_cmpgt_ps(v[t], best), _mm_cmpunord_ps(v[t], v[t]));
            best = _mm_or_ps(_mm_and_ps(take, v[t]), _mm_andnot_ps(take, best));
        }
        _mm_storeu_ps(yr + ow, best);
    }
    return ow;
}
#define ROW_2X2_VALUES_VEC row_2x2_values_sse_f32

#if defined(__x86_64__) && defined(__GNUC__) && !defined(FNN_NO_CLONES)
#include <immintrin.h>
/* The same on eight windows at a time with AVX2 (chosen at run time). */
__attribute__((target("avx2"))) static int64_t row_2x2_avx2_f32(
        const float *r0, const float *r1, int64_t b0, int64_t W, int64_t OW, float *yr,
        int64_t *ir) {
    int64_t ow = 0;
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i lane = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i w32 = _mm256_set1_epi32((int32_t)W);
    for (; ow + 8 <= OW; ow += 8) {
        __m256 p0 = _mm256_loadu_ps(r0 + 2 * ow), p1 = _mm256_loadu_ps(r0 + 2 * ow + 8);
        __m256 q0 = _mm256_loadu_ps(r1 + 2 * ow), q1 = _mm256_loadu_ps(r1 + 2 * ow + 8);
        /* even / odd columns, in order after the 64-bit lane permute */
        __m256 a = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(p0, p1, _MM_SHUFFLE(2, 0, 2, 0))), 0xD8));
        __m256 b = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(p0, p1, _MM_SHUFFLE(3, 1, 3, 1))), 0xD8));
        __m256 e = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(q0, q1, _MM_SHUFFLE(2, 0, 2, 0))), 0xD8));
        __m256 f = _mm256_castpd_ps(_mm256_permute4x64_pd(
            _mm256_castps_pd(_mm256_shuffle_ps(q0, q1, _MM_SHUFFLE(3, 1, 3, 1))), 0xD8));
        /* _mm256_max_ps(x, y) = x > y ? x : y, as the SSE2 path */
        __m256 best = _mm256_max_ps(_mm256_max_ps(f, e), _mm256_max_ps(b, a));
        __m256i na = _mm256_castps_si256(_mm256_cmp_ps(a, best, _CMP_NEQ_UQ));
        __m256i nab = _mm256_and_si256(na, _mm256_castps_si256(_mm256_cmp_ps(b, best, _CMP_NEQ_UQ)));
        __m256i nabe = _mm256_and_si256(nab, _mm256_castps_si256(_mm256_cmp_ps(e, best, _CMP_NEQ_UQ)));
        __m256i k = _mm256_add_epi32(_mm256_and_si256(na, one),
                                     _mm256_add_epi32(_mm256_and_si256(nab, one),
                                                      _mm256_and_si256(nabe, one)));
        /* 2*ow + 2*j + (k >> 1) * W + (k & 1), in int32 (< H*W), then + b0 */
        __m256i off = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_set1_epi32((int32_t)(2 * ow)), lane),
            _mm256_add_epi32(_mm256_mullo_epi32(_mm256_srli_epi32(k, 1), w32),
                             _mm256_and_si256(k, one)));
        __m256i base = _mm256_set1_epi64x(b0);
        __m256i lo = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(off)), base);
        __m256i hi = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(off, 1)),
                                      base);
        _mm256_storeu_ps(yr + ow, best);
        _mm256_storeu_si256((__m256i *)(ir + ow), lo);
        _mm256_storeu_si256((__m256i *)(ir + ow + 4), hi);
    }
    return ow;
}

static int64_t row_2x2_vec_f32(const float *r0, const float *r1, int64_t b0, int64_t W,
                               int64_t OW, float *yr, int64_t *ir) {
    /* int32 offsets in the AVX2 path: rows of fewer than 2^29 pixels */
    if (__builtin_cpu_supports("avx2") && W < ((int64_t)1 << 29)) {
        int64_t ow = row_2x2_avx2_f32(r0, r1, b0, W, OW, yr, ir);
        return ow + row_2x2_sse_f32(r0 + 2 * ow, r1 + 2 * ow, b0 + 2 * ow, W, OW - ow,
                                    yr + ow, ir + ow);
    }
    return row_2x2_sse_f32(r0, r1, b0, W, OW, yr, ir);
}
#define ROW_2X2_VEC row_2x2_vec_f32

/* A whole plane, values only, sixteen windows at a time with AVX-512 (the
 * row's last ones under a mask), the SSE2 kernel's rule (v wins when
 * v > best or v is NaN, in the order r0[2j], r0[2j+1], r1[2j], r1[2j+1]).
 * The inference program's pooling reads a chunk from L2, where the
 * four-wide kernel, called per row, was the bottleneck. */
__attribute__((target("avx512f"))) static void plane_2x2_values_avx512_f32(
        const float *x, int64_t W, int64_t OH, int64_t OW, float *y) {
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                         28, 30);
    const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27,
                                         29, 31);
    for (int64_t oh = 0; oh < OH; oh++) {
        const float *r0 = x + 2 * oh * W, *r1 = r0 + W;
        float *yr = y + oh * OW;
        for (int64_t ow = 0; ow < OW; ow += 16) {
            const int64_t n = OW - ow < 16 ? OW - ow : 16;   /* outputs; 2n inputs */
            const __mmask16 m0 = n >= 8 ? 0xFFFF : (__mmask16)((1u << (2 * n)) - 1);
            const __mmask16 m1 = n > 8 ? (__mmask16)((1u << (2 * n - 16)) - 1) : 0;
            const __m512 p0 = _mm512_maskz_loadu_ps(m0, r0 + 2 * ow);
            const __m512 p1 = _mm512_maskz_loadu_ps(m1, r0 + 2 * ow + 16);
            const __m512 q0 = _mm512_maskz_loadu_ps(m0, r1 + 2 * ow);
            const __m512 q1 = _mm512_maskz_loadu_ps(m1, r1 + 2 * ow + 16);
            __m512 best = _mm512_permutex2var_ps(p0, ev, p1);
            const __m512 v[3] = {_mm512_permutex2var_ps(p0, od, p1),
                                 _mm512_permutex2var_ps(q0, ev, q1),
                                 _mm512_permutex2var_ps(q0, od, q1)};
            for (int t = 0; t < 3; t++) {
                const __mmask16 take = _mm512_cmp_ps_mask(v[t], best, _CMP_GT_OQ) |
                                       _mm512_cmp_ps_mask(v[t], v[t], _CMP_UNORD_Q);
                best = _mm512_mask_mov_ps(best, take, v[t]);
            }
            _mm512_mask_storeu_ps(yr + ow, (__mmask16)((1u << n) - 1), best);
        }
    }
}

/* 1 when it pooled the plane (the CPU has AVX-512), else 0 */
static int plane_2x2_values_vec_f32(const float *x, int64_t W, int64_t OH, int64_t OW,
                                    float *y) {
    if (!__builtin_cpu_supports("avx512f")) return 0;
    plane_2x2_values_avx512_f32(x, W, OH, OW, y);
    return 1;
}
#define PLANE_2X2_VALUES_VEC plane_2x2_values_vec_f32
#else
#define ROW_2X2_VEC row_2x2_sse_f32
#endif
#endif

/* ROW_2X2_VEC / ROW_2X2_VALUES_VEC (above) serve the float instantiation only
 * (FNN_T_F32 in pool2d.inc) */
#define fnn_neg_inf_f32 (-INFINITY)
#define fnn_neg_inf_f64 (-(double)INFINITY)
#define NEG_INF FN(fnn_neg_inf)
#define FNN_BODY "pool2d.inc"
#include "fnn_instantiate.inc"
#undef NEG_INF
#undef ROW_2X2_VEC
#undef ROW_2X2_VALUES_VEC
#undef PLANE_2X2_VALUES_VEC
