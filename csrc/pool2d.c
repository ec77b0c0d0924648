/* pool2d.c -- descriptor set-up and the float/double instantiations of
 * pool2d.inc (see pool2d.h for the semantics). */
#include <math.h>
#include "pool2d.h"

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

#define T float
#define SFX f32
#define NEG_INF (-INFINITY)
#include "pool2d.inc"
#undef T
#undef SFX
#undef NEG_INF

#define T double
#define SFX f64
#define NEG_INF (-(double)INFINITY)
#include "pool2d.inc"
#undef T
#undef SFX
#undef NEG_INF
