/* conv2d.c -- descriptor set-up, and the float/double instantiations of
 * the implicit-GEMM pass (conv_igemm.inc), the weight gradient
 * (conv_wgrad.inc) and the drivers (conv2d.inc); see conv2d.h for the
 * maths and the threading plan. */
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>   /* the row path's AVX-512 write-out (conv_rows.inc) */
#endif
#include "conv2d.h"
#include "conv_internal.h"
#include "elementwise.h"
#include "dwconv2d.h"
#include "gemm.h"
#include "gemm_kernels.h"
#include "im2col.h"
#include "pool2d.h"   /* fnn_max_pool2x2_values: the fused pooling */
#include "winograd.h"
#include "fnn_generic.h"   /* FN */

int fnn_conv2d_init(fnn_conv2d_desc *d) {
    d->OH = d->OW = 0;
    if (d->N < 0 || d->C < 1 || d->H < 1 || d->W < 1 || d->K < 1 || d->R < 1 || d->S < 1)
        return FNN_EINVAL;
    if (d->sh < 1 || d->sw < 1 || d->ph < 0 || d->pw < 0 || d->dil_h < 1 || d->dil_w < 1)
        return FNN_EINVAL;
    if (d->G < 1 || d->C % d->G != 0 || d->K % d->G != 0) return FNN_EINVAL;
    const int64_t eh = d->dil_h * (d->R - 1) + 1, ew = d->dil_w * (d->S - 1) + 1;
    if (eh > d->H + 2 * d->ph || ew > d->W + 2 * d->pw) return FNN_EINVAL;
    d->OH = (d->H + 2 * d->ph - eh) / d->sh + 1;
    d->OW = (d->W + 2 * d->pw - ew) / d->sw + 1;
    return FNN_OK;
}

/* A descriptor that did not come from a successful fnn_conv2d_init. */
static int conv_check(const fnn_conv2d_desc *d) {
    fnn_conv2d_desc e = *d;
    if (fnn_conv2d_init(&e) != FNN_OK) return FNN_EINVAL;
    return (e.OH == d->OH && e.OW == d->OW) ? FNN_OK : FNN_EINVAL;
}

static int fnn_conv_taps = 1;   /* fnn_conv2d_set_taps */

int fnn_conv2d_set_taps(int on) {
    const int prev = fnn_conv_taps;
    if (on >= 0) fnn_conv_taps = on ? 1 : 0;
    return prev;
}

/* For stride 1 and padding no larger than the dilated kernel's reach, dx
 * is the stride-1 convolution of dy (channels K) with the kernel flipped
 * in space and transposed per group to (C, K/G, R, S), padding
 * dil*(R-1) - ph, the same dilation and groups: fills g with that pass. */
static int rd_ok_f32(const fnn_conv2d_desc *g, int mode);          /* conv_rows.inc */
static int rd_over_wino_f32(const fnn_conv2d_desc *g, int mode);
static int rd_skips_padding_f32(const fnn_conv2d_desc *g);
static int ig_algorithm_f32(const fnn_conv2d_desc *g);             /* conv_igemm.inc */

/* Whether col2im beats the as-convolution pass g of dx (d: the layer) on
 * the zeros of a padding wider than the forward's (an unpadded 5 x 5
 * layer's dx pads dy by 4 on each side), where neither the row path nor
 * Winograd runs g.  The implicit GEMM multiplies ceil(C/MR)*MR rows by its
 * columns (the wide path's run over the padded width) by K*R*S; col2im
 * C*R*S rows by OH*OW columns by K, a product whose sums are only K terms
 * long, then scatters its columns: per multiply-add it took about 1 +
 * 32/K times as long (1 thread, unpadded 5 x 5, batch 64, as-convolution
 * -> col2im: AVX-512 path, 6 -> 16 on 14 x 14 1.06 -> 0.67 ms, 12 -> 16
 * 2.10 -> 1.30, 12 -> 32 4.02 -> 1.73; AVX2 path (6 rows a tile), 8 -> 16
 * 1.50 -> 1.28, 12 -> 32 3.07 -> 2.15, but 12 -> 16 1.81 -> 2.16 and 6 ->
 * 16 0.88 -> 1.05, which this leaves as convolutions). */
static int dx_zeros_col2im(const fnn_conv2d_desc *d, const fnn_conv2d_desc *g) {
    if ((g->ph <= d->ph && g->pw <= d->pw) || fnn_conv_wino(g) || rd_ok_f32(g, 1)) return 0;
    const int64_t mr = fnn_gemm_active_desc_f32()->mr, cg = d->C / d->G, kg = d->K / d->G;
    const int64_t cols = ig_algorithm_f32(g) == FNN_CONV_ALGO_WIDE
                             ? g->OH * (g->W + 2 * g->pw) : g->OH * g->OW;
    /* (ceil(C/MR)*MR * cols) / (C * OH*OW) > 1 + 32/K, in integers */
    return (cg + mr - 1) / mr * mr * cols * kg > cg * d->OH * d->OW * (kg + 32);
}

