/* conv_internal.h -- helpers shared by the convolution translation units
 * (conv2d.c, winograd.c, dwconv2d.c).  Not part of the public API. */
#ifndef FNN_CONV_INTERNAL_H
#define FNN_CONV_INTERNAL_H
#include "conv2d.h"
#include "gemm_kernels.h"   /* FNN_GEMM_MR_MAX */

/* The SSE2 paths of the float weight-gradient packing (conv_wgrad.inc,
 * winograd_wgrad.inc): taken where the target has SSE2, in the float
 * instantiation only (FNN_T_F32, fnn_instantiate.inc). */
#if defined(__SSE2__)
#include <emmintrin.h>
#define CONV_SSE 1
#endif

/* Below this many multiply-adds a convolution pass runs on one thread:
 * waking a team costs more than the work (tens of microseconds on a busy
 * machine). */
#define FNN_CONV_SERIAL_MACS ((int64_t)1 << 19)

/* The input gradient of a stride-1 convolution runs as the convolution of
 * dy with the flipped kernel unless the layer has at most MAX_C input
 * channels per group, or dy at most MAX_P pixels per image and fewer than
 * WIDE_C input channels per group (then col2im, conv2d.c). */
#define FNN_CONV_DX_COL2IM_MAX_C 4
#define FNN_CONV_DX_COL2IM_MAX_P 64
#define FNN_CONV_DX_COL2IM_WIDE_C 128

/* The row path leaves out the taps in padded columns where a kernel
 * column's run of taps (R x C/G) is at least this long (conv_rows.inc) */
#define FNN_RD_COLS_MIN_K 32

/* Winograd F(2x2, 3x3) needs at least this many channels in and out. */
#define FNN_WINO_MIN_C 16
#define FNN_WINO_MIN_K 16
/* ... and outputs of at least FNN_WINO_MIN_OHW pixels an image; or, with
 * FNN_WINO_SMALL_C channels on both sides of a group, of
 * FNN_WINO_SMALL_OHW (7 x 7, 4 x 4) when the batch has FNN_WINO_SMALL_TILES
 * tiles in all: an item then holds several images' tiles side by side
 * (winograd.inc), a product's panels full (a 512-channel layer on 4 x 4
 * images, batch 16, 4.1 -> 3.4 ms; on 7 x 7, batch 8, 6.7 -> 5.6 ms).
 * With one image an item such planes left most of each 32-lane panel zero
 * and the implicit GEMM with blocks across the images was faster (41
 * against 11 ms at one thread); with few channels it still is (16 -> 32
 * on 4 x 4: the weight gradient on Winograd twice the time). */
#define FNN_WINO_MIN_OHW 64
#define FNN_WINO_SMALL_C 128
#define FNN_WINO_SMALL_OHW 16
#define FNN_WINO_SMALL_TILES 64

static inline int64_t fnn_conv_round16(int64_t n) { return (n + 15) / 16 * 16; }

