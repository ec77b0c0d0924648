/* gemm_kernels.h -- register-blocked micro-kernels behind fnn_gemm.
 *
 * A micro-kernel computes one MR x NR tile from packed panels:
 *   a: kc x MR, column p holds A(i0..i0+MR, p)    (a[p*MR + i])
 *   b: kc x NR, row p holds B(p, j0..j0+NR)       (b[p*NR + j])
 * and updates C[0:mr, 0:nr] = alpha * tile + beta * C (beta == 0: C not read).
 * mr <= MR and nr <= NR cover the edges.  Every path shares MR and NR per
 * dtype, so the packing routines in gemm.c are the same for all of them;
 * a path with other sizes only needs its own entry in the kernel table.
 */
#ifndef FNN_GEMM_KERNELS_H
#define FNN_GEMM_KERNELS_H
#include "fnn_common.h"

#define FNN_MR_F32 6
#define FNN_NR_F32 16
#define FNN_MR_F64 6
#define FNN_NR_F64 8

typedef void (*fnn_ukr_f32)(int64_t kc, const float *a, const float *b,
                            float *C, int64_t ldc, int mr, int nr,
                            float alpha, float beta);
typedef void (*fnn_ukr_f64)(int64_t kc, const double *a, const double *b,
                            double *C, int64_t ldc, int mr, int nr,
                            double alpha, double beta);

void fnn_ukr_portable_f32(int64_t, const float *, const float *, float *,
                          int64_t, int, int, float, float);
void fnn_ukr_portable_f64(int64_t, const double *, const double *, double *,
                          int64_t, int, int, double, double);
#if defined(__x86_64__) || defined(__i386__)
#define FNN_HAVE_X86_KERNELS 1
void fnn_ukr_avx2_f32(int64_t, const float *, const float *, float *,
                      int64_t, int, int, float, float);
void fnn_ukr_avx2_f64(int64_t, const double *, const double *, double *,
                      int64_t, int, int, double, double);
#endif

#endif
