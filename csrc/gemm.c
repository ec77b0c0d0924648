/* gemm.c -- fnn_gemm_f32 / fnn_gemm_f64 and the run-time choice of
 * kernel path (see gemm.h, gemm.inc, gemm_kernels.h). */
#include "gemm.h"
#include "gemm_kernels.h"

/* Path codes: 0 portable, 1 AVX2+FMA, 2 AVX-512, 3 the AVX-512 kernels
 * emulated with AVX2 (testing only; never chosen automatically). */
static int g_isa = -1;   /* -1: not chosen yet */
static const fnn_gemm_desc_f32 *g_desc_f32 = &fnn_gemm_desc_portable_f32;
static const fnn_gemm_desc_f64 *g_desc_f64 = &fnn_gemm_desc_portable_f64;

static int cpu_has_avx2(void) {
#ifdef FNN_HAVE_X86_KERNELS
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int fnn_gemm_cpu_best_isa(void) {
#ifdef FNN_HAVE_X86_KERNELS
    if (!cpu_has_avx2()) return 0;
    if (__builtin_cpu_supports("avx512f")) return 2;
    return 1;
#else
    return 0;
#endif
}

int fnn_gemm_set_isa(int isa) {
    int best = fnn_gemm_cpu_best_isa();
    if (isa == 3) {
        if (!cpu_has_avx2()) isa = best;
    } else if (isa < 0 || isa > best) {
        isa = best;
    }
    const fnn_gemm_desc_f32 *d32 = &fnn_gemm_desc_portable_f32;
    const fnn_gemm_desc_f64 *d64 = &fnn_gemm_desc_portable_f64;
#ifdef FNN_HAVE_X86_KERNELS
    if (isa == 1) { d32 = &fnn_gemm_desc_avx2_f32; d64 = &fnn_gemm_desc_avx2_f64; }
    if (isa == 2) { d32 = &fnn_gemm_desc_avx512_f32; d64 = &fnn_gemm_desc_avx512_f64; }
    if (isa == 3) { d32 = &fnn_gemm_desc_avx512sim_f32; d64 = &fnn_gemm_desc_avx512sim_f64; }
#endif
    g_desc_f32 = d32;
    g_desc_f64 = d64;
    g_isa = isa;
    return isa;
}

int fnn_gemm_get_isa(void) {
    if (g_isa < 0) fnn_gemm_set_isa(-1);
    return g_isa;
}

static const fnn_gemm_desc_f32 *active_desc_f32(void) {
    if (g_isa < 0) fnn_gemm_set_isa(-1);
    return g_desc_f32;
}

static const fnn_gemm_desc_f64 *active_desc_f64(void) {
    if (g_isa < 0) fnn_gemm_set_isa(-1);
    return g_desc_f64;
}

int fnn_gemm_get_blocking(int dtype, int64_t *out) {
    if (dtype == 0) {
        const fnn_gemm_desc_f32 *d = active_desc_f32();
        out[0] = d->mr; out[1] = d->nr; out[2] = d->mc; out[3] = d->kc; out[4] = d->nc;
    } else if (dtype == 1) {
        const fnn_gemm_desc_f64 *d = active_desc_f64();
        out[0] = d->mr; out[1] = d->nr; out[2] = d->mc; out[3] = d->kc; out[4] = d->nc;
    } else {
        return FNN_EINVAL;
    }
    return FNN_OK;
}

#ifdef FNN_HAVE_X86_KERNELS
#define FNN_ALL_DESCS_(SFX)                                                    \
    {&fnn_gemm_desc_portable_##SFX, &fnn_gemm_desc_avx2_##SFX,                 \
     &fnn_gemm_desc_avx512_##SFX, &fnn_gemm_desc_avx512sim_##SFX}
#else
#define FNN_ALL_DESCS_(SFX) {&fnn_gemm_desc_portable_##SFX}
#endif

#define FNN_ALL_DESCS(SFX) FNN_ALL_DESCS_(SFX)

#define T float
#define SFX f32
#define DESC fnn_gemm_desc_f32
#define ACTIVE_DESC active_desc_f32
#include "gemm.inc"
#undef T
#undef SFX
#undef DESC
#undef ACTIVE_DESC

#define T double
#define SFX f64
#define DESC fnn_gemm_desc_f64
#define ACTIVE_DESC active_desc_f64
#include "gemm.inc"
