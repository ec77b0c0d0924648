/* activation.c -- instantiates activation.inc for float and double. */
/* No FMA contraction in the AVX2 clones: results stay bitwise those of the
 * baseline build (and of the separate multiply and add PyTorch and the
 * NumPy references do, e.g. axpy's gradient accumulation). */
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
