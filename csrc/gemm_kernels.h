/* gemm_kernels.h -- register-blocked micro-kernels behind fnn_gemm and the
 * per-path descriptors (register block MR x NR and cache blocks).
 *
 * A micro-kernel computes one MR x NR tile from packed panels:
 *   a: kc x MR, column p holds A(i0..i0+MR, p)    (a[p*MR + i])
 *   b: kc x NR, row p holds B(p, j0..j0+NR)       (b[p*NR + j])
 * and updates C[0:mr, 0:nr] = alpha * tile + beta * C (beta == 0: C not
 * read).  mr <= MR and nr <= NR cover the edges (the packed panels are
 * zero-padded to full MR / NR).  Each path has its own descriptor; the
 * packing in gemm.inc takes MR and NR from the descriptor in force, so a
 * path with other sizes only needs its own kernel and descriptor.
 */
#ifndef FNN_GEMM_KERNELS_H
#define FNN_GEMM_KERNELS_H
#include "fnn_common.h"
#include "gemm.h"   /* the path codes */

typedef void (*fnn_ukr_f32)(int64_t kc, const float *a, const float *b,
                            float *C, int64_t ldc, int mr, int nr,
                            float alpha, float beta);
typedef void (*fnn_ukr_f64)(int64_t kc, const double *a, const double *b,
                            double *C, int64_t ldc, int mr, int nr,
                            double alpha, double beta);

/* The same kernels reading B unpacked: row p of the panel at b + boff[p]
 * (NR contiguous elements; see gemm_ukr.inc). */
typedef void (*fnn_ukri_f32)(int64_t kc, const float *a, const float *b,
                             const int64_t *boff, float *C, int64_t ldc,
                             int mr, int nr, float alpha, float beta);
typedef void (*fnn_ukri_f64)(int64_t kc, const double *a, const double *b,
                             const int64_t *boff, double *C, int64_t ldc,
                             int mr, int nr, double alpha, double beta);

/* The packed-B kernels with B read in place instead: row p of the
 * NR-column panel at b + p * ldb (NR contiguous elements). */
typedef void (*fnn_ukrs_f32)(int64_t kc, const float *a, const float *b, int64_t ldb,
                             float *C, int64_t ldc, int mr, int nr, float alpha, float beta);
typedef void (*fnn_ukrs_f64)(int64_t kc, const double *a, const double *b, int64_t ldb,
                             double *C, int64_t ldc, int mr, int nr, double alpha,
                             double beta);

/* The packed-B kernels with A read in place instead: row i of the tile at
 * a + i * lda, its kc elements contiguous (op(A) not transposed). */
typedef void (*fnn_ukra_f32)(int64_t kc, const float *a, int64_t lda, const float *b,
                             float *C, int64_t ldc, int mr, int nr, float alpha, float beta);
typedef void (*fnn_ukra_f64)(int64_t kc, const double *a, int64_t lda, const double *b,
                             double *C, int64_t ldc, int mr, int nr, double alpha,
                             double beta);

/* The pixel-row kernels of the convolution's row path (conv_rows.inc):
 * c[i*NR + j] = sum over p < kc, in order, of a[koff[p] + i*sw] * b[p*NR + j]
 * for i < n (1..14 output pixels of one output row, 1..18 on the AVX2
 * path; sw = 1 or 2 apart in the input) and j < NR (output channels: the
 * packed weight panel b, NR per row), one fused multiply-add chain from
 * zero per element; c holds n rows of NR. */
typedef void (*fnn_ukrr_f32)(int n, int sw, int64_t kc, const int64_t *koff, const float *a,
                             const float *b, float *c);
typedef void (*fnn_ukrr_f64)(int n, int sw, int64_t kc, const int64_t *koff, const double *a,
                             const double *b, double *c);

/* Two kernel rows at once (the weight gradient's row path): for S = 3, 5
 * or 7, rows i < S of c as fnn_ukrr's with n = S, rows S + i the same from
 * a + rstride. */
typedef void (*fnn_ukrr2_f32)(int S, int sw, int64_t kc, const int64_t *koff, const float *a,
                              int64_t rstride, const float *b, float *c);
typedef void (*fnn_ukrr2_f64)(int S, int sw, int64_t kc, const int64_t *koff, const double *a,
                              int64_t rstride, const double *b, double *c);

/* mr, nr: register block.  mc (multiple of mr): rows of the packed A block
 * (mc x kc, kept in L2).  kc: the K step (a kc x nr B micro-panel and a
 * mr x kc A micro-panel stay in L1).  nc (multiple of nr): columns of the
 * shared packed B block, whose buffer holds kc x nc elements (L3). */
