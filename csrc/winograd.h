/* winograd.h -- Winograd F(2x2, 3x3) passes of the convolution: 3 x 3,
 * stride 1, undilated, every group with at least 16 channels in and out
 * (conv2d.c calls them where fnn_conv_wino() in conv_internal.h holds; see
 * winograd.inc for the maths and the threading plan).
 *
 * A forward-style pass g (fnn_conv2d_desc of the pass: input (N, g->C,
 * g->H, g->W), output (N, g->K, g->OH, g->OW), g->G groups):
 *   mode 0: the forward, w (K, C/G, 3, 3);
 *   mode 1: the backward data as a stride-1 convolution of dy with the
 *           flipped, transposed kernel: w is the forward weight (g->C,
 *           g->K/G, 3, 3) of the convolution whose input gradient this is.
 * bias (g->K) or NULL is added, relu applies the fused ReLU (as
 * fnn_relu_fwd).  Results do not depend on the thread count.
 */
#ifndef FNN_WINOGRAD_H
#define FNN_WINOGRAD_H
#include "conv2d.h"

/* Scratch of the forward-style pass g, in elements, at this thread count
 * (the largest over every GEMM kernel path, so a path switch between the
 * query and the call is harmless). */
int64_t fnn_winograd_workspace_len_f32(const fnn_conv2d_desc *g, int n_threads);
int64_t fnn_winograd_workspace_len_f64(const fnn_conv2d_desc *g, int n_threads);

int fnn_winograd_fwd_f32(const fnn_conv2d_desc *g, int mode,
                         const float *w,    /* (K, C/G, 3, 3), mode 1: (C, K/G, 3, 3) */
                         const float *in,   /* (N, C, H, W) */
                         const float *bias, /* (K) or NULL */
                         /* per output channel, after the bias: v * sc + sh
                          * (both NULL: none) */
                         const float *sc, const float *sh,
                         int relu,
                         int pool,          /* then 2 x 2 / 2 max pooling */
                         float *out,        /* (N, K, OH, OW) out; pool: (N, K, OH/2, OW/2) */
                         float *ws, int n_threads);
int fnn_winograd_fwd_f64(const fnn_conv2d_desc *g, int mode, const double *w,
                         const double *in, const double *bias, const double *sc,
                         const double *sh, int relu, int pool, double *out, double *ws,
                         int n_threads);

/* Scratch of the weight gradient of d, in elements. */
int64_t fnn_winograd_bwd_weight_workspace_len_f32(const fnn_conv2d_desc *d, int n_threads);
int64_t fnn_winograd_bwd_weight_workspace_len_f64(const fnn_conv2d_desc *d, int n_threads);

/* dw (and db unless NULL) of the convolution d, overwritten. */
int fnn_winograd_bwd_weight_f32(const fnn_conv2d_desc *d,
                                const float *x,   /* (N, C, H, W) */
                                const float *dy,  /* (N, K, OH, OW) */
                                float *dw,        /* (K, C/G, 3, 3) out */
                                float *db,        /* (K) out, or NULL */
                                float *ws, int n_threads);
int fnn_winograd_bwd_weight_f64(const fnn_conv2d_desc *d, const double *x,
                                const double *dy, double *dw, double *db,
                                double *ws, int n_threads);

#endif
