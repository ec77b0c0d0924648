/* fnn_generic.h -- helpers for type-generic kernel bodies (<op>.inc files
 * included twice by <op>.c, once with T=float/SFX=f32 and once with
 * T=double/SFX=f64).  FN(name) appends the suffix: FN(fnn_x_fwd) is
 * fnn_x_fwd_f32 in the float instantiation. */
#ifndef FNN_GENERIC_H
#define FNN_GENERIC_H
#define FNN_GCAT_(a, b) a##_##b
#define FNN_GCAT(a, b) FNN_GCAT_(a, b)
#define FN(name) FNN_GCAT(name, SFX)
#endif

/* FNN_CLONES: compile a hot helper for AVX-512 (x86-64-v4), AVX2+FMA
 * (x86-64-v3) and the baseline, the loader picking the best the CPU runs
 * (GCC/clang function multi-versioning through an ifunc).  Applied to the
 * per-row / per-channel helpers that the OpenMP loops call, so the
 * dispatch costs one indirect call per row.  Define FNN_NO_CLONES to build
 * the baseline only. */
#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute) && \
    !defined(FNN_NO_CLONES)
#if __has_attribute(target_clones)
#define FNN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef FNN_CLONES
#define FNN_CLONES
#endif
