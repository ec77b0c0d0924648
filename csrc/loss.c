/* loss.c -- instantiates loss.inc for float and double. */
/* No FP-exception semantics are promised, so comparisons may be if-converted
 * and the lane loops vectorised (results are unchanged: this is not
 * fast-math, which would also reassociate and drop NaN/Inf handling). */
#pragma GCC optimize("no-trapping-math")
#include <math.h>
#include "loss.h"
#include "fnn_generic.h"
#include "fnn_vexp.h"

#define T float
#define SFX f32
#define EXP expf
#define VEXP fnn_expf
#define LOG logf
#define LOG1P log1pf
#define FABS fabsf
#include "loss.inc"
#undef T
#undef SFX
#undef EXP
#undef VEXP
#undef LOG
#undef LOG1P
#undef FABS

#define T double
#define SFX f64
#define EXP exp
#define VEXP exp
#define LOG log
#define LOG1P log1p
#define FABS fabs
#include "loss.inc"
