/* gemm.c -- fnn_gemm_f32 / fnn_gemm_f64 and the run-time choice of
 * micro-kernel (see gemm.h, gemm.inc, gemm_kernels.h). */
#include "gemm.h"
#include "gemm_kernels.h"

static int g_isa = -1;   /* -1: not chosen yet */
static fnn_ukr_f32 g_ukr_f32 = fnn_ukr_portable_f32;
static fnn_ukr_f64 g_ukr_f64 = fnn_ukr_portable_f64;

int fnn_gemm_cpu_best_isa(void) {
#ifdef FNN_HAVE_X86_KERNELS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return 1;
#endif
    return 0;
}

int fnn_gemm_set_isa(int isa) {
    int best = fnn_gemm_cpu_best_isa();
    if (isa < 0 || isa > best) isa = best;
    g_ukr_f32 = fnn_ukr_portable_f32;
    g_ukr_f64 = fnn_ukr_portable_f64;
#ifdef FNN_HAVE_X86_KERNELS
    if (isa >= 1) {
        g_ukr_f32 = fnn_ukr_avx2_f32;
        g_ukr_f64 = fnn_ukr_avx2_f64;
    }
#endif
    g_isa = isa;
    return isa;
}

int fnn_gemm_get_isa(void) {
    if (g_isa < 0) fnn_gemm_set_isa(-1);
    return g_isa;
}

#define T float
#define SFX f32
#define MR_ FNN_MR_F32
#define NR_ FNN_NR_F32
#define MC_ 144
#define KC_ 256
#define NC_ 512
#define UKR g_ukr_f32
#include "gemm.inc"
#undef T
#undef SFX
#undef MR_
#undef NR_
#undef MC_
#undef KC_
#undef NC_
#undef UKR

#define T double
#define SFX f64
#define MR_ FNN_MR_F64
#define NR_ FNN_NR_F64
#define MC_ 96
#define KC_ 256
#define NC_ 256
#define UKR g_ukr_f64
#include "gemm.inc"
