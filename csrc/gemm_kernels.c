/* gemm_kernels.c -- micro-kernels and per-path descriptors (see
 * gemm_kernels.h for the contract), and the choice of path from cpuid.
 *
 * Every kernel is the one body of gemm_ukr.inc, compiled per path and dtype
 * on that path's vectors: the portable kernel on the GCC vector extension
 * (16 bytes, the x86-64 baseline's SSE2; a multiply and an add), the
 * AVX2+FMA and AVX-512 kernels on intrinsics with a per-function target
 * attribute, only ever called when cpuid says the CPU has the
 * instructions, so the shipped build runs on any x86-64.
 */
#include <string.h>
#include <time.h>
#include "gemm_kernels.h"
#include "fnn_cpu.h"
#include "fnn_generic.h"
#ifdef FNN_HAVE_X86_KERNELS
#include <immintrin.h>
#endif

/* How many k steps ahead the kernels prefetch the packed A panel. */
#ifndef UKR_PF_A
#define UKR_PF_A 8
#endif

/* The vector operations of every path, from the intrinsics' names: VP is
 * the path's prefix (pv for portable, _mm256, _mm512, sim), VS the packed
 * suffix (f32 / f64 for portable, ps / pd). */
#define V_ZERO() FNN_CAT(FNN_CAT(VP, setzero), VS)()
#define V_LOAD(p) FNN_CAT(FNN_CAT(VP, loadu), VS)(p)
#define V_STORE(p, v) FNN_CAT(FNN_CAT(VP, storeu), VS)((p), (v))
#define V_BCAST(p) FNN_CAT(FNN_CAT(VP, set1), VS)(*(p))
#define V_SET1(x) FNN_CAT(FNN_CAT(VP, set1), VS)(x)
#define V_FMA(a, b, c) FNN_CAT(FNN_CAT(VP, fmadd), VS)((a), (b), (c))
#define V_MUL(a, b) FNN_CAT(FNN_CAT(VP, mul), VS)((a), (b))

/* ---------------------------------------------------------------- portable */

/* 16-byte vectors of the GCC vector extension; "fmadd" is a multiply and an
 * add (the baseline has no FMA; setup.py compiles without contraction) */
typedef float fnn_pv_f32 __attribute__((vector_size(16)));
typedef double fnn_pv_f64 __attribute__((vector_size(16)));
static inline fnn_pv_f32 pv_setzero_f32(void) { return (fnn_pv_f32){0}; }
static inline fnn_pv_f64 pv_setzero_f64(void) { return (fnn_pv_f64){0}; }
static inline fnn_pv_f32 pv_loadu_f32(const float *p) { fnn_pv_f32 v; memcpy(&v, p, sizeof v); return v; }
static inline fnn_pv_f64 pv_loadu_f64(const double *p) { fnn_pv_f64 v; memcpy(&v, p, sizeof v); return v; }
static inline void pv_storeu_f32(float *p, fnn_pv_f32 v) { memcpy(p, &v, sizeof v); }
static inline void pv_storeu_f64(double *p, fnn_pv_f64 v) { memcpy(p, &v, sizeof v); }
static inline fnn_pv_f32 pv_set1_f32(float x) { return (fnn_pv_f32){x, x, x, x}; }
static inline fnn_pv_f64 pv_set1_f64(double x) { return (fnn_pv_f64){x, x}; }
static inline fnn_pv_f32 pv_fmadd_f32(fnn_pv_f32 a, fnn_pv_f32 b, fnn_pv_f32 c) { return a * b + c; }
static inline fnn_pv_f64 pv_fmadd_f64(fnn_pv_f64 a, fnn_pv_f64 b, fnn_pv_f64 c) { return a * b + c; }
static inline fnn_pv_f32 pv_mul_f32(fnn_pv_f32 a, fnn_pv_f32 b) { return a * b; }
static inline fnn_pv_f64 pv_mul_f64(fnn_pv_f64 a, fnn_pv_f64 b) { return a * b; }

#define UKR_ATTR
#define VP pv
#define V FN(fnn_pv)
#define VS SFX
#define VL (16 / (int)sizeof(T))
/* 6x16 f32, 6x8 f64 */
#define UKR_NAME1 FN(fnn_ukr_portable)
#define UKR_MR1 6
#define UKR_NV1 4
#define FNN_BODY "gemm_ukr_path.inc"
#include "fnn_instantiate.inc"
#include "gemm_ukr_path_end.inc"

static const fnn_gemm_desc_f32 desc_portable_f32 = {
    .mr = 6, .nr = 16, .mc = 144, .kc = 256, .nc = 3072,
    .ukr = fnn_ukr_portable_f32, .ukri = fnn_ukr_portable_f32_ib};
static const fnn_gemm_desc_f64 desc_portable_f64 = {
    .mr = 6, .nr = 8, .mc = 96, .kc = 256, .nc = 1536,
    .ukr = fnn_ukr_portable_f64, .ukri = fnn_ukr_portable_f64_ib};

#ifdef FNN_HAVE_X86_KERNELS
/* -------------------------------------------------------- AVX2 + FMA (ymm) */

