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

/* FNN_SLICES(n, nt, CALL): run CALL (an expression using int64_t lo, hi)
 * once per thread of an nt-thread team on that thread's slice [lo, hi) of
 * [0, n) (or once on [0, n) when nt <= 1).  Inner slice ends are rounded
 * down to a multiple of 16 elements so vector loops stay aligned.  CALL is
 * normally a FNN_CLONES helper, so the loop inside it is vectorised for the
 * best ISA: the if clause of a combined "parallel for simd" also disables
 * the simd part when false, and outlined OpenMP bodies cannot be cloned. */
#ifndef FNN_SLICES
#define FNN_SLICES(n, nt, CALL)                                                \
    do {                                                                       \
        if ((nt) <= 1) { int64_t lo = 0, hi = (n); CALL; break; }              \
        _Pragma("omp parallel num_threads(nt)")                                \
        {                                                                      \
            int t_ = fnn_thread_id(), k_ = fnn_team_size();                    \
            int64_t lo = t_ == 0 ? 0 : ((n) * t_ / k_) & ~(int64_t)15;         \
            int64_t hi = t_ == k_ - 1 ? (n) : ((n) * (t_ + 1) / k_) & ~(int64_t)15; \
            CALL;                                                              \
        }                                                                      \
    } while (0)
#endif
