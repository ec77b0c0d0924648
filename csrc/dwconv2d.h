/* dwconv2d.h -- direct kernels of the depthwise convolution: every group
 * has one input channel (G == C), K = m*C output channels (channel
 * multiplier m), output channel k reading input plane k / m:
 *
 *   y[n][k][oh][ow] = b[k] + sum_{r,s} w[k][0][r][s]
 *                     * x[n][k/m][oh*sh - ph + r*dh][ow*sw - pw + s*dw]
 *
 * conv2d.c calls these for such descriptors (fnn_conv_depthwise in
 * conv_internal.h); the arguments are those of the fnn_conv2d_* entry
 * points.  A GEMM has nothing to block here (R*S terms a sum), so each
 * plane is computed directly from a zero-padded copy of its input plane,
 * in cache, with the taps unrolled (3 x 3) or as passes over the plane:
 * memory-bound, one read of the input and one write of the output a pass.
 *
 *   forward   work items (image, input plane), each pads its plane once
 *             and makes its m output planes; at stride 1 as one flat loop
 *             over the padded plane's rows (columns past OW discarded);
 *   dx        at stride 1 (and padding within the dilated kernel): the same
 *             gather as the forward over dy with the kernel flipped (each
 *             dx plane from its m dy planes); otherwise a scatter of each
 *             dy plane onto a padded dx plane;
 *   dw, db    work items (output channel, chunk of images), the chunks a
 *             function of the shape only; each sums its images' planes in
 *             fixed lanes, the partials are then added in chunk order.
 * One output channel per input channel on a strided or small (<= 256
 * pixels) output plane takes the channels-last kernels instead
 * (dwconv_cl.inc): a block of 64 bytes of channels of one image is
 * transposed into a (pixel, channel) tile and every tap is one vector
 * multiply-add over the block, at any stride or plane size.
 * Every result is bitwise the same at every thread count.
 */
#ifndef FNN_DWCONV2D_H
#define FNN_DWCONV2D_H
#include "conv2d.h"

int64_t fnn_dwconv2d_workspace_len_f32(const fnn_conv2d_desc *d, int n_threads);
int64_t fnn_dwconv2d_workspace_len_f64(const fnn_conv2d_desc *d, int n_threads);

/* 1 when the float32 kernels of d run channels-last (dwconv_cl.inc). */
int fnn_dwconv2d_channels_last(const fnn_conv2d_desc *d);

/* y = conv2d(x, w) + b (b may be NULL), then ReLU when relu. */
int fnn_dwconv2d_fwd_f32(const fnn_conv2d_desc *d, int relu,
                         const float *x,   /* (N, C, H, W) */
                         const float *w,   /* (K, 1, R, S) */
                         const float *b,   /* (K) or NULL */
                         float *y,         /* (N, K, OH, OW) out */
                         float *ws, int n_threads);
int fnn_dwconv2d_fwd_f64(const fnn_conv2d_desc *d, int relu, const double *x,
                         const double *w, const double *b, double *y, double *ws,
                         int n_threads);

/* dx = b[c] + the input gradient for dy (b may be NULL). */
int fnn_dwconv2d_bwd_data_f32(const fnn_conv2d_desc *d,
                              const float *w,   /* (K, 1, R, S) */
                              const float *dy,  /* (N, K, OH, OW) */
                              const float *b,   /* (C) or NULL */
                              float *dx,        /* (N, C, H, W) out */
                              float *ws, int n_threads);
int fnn_dwconv2d_bwd_data_f64(const fnn_conv2d_desc *d, const double *w, const double *dy,
                              const double *b, double *dx, double *ws, int n_threads);

/* dw and db (either may be NULL), overwritten. */
int fnn_dwconv2d_bwd_weight_f32(const fnn_conv2d_desc *d,
                                const float *x,   /* (N, C, H, W) */
                                const float *dy,  /* (N, K, OH, OW) */
                                float *dw,        /* (K, 1, R, S) out, or NULL */
                                float *db,        /* (K) out, or NULL */
                                float *ws, int n_threads);
int fnn_dwconv2d_bwd_weight_f64(const fnn_conv2d_desc *d, const double *x,
                                const double *dy, double *dw, double *db, double *ws,
                                int n_threads);

#endif
