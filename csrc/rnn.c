/* rnn.c -- descriptor checks and saved-activation layout of the recurrent
 * layers (see rnn.h); instantiates rnn.inc for float and double. */
#pragma GCC optimize("no-trapping-math")
#include <math.h>
#include <string.h>
#include "rnn.h"
#include "gemm.h"
#include "gemm_kernels.h"
#include "fnn_generic.h"
#include "fnn_tmath.h"     /* SIGM, TANH */
#if defined(__SSE__)
#include <xmmintrin.h>   /* pack_wp's float transposes (rnn_fwd.inc) */
#endif
#if defined(FNN_HAVE_X86_KERNELS)
#include <immintrin.h>   /* the GEMV's FMA forms (rnn_fwd.inc) */
#endif

/* Products below this many multiply-adds run on one thread.  Lower than
 * fastnn.ops.linalg.mm's 2^19: the step loop calls the GEMM back to back,
 * so the team is still spinning from the previous step and a fork costs
 * about a microsecond, while splitting a step's matrix-vector product keeps
 * half of W_hh in each core's L2 (measured, LSTM(256, 256, 2 layers) at
 * batch 1: 128 recurrent products take 3.8 ms on 1 thread, 1.6 ms on 2). */
#define RNN_GEMM_SERIAL_MACS (1 << 16)

int fnn_rnn_init(fnn_rnn_desc *d, int mode, int reverse, int64_t T, int64_t n_in, int64_t H,
                 int64_t P, int64_t ldy, const int64_t *batch_sizes) {
    if (!d || !batch_sizes || mode < FNN_RNN_TANH || mode > FNN_RNN_GRU) return FNN_EINVAL;
    if (T < 1 || n_in < 1 || H < 1 || P < 0 || P >= H || (P > 0 && mode != FNN_RNN_LSTM))
        return FNN_EINVAL;
    int64_t N = 0;
    for (int64_t t = 0; t < T; t++) {
        if (batch_sizes[t] < 1 || (t > 0 && batch_sizes[t] > batch_sizes[t - 1]))
            return FNN_EINVAL;
        N += batch_sizes[t];
    }
    d->mode = mode;
    d->reverse = reverse != 0;
    d->steps = T;
    d->batch = batch_sizes[0];
    d->n_in = n_in;
    d->hidden = H;
    d->proj = P;
    d->hout = P > 0 ? P : H;
    d->gates = mode == FNN_RNN_LSTM ? 4 * H : mode == FNN_RNN_GRU ? 3 * H : H;
    d->rows = N;
    d->ldy = ldy;
    d->batch_sizes = batch_sizes;
    return ldy >= d->hout ? FNN_OK : FNN_EINVAL;
}

/* Offsets (elements) of the saved activations; -1 where absent. */
typedef struct {
    int64_t gw;                       /* width of a saved gates row */
    int64_t hprev, cprev, tanhc, r, total;
} rnn_saved;

static rnn_saved rnn_saved_layout(const fnn_rnn_desc *d) {
    rnn_saved s;
    const int64_t N = d->rows, H = d->hidden;
    s.gw = d->mode == FNN_RNN_LSTM || d->mode == FNN_RNN_GRU ? 4 * H : H;
    s.hprev = N * s.gw;
    s.total = s.hprev + N * d->hout;
    s.cprev = s.tanhc = s.r = -1;
    if (d->mode == FNN_RNN_LSTM) {
        s.cprev = s.total;
        s.tanhc = s.cprev + N * H;
        s.total = s.tanhc + N * H;
        if (d->proj > 0) {
            s.r = s.total;
            s.total += N * H;
        }
    }
    return s;
}

int64_t fnn_rnn_saved_len(const fnn_rnn_desc *d) { return rnn_saved_layout(d).total; }

static inline int64_t rnn_round16(int64_t n) { return (n + 15) / 16 * 16; }

/* bytes [p, p + n) toward L2 (a step's saved rows for the next step, read
 * in L3 since the forward; write: they are about to be written) */
static inline void rnn_prefetch_l2(const void *p, int64_t n, const int write) {
    const char *c = (const char *)p;
    for (int64_t j = 0; j < n; j += 64) {
        if (write) __builtin_prefetch(c + j, 1, 2);
        else __builtin_prefetch(c + j, 0, 2);
    }
}

static inline int rnn_gemm_threads(int64_t M, int64_t N, int64_t K, int n_threads) {
    return (double)M * N * K >= RNN_GEMM_SERIAL_MACS ? n_threads : 1;
}

/* A gate pass costs about this many elementwise operations per gate value
 * (a sigmoid or tanh and the cell update): its rows are shared out from
 * FNN_SERIAL_CUTOFF / RNN_GATE_WORK values (a step of batch 32 at H = 256),
 * the team being warm from the step's GEMM. */
#define RNN_GATE_WORK 4

/* Unit blocks of the forward (rnn_fwd.inc).  Only at a small batch: there a
 * step's product is a matrix-vector one, bound by reading W_hh, and a
 * thread keeping its blocks in its own cache wins; at larger batches one
 * product over all gates on the packed W_hh^T (pb_* in rnn.inc, threaded
 * over its column panels) runs faster than blocks.  Blocks of at least 64
 * units, and on a team no more blocks than threads: one GEMV and one gate
 * pass a thread and step (LSTM(256) at batch 1 on two threads, four blocks
 * -> two: 8.1 -> 7.5 us a step).  The blocks change no value: an output's
 * sum runs over k in order in whichever block holds it. */
#define RNN_MAX_BLOCKS 16
static inline int64_t rnn_blocks(const fnn_rnn_desc *d, int64_t n, int n_threads) {
    if (d->batch > 8 || n < 128) return 1;
    const int64_t b = n / 64 < RNN_MAX_BLOCKS ? n / 64 : RNN_MAX_BLOCKS;
    return n_threads >= 2 && b > n_threads ? n_threads : b;
}

/* Whether the steps' products run on W_hh^T packed into the micro-kernel's
 * panels (pb_* in rnn.inc; W_hr kept transposed, (H x P)), as above a batch
 * of 8, or on the unit blocks' GEMV panels (rnn_gemv in rnn_fwd.inc), as at
 * 8 rows and below, where a step's product is bound by reading W_hh.  The
 * backward packs W_hh for its steps' dh = dg W_hh on the same condition. */
static inline int rnn_wt(const fnn_rnn_desc *d) { return d->batch > 8; }

/* The forward's team: one thread per block up to n_threads, when a step has
 * enough work to share. */
static inline int rnn_team(const fnn_rnn_desc *d, int64_t nblk, int n_threads) {
    if (nblk < 2 || n_threads < 2) return 1;
    if ((double)d->batch * d->gates * d->hout < RNN_GEMM_SERIAL_MACS) return 1;
    return nblk < n_threads ? (int)nblk : n_threads;
}

static inline double rnn_sigm_f64(double x) {
    double e = fnn_exp(-fabs(x)), r = 1.0 / (1.0 + e);
    return x >= 0.0 ? r : (x < 0.0 ? e * r : x);
}

#undef SIGM                 /* the double gate: rnn_sigm_f64 */
#define rnn_sigm_f32 fnn_sigmoidf
#define SIGM FN(rnn_sigm)

#define RDESC FN(fnn_gemm_desc)
#define RACTIVE FN(fnn_gemm_active_desc)
#define FNN_BODY "rnn.inc"
#define FNN_BODY2 "rnn_fwd.inc"
#include "fnn_instantiate.inc"
