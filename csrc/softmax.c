/* softmax.c -- instantiates softmax.inc for float and double. */
#include <math.h>
#include "softmax.h"
#include "fnn_generic.h"

#define T float
#define SFX f32
#define EXP expf
#define LOG logf
#include "softmax.inc"
#undef T
#undef SFX
#undef EXP
#undef LOG

#define T double
#define SFX f64
#define EXP exp
#define LOG log
#include "softmax.inc"
