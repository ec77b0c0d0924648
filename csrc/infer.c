/* infer.c -- the inference program (see infer.h): validation, the chunk
 * size, and the float/double instantiations of infer.inc. */
#include <string.h>
#include "infer.h"
#include "batchnorm.h"
#include "elementwise.h"
#include "fnn_cpu.h"
#include "fnn_generic.h"

#define INF_MAX_OPS 256
/* GEMMs below this many multiply-adds run on one thread (as
 * fastnn/ops/linalg.py's _GEMM_SERIAL_MACS) */
#define INF_GEMM_SERIAL_MACS (1 << 19)

static inline int64_t inf_round16(int64_t n) { return (n + 15) & ~(int64_t)15; }

static inline int64_t inf_size(const int64_t *s) { return s[0] * s[1] * s[2]; }

static int64_t inf_conv_wlen(const fnn_infer_op *op) {
    const fnn_conv2d_desc *d = &op->conv;
    return d->K * (d->C / d->G) * d->R * d->S;
}

static int64_t inf_wlen(const fnn_infer_op *op) {
    if (op->kind == FNN_INFER_CONV) return inf_conv_wlen(op);
    if (op->kind == FNN_INFER_LINEAR) return op->in[0] * op->out[0];
    return 0;
}

/* The largest activation between two of the ops, per image (the first
 * op's input and the last op's output are the caller's arrays) */
static int64_t inf_max_act(const fnn_infer_op *ops, int n_ops) {
    int64_t a = 0;
    for (int i = 0; i + 1 < n_ops; i++)
        if (inf_size(ops[i].out) > a) a = inf_size(ops[i].out);
    return a;
}

static int same3(const int64_t *a, int64_t x, int64_t y, int64_t z) {
    return a[0] == x && a[1] == y && a[2] == z;
}

static int inf_check_op(const fnn_infer_op *op) {
    const int64_t *in = op->in, *out = op->out;
    for (int j = 0; j < 3; j++)
        if (in[j] < 1 || out[j] < 1) return FNN_EINVAL;
    if (op->relu != 0 && op->relu != 1) return FNN_EINVAL;
    switch (op->kind) {
    case FNN_INFER_CONV: {
        fnn_conv2d_desc d = op->conv;
        d.N = 1;
        if (!op->w || fnn_conv2d_init(&d) != FNN_OK) return FNN_EINVAL;
        if (!same3(in, d.C, d.H, d.W) || !same3(out, d.K, d.OH, d.OW)) return FNN_EINVAL;
        if (op->mean && (!op->var || !(op->eps >= 0))) return FNN_EINVAL;
        return FNN_OK;
    }
    case FNN_INFER_BNORM:
        if (!op->mean || !op->var || !(op->eps >= 0)) return FNN_EINVAL;
        return same3(out, in[0], in[1], in[2]) ? FNN_OK : FNN_EINVAL;
    case FNN_INFER_RELU:
        return same3(out, in[0], in[1], in[2]) && !op->relu ? FNN_OK : FNN_EINVAL;
    case FNN_INFER_MAXPOOL:
    case FNN_INFER_AVGPOOL: {
        fnn_pool2d_desc d = op->pool;
        d.N = 1;
        d.C = in[0];
        if (d.H != in[1] || d.W != in[2] || op->relu) return FNN_EINVAL;
        if (op->kind == FNN_INFER_AVGPOOL && (d.dh != 1 || d.dw != 1)) return FNN_EINVAL;
        if (fnn_pool2d_init(&d) != FNN_OK) return FNN_EINVAL;
        return same3(out, in[0], d.OH, d.OW) ? FNN_OK : FNN_EINVAL;
    }
    case FNN_INFER_LINEAR:
        if (!op->w || in[1] != 1 || in[2] != 1 || out[1] != 1 || out[2] != 1)
            return FNN_EINVAL;
        return FNN_OK;
    }
    return FNN_EINVAL;
}

