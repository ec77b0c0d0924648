/* resample.h -- nearest and (bi)linear up/down-sampling of NCHW planes
 * (torch.nn.functional.interpolate's 'nearest', 'nearest-exact', 'linear'
 * and 'bilinear' modes).
 *
 * The caller computes the per-axis tables once (they depend only on the
 * sizes, the scale and align_corners): for output row oy the source rows
 * y0[oy], y1[oy] with weights wy0[oy], wy1[oy]; likewise x0, x1, wx0, wx1
 * per output column.  With planes = N*C:
 *
 *   bilinear fwd: out[p, oy, ox] = wy0 (wx0 x[p, y0, x0] + wx1 x[p, y0, x1])
 *                                + wy1 (wx0 x[p, y1, x0] + wx1 x[p, y1, x1])
 *                 (a row weight wy1 == 0 drops its term: 1-D 'linear' is the
 *                 ih == oh == 1 case with wy0 = 1, wy1 = 0)
 *   bilinear bwd: gx = 0; gx[p, y0, x0] += (wy0 wx0) g ... for the four taps,
 *                 output pixels in row-major order (PyTorch's order).
 *   nearest fwd:  out[p, oy, ox] = x[p, y0[oy], x0[ox]]
 *   nearest bwd:  gx = 0; gx[p, y0[oy], x0[ox]] += g[p, oy, ox]
 *
 * Threads split the planes: each plane's gradient is summed by one thread
 * in a fixed order, so results do not depend on the thread count.
 */
#ifndef FNN_RESAMPLE_H
#define FNN_RESAMPLE_H
#include "fnn_common.h"

typedef struct {
    int64_t planes, ih, iw, oh, ow;   /* N*C planes of (ih, iw) -> (oh, ow) */
} fnn_resample_desc;

/* x (planes, ih, iw), y0, y1 (oh), wy0, wy1 (oh), x0, x1 (ow), wx0, wx1 (ow),
 * out (planes, oh, ow) */
int fnn_upsample_bilinear_fwd_f32(const fnn_resample_desc *d, const float *x,
                                  const int64_t *y0, const int64_t *y1, const float *wy0,
                                  const float *wy1, const int64_t *x0, const int64_t *x1,
                                  const float *wx0, const float *wx1, float *out,
                                  int n_threads);
int fnn_upsample_bilinear_fwd_f64(const fnn_resample_desc *d, const double *x,
                                  const int64_t *y0, const int64_t *y1, const double *wy0,
                                  const double *wy1, const int64_t *x0, const int64_t *x1,
                                  const double *wx0, const double *wx1, double *out,
                                  int n_threads);
/* g (planes, oh, ow), tables as the forward, gx (planes, ih, iw) overwritten */
int fnn_upsample_bilinear_bwd_f32(const fnn_resample_desc *d, const float *g,
                                  const int64_t *y0, const int64_t *y1, const float *wy0,
                                  const float *wy1, const int64_t *x0, const int64_t *x1,
                                  const float *wx0, const float *wx1, float *gx,
                                  int n_threads);
int fnn_upsample_bilinear_bwd_f64(const fnn_resample_desc *d, const double *g,
                                  const int64_t *y0, const int64_t *y1, const double *wy0,
                                  const double *wy1, const int64_t *x0, const int64_t *x1,
                                  const double *wx0, const double *wx1, double *gx,
                                  int n_threads);
/* x (planes, ih, iw), y0 (oh), x0 (ow), out (planes, oh, ow) */
int fnn_upsample_nearest_fwd_f32(const fnn_resample_desc *d, const float *x, const int64_t *y0,
                                 const int64_t *x0, float *out, int n_threads);
int fnn_upsample_nearest_fwd_f64(const fnn_resample_desc *d, const double *x,
                                 const int64_t *y0, const int64_t *x0, double *out,
                                 int n_threads);
/* g (planes, oh, ow), y0 (oh), x0 (ow), gx (planes, ih, iw) overwritten */
int fnn_upsample_nearest_bwd_f32(const fnn_resample_desc *d, const float *g, const int64_t *y0,
                                 const int64_t *x0, float *gx, int n_threads);
int fnn_upsample_nearest_bwd_f64(const fnn_resample_desc *d, const double *g,
                                 const int64_t *y0, const int64_t *x0, double *gx,
                                 int n_threads);
/* 0 when every table index is inside its axis, else FNN_EINDEX */
int fnn_resample_check_tables(const fnn_resample_desc *d, const int64_t *y0, const int64_t *y1,
                              const int64_t *x0, const int64_t *x1);
#endif
