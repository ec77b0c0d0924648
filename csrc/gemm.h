/* gemm.h -- the single matrix-multiply entry point of fastnn.
 *
 *   C = alpha * op(A) @ op(B) + beta * C          (row-major)
 *
 * op(A) is M x K: A is (M, lda>=K) when !trans_a, (K, lda>=M) when trans_a.
 * op(B) is K x N: B is (K, ldb>=N) when !trans_b, (N, ldb>=K) when trans_b.
 * C is (M, ldc>=N).  beta == 0 means C is not read (NaNs in C are ignored,
 * as BLAS does).  Every element of C sees its K terms in an order fixed by
 * the shape and the kernel path: results are bitwise the same at every
 * thread count.
 */
#ifndef FNN_GEMM_H
#define FNN_GEMM_H
#include "fnn_common.h"
#include "fnn_cpu.h"

/* Kernel paths.  FNN_GEMM_AVX512SIM runs the AVX-512 kernels' code (their
 * register block and blocking) emulated with AVX2, for testing that path on
 * CPUs without AVX-512; it is never chosen automatically. */
enum {
    FNN_GEMM_AUTO = -1,        /* the best path the CPU runs */
    FNN_GEMM_PORTABLE = 0,     /* plain C, vectorised for the baseline ISA */
    FNN_GEMM_AVX2 = 1,         /* AVX2 + FMA */
    FNN_GEMM_AVX512 = 2,
    FNN_GEMM_AVX512SIM = 3,
    FNN_GEMM_NPATHS = 4
};

/* How a product runs, chosen by the caller (the binding holds the user's
 * setting and passes it with every call; NULL means the defaults
 * {FNN_GEMM_AUTO, 1}).
 *   isa:    the kernel path; one the CPU cannot run is lowered to the best
 *           it can (fnn_gemm_resolve_isa).
 *   direct: 1: products with at most a few rows or columns, or very few
 *           terms, take the direct path (gemm_small.c: no packing); 0: every
 *           product is packed (for testing that path).  Which path a
 *           product takes never depends on the thread count. */
typedef struct {
    int isa;
    int direct;
} fnn_gemm_opts;

/* Elements of ws the calls need at this thread count (whatever the path). */
int64_t fnn_gemm_workspace_len_f32(int n_threads);
int64_t fnn_gemm_workspace_len_f64(int n_threads);

/* A (see above), B, C: row-major with leading dimensions lda, ldb, ldc;
 * ws: fnn_gemm_workspace_len_*(n_threads) elements. */
int fnn_gemm_ex_f32(const fnn_gemm_opts *opts, int trans_a, int trans_b, int64_t M, int64_t N,
                    int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                    int64_t ldb, float beta, float *C, int64_t ldc, float *ws, int n_threads);
int fnn_gemm_ex_f64(const fnn_gemm_opts *opts, int trans_a, int trans_b, int64_t M, int64_t N,
                    int64_t K, double alpha, const double *A, int64_t lda, const double *B,
                    int64_t ldb, double beta, double *C, int64_t ldc, double *ws,
                    int n_threads);

/* The path a request runs on this CPU: isa itself when the CPU has its
 * instructions, else (and for FNN_GEMM_AUTO or an unknown code) the best
 * path it runs.  The best path comes from cpuid. */
int fnn_gemm_resolve_isa(int isa);
int fnn_gemm_cpu_best_isa(void);

/* Blocking of path isa (resolved) for dtype 0 (f32) or 1 (f64):
 * out[0..4] = MR, NR, MC, KC, NC.  Returns FNN_OK or FNN_EINVAL. */
int fnn_gemm_get_blocking(int isa, int dtype, int64_t *out);

/* The cache-block model (gemm_kernels.c has the reasoning): for a register
 * block mr x nr of elem-byte elements (4 or 8) and the caches ci,
 * out[0..2] = MC, KC, NC.  A pure function (tests give it made-up caches).
 * Returns FNN_OK or FNN_EINVAL. */
int fnn_gemm_blocking_model(const fnn_cache_info *ci, int mr, int nr, int elem,
                            int64_t *out);