static int inf_check(const fnn_infer_op *ops, int n_ops, int64_t N) {
    if (!ops || n_ops < 1 || n_ops > INF_MAX_OPS || N < 0) return FNN_EINVAL;
    for (int i = 0; i < n_ops; i++) {
        if (inf_check_op(&ops[i]) != FNN_OK) return FNN_EINVAL;
        if (i == 0) continue;
        const int64_t *o = ops[i - 1].out;   /* (a linear op takes the image flattened) */
        if (ops[i].kind == FNN_INFER_LINEAR ? inf_size(ops[i].in) != inf_size(o)
                                            : !same3(ops[i].in, o[0], o[1], o[2]))
            return FNN_EINVAL;
    }
    return FNN_OK;
}

/* Whether op i is a CONV (no batch norm folded in, no ReLU) that a BNORM
 * follows: the pair runs as one call, the batch norm's scale and shift in
 * the convolution's epilogue (fnn_conv2d_fused_fwd), bitwise the two ops
 * in turn, and the activation between them never written */
static int inf_conv_bn(const fnn_infer_op *ops, int n_ops, int i) {
    return ops[i].kind == FNN_INFER_CONV && !ops[i].mean && !ops[i].relu && i + 1 < n_ops &&
           ops[i + 1].kind == FNN_INFER_BNORM;
}

/* Whether op i is a 2 x 2 / stride 2 max pooling without padding (its
 * output the input's size halved, rounded down): a CONV (+ BNORM) before it
 * may pool in its epilogue (fnn_conv2d_fused_pool_ok) */
static int inf_pool2(const fnn_infer_op *ops, int n_ops, int i) {
    if (i >= n_ops || ops[i].kind != FNN_INFER_MAXPOOL) return 0;
    const fnn_pool2d_desc *d = &ops[i].pool;
    return d->R == 2 && d->S == 2 && d->sh == 2 && d->sw == 2 && d->ph == 0 && d->pw == 0 &&
           d->dh == 1 && d->dw == 1 && ops[i].out[1] == ops[i].in[1] / 2 &&
           ops[i].out[2] == ops[i].in[2] / 2;
}

/* The ops before the first LINEAR: the part of the program that runs in
 * chunks (a GEMM's method, hence its rounding, depends on its row count,
 * so the linear ops and those after them run over the whole batch, as the
 * layers would run one by one) */
static int inf_split(const fnn_infer_op *ops, int n_ops) {
    int i = 0;
    while (i < n_ops && ops[i].kind != FNN_INFER_LINEAR) i++;
    return i;
}

/* Images per chunk (infer.h), chunks being as even as they can be and
 * none smaller than this: half the L2 holds a chunk's two largest
 * activations, a chunk has at least 4 images (the convolutions choose
 * their method by the batch from 1 to 4 images up, so each image gets the
 * method it gets in the whole batch), at most an eighth of the batch where
 * the cache allows more (work to share out).  The whole batch when 4
 * images do not fit, when the weights exceed half the L2 (each chunk would
 * read them from memory again), or when fewer than two ops come before
 * the first linear one (nothing to keep in cache). */
int64_t fnn_infer_chunk(const fnn_infer_op *ops, int n_ops, int64_t N, int elem_bytes) {
    const int split = inf_split(ops, n_ops);
    if (N < 8 || split < 2) return N;
    fnn_cache_info ci;
    fnn_cpu_caches(&ci);
    const int64_t half = (ci.l[1].size > 0 ? ci.l[1].size : FNN_CACHE_DEFAULT_L2) / 2;
    int64_t wbytes = 0;
    for (int i = 0; i < split; i++) wbytes += inf_wlen(&ops[i]) * elem_bytes;
    if (wbytes > half) return N;
    const int64_t a = inf_max_act(ops, split) * elem_bytes * 2;
    const int64_t fit = a > 0 ? half / a : N;
    if (fit < 4) return N;
    int64_t c = (N + 7) / 8;
    if (c > fit) c = fit;
    return c < 4 ? 4 : c;
}

#define FNN_BODY "infer.inc"
#include "fnn_instantiate.inc"
