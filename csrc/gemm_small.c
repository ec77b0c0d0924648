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
 */
#include <string.h>
#include "gemm_small.h"
#include "gemm_kernels.h"   /* FNN_HAVE_X86_KERNELS */

/* Below this many multiply-adds the direct path runs on one thread (a
 * parallel region costs a few microseconds; this is ~5 us of work). */
#define FNN_GEMM_SMALL_PAR_WORK (1 << 18)

#define FNN_SCAT_(a, b, c) a##_##b##_##c
#define FNN_SCAT(a, b, c) FNN_SCAT_(a, b, c)

/* an unaligned load of a vector of type VT_ */
#define fnn_sl_load(VT_, p) ({ VT_ v_; memcpy(&v_, (p), sizeof v_); v_; })
#define FNN_SL_FOR8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* kernel instances: path x dtype (native vector width: 16 bytes at the
 * baseline, 32 with AVX2, 64 with AVX-512) */
#define KATTR 
typedef float fnn_sv_portable_f32 __attribute__((vector_size(16)));
#define T float
#define L 16
#define VT fnn_sv_portable_f32
#define NV 4
#define VL 4
#define KN(name) FNN_SCAT(name, portable, f32)
#include "gemm_small.inc"
typedef double fnn_sv_portable_f64 __attribute__((vector_size(16)));
#define T double
#define L 8
#define VT fnn_sv_portable_f64
#define NV 4
#define VL 2
#define KN(name) FNN_SCAT(name, portable, f64)
#include "gemm_small.inc"
#undef KATTR

#ifdef FNN_HAVE_X86_KERNELS
#define KATTR __attribute__((target("avx2,fma")))
typedef float fnn_sv_avx2_f32 __attribute__((vector_size(32)));
#define T float
#define L 16
#define VT fnn_sv_avx2_f32
#define NV 2
#define VL 8
#define KN(name) FNN_SCAT(name, avx2, f32)
#include "gemm_small.inc"
typedef double fnn_sv_avx2_f64 __attribute__((vector_size(32)));
#define T double
#define L 8
#define VT fnn_sv_avx2_f64
#define NV 2
#define VL 4
#define KN(name) FNN_SCAT(name, avx2, f64)
#include "gemm_small.inc"
#undef KATTR
#define KATTR __attribute__((target("avx512f,avx2,fma")))
typedef float fnn_sv_avx512_f32 __attribute__((vector_size(64)));
#define T float
#define L 16
#define VT fnn_sv_avx512_f32
#define NV 1
#define VL 16
#define KN(name) FNN_SCAT(name, avx512, f32)
#include "gemm_small.inc"
typedef double fnn_sv_avx512_f64 __attribute__((vector_size(64)));
#define T double
#define L 8
#define VT fnn_sv_avx512_f64
#define NV 1
#define VL 8
#define KN(name) FNN_SCAT(name, avx512, f64)
#include "gemm_small.inc"
#undef KATTR
#endif

/* ------------------------------------------------------------ the driver */

#define T float
#define SFX f32
#define L 16
#include "gemm_small_drv.inc"
#undef T
#undef SFX
#undef L
#define T double
#define SFX f64
#define L 8
#include "gemm_small_drv.inc"
#undef T
#undef SFX
#undef L
