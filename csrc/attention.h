/* attention.h -- scaled dot-product attention, forward and backward, one
 * head at a time on fnn_gemm with the softmax fused with the scaling and
 * the mask.
 *
 * For batch b and query head h (key/value head h / (hq / hkv), grouped-query
 * attention when hkv < hq), with Q (L, E), K (S, E), V (S, Ev):
 *
 *   X = Q K^T                                     (fnn_gemm)
 *   P[i] = softmax_j(scale * X[i][j] + M[i][j]),  j <= i only when causal
 *   O = dropout(P) V                              (fnn_gemm)
 *
 * M is an additive float mask (a boolean mask arrives as 0 / -inf), row i
 * of head bh at mask + mask_off[bh] + i * m_ld (m_ld 0: one row for all i).
 * A row with every score masked gives P = 0 (safe_softmax, PyTorch's
 * scaled_dot_product_attention) or NaN (!safe_softmax, its math path with
 * need_weights).  Dropout keeps P[i][j] with a counter-based hash of
 * (seed, stream, element index over (batch * hq, L, S)) and scales it by
 * 1/(1 - p): the mask does not depend on the thread count and the backward
 * regenerates it.
 *
 * Backward (dA = dO V^T (+ dW, the gradient of the returned weights),
 * dP = dropout(dA), dX = P * (dP - rowsum(dP * P))):
 *   dQ = scale * dX K,  dK = scale * dX^T Q,  dV = dropout(P)^T dO,
 *   dmask = dX (when asked for).
 *
 * Every tensor is addressed by element strides (batch, head, row; columns
 * contiguous), so q, k and v may be column blocks of one packed projection
 * and o a column block of a (L, B, E) output: no head split copies.
 *
 * Threads: the forward shares out query heads, the backward (batch, kv head)
 * groups (a kv head's dK, dV summed over its query heads in order), each
 * item on one thread with single-threaded GEMMs; with fewer items than
 * threads the items run in turn with threaded GEMMs.  Either way every
 * result is bitwise identical across thread counts.
 */
#ifndef FNN_ATTENTION_H
#define FNN_ATTENTION_H
#include "fnn_common.h"

typedef struct {
    int64_t nb, hq, hkv;          /* batch, query heads, key/value heads */
    int64_t L, S, E, Ev;          /* query rows, key rows, q/k width, v width */
    int64_t q_sb, q_sh, q_ld;     /* element strides of q (and dq) */
    int64_t k_sb, k_sh, k_ld;     /* of k (and dk) */
    int64_t v_sb, v_sh, v_ld;     /* of v (and dv) */
    int64_t o_sb, o_sh, o_ld;     /* of o (and do) */
    double scale;
    int causal;                   /* keys j > i masked */
    int safe_softmax;             /* fully masked row: 0 (1) or NaN (0) */
    int64_t m_ld;                 /* mask row stride: 0 or S */
    double p_drop;                /* dropout probability in [0, 1] */
    uint64_t seed, stream;
} fnn_attn_desc;

/* FNN_OK when the sizes are >= 1 (nb >= 0), hq % hkv == 0, strides >= 0,
 * row strides >= the row widths and p_drop in [0, 1]; else FNN_EINVAL. */
int fnn_attn_check(const fnn_attn_desc *d);

int64_t fnn_attn_workspace_len_f32(const fnn_attn_desc *d, int n_threads);
int64_t fnn_attn_workspace_len_f64(const fnn_attn_desc *d, int n_threads);

#define FNN_DECL_ATTN(T, SFX)                                                          \
/* mask, mask_off (nb * hq) or NULL; o; p (nb*hq, L, S): the probabilities (saved     \
 * for the backward) or NULL; pw (nb*hq, L, S): the weights after dropout or NULL. */ \
int fnn_attn_fwd_##SFX(const fnn_attn_desc *d, const T *q, const T *k, const T *v,     \
                       const T *mask, const int64_t *mask_off, T *o, T *p, T *pw,      \
                       T *ws, int n_threads);                                          \
/* p: the forward's probabilities; dout; dpw (nb*hq, L, S) or NULL; outputs dq, dk,   \
 * dv (overwritten, any may be NULL) and dmask (nb*hq, L, S) or NULL. */               \
int fnn_attn_bwd_##SFX(const fnn_attn_desc *d, const T *q, const T *k, const T *v,     \
                       const T *p, const T *dout, const T *dpw, T *dq, T *dk, T *dv,   \
                       T *dmask, T *ws, int n_threads);

FNN_DECL_ATTN(float, f32)
FNN_DECL_ATTN(double, f64)
#endif
