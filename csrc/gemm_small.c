/* gemm_small.c -- the direct GEMM path for very few rows (or columns):
 * no packing, every element of C a dot product or a running sum read
 * straight from A and B (see gemm_small.h, gemm_small.inc).
 *
 * With M tiny and B given transposed ((N, K) row-major: a Linear layer's
 * weight) each C element is a contiguous dot product; with B row-major
 * each row of C is a sum of rows of B scaled by A's elements.  N tiny is
 * the same on the transposed problem (C^T = op(B)^T op(A)^T, C written
 * with swapped strides).  Threads split the columns of (the possibly
 * transposed) C in blocks fixed by the kernel, never the sums, so the
 * result does not depend on the thread count.
 *
 * The kernels are instantiated per kernel path and dtype: the native
 * vector is 16 bytes at the baseline, 32 with AVX2, 64 with AVX-512; the
 * sums are fused multiply-adds (explicit intrinsics) on the FMA paths.
 */
#include <string.h>
#include "gemm_small.h"
#include "gemm_kernels.h"   /* FNN_HAVE_X86_KERNELS */
#include "fnn_generic.h"
#ifdef FNN_HAVE_X86_KERNELS
#include <immintrin.h>
#endif

/* Below this many multiply-adds the direct path runs on one thread (a
 * parallel region costs a few microseconds; this is ~5 us of work). */
#define FNN_GEMM_SMALL_PAR_WORK (1 << 18)

/* an unaligned load of a vector of type VT_ */
#define fnn_sl_load(VT_, p) ({ VT_ v_; memcpy(&v_, (p), sizeof v_); v_; })
#define FNN_SL_FOR8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define FNN_SL_FOR4(X) X(0) X(1) X(2) X(3)
#define FNN_SL_FOR2(X) X(0) X(1)

typedef float fnn_sv16_f32 __attribute__((vector_size(16)));
typedef double fnn_sv16_f64 __attribute__((vector_size(16)));
typedef float fnn_sv32_f32 __attribute__((vector_size(32)));
typedef double fnn_sv32_f64 __attribute__((vector_size(32)));
typedef float fnn_sv64_f32 __attribute__((vector_size(64)));
typedef double fnn_sv64_f64 __attribute__((vector_size(64)));

/* per-dtype names of the paths' scalar FMA and packed suffix */
#define fnn_sfma_f32 __builtin_fmaf
#define fnn_sfma_f64 __builtin_fma
#define fnn_vs_f32 ps
#define fnn_vs_f64 pd

#define FNN_BODY "gemm_small_paths.inc"
#include "fnn_instantiate.inc"
