/* embedding.h -- embedding lookup and embedding bags, forward and backward.
 *
 *   embedding:  y[i] = w[idx[i]]                       w (num, D), y (n, D)
 *     bwd:      dw[r] = sum_{i: idx[i] == r, r != pad} scale[r] * dy[i]
 *   bag b (indices idx[offsets[b] .. offsets[b+1]), padding_idx skipped):
 *     sum:  y[b] = sum_i psw[i] * w[idx[i]]   (psw: per-sample weights or 1)
 *     mean: y[b] = sum_i w[idx[i]] / count    (0 for an empty bag)
 *     max:  y[b][j] = max_i w[idx[i]][j], argmax kept (-1 for an empty bag: 0)
 *
 * The gradients are dense (num, D), overwritten.  They are sums in index
 * order for every column: the columns are shared out between threads in
 * blocks, each thread walking all indices for its block, so the result does
 * not depend on the thread count.  Indices are checked first: any index
 * outside [0, num) returns FNN_EINDEX and writes nothing.
 */
#ifndef FNN_EMBEDDING_H
#define FNN_EMBEDDING_H
#include "fnn_common.h"

#define FNN_EMBAG_SUM 0
#define FNN_EMBAG_MEAN 1
#define FNN_EMBAG_MAX 2

/* FNN_OK when every idx[i] (n of them) is in [0, num), else FNN_EINDEX. */
int fnn_embedding_check(int64_t n, const int64_t *idx, int64_t num);

#define FNN_DECL_EMBEDDING(T, SFX)                                                     \
/* idx (n); w (num, D); y (n, D) */                                                   \
int fnn_embedding_fwd_##SFX(int64_t n, int64_t num, int64_t D, const int64_t *idx,     \
                            const T *w, T *y, int n_threads);                          \
/* dy (n, D); pad: padding_idx or -1; scale (num) or NULL; dw (num, D) */              \
int fnn_embedding_bwd_##SFX(int64_t n, int64_t num, int64_t D, const int64_t *idx,     \
                            const T *dy, int64_t pad, const T *scale, T *dw,           \
                            int n_threads);                                            \
/* offsets (nbags + 1), non-decreasing, offsets[nbags] == n; psw (n) or NULL (sum);   \
 * y (nbags, D); argmax (nbags, D) for max (else NULL) */                              \
int fnn_embedding_bag_fwd_##SFX(int64_t n, int64_t nbags, int64_t num, int64_t D,      \
                                const int64_t *idx, const int64_t *offsets,            \
                                const T *psw, int mode, int64_t pad, const T *w, T *y, \
                                int64_t *argmax, int n_threads);                       \
int fnn_embedding_bag_bwd_##SFX(int64_t n, int64_t nbags, int64_t num, int64_t D,      \
                                const int64_t *idx, const int64_t *offsets,            \
                                const T *psw, int mode, int64_t pad,                   \
                                const int64_t *argmax, const T *dy, T *dw,             \
                                int n_threads);

FNN_DECL_EMBEDDING(float, f32)
FNN_DECL_EMBEDDING(double, f64)
#endif
