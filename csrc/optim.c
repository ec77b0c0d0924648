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

#define FNN_BODY "optim.inc"
#include "fnn_instantiate.inc"
