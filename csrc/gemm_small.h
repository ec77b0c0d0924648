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
 * FNN_GEMM_SMALL_K.  With M and N swapped (a few output columns: a
 * classifier's Linear, x W^T with W of 10 rows) any M takes the dot
 * products once K >= FNN_GEMM_SMALL_DOT_LONGK: the packed path's 32-column
 * tiles then cost 2-4x (measured at 2 threads, AVX-512: 128 x 10 x 256
 * 22 -> 12 us, 1024 x 10 x 512 165 -> 85 us, 4096 x 16 x 256 316 -> 300;
 * at K = 128, 16 columns, the packed path stays faster). */
#define FNN_GEMM_SMALL_MN 4
#define FNN_GEMM_SMALL_DOT_MN 16
#define FNN_GEMM_SMALL_DOT_OTHER 64
#define FNN_GEMM_SMALL_DOT_LONGK 256
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
