/* softmax.c -- instantiates softmax.inc for float and double. */
/* Compiled with FMA contraction (setup.py's numerics policy): the
 * polynomials of fnn_vexp.h run 1.2-1.5x faster fused in the AVX2 and
 * AVX-512 clones. */
#include <math.h>
#include "softmax.h"
#include "fnn_tmath.h"     /* VEXP, LOG */

#define FNN_BODY "softmax.inc"
#include "fnn_instantiate.inc"
