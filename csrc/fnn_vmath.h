/* fnn_vmath.h -- more vectorisable float functions on fnn_vexp.h, for the
 * activations (activation.inc): expm1 and the normal distribution's tail.
 * Plain branch-free arithmetic, so loops over them vectorise. */
#ifndef FNN_VMATH_H
#define FNN_VMATH_H
#include "fnn_vexp.h"

/* exp(x) - 1 without the cancellation near 0: the Taylor series to x^10
 * on |x| < 0.75 (truncation below 1.5e-9 relative), exp(x) - 1 elsewhere
 * (cancellation at most a factor 1.9 there).  NaN propagates. */
static inline float fnn_expm1f(float x) {
    float p = 1.0f / 3628800.0f;
    p = p * x + 1.0f / 362880.0f;
    p = p * x + 1.0f / 40320.0f;
    p = p * x + 1.0f / 5040.0f;
    p = p * x + 1.0f / 720.0f;
    p = p * x + 1.0f / 120.0f;
    p = p * x + 1.0f / 24.0f;
    p = p * x + 1.0f / 6.0f;
    p = p * x + 0.5f;
    float small = p * x * x + x;
    float big = fnn_expf(x) - 1.0f;
    float a = x < 0.0f ? -x : x;
    return a < 0.75f ? small : big;
}

/* The upper tail q = Q(|x|) = 0.5 erfc(|x| / sqrt 2) of the standard
 * normal distribution, with relative accuracy (about 3e-7) all the way out
 * to the underflow (|x| = 13.2), and e = exp(-x^2 / 2) (for the density):
 * erfc(z) = t exp(-z^2) R(t), t = 1 / (1 + z/2), R a degree-9 polynomial
 * fitted (Chebyshev, in double) to erfcx(z) / t on t in [0.17, 1] (|x| up
 * to 13.2), max relative error 3.3e-8.  x^2/2 is carried as hi + lo
 * (hi = xh^2/2 exact, xh = |x| cut to 12 significant bits) into
 * fnn_expf_hl, so the exponent's rounding (up to 4e-6 relative at
 * x = -13) does not reach the result.  One exp serves q and the density.
 * NaN propagates (through e); |x| = inf gives q = 0. */
static inline float fnn_normal_tail_f(float x, float *e) {
    float a = x < 0.0f ? -x : x;
    uint32_t b;
    memcpy(&b, &a, 4);
    b &= 0xfffff000u;
    float ah;
    memcpy(&ah, &b, 4);
    float al = a - ah;
    al = al == al ? al : 0.0f;                               /* |x| = inf: e = 0 */
    float hi = -0.5f * (ah * ah), lo = -0.5f * (al * (a + ah));
    lo = lo == lo ? lo : 0.0f;                               /* (0 * inf: e = 0, not NaN) */
    float ac = a < 14.0f ? a : 14.0f;                        /* e is 0 beyond */
    float t = 1.0f / (1.0f + ac * 0.35355339059327373f);          /* z/2 = a/(2 sqrt 2) */
    float r = 0.018057959154248238f;
    r = r * t - 0.15326052904129028f;
    r = r * t + 0.49602165818214417f;
    r = r * t - 0.7544848322868347f;
    r = r * t + 0.48703065514564514f;
    r = r * t - 0.1310400366783142f;
    r = r * t + 0.23591658473014832f;
    r = r * t + 0.23662973940372467f;
    r = r * t + 0.28307414054870605f;
    r = r * t + 0.2820546329021454f;
    *e = fnn_expf_hl(hi, lo);
    return 0.5f * t * r * *e;
}
/* fnn_normal_tail_f for |x| < FNN_NORMAL_TAIL_SMALL only, about 1.6x
 * cheaper: no reciprocal and no split exponent.  q = exp(-a^2/2) M(a) with
 * M(a) = Q(a) exp(a^2/2) (0.5 at a = 0, 0.094 at a = 4) a degree-12
 * polynomial in u = a/2 - 1, fitted by weighted least squares on Chebyshev
 * nodes (coefficients rounded to float one at a time, the rest refitted):
 * relative error 2.1e-7 in float arithmetic.  a^2/2 <= 8 is rounded once,
 * at most 4.8e-7 relative in the exponential; the test of the tail (rtol
 * 1e-6) covers the whole range.  Outside the range the value is wrong but
 * finite for finite x: the callers select fnn_normal_tail_f's there. */
#define FNN_NORMAL_TAIL_SMALL 4.0f
static inline float fnn_normal_tail_small_f(float x, float *e) {
    float a = __builtin_fabsf(x);
    float u = a * 0.5f - 1.0f;
    static const float c[13] = {   /* highest power first */
        0.00014046063006389886f, -0.000381327117793262f, 0.0004522758536040783f,
        -0.0008580519934184849f, 0.0022986549884080887f, -0.0048637124709784985f,
        0.009348556399345398f, -0.017576511949300766f, 0.03161199763417244f,
        -0.05363863706588745f, 0.08525136113166809f, -0.1254764199256897f,
        0.16810199618339539f};
    float m = c[0];
    for (int k = 1; k < 13; k++) m = m * u + c[k];
    *e = fnn_expf_inrange(-0.5f * (a * a));
    return m * *e;
}
#endif

