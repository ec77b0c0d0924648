/* softmax.c -- instantiates softmax.inc for float and double. */
/* Compiled with FMA contraction (setup.py's numerics policy): the
 * polynomials of fnn_vexp.h run 1.2-1.5x faster fused in the AVX2 and
 * AVX-512 clones. */
#include <math.h>
#include "softmax.h"
#include "fnn_generic.h"
#include "fnn_vexp.h"

#define T float
#define SFX f32
#define VEXP fnn_expf
#define LOG logf
#include "softmax.inc"
#undef T
#undef SFX
#undef VEXP
#undef LOG

#define T double
#define SFX f64
#define VEXP exp
#define LOG log
#include "softmax.inc"
