/* rnn.h -- one layer, one direction of an Elman RNN, LSTM or GRU over a
 * whole sequence, forward and backward through time.
 *
 * Layout: the sequence is time-major and packed, as PyTorch's
 * PackedSequence: step t has batch_sizes[t] active rows (non-increasing in
 * t) and its rows follow those of step t-1, so x is (N, I) with
 * N = sum_t batch_sizes[t].  A padded (T, B, I) batch is the case
 * batch_sizes[t] = B.  Gate order and formulas are PyTorch's:
 *
 *   RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh)          act = tanh | relu
 *   LSTM: [i f g o] = W_ih x + b_ih + W_hh h + b_hh
 *         i, f, o = sigmoid(.), g = tanh(.)
 *         c' = f * c + i * g,  h' = o * tanh(c')   (proj: h' = W_hr (o * tanh(c')))
 *   GRU:  [r z n] rows of W_ih x + b_ih (gi) and of W_hh h + b_hh (gh)
 *         r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z)
 *         n = tanh(gi_n + r * gh_n),  h' = n + z * (h - n)
 *
 * Forward (rnn_fwd.inc): the input projection of every step is one GEMM
 * (N x G x I, G = H, 4H or 3H gate columns); each step then runs its
 * recurrent GEMM (bs x G x HO) through fnn_gemm and one fused pass over the
 * gates (biases, activations, cell update, output).  At a small batch the
 * units are cut into blocks that one team of threads shares for the whole
 * sequence (each thread keeping its blocks of W_hh in its cache); at larger
 * batches one GEMM (threaded inside fnn_gemm, W_hh kept transposed) and the
 * rows of the gate pass shared out.  The state lives in a (B, HO) buffer
 * whose first bs rows are step t's previous state for either direction
 * (rows of finished sequences keep their last state, so the buffer ends as
 * h_n).
 *
 * Backward: steps in the opposite order; each computes the pre-activation
 * gradients dG of its rows in one fused pass and the recurrent dh with one
 * GEMM; afterwards dW_ih = dG^T X, dW_hh = dGh^T Hprev, dW_hr = dH^T R and
 * dX = dG W_ih are single GEMMs over all N rows, db the column sums of dG
 * (GRU: dGh differs from dG in its n block, dGh_n = dG_n * r).
 *
 * Saved activations (training; fnn_rnn_saved_len elements, offsets in
 * order):  gates (N, G_s) | hprev (N, HO) | cprev (N, H) | tanhc (N, H) | r (N, H)
 * with G_s = H (RNN: the output h), 4H (LSTM: i f g o activated; GRU:
 * r z n and gh_n), cprev/tanhc for LSTM only, r = o * tanh(c) with proj only.
 *
 * Threads: the GEMMs use the team (their results do not depend on the
 * thread count), the fused passes share out rows above the serial cut-off,
 * the bias sums share out columns (each column summed over rows in order):
 * every result is bitwise identical across thread counts.
 */
#ifndef FNN_RNN_H
#define FNN_RNN_H
#include "fnn_common.h"

#define FNN_RNN_TANH 0
#define FNN_RNN_RELU 1
#define FNN_RNN_LSTM 2
#define FNN_RNN_GRU 3

typedef struct {
    int mode;                     /* FNN_RNN_* */
    int reverse;                  /* 1: steps run T-1 .. 0 */
    int64_t steps;                /* T */
    int64_t batch;                /* B = batch_sizes[0] */
    int64_t n_in, hidden, proj;   /* I, H, P (0: no projection) */
    int64_t hout;                 /* HO, the width of h and y: P ? P : H */
    int64_t gates;                /* G, gate columns: H, H, 4H, 3H */
    int64_t rows;                 /* N = sum of batch_sizes */
    int64_t ldy;                  /* row stride of y and dy (>= HO) */
    const int64_t *batch_sizes;   /* (T), >= 1, non-increasing; kept by pointer */
} fnn_rnn_desc;

/* Fills and validates d: mode known, T >= 1, I, H >= 1, 0 <= P < H (P > 0
 * for LSTM only), ldy >= HO, batch_sizes valid.  FNN_OK or FNN_EINVAL. */
int fnn_rnn_init(fnn_rnn_desc *d, int mode, int reverse, int64_t T, int64_t n_in, int64_t H,
                 int64_t P, int64_t ldy, const int64_t *batch_sizes);

/* Elements of the saved activations (training). */
int64_t fnn_rnn_saved_len(const fnn_rnn_desc *d);

/* Scratch of fwd (training: saved != NULL) and bwd at this thread count. */
int64_t fnn_rnn_fwd_workspace_len_f32(const fnn_rnn_desc *d, int training, int n_threads);
int64_t fnn_rnn_fwd_workspace_len_f64(const fnn_rnn_desc *d, int training, int n_threads);
int64_t fnn_rnn_bwd_workspace_len_f32(const fnn_rnn_desc *d, int n_threads);
int64_t fnn_rnn_bwd_workspace_len_f64(const fnn_rnn_desc *d, int n_threads);

#define FNN_DECL_RNN(T, SFX)                                                            \
/* x (N, I); w_ih (G, I); w_hh (G, HO); b_ih, b_hh (G) or NULL; w_hr (P, H) or NULL;    \
 * h0 (B, HO), c0 (B, H) (LSTM) or NULL (zeros); y (N, HO) at row stride ldy;           \
 * hn (B, HO), cn (B, H) (LSTM); saved: fnn_rnn_saved_len or NULL (inference). */       \
int fnn_rnn_fwd_##SFX(const fnn_rnn_desc *d, const T *x, const T *w_ih, const T *w_hh,   \
                      const T *b_ih, const T *b_hh, const T *w_hr, const T *h0,          \
                      const T *c0, T *y, T *hn, T *cn, T *saved, T *ws, int n_threads);  \
/* dy (N, HO) at row stride ldy; dhn (B, HO), dcn (B, H) or NULL (zeros).  Outputs,     \
 * each NULL when not wanted: dx (N, I) (overwritten, or added to when accumulate_dx),  \
 * dw_ih (G, I), dw_hh (G, HO), db_ih, db_hh (G), dw_hr (P, H), dh0 (B, HO), dc0 (B, H).*/\
int fnn_rnn_bwd_##SFX(const fnn_rnn_desc *d, const T *x, const T *w_ih, const T *w_hh,   \
                      const T *w_hr, const T *saved, const T *dy, const T *dhn,          \
                      const T *dcn, T *dx, int accumulate_dx, T *dw_ih, T *dw_hh,        \
                      T *db_ih, T *db_hh, T *dw_hr, T *dh0, T *dc0, T *ws, int n_threads);

FNN_DECL_RNN(float, f32)
FNN_DECL_RNN(double, f64)
#endif
