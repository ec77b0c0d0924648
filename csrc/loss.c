/* loss.c -- instantiates loss.inc for float and double. */
/* Compiled with FMA contraction (setup.py's numerics policy): the
 * polynomials of fnn_vexp.h run 1.2-1.5x faster fused in the AVX2 and
 * AVX-512 clones. */
#include <math.h>
#include "loss.h"
#include "fnn_slices.h"
#include "fnn_vexp.h"

#define T float
#define SFX f32
#define VEXP fnn_expf
#define LOG logf
#define SOFTPLUS_T fnn_log1p_exp_negabs_f
#define SIGM fnn_sigmoidf
#include "loss.inc"
#undef SOFTPLUS_T
#undef SIGM
#undef T
#undef SFX
#undef VEXP
#undef LOG

#define T double
#define SFX f64
#define VEXP exp
#define LOG log
#define SOFTPLUS_T(v) log1p(exp(-fabs(v)))
#define SIGM fnn_sigmoid
#include "loss.inc"