/* Replaces the cache blocks of path isa (not resolved: the table entry)
 * for dtype 0 / 1 (0 for mc, kc or nc: the model's figure).  mc must be a
 * multiple of MR, nc of NR, kc <= FNN_GEMM_KC_MAX.  For tuning and
 * benchmarks only: not to be called while a product runs.  Returns FNN_OK
 * or FNN_EINVAL. */
int fnn_gemm_set_blocking(int isa, int dtype, int64_t mc, int64_t kc, int64_t nc);

/* The register-only FMA probe: runs iters iterations of a loop of
 * independent float multiply-adds held in registers (no memory traffic) on
 * each of n_threads threads with the vectors of path isa (resolved as
 * above; FNN_GEMM_AVX512SIM runs the AVX2 loop), and sets *flops to the
 * floating-point operations done in all (2 per multiply-add).  Divided by
 * the wall time of the call it gives the machine's arithmetic peak for
 * that path: the ceiling of every GEMM figure (fastnn bench --peak).
 * *cpu_rate (when not NULL) gets the same peak from each thread's own CPU
 * time (flop/s, summed over the threads): on a busy machine, where a
 * thread waits for a core, the wall time overstates the loop's time. */
int fnn_gemm_fma_probe(int isa, int64_t iters, int n_threads, int64_t *flops,
                       double *cpu_rate);

/* The K-split path: products with a small C and many terms (a convolution's
 * or a Linear layer's weight gradient over a large batch), where the M/N
 * panels give the threads too little to share and every thread would
 * stream all of K.  Taken (after the direct path) when
 *   M*N <= FNN_GEMM_KS_MN_MAX, K >= FNN_GEMM_KS_K_MIN and
 *   K >= FNN_GEMM_KS_K_RATIO * max(M, N).
 * K is then cut into
 *   nch = min(FNN_GEMM_KS_CHUNKS, K / FNN_GEMM_KS_CHUNK_MIN,
 *             1 + FNN_GEMM_KS_PART / (M*N))
 * near-equal chunks (the first K % nch of them one longer), a number that
 * depends on the shape only.  Chunk 0 is computed into C (beta applied
 * there), chunk c >= 1 into its own partial (alpha applied), each chunk by
 * one thread with the packed kernels (its K blocks cut as the ordinary path
 * cuts a product of that K), and then C = ((C0 + P1) + P2) + ... in chunk
 * order: the same result at every thread count.  The partials (at most
 * FNN_GEMM_KS_PART elements) share the workspace's packed-B region. */
#define FNN_GEMM_KS_MN_MAX 65536
#define FNN_GEMM_KS_K_MIN 4096
#define FNN_GEMM_KS_K_RATIO 8
#define FNN_GEMM_KS_CHUNKS 8
#define FNN_GEMM_KS_CHUNK_MIN 512
#define FNN_GEMM_KS_PART 262144

/* The number of K chunks the K-split path cuts an M x N x K product into,
 * or 0 when the packed path does not take that path for it (a product the
 * direct path takes never reaches it). */
int fnn_gemm_ksplit_chunks(int64_t M, int64_t N, int64_t K);

/* ---- Transitional (issue 12), for conv2d.inc only ----
 * conv2d.inc still asks for "the path in force" instead of taking the path
 * as an argument: it calls fnn_gemm_f32/_f64 (its col2im fallback: the
 * arguments of fnn_gemm_ex without opts, run as {the path in force, direct
 * on}) and fnn_gemm_active_desc_f32/_f64 (gemm_kernels.h).  The binding
 * sets that path with fnn_gemm_set_isa whenever the user chooses one, as
 * well as passing it to fnn_gemm_ex.  Delete these three and the global
 * behind them once conv2d takes the path from its binding. */
int fnn_gemm_set_isa(int isa);   /* returns the path now in force (resolved) */
int fnn_gemm_active_isa(void);   /* the path in force (resolved); also rnn_fwd.inc's GEMV */
int fnn_gemm_f32(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                 float *C, int64_t ldc, float *ws, int n_threads);
int fnn_gemm_f64(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                 const double *A, int64_t lda, const double *B, int64_t ldb, double beta,
                 double *C, int64_t ldc, double *ws, int n_threads);

#endif
