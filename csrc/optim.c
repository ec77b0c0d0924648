/* optim.c -- instantiates optim.inc for float and double (see optim.h). */
#include <math.h>
#include "optim.h"

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
