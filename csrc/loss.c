/* loss.c -- instantiates loss.inc for float and double. */
/* Compiled with FMA contraction (setup.py's numerics policy): the
 * polynomials of fnn_vexp.h run 1.2-1.5x faster fused in the AVX2 and
 * AVX-512 clones. */
#include <math.h>
#include "loss.h"
#include "fnn_slices.h"
#include "fnn_tmath.h"     /* VEXP, LOG, SIGM */

/* log(1 + exp(-|v|)) */
#define fnn_softplus_tail_f32 fnn_log1p_exp_negabs_f
#define fnn_softplus_tail_f64(v) log1p(exp(-fabs(v)))
#define SOFTPLUS_T FN(fnn_softplus_tail)

#define FNN_BODY "loss.inc"
#include "fnn_instantiate.inc"
