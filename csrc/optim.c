/* optim.c -- instantiates optim.inc for float and double (see optim.h). */
/* Clones for AVX2 (FNN_CLONES) without FMA contraction: the steps follow
 * torch.optim operation by operation, rounding included. */
#include <math.h>
#include "optim.h"
#include "fnn_generic.h"   /* FNN_CLONES */
#undef FN                   /* optim.inc defines its own */

#define T float
#define SFX f32
#define FNN_SQRT sqrtf
#include "optim.inc"
#undef T
#undef SFX
#undef FNN_SQRT

#define T double
#define SFX f64
#define FNN_SQRT sqrt
#include "optim.inc"
#undef T
#undef SFX
#undef FNN_SQRT
