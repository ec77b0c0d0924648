/* activation.c -- instantiates activation.inc for float and double. */
#include "activation.h"
#include "fnn_slices.h"

#define T float
#define SFX f32
#include "activation.inc"
#undef T
#undef SFX

#define T double
#define SFX f64
#include "activation.inc"
