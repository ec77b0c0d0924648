/* activation.c -- instantiates activation.inc for float and double. */
/* No FMA contraction in the AVX2 clones: results stay bitwise those of the
 * baseline build (and of the separate multiply and add PyTorch and the
 * NumPy references do, e.g. axpy's gradient accumulation). */
#include "activation.h"
#include "fnn_slices.h"
#include <math.h>
#include "fnn_vmath.h"

/* The scalar primitives the generic bodies call as FN(name): float on the
 * vectorisable fnn_vexp.h / fnn_vmath.h functions, double on libm. */
static inline float vexp_f32(float x) { return fnn_expf(x); }
static inline double vexp_f64(double x) { return exp(x); }
static inline float vexpm1_f32(float x) { return fnn_expm1f(x); }
static inline double vexpm1_f64(double x) { return expm1(x); }
static inline float vsigmoid_f32(float x) { return fnn_sigmoidf(x); }
static inline double vsigmoid_f64(double x) {
    double e = exp(-fabs(x)), r = 1.0 / (1.0 + e);
    return x >= 0.0 ? r : e * r;
}
/* log(1 + exp(-|x|)) */
static inline float vsoftplus_tail_f32(float x) { return fnn_log1p_exp_negabs_f(x); }
static inline double vsoftplus_tail_f64(double x) { return log1p(exp(-fabs(x))); }
/* Q(|x|) = 0.5 erfc(|x| / sqrt 2), and *e = exp(-x^2 / 2) */
static inline float vnormal_tail_f32(float x, float *e) { return fnn_normal_tail_f(x, e); }
static inline double vnormal_tail_f64(double x, double *e) {
    *e = exp(-0.5 * x * x);
    return 0.5 * erfc(fabs(x) * 0.70710678118654752440);
}
/* GELU's tail by blocks (FN(gelu_fwd_run) in activation.inc): a block of
 * GELU_BLOCK floats whose |x| all stay below FNN_NORMAL_TAIL_SMALL takes the
 * cheap fnn_normal_tail_small_f; anywhere else each element chooses by its
 * own |x| (vnormal_tail_any), so a value never depends on its neighbours,
 * the block boundaries or the thread split.  NaN takes the general form.
 * Double has one form. */
#define GELU_BLOCK 64
static inline int gelu_block_small_f32(const float *x) {
    uint32_t big = 0;
    for (int j = 0; j < GELU_BLOCK; j++) {
        uint32_t b;
        memcpy(&b, x + j, 4);
        big |= (b & 0x7fffffffu) >= 0x40800000u;     /* |x| >= 4.0f or NaN */
    }
    return big == 0;
}
static inline int gelu_block_small_f64(const double *x) { (void)x; return 0; }
static inline float vnormal_tail_small_f32(float x, float *e) {
    return fnn_normal_tail_small_f(x, e);
}
static inline double vnormal_tail_small_f64(double x, double *e) { return vnormal_tail_f64(x, e); }
static inline float vnormal_tail_any_f32(float x, float *e) {
    float es, qs = fnn_normal_tail_small_f(x, &es), eg, qg = fnn_normal_tail_f(x, &eg);
    int small = (x < 0.0f ? -x : x) < FNN_NORMAL_TAIL_SMALL;
    *e = small ? es : eg;
    return small ? qs : qg;
}
static inline double vnormal_tail_any_f64(double x, double *e) { return vnormal_tail_f64(x, e); }

/* operation codes of the shared drivers in activation.inc */
enum { ACT_GELU, ACT_GELU_TANH, ACT_SILU, ACT_MISH, ACT_ELU, ACT_SOFTPLUS, ACT_LOGSIGMOID,
       ACT_HARDTANH, ACT_HARDSWISH, ACT_HARDSIGMOID, ACT_SOFTSIGN, ACT_THRESHOLD };

int64_t fnn_prelu_workspace_len(int64_t outer, int64_t C, int64_t inner) {
    return outer * C * ((inner + FNN_PRELU_CHUNK - 1) / FNN_PRELU_CHUNK);
}

#define FNN_BODY "activation.inc"
#include "fnn_instantiate.inc"
