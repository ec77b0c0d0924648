/* loss.c -- instantiates loss.inc for float and double. */
/* No FP-exception semantics are promised, so comparisons may be if-converted
 * and the lane loops vectorised (results are unchanged: this is not
 * fast-math, which would also reassociate and drop NaN/Inf handling). */
#pragma GCC optimize("no-trapping-math")
#include <math.h>
#include "loss.h"
#include "fnn_slices.h"
#include "fnn_vexp.h"

#define T float
#define SFX f32
#define EXP expf
#define VEXP fnn_expf
#define LOG logf
#define LOG1P log1pf
#define FABS fabsf
#define SOFTPLUS_T fnn_log1p_exp_negabs_f
#define SIGM fnn_sigmoidf
#include "loss.inc"
#undef SOFTPLUS_T
#undef SIGM
#undef T
#undef SFX
#undef EXP
#undef VEXP
#undef LOG
#undef LOG1P
#undef FABS

static inline double sigm_f64(double v) {
    if (v >= 0.0) return 1.0 / (1.0 + exp(-v));
    double e = exp(v);
    return e / (1.0 + e);
}

#define T double
#define SFX f64
#define EXP exp
#define VEXP exp
#define LOG log
#define LOG1P log1p
#define FABS fabs
#define SOFTPLUS_T(v) log1p(exp(-fabs(v)))
#define SIGM sigm_f64
#include "loss.inc"
