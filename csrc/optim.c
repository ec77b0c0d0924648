/* optim.c -- instantiates optim.inc for float and double (see optim.h). */
/* Clones for AVX2 (FNN_CLONES) without FMA contraction: the steps follow
 * torch.optim operation by operation, rounding included. */
#include <math.h>
#include "optim.h"
#include "fnn_generic.h"   /* FN, FNN_CLONES */

/* The updates stream their arrays once: AVX2 moves them as fast as AVX-512
 * (Adam over 1M and 10M parameters took the same time with either clone),
 * so this file leaves the AVX-512 clone out (a third of its code, which
 * counts against the wheel's 2 MB). */
#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute) && \
    !defined(FNN_NO_CLONES)
#if __has_attribute(target_clones)
#undef FNN_CLONES
#define FNN_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif

#define fnn_sqrt_f32 sqrtf
#define fnn_sqrt_f64 sqrt
#define FNN_SQRT FN(fnn_sqrt)

/* The float updates get the AVX2 clone; the double ones only the baseline
 * (float64 training is rare, and its clone cost ~50 kB of code against the
 * wheel's 2 MB), so the two instantiations are written out here rather
 * than through fnn_instantiate.inc. */
#define T float
#define SFX f32
#define FNN_T_F32 1
#include "optim.inc"
#undef FNN_T_F32
#undef T
#undef SFX

#undef FNN_CLONES
#define FNN_CLONES
#define T double
#define SFX f64
#include "optim.inc"
#undef T
#undef SFX
