/* im2col.c -- float and double instantiations of im2col.inc (see im2col.h). */
#include "im2col.h"
#include "fnn_generic.h"   /* FN */

#define T float
#define SFX f32
#include "im2col.inc"
#undef T
#undef SFX

#define T double
#define SFX f64
#include "im2col.inc"
#undef T
#undef SFX
