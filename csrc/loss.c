/* loss.c -- instantiates loss.inc for float and double. */
#include <math.h>
#include "loss.h"
#include "fnn_generic.h"

#define T float
#define SFX f32
#define EXP expf
#define LOG logf
#define LOG1P log1pf
#define FABS fabsf
#include "loss.inc"
#undef T
#undef SFX
#undef EXP
#undef LOG
#undef LOG1P
#undef FABS

#define T double
#define SFX f64
#define EXP exp
#define LOG log
#define LOG1P log1p
#define FABS fabs
#include "loss.inc"