/* the packed suffix and vector types of the x86 paths */
#define fnn_vs_f32 ps
#define fnn_vs_f64 pd
#define fnn_v256_f32 __m256
#define fnn_v256_f64 __m256d
#define fnn_v512_f32 __m512
#define fnn_v512_f64 __m512d

#define UKR_ATTR __attribute__((target("avx2,fma")))
#define VP _mm256
#define V FN(fnn_v256)
#define VS FN(fnn_vs)
#define VL (32 / (int)sizeof(T))
/* 6x16 f32, 6x8 f64: 12 accumulators + 2 B vectors + 1 broadcast of the
 * 16 ymm; 2x32, 2x16 (8 accumulators + 4 B vectors + 1 broadcast),
 * indirect B only (the descriptors' small kernel) */
#define UKR_NAME1 FN(fnn_ukr_avx2)
#define UKR_MR1 6
#define UKR_NV1 2
#define UKR_NAME2 FNN_CAT(FN(fnn_ukr_avx2), m2)
#define UKR_MR2 2
#define UKR_NV2 4
#define UKR_IB_ONLY2
/* the convolution's pixel-row kernels: 6 pixels x 2 ymm of output channels */
#define ROWS_NAME fnn_ukr_avx2_rows
#define ROWS_NV 2
#define ROWS_PIX 6
#define FNN_BODY "gemm_ukr_path.inc"
#define FNN_BODY2 "gemm_rows.inc"
#include "fnn_instantiate.inc"
#include "gemm_ukr_path_end.inc"

static const fnn_gemm_desc_f32 desc_avx2_f32 = {
    .mr = 6, .nr = 16, .mc = 144, .kc = 256, .nc = 3072,
    .ukr = fnn_ukr_avx2_f32, .ukri = fnn_ukr_avx2_f32_ib,
    .mr_s = 2, .nr_s = 32, .ukri_s = fnn_ukr_avx2_f32_m2_ib,
    .ukrr = fnn_ukr_avx2_rows_f32, .ukrra = fnn_ukr_avx2_rows_a_f32};
static const fnn_gemm_desc_f64 desc_avx2_f64 = {
    .mr = 6, .nr = 8, .mc = 96, .kc = 256, .nc = 1536,
    .ukr = fnn_ukr_avx2_f64, .ukri = fnn_ukr_avx2_f64_ib,
    .mr_s = 2, .nr_s = 16, .ukri_s = fnn_ukr_avx2_f64_m2_ib,
    .ukrr = fnn_ukr_avx2_rows_f64, .ukrra = fnn_ukr_avx2_rows_a_f64};

/* ------------------------------------------- AVX-512 (zmm), and emulated */

/* The convolution's 512-bit register block: 8 rows x 2 zmm (8x32 f32, 8x16
 * f64) = 16 accumulators + 2 B vectors + 1 broadcast.  A k step is 16 FMAs
 * against 10 loads (2 B vectors, 8 broadcasts): FMA-bound at 2 loads a
 * cycle.  8 rows, not 12: a convolution's M (output channels a group) is
 * mostly a multiple of 8 (16, 32, 64, 128), where 12 rows end on a partial
 * panel computed in full (36 rows for 32, 72 for 64), and on the Intel Xeon
 * (AVX-512) the 8-row kernel ran the implicit-GEMM and Winograd passes
 * 5-30% faster than the 12-row one also where M is large (512 x 7 x 7
 * forward 13.1 -> 12.0 ms).  kc = 192 keeps the kc x 32 B micro-panel
 * (24 KiB) in a 32-48 KiB L1. */
#define UKR_ATTR __attribute__((target("avx512f")))
#define VP _mm512
#define V FN(fnn_v512)
#define VS FN(fnn_vs)
#define VL (64 / (int)sizeof(T))
#define UKR_NAME1 FN(fnn_ukr_avx512)
#define UKR_MR1 8
#define UKR_NV1 2
#define FNN_BODY "gemm_ukr_path.inc"
#include "fnn_instantiate.inc"
#include "gemm_ukr_path_end.inc"

/* The AVX-512 body compiled for AVX2 (testing only): each 512-bit vector
 * is two 256-bit ones, the operations named as the intrinsics (sim_*).
 * Optimised for size: their speed does not matter, and unrolled they were
 * 84 KB of the wheel's library (the same operations in the same order
 * either way, so still bitwise the assembly kernels' results). */
#define SIM_FN static inline __attribute__((target("avx2,fma"), optimize("Os"), always_inline))
#define VS FN(fnn_vs)
#define FNN_BODY "gemm_sim.inc"
#include "fnn_instantiate.inc"
#undef VS

#define UKR_ATTR __attribute__((target("avx2,fma"), optimize("Os")))
#define VP sim
#define V FNN_CAT(fnn_sim, VS)
#define VS FN(fnn_vs)
#define VL (64 / (int)sizeof(T))
#define UKR_NAME1 FN(fnn_ukr_avx512sim)
#define UKR_MR1 8
#define UKR_NV1 2
#define UKR_NAME2 FN(fnn_ukr_avx512sim14)
#define UKR_MR2 14
#define UKR_NV2 2
#define FNN_BODY "gemm_ukr_path.inc"
#include "fnn_instantiate.inc"
#include "gemm_ukr_path_end.inc"

