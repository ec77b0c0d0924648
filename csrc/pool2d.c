/* pool2d.c -- descriptor set-up and the float/double instantiations of
 * pool2d.inc (see pool2d.h for the semantics). */
#include <math.h>
#include "pool2d.h"
#include "fnn_generic.h"   /* FNN_CLONES */
#undef FN                   /* pool2d.inc defines its own */

int fnn_pool2d_init(fnn_pool2d_desc *d, int64_t N, int64_t C, int64_t H,
                    int64_t W, int64_t R, int64_t S, int64_t sh, int64_t sw,
                    int64_t ph, int64_t pw) {
    d->N = N; d->C = C; d->H = H; d->W = W; d->R = R; d->S = S;
    d->sh = sh; d->sw = sw; d->ph = ph; d->pw = pw;
    d->OH = d->OW = 0;
    if (N < 0 || C < 0 || H < 1 || W < 1 || R < 1 || S < 1) return FNN_EINVAL;
    if (sh < 1 || sw < 1 || ph < 0 || pw < 0 || ph > R / 2 || pw > S / 2) return FNN_EINVAL;
    if (R > H + 2 * ph || S > W + 2 * pw) return FNN_EINVAL;
    d->OH = (H + 2 * ph - R) / sh + 1;
    d->OW = (W + 2 * pw - S) / sw + 1;
    return FNN_OK;
}

static int pool_check(const fnn_pool2d_desc *d) {
    fnn_pool2d_desc e;
    if (fnn_pool2d_init(&e, d->N, d->C, d->H, d->W, d->R, d->S, d->sh, d->sw,
                        d->ph, d->pw) != FNN_OK)
        return FNN_EINVAL;
    return (e.OH == d->OH && e.OW == d->OW) ? FNN_OK : FNN_EINVAL;
}

/* The part [lo, hi) of a window that lies in the image, and the window's
 * length counting padding (PyTorch: min(start + k, size + pad) - start). */
typedef struct { int64_t lo, hi, padded; } win_t;

static inline win_t window(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t size) {
    win_t w;
    int64_t start = o * stride - pad, end = start + k;
    if (end > size + pad) end = size + pad;
    w.padded = end - start;
    w.lo = start < 0 ? 0 : start;
    w.hi = end > size ? size : end;
    return w;
}

/* 2x2 windows, stride 2, no padding: the common case, with fast paths. */
static int pool_is_2x2(const fnn_pool2d_desc *d) {
    return d->R == 2 && d->S == 2 && d->sh == 2 && d->sw == 2 && d->ph == 0 && d->pw == 0;
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
#define ROW_2X2_VEC row_2x2_sse_f32
#endif

#define T float
#define SFX f32
#define NEG_INF (-INFINITY)
#include "pool2d.inc"
#undef T
#undef SFX
#undef NEG_INF
#undef ROW_2X2_VEC

#define T double
#define SFX f64
#define NEG_INF (-(double)INFINITY)
#include "pool2d.inc"
#undef T
#undef SFX
#undef NEG_INF
