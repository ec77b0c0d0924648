/* fnn_generic.h -- helpers for type-generic kernel bodies (<op>.inc files
 * included twice by <op>.c, once with T=float/SFX=f32 and once with
 * T=double/SFX=f64): the one name-pasting macro of csrc/.  FNN_CAT(a, b) is
 * a_b (after expanding a and b); FN(name) appends the suffix: FN(fnn_x_fwd)
 * is fnn_x_fwd_f32 in the float instantiation.  A body instantiated for
 * other parameters as well (a kernel path) pastes those first:
 * FN(FNN_CAT(dot, avx2)) is dot_avx2_f32.  The exported entry points are
 * still written out, one prototype each, in the op's header. */
#ifndef FNN_GENERIC_H
#define FNN_GENERIC_H
#define FNN_CAT_(a, b) a##_##b
#define FNN_CAT(a, b) FNN_CAT_(a, b)
#define FN(name) FNN_CAT(name, SFX)

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
/* the double instantiations (fnn_instantiate.inc): AVX2 and the baseline
 * only.  Float64 is for gradient checks and the odd scientific model, not
 * for speed; its AVX-512 clones were 196 KB of the library, and the wheel
 * has a 2 MB budget.  The clones give the same bits (no contraction, no
 * reassociation: each clone does the same operations in the same order). */
#define FNN_CLONES_F64 __attribute__((target_clones("arch=x86-64-v3", "default")))
/* the AVX2 and baseline clones of a helper whose AVX-512 form is a
 * function of its own (conv_wdot.inc's tiles) */
#define FNN_CLONES_NO512 __attribute__((target_clones("arch=x86-64-v3", "default")))
#define FNN_HAVE_CLONES 1
#endif
#endif
#ifndef FNN_CLONES
#define FNN_CLONES
#endif
#ifndef FNN_CLONES_F64
#define FNN_CLONES_F64
#endif
#ifndef FNN_CLONES_NO512
#define FNN_CLONES_NO512
#endif
#endif