/* The in-place-A kernel's emulation (the descriptor's ukra on the
 * AVX512SIM path): the tile's rows of A copied as a packed micro-panel,
 * then the packed kernel, so the same chains as the assembly one. */
#define FNN_UKRA_SIM(SFXN, TT)                                                   \
    static void fnn_ukra_avx512sim14_##SFXN(int64_t kc, const TT *a, int64_t lda,  \
                                            const TT *b, TT *C, int64_t ldc, int mr, \
                                            int nr, TT alpha, TT beta) {           \
        TT ap[14 * FNN_GEMM_KC_MAX];                                             \
        if (kc > FNN_GEMM_KC_MAX || mr > 14) return;                             \
        for (int64_t p = 0; p < kc; p++)                                         \
            for (int i = 0; i < 14; i++)                                         \
                ap[p * 14 + i] = i < mr ? a[i * lda + p] : (TT)0;                \
        fnn_ukr_avx512sim14_##SFXN(kc, ap, b, C, ldc, mr, nr, alpha, beta);      \
    }
FNN_UKRA_SIM(f32, float)
FNN_UKRA_SIM(f64, double)
#undef FNN_UKRA_SIM

/* The GEMM's AVX-512 kernels: 14 x 2 zmm, k loop and epilogue in assembly
 * (gemm_ukr_avx512.inc); the 14-row AVX512SIM kernels above are their
 * exact emulation. */
#define fnn_a5_bcs_f32 "ss"
#define fnn_a5_bcs_f64 "sd"
#define fnn_a5_es_f32 "4"
#define fnn_a5_es_f64 "8"
#define fnn_a5_bto_f32 "%{1to16%}"
#define fnn_a5_bto_f64 "%{1to8%}"
#define A5_SFX FNN_STR(FN(fnn_vs))
#define A5_BCS FN(fnn_a5_bcs)
#define A5_ES FN(fnn_a5_es)
#define A5_BTO FN(fnn_a5_bto)
#define UKR_NAME FN(fnn_ukr_avx512asm)
#define FNN_BODY "gemm_ukr_avx512.inc"
#include "fnn_instantiate.inc"
#undef UKR_NAME
#undef A5_SFX
#undef A5_BCS
#undef A5_ES
#undef A5_BTO

/* The pixel-row kernels' emulation (fnn_ukrr; the assembly ones are in
 * gemm_ukr_avx512.inc): the same fused multiply-add chains, one element
 * at a time (testing only, as the AVX512SIM path). */
#define FNN_ROWS_SIM(SFXN, TT, NRR, FMA)                                        \
    __attribute__((target("avx2,fma"))) static void fnn_ukr_avx512sim_rows_##SFXN(   \
        int n, int sw, int64_t kc, const int64_t *koff, const TT *a, const TT *b, TT *c) { \
        if (n < 1 || n > 14 || (sw != 1 && sw != 2)) return;                   \
        for (int i = 0; i < n; i++)                                            \
            for (int j = 0; j < NRR; j++) {                                    \
                TT acc = 0;                                                    \
                for (int64_t p = 0; p < kc; p++)                               \
                    acc = FMA(a[koff[p] + (int64_t)i * sw], b[p * NRR + j], acc); \
                c[i * NRR + j] = acc;                                          \
            }                                                                  \
    }
FNN_ROWS_SIM(f32, float, 32, __builtin_fmaf)
FNN_ROWS_SIM(f64, double, 16, __builtin_fma)
FNN_ROWS_SIM(h_f32, float, 16, __builtin_fmaf)   /* the half panels (ukrr_h) */
FNN_ROWS_SIM(h_f64, double, 8, __builtin_fma)
#undef FNN_ROWS_SIM
#define FNN_ROWSA_SIM(SFXN, TT, NRR, FMA)                                       \
    __attribute__((target("avx2,fma"))) static void fnn_ukr_avx512sim_rowsa_##SFXN(  \
        int n, int sw, int64_t kc, const int64_t *koff, const TT *a, const TT *b, TT *c) { \
        if (n < 1 || n > 14 || sw != 1) return;                                \
        for (int i = 0; i < n; i++)                                            \
            for (int j = 0; j < NRR; j++) {                                    \
                TT acc = c[i * NRR + j];                                       \
                for (int64_t p = 0; p < kc; p++)                               \
                    acc = FMA(a[koff[p] + i], b[p * NRR + j], acc);            \
                c[i * NRR + j] = acc;                                          \
            }                                                                  \
    }
