/* infer.h -- an inference program: a fixed chain of forward layers run over
 * a batch in one call, for an ``nn.Sequential`` in eval mode without
 * autograd (fastnn/nn/fusion.py builds it; fastnn/_bind/infer.pxi runs it).
 *
 * Why: run layer by layer, every activation of a batch makes a round trip
 * through main memory between two layers (a 3x32x32 network's first
 * activation is 8 MiB at batch 64), and at batch 1 the Python between the
 * layers costs more than their arithmetic.  Here the layers run back to
 * back in C over *chunks* of images small enough that a chunk's activations
 * stay in the core's L2 cache, each thread taking whole chunks; the
 * per-layer passes (bias, batch norm, ReLU, pooling) then read cache, not
 * memory.
 *
 * Layers (``fnn_infer_op``, per image shapes (C, H, W); a flat feature
 * vector is (F, 1, 1)):
 *   CONV     fnn_conv2d_fwd, with an optional batch norm folded into it
 *            (w'[k] = w[k] * s[k], b'[k] = (b[k] - mean[k]) * s[k] + beta[k],
 *            s = gamma / sqrt(var + eps); gamma, beta optional) and an
 *            optional fused ReLU;
 *   BNORM    eval-mode batch norm (fnn_batchnorm[_relu]_fwd_eval);
 *   RELU     fnn_relu_fwd;
 *   MAXPOOL, AVGPOOL   fnn_max_pool2d_fwd (values only) / fnn_avg_pool2d_fwd;
 *   LINEAR   y = x W^T + b (the bias written first, then the GEMM with
 *            beta = 1, as nn.Linear computes it), optional fused ReLU.
 * Every layer is the kernel its module runs, so the output is bitwise the
 * layer-by-layer forward's (fold a batch norm, and it differs by rounding).
 *
 * Chunks: the ops before the first LINEAR run over chunks of at least 4
 * images (fnn_infer_chunk: sized by the batch, the largest activation and
 * the L2, never by the thread count), each chunk's convolutions taking the
 * method the whole batch would get; the LINEAR ops and those after them
 * run over the whole batch (a GEMM's method depends on its row count).  So
 * the result is bitwise the same at every thread count, and the same as
 * the layers one by one.  One chunk: each layer threaded as usual.  More:
 * chunks shared out among the threads, each layer of a chunk on one
 * thread.  A program whose weights exceed half the L2 is not chunked (each
 * chunk would read them from memory again).
 */
#ifndef FNN_INFER_H
#define FNN_INFER_H
#include "fnn_common.h"
#include "conv2d.h"
#include "pool2d.h"
#include "gemm.h"

enum {
    FNN_INFER_CONV = 1,
    FNN_INFER_BNORM = 2,
    FNN_INFER_RELU = 3,
    FNN_INFER_MAXPOOL = 4,
    FNN_INFER_AVGPOOL = 5,
    FNN_INFER_LINEAR = 6
};

typedef struct {
    int kind;                    /* FNN_INFER_* */
    int relu;                    /* CONV, BNORM, LINEAR: a ReLU fused after */
    int64_t in[3], out[3];       /* per image (C, H, W) */
    fnn_conv2d_desc conv;        /* CONV (N is set per chunk) */
    fnn_pool2d_desc pool;        /* MAXPOOL, AVGPOOL (N is set per chunk) */
    const void *w, *b;           /* CONV (K, C/G, R, S) / LINEAR (out, in); bias or NULL */
    /* the batch norm: BNORM, or folded into a CONV when mean != NULL;
     * gamma, beta may be NULL (affine=False) */
    const void *mean, *var, *gamma, *beta;
    double eps;
} fnn_infer_op;

/* Elements of ws fnn_infer_run needs for these ops, batch N, n_threads.
 * -1 for an invalid program (see fnn_infer_run). */
int64_t fnn_infer_workspace_len_f32(const fnn_infer_op *ops, int n_ops, int64_t N, int n_threads);
int64_t fnn_infer_workspace_len_f64(const fnn_infer_op *ops, int n_ops, int64_t N, int n_threads);

/* y (N, out of the last op) = the ops applied in turn to x (N, in of the
 * first op).  FNN_EINVAL when the ops do not chain (an op's out is not the
 * next one's in), a size is invalid or a descriptor disagrees with its
 * shapes.  opts: the GEMM's (NULL: defaults). */
int fnn_infer_run_f32(const fnn_infer_op *ops, int n_ops, int64_t N, const float *x, float *y,
                      float *ws, const fnn_gemm_opts *opts, int n_threads);
int fnn_infer_run_f64(const fnn_infer_op *ops, int n_ops, int64_t N, const double *x,
                      double *y, double *ws, const fnn_gemm_opts *opts, int n_threads);

/* The chunk size (images) the run uses, for tests and benchmarks. */
int64_t fnn_infer_chunk(const fnn_infer_op *ops, int n_ops, int64_t N, int elem_bytes);

#endif