typedef struct {
    int mr, nr, mc, kc, nc;
    fnn_ukr_f32 ukr;
    fnn_ukri_f32 ukri;
    /* optional (0 / NULL when absent): an indirect-B kernel with fewer
     * rows (mr_s x nr_s) for convolution passes with very few output
     * channels, where an MR-row tile would stay mostly empty */
    int mr_s, nr_s;
    fnn_ukri_f32 ukri_s;
    /* optional (NULL when absent): the kernel reading B in place, for
     * products with too few rows to pay for packing B (gemm.inc) */
    fnn_ukrs_f32 ukrs;
    /* optional (NULL when absent): the kernel reading A in place, for
     * products with few column panels, where packing A does not pay
     * (gemm.inc, gemm_direct_a) */
    fnn_ukra_f32 ukra;
    /* 1: the packed path prefetches the next A block's rows (unpacked)
     * between micro-kernel calls (gemm.inc, gemm_ic_block) */
    int pf_a;
    /* optional (NULL when absent): the convolution's pixel-row kernel
     * (fnn_ukrr_f32), on the AVX-512 path and its emulation; ukrr_h: the
     * same for half panels (NR / 2 channels, rows of NR / 2 in c) */
    fnn_ukrr_f32 ukrr, ukrr_h;
    fnn_ukrr2_f32 ukrr2;   /* optional: two kernel rows (fnn_ukrr2_f32) */
    /* optional: ukrr / ukrr_h at stride 1 continuing the sums already in
     * c (its rows the accumulators' starting values) */
    fnn_ukrr_f32 ukrra, ukrra_h;
} fnn_gemm_desc_f32;
typedef struct {
    int mr, nr, mc, kc, nc;
    fnn_ukr_f64 ukr;
    fnn_ukri_f64 ukri;
    int mr_s, nr_s;
    fnn_ukri_f64 ukri_s;
    fnn_ukrs_f64 ukrs;
    fnn_ukra_f64 ukra;
    int pf_a;
    fnn_ukrr_f64 ukrr, ukrr_h;
    fnn_ukrr2_f64 ukrr2;
    fnn_ukrr_f64 ukrra, ukrra_h;
} fnn_gemm_desc_f64;

/* The GEMM's micro-kernels and blocking on kernel path isa
 * (FNN_GEMM_PORTABLE .. FNN_GEMM_AVX512SIM, gemm.h; a path resolved by
 * fnn_gemm_resolve_isa, as these kernels do not check the CPU): the
 * register block is the path's, the cache blocks (mc, kc, nc) come from
 * fnn_gemm_blocking_model for the caches this CPU reports, chosen on the
 * first call.  The AVX-512 path (and its emulation) has its own 14 x 2-zmm
 * kernel here.  ukri may be NULL and mr_s, nr_s, ukri_s are absent (the
 * GEMM calls ukr only).  A path this build
 * lacks (not x86-64) and any other code give the portable kernels. */
const fnn_gemm_desc_f32 *fnn_gemm_kernels_f32(int isa);
const fnn_gemm_desc_f64 *fnn_gemm_kernels_f64(int isa);

/* The convolution's descriptors: fixed register and cache blocks, every
 * kernel form (ukri, the small-row ukri_s); what fnn_gemm_active_desc_*
 * returns.  Kept apart from the GEMM's so that a change of the GEMM's
 * blocking never changes a convolution's results or workspace. */
const fnn_gemm_desc_f32 *fnn_gemm_conv_kernels_f32(int isa);
const fnn_gemm_desc_f64 *fnn_gemm_conv_kernels_f64(int isa);

/* Transitional (gemm.h, issue 12): the convolution's descriptor of the
 * path set by fnn_gemm_set_isa, for conv2d.inc, which calls the
 * micro-kernels itself. */
const fnn_gemm_desc_f32 *fnn_gemm_active_desc_f32(void);
const fnn_gemm_desc_f64 *fnn_gemm_active_desc_f64(void);

/* The first k steps of an MR-row micro-panel of A (d[k*MR + i] = row i of s,
 * lda apart, at column k; MR = 4q or 4q + 2) by SSE transposes; returns how
 * many k steps it did (a multiple of 4; 0 where it has no form), the caller
 * packs the rest.  The GEMM's own packing, shared with the recurrent layers'
 * step products (rnn.inc). */
int64_t fnn_gemm_pack_rows_f32(int MR, const float *s, int64_t lda, int64_t kc, float *d);
int64_t fnn_gemm_pack_rows_f64(int MR, const double *s, int64_t lda, int64_t kc, double *d);

/* Upper bounds of MR and NR over the convolution's descriptors, and of KC
 * over every descriptor (workspace sizing; the GEMM's own MR may be
 * larger: gemm.inc sizes its buffers from its descriptors). */
#define FNN_GEMM_MR_MAX 12
#define FNN_GEMM_NR_MAX 32
#define FNN_GEMM_KC_MAX 256

#if defined(__x86_64__) || defined(__i386__)
#define FNN_HAVE_X86_KERNELS 1
#endif

#endif