FNN_ROWSA_SIM(f32, float, 32, __builtin_fmaf)
FNN_ROWSA_SIM(f64, double, 16, __builtin_fma)
FNN_ROWSA_SIM(h_f32, float, 16, __builtin_fmaf)
FNN_ROWSA_SIM(h_f64, double, 8, __builtin_fma)
#undef FNN_ROWSA_SIM
#define FNN_ROWS2_SIM(SFXN, TT, NRR, FMA)                                       \
    __attribute__((target("avx2,fma"))) static void fnn_ukr_avx512sim_rows2_##SFXN(  \
        int S, int sw, int64_t kc, const int64_t *koff, const TT *a, int64_t rstride, \
        const TT *b, TT *c) {                                                  \
        if ((S != 3 && S != 5 && S != 7) || (sw != 1 && sw != 2)) return;      \
        for (int i = 0; i < 2 * S; i++)                                        \
            for (int j = 0; j < NRR; j++) {                                    \
                const TT *ai = a + (i < S ? 0 : rstride) + (int64_t)(i % S) * sw; \
                TT acc = 0;                                                    \
                for (int64_t p = 0; p < kc; p++) acc = FMA(ai[koff[p]], b[p * NRR + j], acc); \
                c[i * NRR + j] = acc;                                          \
            }                                                                  \
    }
FNN_ROWS2_SIM(f32, float, 32, __builtin_fmaf)
FNN_ROWS2_SIM(f64, double, 16, __builtin_fma)
#undef FNN_ROWS2_SIM

/* the AVX-512 blocking of the convolution's descriptors, shared by its
 * emulation */
#define AVX512_F32 .mr = 8, .nr = 32, .mc = 240, .kc = 192, .nc = 4096
#define AVX512_F64 .mr = 8, .nr = 16, .mc = 240, .kc = 192, .nc = 2048
static const fnn_gemm_desc_f32 desc_avx512_f32 = {
    AVX512_F32, .ukr = fnn_ukr_avx512_f32, .ukri = fnn_ukr_avx512_f32_ib,
    .ukrr = fnn_ukr_avx512asm_f32_rows, .ukrr_h = fnn_ukr_avx512asm_f32_rowsh,
    .ukrr2 = fnn_ukr_avx512asm_f32_rows2, .ukrra = fnn_ukr_avx512asm_f32_rowsa,
    .ukrra_h = fnn_ukr_avx512asm_f32_rowsah};
static const fnn_gemm_desc_f64 desc_avx512_f64 = {
    AVX512_F64, .ukr = fnn_ukr_avx512_f64, .ukri = fnn_ukr_avx512_f64_ib,
    .ukrr = fnn_ukr_avx512asm_f64_rows, .ukrr_h = fnn_ukr_avx512asm_f64_rowsh,
    .ukrr2 = fnn_ukr_avx512asm_f64_rows2, .ukrra = fnn_ukr_avx512asm_f64_rowsa,
    .ukrra_h = fnn_ukr_avx512asm_f64_rowsah};
static const fnn_gemm_desc_f32 desc_avx512sim_f32 = {
    AVX512_F32, .ukr = fnn_ukr_avx512sim_f32, .ukri = fnn_ukr_avx512sim_f32_ib,
    .ukrr = fnn_ukr_avx512sim_rows_f32, .ukrr_h = fnn_ukr_avx512sim_rows_h_f32,
    .ukrr2 = fnn_ukr_avx512sim_rows2_f32, .ukrra = fnn_ukr_avx512sim_rowsa_f32,
    .ukrra_h = fnn_ukr_avx512sim_rowsa_h_f32};
static const fnn_gemm_desc_f64 desc_avx512sim_f64 = {
    AVX512_F64, .ukr = fnn_ukr_avx512sim_f64, .ukri = fnn_ukr_avx512sim_f64_ib,
    .ukrr = fnn_ukr_avx512sim_rows_f64, .ukrr_h = fnn_ukr_avx512sim_rows_h_f64,
    .ukrr2 = fnn_ukr_avx512sim_rows2_f64, .ukrra = fnn_ukr_avx512sim_rowsa_f64,
    .ukrra_h = fnn_ukr_avx512sim_rowsa_h_f64};
#undef AVX512_F32
#undef AVX512_F64
#endif
#undef V_ZERO
#undef V_LOAD
#undef V_STORE
#undef V_BCAST
#undef V_SET1
#undef V_FMA
#undef V_MUL

/* ------------------------------------------ the convolution's descriptors */

const fnn_gemm_desc_f32 *fnn_gemm_conv_kernels_f32(int isa) {
#ifdef FNN_HAVE_X86_KERNELS
    if (isa == FNN_GEMM_AVX2) return &desc_avx2_f32;
    if (isa == FNN_GEMM_AVX512) return &desc_avx512_f32;
    if (isa == FNN_GEMM_AVX512SIM) return &desc_avx512sim_f32;
#endif
    (void)isa;
    return &desc_portable_f32;
}

const fnn_gemm_desc_f64 *fnn_gemm_conv_kernels_f64(int isa) {
#ifdef FNN_HAVE_X86_KERNELS
    if (isa == FNN_GEMM_AVX2) return &desc_avx2_f64;
    if (isa == FNN_GEMM_AVX512) return &desc_avx512_f64;
    if (isa == FNN_GEMM_AVX512SIM) return &desc_avx512sim_f64;
#endif
    (void)isa;
    return &desc_portable_f64;
}

