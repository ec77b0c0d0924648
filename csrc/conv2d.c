/* conv2d.c -- descriptor set-up and the float/double instantiations of
 * conv2d.inc (see conv2d.h for the maths and the threading plan). */
#include "conv2d.h"
#include "gemm.h"
#include "gemm_kernels.h"
#include "im2col.h"
#include "fnn_generic.h"   /* FNN_CLONES */
#undef FN

int fnn_conv2d_init(fnn_conv2d_desc *d, int64_t N, int64_t C, int64_t H,
                    int64_t W, int64_t K, int64_t R, int64_t S, int64_t sh,
                    int64_t sw, int64_t ph, int64_t pw) {
    d->N = N; d->C = C; d->H = H; d->W = W;
    d->K = K; d->R = R; d->S = S;
    d->sh = sh; d->sw = sw; d->ph = ph; d->pw = pw;
    d->OH = d->OW = 0;
    if (N < 0 || C < 1 || H < 1 || W < 1 || K < 1 || R < 1 || S < 1) return FNN_EINVAL;
    if (sh < 1 || sw < 1 || ph < 0 || pw < 0) return FNN_EINVAL;
    if (R > H + 2 * ph || S > W + 2 * pw) return FNN_EINVAL;
    d->OH = (H + 2 * ph - R) / sh + 1;
    d->OW = (W + 2 * pw - S) / sw + 1;
    return FNN_OK;
}

/* A descriptor that did not come from a successful fnn_conv2d_init. */
static int conv_check(const fnn_conv2d_desc *d) {
    fnn_conv2d_desc e;
    if (fnn_conv2d_init(&e, d->N, d->C, d->H, d->W, d->K, d->R, d->S,
                        d->sh, d->sw, d->ph, d->pw) != FNN_OK)
        return FNN_EINVAL;
    return (e.OH == d->OH && e.OW == d->OW) ? FNN_OK : FNN_EINVAL;
}

/* 1x1, stride 1, no padding: the image (C, H*W) is its own column matrix. */
static int conv_is_direct(const fnn_conv2d_desc *d) {
    return d->R == 1 && d->S == 1 && d->sh == 1 && d->sw == 1 && d->ph == 0 && d->pw == 0;
}

static fnn_im2col_geom conv_geom(const fnn_conv2d_desc *d) {
    fnn_im2col_geom g = {d->C, d->H, d->W, d->R, d->S, d->sh, d->sw,
                         d->ph, d->pw, d->OH, d->OW};
    return g;
}

/* Below this many multiply-adds a convolution runs on one thread: waking a
 * team costs more than the work (tens of microseconds on a busy machine). */
#define FNN_CONV_SERIAL_MACS ((int64_t)1 << 19)

static int64_t conv_macs(const fnn_conv2d_desc *d) {
    return d->N * d->K * d->C * d->R * d->S * d->OH * d->OW;
}

/* Winograd F(2x2, 3x3) for 3 x 3 stride-1 passes with enough channels on
 * both sides and at least 2 x 2 outputs (below that most of each 2 x 2
 * tile is wasted) (winograd.inc); fnn_conv2d_set_winograd switches it. */
static int conv_winograd_on = 1;
#define FNN_WINO_MIN_C 16
#define FNN_WINO_MIN_K 16

int fnn_conv2d_set_winograd(int on) {
    const int prev = conv_winograd_on;
    if (on >= 0) conv_winograd_on = on ? 1 : 0;
    return prev;
}

/* Pass g runs on Winograd (any_setting: whether it would with the switch
 * on, for workspace sizing). */
static int conv_wino(const fnn_conv2d_desc *g, int any_setting) {
    return (any_setting || conv_winograd_on) && g->R == 3 && g->S == 3 && g->sh == 1 &&
           g->sw == 1 && g->C >= FNN_WINO_MIN_C && g->K >= FNN_WINO_MIN_K && g->OH >= 2 &&
           g->OW >= 2;
}

static int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

/* For stride 1 and padding < kernel size, dx is the stride-1 convolution
 * of dy (channels K) with the kernel flipped in space and transposed to
 * (C, K, R, S), padding R-1-ph, S-1-pw: fills g with that pass. */
static int conv_dx_as_conv(const fnn_conv2d_desc *d, fnn_conv2d_desc *g) {
    if (d->sh != 1 || d->sw != 1 || d->ph > d->R - 1 || d->pw > d->S - 1) return 0;
    if (fnn_conv2d_init(g, d->N, d->K, d->OH, d->OW, d->C, d->R, d->S, 1, 1,
                        d->R - 1 - d->ph, d->S - 1 - d->pw) != FNN_OK)
        return 0;
    return g->OH == d->H && g->OW == d->W;
}

#define T float
#define SFX f32
#define GDESC fnn_gemm_desc_f32
#define GACTIVE fnn_gemm_active_desc_f32
#define GUKRI fnn_ukri_f32
#if defined(__SSE2__)
#include <emmintrin.h>
#define IG_SSE_F32 1
#endif
#include "conv2d.inc"
#undef IG_SSE_F32
#undef T
#undef SFX
#undef GDESC
#undef GACTIVE
#undef GUKRI

#define T double
#define SFX f64
#define GDESC fnn_gemm_desc_f64
#define GACTIVE fnn_gemm_active_desc_f64
#define GUKRI fnn_ukri_f64
#include "conv2d.inc"
#undef T
#undef SFX