static int conv_dx_as_conv(const fnn_conv2d_desc *d, fnn_conv2d_desc *g) {
    if (d->sh != 1 || d->sw != 1 || d->ph > d->dil_h * (d->R - 1) ||
        d->pw > d->dil_w * (d->S - 1))
        return 0;
    /* Few input channels (the as-convolution pass has that few rows: its
     * register tiles stay mostly empty), or a small dy (few columns per
     * image) with not many: the col2im form is faster -- its GEMM has
     * C*R*S rows.  (Measured at one thread on AVX-512: MNIST 1->32 3x3
     * 2.9 -> 0.9 ms, LeNet 16->32 5x5 on 12x12 3.3 -> 1.6 ms; but 512
     * channels on 4x4 images 30 -> 12 ms the other way.) */
    const int64_t cg = d->C / d->G;
    const int col2im = cg <= FNN_CONV_DX_COL2IM_MAX_C ||
        (d->OH * d->OW <= FNN_CONV_DX_COL2IM_MAX_P && cg < FNN_CONV_DX_COL2IM_WIDE_C);
    *g = (fnn_conv2d_desc){.N = d->N, .C = d->K, .H = d->OH, .W = d->OW,
                           .K = d->C, .R = d->R, .S = d->S, .sh = 1, .sw = 1,
                           .ph = d->dil_h * (d->R - 1) - d->ph,
                           .pw = d->dil_w * (d->S - 1) - d->pw,
                           .dil_h = d->dil_h, .dil_w = d->dil_w, .G = d->G,
                           .winograd = d->winograd};
    if (fnn_conv2d_init(g) != FNN_OK || g->OH != d->H || g->OW != d->W) return 0;
    /* ... unless its padding is no more than the forward's ("same"
     * convolutions: no multiply-adds with zeros that col2im would not do)
     * and either there are more than FNN_CONV_DX_COL2IM_MAX_C channels or
     * the row path runs the pass (3 x 3 32 -> 64 on 8 x 8: 1.75 -> 0.82 ms;
     * any method on small planes, measured at 2 threads on AVX-512, batch 64,
     * forward + dx: 3 x 3 16 -> 32 on 4 x 4 253 -> 143 us, 96 -> 48 1626 ->
     * 704 us, 5 x 5 32 -> 16 on 4 x 4 1309 -> 359 us, 5 x 5 64 -> 64 on 8 x 8
     * 7632 -> 6539 us; no small-plane shape slower) */
    if (!col2im) return !dx_zeros_col2im(d, g);
    /* ... or on rows leaving out every padding tap, for 5 x 5 and wider
     * kernels (1 thread, dx as convolution against col2im: LeNet's 5 x 5
     * 16 -> 32 on 12 x 12 at batch 64 1.35 -> 1.03 ms, 32 -> 16 on 8 x 8
     * 0.56 -> 0.32; but a 3 x 3 64 -> 32 on 6 x 6, three 4-pixel calls a
     * row, 0.063 -> 0.088) */
    if (g->S >= 5 && !fnn_conv_wino(g) && rd_ok_f32(g, 1) && rd_skips_padding_f32(g))
        return 1;
    return g->ph <= d->ph && g->pw <= d->pw &&
           (cg > FNN_CONV_DX_COL2IM_MAX_C ||
            (fnn_conv_wino(g) ? rd_over_wino_f32(g, 1) : rd_ok_f32(g, 1)));
}

/* the methods of a forward-style pass (conv2d.inc: conv_method) */
enum { CONV_ROWS, CONV_WINO, CONV_S2D, CONV_IG };

#define GDESC FN(fnn_gemm_desc)
#define GACTIVE FN(fnn_gemm_active_desc)
#define GUKRI FN(fnn_ukri)
#define FNN_BODY "conv_igemm.inc"
#define FNN_BODY2 "conv_wgrad.inc"
#define FNN_BODY3 "conv2d.inc"
#include "fnn_instantiate.inc"

int fnn_conv2d_algorithm(const fnn_conv2d_desc *d, int pass) {
    fnn_conv2d_desc g = *d;
    if (conv_check(d) != FNN_OK || pass < 0 || pass > 2) return FNN_EINVAL;
    if (fnn_conv_depthwise(d))
        return fnn_dwconv2d_channels_last(d) ? FNN_CONV_ALGO_DEPTHWISE_CL : FNN_CONV_ALGO_DEPTHWISE;
    if (conv_dense(d)) return FNN_CONV_ALGO_GEMM;
    if (pass == 2)
        return fnn_conv_wino_dw(d) ? FNN_CONV_ALGO_WINOGRAD
               : wd_ok_f32(d) == 1 ? FNN_CONV_ALGO_DOT
               : tp_dw_ok_f32(d)   ? FNN_CONV_ALGO_TAPS
               : rd_dw_ok_f32(d)   ? FNN_CONV_ALGO_ROWS
               : wd_ok_f32(d)      ? FNN_CONV_ALGO_DOT
                                   : FNN_CONV_ALGO_PACKED;
    if (pass == 1 && !conv_dx_as_conv(d, &g)) return FNN_CONV_ALGO_COL2IM;
    fnn_conv2d_desc v;   /* (the view is filled even when it is not taken) */
    if (pass == 0 && conv_s2d_f32(d, 0, &v)) return FNN_CONV_ALGO_S2D;
    if (fnn_conv_wino(&g))
        return rd_over_wino_f32(&g, pass) ? FNN_CONV_ALGO_ROWS : FNN_CONV_ALGO_WINOGRAD;
    return rd_ok_f32(&g, pass) ? FNN_CONV_ALGO_ROWS : ig_algorithm_f32(&g);
}