/* ------------------------------------------------- the cache-block model */

/* The GEMM's cache blocks from the data caches the CPU reports (the
 * Goto/BLIS analytical model; gemm.inc has the loops):
 *
 *   the micro-kernel streams an MR x kc panel of packed A (from L2) past a
 *   kc x NR panel of packed B that stays in L1 over a whole column of
 *   tiles, and touches an MR x NR tile of C at the end;
 *   an mc x kc block of packed A stays in L2 while the NR-column panels
 *   of the B block go by;
 *   the kc x nc block of packed B (shared by the threads) stays in L3.
 *
 * KC: the B micro-panel (kc * NR * elem bytes) takes all the ways of L1d
 *   but two: one for the A stream, one for the C tile and the stack (a
 *   resident block in a set-associative cache keeps its lines only if the
 *   streams have a way of each set to themselves); half of L1d when the
 *   ways are not known.  On AMD cores (ci->amd) it may take the whole of
 *   L1d: Zen 4 runs a 512-bit FMA as two 256-bit halves, one FMA a cycle,
 *   so the 14 x 32 kernel reads 128 bytes of B per 28 cycles, which L2
 *   supplies when a line of the panel has been evicted; what costs there is
 *   C's update at the end of each k block.  Measured on Zen 4 (32 KiB 8-way
 *   L1d, 1 MiB L2; f32, medians of 15 alternating rounds), kc 256 against
 *   192: 2048 x 256 x 1024 (K in one block instead of two of 128) 78 -> 85%
 *   of the FMA probe at 1 thread and 76 -> 85% at 2, 256^3 82 -> 87% and
 *   73 -> 79%, 1024^3 and 2048^3 +3-4 points, the conv-shaped products and
 *   K >= 576 the same within the noise.  Rounded down to a multiple of 16,
 *   within [64, FNN_GEMM_KC_MAX].  A larger kc updates C less often (once
 *   per kc steps of a tile).
 * MC: the packed A block (mc * kc * elem) takes a quarter of one thread's
 *   share of L2 (L2 / logical CPUs sharing it).  The rest is not idle: the
 *   B panels stream through from L3, and every B panel's pass touches an
 *   mc x NR column of C, whose rows -- ldc apart, often a power of two --
 *   crowd a few L2 sets and, on their way in and out, evict A lines when
 *   mc is large.  A multiple of MR within [4*MR, FNN_GEMM_MC_MAX], the
 *   block at most FNN_GEMM_A_MAX_BYTES.
 * NC: the packed B block (kc * nc * elem) takes half of two threads' share
 *   of L3 (L3 * 2 / logical CPUs sharing it: the block is packed once and
 *   read by the whole team; L2 when there is no L3), a multiple of NR
 *   within [8*NR, FNN_GEMM_NC_MAX_BYTES / (kc * elem)] (the workspace).
 *   A product with N <= nc packs a single column block.
 *
 * Measured on the Intel Xeon the AVX-512 kernel was tuned on (48 KiB
 * 12-way L1d, 2 MiB L2; 14 x 32 f32, single thread, 1024^3 and 2048^3,
 * alternating runs): kc 256 beat 192 by 5-8% (kc 256 is 32 KiB of B, 10
 * of the 12 ways allow 40); mc 1358 (half of L2) ran 57-68% of the FMA
 * probe, mc 238-672 70-75%, flat in between.  The model gives kc 256,
 * mc 504, nc 3072 there; on the AMD EPYC the AVX2 kernel was tuned on by hand
 * (32 KiB 8-way L1d, 512 KiB L2; 6 x 16) it gives kc 256 (the hand-tuned
 * value) and mc 126 (hand-tuned: 144).  For comparison BLIS uses kc 384,
 * mc 480, nc 3072 on SkylakeX (1 MiB L2) with a 32 x 12 kernel whose
 * L1-resident panel is the 12-wide one.
 */
#define FNN_GEMM_L2_A_DEN 4
#define FNN_GEMM_MC_MAX 1536
/* the workspace: a product's packed blocks stay within 3 MiB of B (shared)
 * plus 1 MiB of A per thread, so that a convolution's scratch (which holds
 * a GEMM workspace) stays within one image's columns + 4 MiB per thread */
#define FNN_GEMM_NC_MAX_BYTES (3 * 1024 * 1024)
#define FNN_GEMM_A_MAX_BYTES (1024 * 1024)

static int64_t round_down(int64_t x, int64_t m) { return x / m * m; }
static int64_t clamp64(int64_t x, int64_t lo, int64_t hi) {
    return x < lo ? lo : x > hi ? hi : x;
}

