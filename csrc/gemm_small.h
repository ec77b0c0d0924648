/* gemm_small.h -- the direct (unpacked) path of fnn_gemm for problems with
 * very few rows or very few columns (matrix-vector-like products: a Linear
 * layer at batch 1, its backward).  Internal to gemm.c; see gemm_small.c.
 */
#ifndef FNN_GEMM_SMALL_H
#define FNN_GEMM_SMALL_H
#include "fnn_common.h"

/* The direct path runs when M <= FNN_GEMM_SMALL_MN (else when
 * N <= FNN_GEMM_SMALL_MN, on the transposed problem); or when every element
 * is a contiguous dot product (B given transposed) and M <=
 * FNN_GEMM_SMALL_DOT_MN with N <= FNN_GEMM_SMALL_DOT_OTHER (or the same
 * with M and N swapped, A not transposed: there the packed path wastes
 * most of its tiles; with more columns it is faster); or when K <=
 * FNN_GEMM_SMALL_K. */
#define FNN_GEMM_SMALL_MN 4
#define FNN_GEMM_SMALL_DOT_MN 16
#define FNN_GEMM_SMALL_DOT_OTHER 64
#define FNN_GEMM_SMALL_K 16

/* The arguments of fnn_gemm_ex_* with the kernel path (isa, resolved by
 * fnn_gemm_resolve_isa) in place of opts, plus the workspace length
 * (ws_len elements).  Returns 1 when it computed
 * C, 0 when the problem is not one for the direct path (the caller then
 * runs the packed path).  Arguments are assumed valid, M, N, K > 0 and
 * alpha != 0.  Every element of C is a sum over K in a fixed order that
 * depends on K only (not on threads or on M, N), so the result does not
 * depend on the thread count. */
int fnn_gemm_small_f32(int isa, int trans_a, int trans_b, int64_t M, int64_t N,
                       int64_t K, float alpha, const float *A, int64_t lda,
                       const float *B, int64_t ldb, float beta, float *C,
                       int64_t ldc, float *ws, int64_t ws_len, int n_threads);
int fnn_gemm_small_f64(int isa, int trans_a, int trans_b, int64_t M, int64_t N,
                       int64_t K, double alpha, const double *A, int64_t lda,
                       const double *B, int64_t ldb, double beta, double *C,
                       int64_t ldc, double *ws, int64_t ws_len, int n_threads);

#endif