/* p rounded up to a 64-byte boundary (workspaces get 16 elements spare). */
static inline void *fnn_conv_align64(void *p) {
    return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* Elements of type size tsz that hold n objects of size osz. */
static inline int64_t fnn_conv_elems(int64_t n, int64_t osz, int64_t tsz) {
    return (n * osz + tsz - 1) / tsz;
}

/* Multiply-adds of the pass d. */
static inline int64_t fnn_conv_macs(const fnn_conv2d_desc *d) {
    return d->N * d->K * (d->C / d->G) * d->R * d->S * d->OH * d->OW;
}

/* The team size for a pass of this many multiply-adds. */
static inline int fnn_conv_threads(int64_t macs, int n_threads) {
    if (n_threads < 1) n_threads = 1;
    return macs < FNN_CONV_SERIAL_MACS ? 1 : n_threads;
}

/* An upper bound of M rounded up to a multiple of any register block MR
 * <= FNN_GEMM_MR_MAX (workspace sizing: rounding up to MR_MAX itself is
 * not one -- 10 rounds to 12, and to 16 at MR 8). */
static inline int64_t fnn_conv_mr_bound(int64_t M) { return M + FNN_GEMM_MR_MAX - 1; }

/* k blocks: nk near-equal blocks of at most kc of a sum of K terms; block
 * q starts at q*kb + min(q, krem) and has kb + (q < krem) terms. */
typedef struct { int64_t nk, kb, krem; } fnn_conv_kblocks;

static inline fnn_conv_kblocks fnn_conv_kblocks_make(int64_t K, int64_t kc) {
    fnn_conv_kblocks k;
    k.nk = (K + kc - 1) / kc;
    if (k.nk < 1) k.nk = 1;
    k.kb = K / k.nk;
    k.krem = K % k.nk;
    return k;
}

static inline int64_t fnn_conv_k0(const fnn_conv_kblocks *k, int64_t q) {
    return q * k->kb + (q < k->krem ? q : k->krem);
}

static inline int64_t fnn_conv_kc(const fnn_conv_kblocks *k, int64_t q) {
    return k->kb + (q < k->krem);
}

/* Pass g runs on Winograd F(2x2, 3x3): switched on, 3 x 3, stride 1,
 * undilated, enough channels on both sides of every group and at least
 * 2 x 2 outputs (below that most of each 2 x 2 tile is wasted), and
 * FNN_WINO_MIN_OHW outputs per image (or fewer, with tiles enough in the
 * batch). */
static inline int fnn_conv_wino(const fnn_conv2d_desc *g) {
    return g->winograd && g->R == 3 && g->S == 3 && g->sh == 1 && g->sw == 1 &&
           g->dil_h == 1 && g->dil_w == 1 && g->C / g->G >= FNN_WINO_MIN_C &&
           g->K / g->G >= FNN_WINO_MIN_K && g->OH >= 2 && g->OW >= 2 &&
           (g->OH * g->OW >= FNN_WINO_MIN_OHW ||
            (g->OH * g->OW >= FNN_WINO_SMALL_OHW && g->C / g->G >= FNN_WINO_SMALL_C &&
             g->K / g->G >= FNN_WINO_SMALL_C &&
             g->N * ((g->OH + 1) / 2) * ((g->OW + 1) / 2) >= FNN_WINO_SMALL_TILES));
}

/* The weight gradient runs on Winograd where the pass does, except on
 * small planes (the FNN_WINO_SMALL_* branch above) with fewer than
 * FNN_WINO_DW_SMALL_TILES tiles in the batch: its products then sum over
 * few tiles into 16 transformed planes of weights, and the implicit
 * GEMM's one pass over the 9 taps is faster (2 threads, dW + db, Winograd
 * against the implicit GEMM: 512 -> 512 on 4 x 4 at batch 16 7.9 ->
 * 3.8 ms, on 7 x 7 at 16 14.5 -> 10.6, 256 -> 256 on 4 x 4 at 32 2.6 ->
 * 1.7, 128 -> 128 on 4 x 4 at 64 1.14 -> 1.01; but 128 -> 128 on 7 x 7 at
 * 32, 512 tiles, 1.32 against 1.74, and on 8 x 8 planes Winograd stays
 * ahead: 256 -> 256 at 16, 256 tiles, 3.2 against 3.7). */
#define FNN_WINO_DW_SMALL_TILES 512
static inline int fnn_conv_wino_dw(const fnn_conv2d_desc *g) {
    return fnn_conv_wino(g) &&
           (g->OH * g->OW >= FNN_WINO_MIN_OHW ||
            g->N * ((g->OH + 1) / 2) * ((g->OW + 1) / 2) >= FNN_WINO_DW_SMALL_TILES);
}

/* A layer whose window is its whole input -- no padding or dilation, an
 * R x S input: one output pixel an image (LeNet-5's C5, 16 -> 120 5 x 5
 * on 5 x 5; an autoencoder's 7 x 7 bottleneck) -- is a product, images as
 * rows, run by the GEMM (conv2d.inc: dense_*; the implicit GEMM packed a
 * batch's windows as that many columns: 32 -> 64 7 x 7 on 7 x 7 at batch
 * 64 took 2.2 times PyTorch's time, its weight gradient 3.9 times). */
static inline int conv_dense(const fnn_conv2d_desc *d) {
    return d->G == 1 && d->H == d->R && d->W == d->S && d->ph == 0 && d->pw == 0 &&
           d->dil_h == 1 && d->dil_w == 1;
}

/* One group of g as a pass of its own: C/G input and K/G output channels
 * (the kernels then offset their pointers by the group). */
static inline fnn_conv2d_desc fnn_conv_group_view(const fnn_conv2d_desc *g) {
    fnn_conv2d_desc v = *g;
    v.C = g->C / g->G;
    v.K = g->K / g->G;
    v.G = 1;
    return v;
}

/* A stride-2 convolution with an even kernel (4x4 stride 2: DCGAN's
 * layers and the input gradient of a ConvTranspose2d(4, 2, 1); 2x2 stride
 * 2) is a stride-1 convolution of its input rearranged space-to-depth:
 * channel (c, a, b) of X' holds xpad[c][2i + a][2j + b], the kernel
 * w'[k][(c, a, b)][r'][s'] = w[k][c][2r' + a][2s' + b] is R/2 x S/2 -- no
 * multiply-add wasted, and the stride-1 implicit GEMM reads X' in place
 * (conv_igemm.inc, mode 2).  s2d_view gives that pass; X' is built per
 * image and group into the pass's padded-planes buffer. */
static inline int fnn_conv_s2d_ok(const fnn_conv2d_desc *d) {
    return d->sh == 2 && d->sw == 2 && d->dil_h == 1 && d->dil_w == 1 && d->R % 2 == 0 &&
           d->S % 2 == 0 && d->G == 1;
}

static inline fnn_conv2d_desc fnn_conv_s2d_view(const fnn_conv2d_desc *d) {
    fnn_conv2d_desc v = *d;
    v.C = 4 * d->C;
    v.R = d->R / 2, v.S = d->S / 2;
    v.H = d->OH + v.R - 1, v.W = d->OW + v.S - 1;
    v.sh = v.sw = 1, v.ph = v.pw = 0;
    v.winograd = 0;
    return v;   /* OH, OW unchanged */
}

/* off[c*R*S + r*S + s] = c*hwp + r*dil_h*wp + s*dil_w for the input
 * channels [c0, c1) of d: where tap (r, s) of channel c starts in padded
 * planes of wp-element rows and hwp-element planes (the implicit GEMM's
 * B-row offsets). */
static inline void fnn_conv_tap_offsets(const fnn_conv2d_desc *d, int64_t wp, int64_t hwp,
                                        int64_t c0, int64_t c1, int64_t *off) {
    for (int64_t c = c0; c < c1; c++)
        for (int64_t r = 0; r < d->R; r++)
            for (int64_t s = 0; s < d->S; s++)
                off[(c * d->R + r) * d->S + s] = c * hwp + r * d->dil_h * wp + s * d->dil_w;
}

/* A cache line about to be written, fetched for writing (x86 PREFETCHW:
 * a no-op on CPUs that lack it).  The convolutions' write-outs store to
 * the output channels' planes, a plane apart: at 32 x 32 outputs 4 KiB,
 * all in one L1 set, so without it nearly every store of a tile missed. */
#if defined(__x86_64__)
#define FNN_PREFETCHW(p) __asm__ volatile("prefetchw %0" : : "m"(*(const char *)(p)))
#else
#define FNN_PREFETCHW(p) __builtin_prefetch((p), 1, 3)
#endif

/* Every group has one input channel: the direct depthwise kernels. */
static inline int fnn_conv_depthwise(const fnn_conv2d_desc *d) {
    return d->G == d->C && d->G > 1;
}

#endif
