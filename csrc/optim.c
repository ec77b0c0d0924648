/* optim.c -- instantiates optim.inc for float and double (see optim.h). */
/* Clones for AVX2 (FNN_CLONES) without FMA contraction: the steps follow
 * torch.optim operation by operation, rounding included. */
#include <math.h>
#include "optim.h"
#include "fnn_generic.h"   /* FN, FNN_CLONES */

#define fnn_sqrt_f32 sqrtf
#define fnn_sqrt_f64 sqrt
#define FNN_SQRT FN(fnn_sqrt)

#define FNN_BODY "optim.inc"
#include "fnn_instantiate.inc"
