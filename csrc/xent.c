/* xent.c -- instantiates xent.inc for float and double (see xent.h). */
#include <math.h>
#include <string.h>
#include "xent.h"
#include "fnn_generic.h"
#include "fnn_vexp.h"

#define T float
#define SFX f32
#define VEXP fnn_expf
#define LOG logf
#include "xent.inc"
#undef T
#undef SFX
#undef VEXP
#undef LOG

#define T double
#define SFX f64
#define VEXP exp
#define LOG log
#include "xent.inc"
#undef T
#undef SFX
#undef VEXP
#undef LOG