int fnn_gemm_blocking_model(const fnn_cache_info *ci, int mr, int nr, int elem,
                            int64_t *out) {
    if (!ci || !out || mr < 1 || nr < 1 || (elem != 4 && elem != 8)) return FNN_EINVAL;
    const fnn_cache_level *l1 = &ci->l[0], *l2 = &ci->l[1], *l3 = &ci->l[2];
    /* KC from L1 */
    const int64_t l1size = l1->size > 0 ? l1->size : FNN_CACHE_DEFAULT_L1;
    const int64_t l1b = ci->amd ? l1size
                        : l1->ways > 2 ? l1size / l1->ways * (l1->ways - 2) : l1size / 2;
    const int64_t kc = clamp64(round_down(l1b / ((int64_t)nr * elem), 16), 64, FNN_GEMM_KC_MAX);
    /* MC from the thread's share of L2 */
    const int64_t l2s = (l2->size > 0 ? l2->size : FNN_CACHE_DEFAULT_L2) /
                        (l2->shared_by > 1 ? l2->shared_by : 1);
    int64_t mc_max = FNN_GEMM_A_MAX_BYTES / (kc * elem);
    if (mc_max > FNN_GEMM_MC_MAX) mc_max = FNN_GEMM_MC_MAX;
    const int64_t mc = clamp64(round_down(l2s / FNN_GEMM_L2_A_DEN / (kc * elem), mr),
                               4 * (int64_t)mr, round_down(mc_max, mr));
    /* NC from two threads' share of L3 (or of L2 without an L3) */
    const fnn_cache_level *ll = l3->size > 0 ? l3 : l2;
    int64_t share = ll->size > 0 ? ll->size : FNN_CACHE_DEFAULT_L3;
    if (ll->shared_by > 2) share = share * 2 / ll->shared_by;
    const int64_t nc_max = round_down(FNN_GEMM_NC_MAX_BYTES / (kc * elem), nr);
    const int64_t nc = clamp64(round_down(share / 2 / (kc * elem), nr), 8 * (int64_t)nr,
                               nc_max > 8 * nr ? nc_max : 8 * (int64_t)nr);
    out[0] = mc;
    out[1] = kc;
    out[2] = nc;
    return FNN_OK;
}

/* ---------------------------------------------- the GEMM's descriptors */

/* Filled on first use: the register kernels of each path (the AVX-512
 * path's own 14-row kernels, the others' the convolution's), the cache
 * blocks from the model for this CPU's caches.  g_gemm_state: 0 not yet,
 * 1 being filled, 2 ready. */
static fnn_gemm_desc_f32 g_gemm_f32[FNN_GEMM_NPATHS];
static fnn_gemm_desc_f64 g_gemm_f64[FNN_GEMM_NPATHS];
static int g_gemm_state = 0;

static void gemm_desc_blocks(const fnn_cache_info *ci, int mr, int nr, int elem, int *mc,
                             int *kc, int *nc) {
    int64_t o[3];
    fnn_gemm_blocking_model(ci, mr, nr, elem, o);
    *mc = (int)o[0];
    *kc = (int)o[1];
    *nc = (int)o[2];
}

static void gemm_descs_fill(void) {
    fnn_cache_info ci;
    fnn_cpu_caches(&ci);
    for (int isa = 0; isa < FNN_GEMM_NPATHS; isa++) {
        fnn_gemm_desc_f32 *f = &g_gemm_f32[isa];
        fnn_gemm_desc_f64 *g = &g_gemm_f64[isa];
        const fnn_gemm_desc_f32 *cf = fnn_gemm_conv_kernels_f32(isa);
        const fnn_gemm_desc_f64 *cg = fnn_gemm_conv_kernels_f64(isa);
        /* the A prefetch stream: tuned on the AMD machine (AVX2); on the
         * Intel Xeon (AVX-512) its prefetches stalled the loop on the
         * line-fill buffers (18% of a 65536 x 64 x 576 product's time), so
         * the AVX-512 path keeps it only on AMD cores: on Zen 4 that
         * product ran 80 -> 83.5 GFLOP/s at 1 thread and 145-153 -> 165-173
         * at 2 with it (square products the same within the noise) */
        *f = (fnn_gemm_desc_f32){.mr = cf->mr, .nr = cf->nr, .ukr = cf->ukr, .ukri = cf->ukri,
                                 .pf_a = 1};
        *g = (fnn_gemm_desc_f64){.mr = cg->mr, .nr = cg->nr, .ukr = cg->ukr, .ukri = cg->ukri,
                                 .pf_a = 1};
#ifdef FNN_HAVE_X86_KERNELS
        if (isa == FNN_GEMM_AVX512 || isa == FNN_GEMM_AVX512SIM) {
            const int sim = isa == FNN_GEMM_AVX512SIM;
            /* (ukri only on the emulation: the GEMM never calls it) */
            *f = (fnn_gemm_desc_f32){
                .mr = 14, .nr = 32, .ukr = sim ? fnn_ukr_avx512sim14_f32 : fnn_ukr_avx512asm_f32,
                .ukri = sim ? fnn_ukr_avx512sim14_f32_ib : NULL,
                .ukrs = sim ? NULL : fnn_ukr_avx512asm_f32_s,
                .ukra = sim ? fnn_ukra_avx512sim14_f32 : fnn_ukr_avx512asm_f32_a,
                .pf_a = fnn_cpu_amd()};
            *g = (fnn_gemm_desc_f64){
                .mr = 14, .nr = 16, .ukr = sim ? fnn_ukr_avx512sim14_f64 : fnn_ukr_avx512asm_f64,
                .ukri = sim ? fnn_ukr_avx512sim14_f64_ib : NULL,
                .ukrs = sim ? NULL : fnn_ukr_avx512asm_f64_s,
                .ukra = sim ? fnn_ukra_avx512sim14_f64 : fnn_ukr_avx512asm_f64_a,
                .pf_a = fnn_cpu_amd()};
        }
#endif
        gemm_desc_blocks(&ci, f->mr, f->nr, 4, &f->mc, &f->kc, &f->nc);
        gemm_desc_blocks(&ci, g->mr, g->nr, 8, &g->mc, &g->kc, &g->nc);
    }
}

