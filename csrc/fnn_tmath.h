/* fnn_tmath.h -- the scalar primitives of the type-generic bodies, by
 * name: in an instantiation (fnn_instantiate.inc) VEXP(x) is fnn_expf(x)
 * for float and fnn_exp(x) for double, and likewise LOG (libm's log for
 * double), SIGM and TANH: all but LOG vectorisable in both types.  Plain
 * name maps (FN() pastes the suffix, the object-like macro below names the
 * function), so the code is the one the op wrote
 * with per-type #defines.  An op that wants another primitive for one
 * type redefines the macro after including this header (rnn.c's SIGM). */
#ifndef FNN_TMATH_H
#define FNN_TMATH_H
#include <math.h>
#include "fnn_generic.h"
#include "fnn_vexp.h"

#define fnn_t_exp_f32 fnn_expf
#define fnn_t_exp_f64 fnn_exp
#define fnn_t_log_f32 logf
#define fnn_t_log_f64 log
#define fnn_t_sigm_f32 fnn_sigmoidf
#define fnn_t_sigm_f64 fnn_sigmoid
#define fnn_t_tanh_f32 fnn_tanhf
#define fnn_t_tanh_f64 fnn_tanh

#define VEXP FN(fnn_t_exp)
#define LOG FN(fnn_t_log)
#define SIGM FN(fnn_t_sigm)
#define TANH FN(fnn_t_tanh)
#endif