static void gemm_descs_ready(void) {
    if (__atomic_load_n(&g_gemm_state, __ATOMIC_ACQUIRE) == 2) return;
    int expect = 0;
    if (__atomic_compare_exchange_n(&g_gemm_state, &expect, 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        gemm_descs_fill();
        __atomic_store_n(&g_gemm_state, 2, __ATOMIC_RELEASE);
        return;
    }
    while (__atomic_load_n(&g_gemm_state, __ATOMIC_ACQUIRE) != 2) {
    }
}

const fnn_gemm_desc_f32 *fnn_gemm_kernels_f32(int isa) {
    gemm_descs_ready();
    return &g_gemm_f32[isa >= 0 && isa < FNN_GEMM_NPATHS ? isa : FNN_GEMM_PORTABLE];
}

const fnn_gemm_desc_f64 *fnn_gemm_kernels_f64(int isa) {
    gemm_descs_ready();
    return &g_gemm_f64[isa >= 0 && isa < FNN_GEMM_NPATHS ? isa : FNN_GEMM_PORTABLE];
}

/* The blocks of one descriptor (either dtype) set to mc, kc, nc (0: the
 * model's), after checking them against its register block. */
static int set_blocks(int *dmc, int *dkc, int *dnc, int mr, int nr, int elem, int64_t mc,
                      int64_t kc, int64_t nc) {
    if ((mc && mc % mr) || (nc && nc % nr)) return FNN_EINVAL;
    fnn_cache_info ci;
    fnn_cpu_caches(&ci);
    int64_t model[3];
    fnn_gemm_blocking_model(&ci, mr, nr, elem, model);
    *dmc = (int)(mc ? mc : model[0]);
    *dkc = (int)(kc ? kc : model[1]);
    *dnc = (int)(nc ? nc : model[2]);
    return FNN_OK;
}

int fnn_gemm_set_blocking(int isa, int dtype, int64_t mc, int64_t kc, int64_t nc) {
    if (isa < 0 || isa >= FNN_GEMM_NPATHS || (dtype != 0 && dtype != 1) || mc < 0 ||
        mc > 65536 || kc < 0 || kc > FNN_GEMM_KC_MAX || nc < 0 || nc > 65536)
        return FNN_EINVAL;
    gemm_descs_ready();
    if (dtype == 0) {
        fnn_gemm_desc_f32 *f = &g_gemm_f32[isa];
        return set_blocks(&f->mc, &f->kc, &f->nc, f->mr, f->nr, 4, mc, kc, nc);
    }
    fnn_gemm_desc_f64 *g = &g_gemm_f64[isa];
    return set_blocks(&g->mc, &g->kc, &g->nc, g->mr, g->nr, 8, mc, kc, nc);
}

static int cpu_has_avx2(void) {
#ifdef FNN_HAVE_X86_KERNELS
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static int cpu_best_isa(void) {
#ifdef FNN_HAVE_X86_KERNELS
    if (!cpu_has_avx2()) return FNN_GEMM_PORTABLE;
    if (__builtin_cpu_supports("avx512f")) return FNN_GEMM_AVX512;
    return FNN_GEMM_AVX2;
#else
    return FNN_GEMM_PORTABLE;
#endif
}

/* The cpuid answer, cached (the GEMM's one global: every thread that fills
 * it writes the same value). */
static int g_best_isa = -1;

int fnn_gemm_cpu_best_isa(void) {
    int best = __atomic_load_n(&g_best_isa, __ATOMIC_RELAXED);
    if (best < 0) {
        best = cpu_best_isa();
        __atomic_store_n(&g_best_isa, best, __ATOMIC_RELAXED);
    }
    return best;
}

int fnn_gemm_resolve_isa(int isa) {
    const int best = fnn_gemm_cpu_best_isa();
    if (isa == FNN_GEMM_AVX512SIM) return best >= FNN_GEMM_AVX2 ? isa : best;
    return isa < 0 || isa > best ? best : isa;
}

int fnn_gemm_get_blocking(int isa, int dtype, int64_t *out) {
    isa = fnn_gemm_resolve_isa(isa);
    if (dtype == 0) {
        const fnn_gemm_desc_f32 *d = fnn_gemm_kernels_f32(isa);
        out[0] = d->mr; out[1] = d->nr; out[2] = d->mc; out[3] = d->kc; out[4] = d->nc;
    } else if (dtype == 1) {
        const fnn_gemm_desc_f64 *d = fnn_gemm_kernels_f64(isa);
        out[0] = d->mr; out[1] = d->nr; out[2] = d->mc; out[3] = d->kc; out[4] = d->nc;
    } else {
        return FNN_EINVAL;
    }
    return FNN_OK;
}

/* ------------------------------------------------------ the FMA probe */

/* The register-only multiply-add loop of each path: NCH independent
 * accumulator chains (enough to cover the FMA latency times the number of
 * FMA ports: 4-5 cycles x 2 ports on current x86 cores), no memory
 * traffic, so it runs at the core's arithmetic peak for that vector
 * width.  Distinct starting values keep the compiler from merging chains
 * (with equal ones it did, and the loop measured latency, not
 * throughput).  Each chain is acc = acc * a + b with 0 < a < 1 (bounded,
 * never subnormal; and no product the compiler could hoist out of the
 * loop).  Returns a lane of the sum so that nothing is dead code. */
#define PROBE_BODY(V, NCH, SET1, FMA, ADD, STORE, VLEN, TT)                    \
    V acc[NCH];                                                               \
    const V a = SET1(seed), b = SET1((TT)1e-3);                               \
    for (int c = 0; c < NCH; c++) acc[c] = SET1((TT)1e-3 * (TT)(c + 1));       \
    for (int64_t k = 0; k < iters; k++) {                                     \
        _Pragma("GCC unroll 32")                                              \
        for (int c = 0; c < NCH; c++) acc[c] = FMA(acc[c], a, b);             \
    }                                                                         \
    for (int c = 1; c < NCH; c++) acc[0] = ADD(acc[0], acc[c]);               \
    TT out[VLEN];                                                             \
    STORE(out, acc[0]);                                                       \
    return (double)out[0];

static double probe_portable(int64_t iters, float seed) {
    typedef float pv __attribute__((vector_size(16)));
#define P_SET1(x) ((pv){(x), (x), (x), (x)})
#define P_FMA(a, b, c) ((a) * (b) + (c))
#define P_ADD(a, b) ((a) + (b))
#define P_STORE(p, v) memcpy((p), &(v), sizeof(v))
    PROBE_BODY(pv, 12, P_SET1, P_FMA, P_ADD, P_STORE, 4, float)
#undef P_SET1
#undef P_FMA
#undef P_ADD
#undef P_STORE
}

#ifdef FNN_HAVE_X86_KERNELS
__attribute__((target("avx2,fma"))) static double probe_avx2(int64_t iters, float seed) {
    PROBE_BODY(__m256, 12, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps,
               8, float)
}

__attribute__((target("avx512f"))) static double probe_avx512(int64_t iters, float seed) {
    PROBE_BODY(__m512, 24, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps,
               16, float)
}
#endif
#undef PROBE_BODY

/* float multiply-adds per probe iteration on path isa (resolved), and the
 * probe itself */
static int64_t probe_flops_per_iter(int isa) {
#ifdef FNN_HAVE_X86_KERNELS
    if (isa == FNN_GEMM_AVX512) return 24 * 16 * 2;
    if (isa == FNN_GEMM_AVX2 || isa == FNN_GEMM_AVX512SIM) return 12 * 8 * 2;
#endif
    (void)isa;
    return 12 * 4 * 2;
}

static double probe_run(int isa, int64_t iters, float seed) {
#ifdef FNN_HAVE_X86_KERNELS
    if (isa == FNN_GEMM_AVX512) return probe_avx512(iters, seed);
    if (isa == FNN_GEMM_AVX2 || isa == FNN_GEMM_AVX512SIM) return probe_avx2(iters, seed);
#endif
    return probe_portable(iters, seed);
}

/* CPU seconds the calling thread has run (0 where the clock is missing) */
static double thread_cpu_seconds(void) {
#if defined(CLOCK_THREAD_CPUTIME_ID)
    struct timespec t;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0) return (double)t.tv_sec + 1e-9 * t.tv_nsec;
#endif
    return 0;
}

int fnn_gemm_fma_probe(int isa, int64_t iters, int n_threads, int64_t *flops, double *cpu_rate) {
    if (iters < 0 || !flops) return FNN_EINVAL;
    isa = fnn_gemm_resolve_isa(isa);
    const int nt = n_threads < 1 ? 1 : n_threads;
    const double per_thread = (double)probe_flops_per_iter(isa) * (double)iters;
    double sink = 0, rate = 0;
#pragma omp parallel num_threads(nt) reduction(+ : sink, rate)
    {
        const double t0 = thread_cpu_seconds();
        sink += probe_run(isa, iters, 0.999f + 1e-4f * (float)fnn_thread_id());
        const double dt = thread_cpu_seconds() - t0;
        rate += dt > 0 ? per_thread / dt : 0;
    }
    /* the sum is finite and positive: this test is never false, but the
     * compiler cannot know it */
    *flops = sink == sink ? probe_flops_per_iter(isa) * iters * nt : 0;
    if (cpu_rate) *cpu_rate = rate;
    return FNN_OK;
}
