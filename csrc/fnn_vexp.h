/* fnn_vexp.h -- an exp for float that the compiler can vectorise.
 *
 * libm's expf is an opaque call, so loops over it stay scalar.  This one is
 * plain arithmetic: x = n*ln2 + r with n = round(x / ln2) (by the 1.5*2^23
 * "magic add", which rounds to nearest in the default rounding mode),
 * exp(r) on |r| <= ln2/2 by the classic Cephes expf polynomial
 * (1 + r + r^2 P(r), P of degree 5; relative error about 2 ulp), and 2^n put
 * together in the exponent bits.  x < -87.33 gives 0 (as expf underflows),
 * x > 88.37 gives +inf, NaN propagates through the polynomial.
 */
#ifndef FNN_VEXP_H
#define FNN_VEXP_H
#include <stdint.h>
#include <string.h>
#include <math.h>

/* The body of fnn_expf, fnn_expf_hl and fnn_expf_inrange; has_lo and
 * in_range are constants at every call, so the inlined code of fnn_expf is
 * exactly the plain exp (same operations, same bits).  in_range: the caller
 * guarantees lim_lo <= x <= lim_hi (or NaN), so the clamps and the
 * underflow / overflow selects are left out. */
static inline float fnn_expf_core(float hi, float lo, const int has_lo, const int in_range) {
    const float lim_lo = -87.33654475f, lim_hi = 88.37626266f;
    float x = has_lo ? hi + lo : hi;
    float xc = in_range ? x : (x < lim_lo ? lim_lo : x);
    xc = in_range ? xc : (xc > lim_hi ? lim_hi : xc);
    const float magic = 12582912.0f;                 /* 1.5 * 2^23 */
    float t = xc * 1.44269504088896341f + magic;
    float n = t - magic;
    float r;
    if (has_lo) {   /* lo joins after the exact hi - n*ln2_hi */
        r = (x == xc ? hi : xc) - n * 0.693359375f;
        r = r + (x == xc ? lo : 0.0f);
    } else {
        r = xc - n * 0.693359375f;                   /* ln2 split in two parts */
    }
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* 2^n, n in [-126, 127], in the exponent bits; unsigned arithmetic, so a
     * NaN t (whose bits make ti - mi anything) wraps instead of overflowing
     * (the result is then NaN through p anyway) */
    uint32_t ti, mi;
    memcpy(&ti, &t, 4);
    memcpy(&mi, &magic, 4);
    uint32_t e = (ti - mi + 127u) << 23;
    float s;
    memcpy(&s, &e, 4);
    float y = p * s;
    if (in_range) return y;
    y = x < lim_lo ? 0.0f : y;
    y = x > lim_hi ? __builtin_inff() : y;
    return y;
}

/* exp(hi + lo) for a correction lo of order 1 at most, without the rounding
 * of hi + lo: n comes from hi + lo, and lo joins the reduced argument after
 * the exact hi - n*ln2_hi (an error below 1.2e-7 absolute in r). */
static inline float fnn_expf_hl(float hi, float lo) { return fnn_expf_core(hi, lo, 1, 0); }

static inline float fnn_expf(float x) { return fnn_expf_core(x, 0.0f, 0, 0); }

/* exp(x) for -87.33 <= x <= 88.37 (or NaN) only: fnn_expf without its clamps */
static inline float fnn_expf_inrange(float x) { return fnn_expf_core(x, 0.0f, 0, 1); }

/* Logistic function on fnn_expf, branch-free so loops over it vectorise:
 * with e = exp(-|x|) (never overflows), 1/(1+e) for x >= 0 and e/(1+e)
 * otherwise.  NaN propagates. */
static inline float fnn_sigmoidf(float x) {
    float a = x < 0.0f ? -x : x;
    float e = fnn_expf(-a);
    float r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : (x < 0.0f ? e * r : x);
}

/* The logistic function in double (libm's exp; the float version above is
 * the vectorisable one): 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x)
 * otherwise, so neither branch overflows. */
static inline double fnn_sigmoid(double v) {
    if (v >= 0.0) return 1.0 / (1.0 + exp(-v));
    double e = exp(v);
    return e / (1.0 + e);
}

/* tanh for float, branch-free: an odd polynomial x + x z P(z), z = x^2, on
 * |x| < 0.625 (the Cephes tanhf minimax coefficients; no cancellation near
 * 0), and 1 - 2 / (exp(2|x|) + 1) with the sign of x elsewhere (saturates to
 * +-1 for large |x|, exp overflowing to inf gives exactly 1).  NaN
 * propagates through both branches. */
static inline float fnn_tanhf(float x) {
    float a = x < 0.0f ? -x : x;
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float big = 1.0f - 2.0f / (fnn_expf(2.0f * a) + 1.0f);
    big = x < 0.0f ? -big : big;
    return a < 0.625f ? small : big;
}

/* Natural log for float on positive, normal, finite x (callers guarantee
 * it), vectorisable: x = 2^k * m with m in [sqrt(1/2), sqrt(2)), log(m) by
 * the Cephes logf polynomial (m - 1 = f: f - f^2/2 + f^3 P(f)), k*ln2 in two
 * parts.  About 1 ulp. */
static inline float fnn_logf_pos(float x) {
    int32_t b;
    memcpy(&b, &x, 4);
    int32_t k = ((b >> 23) & 0xff) - 126;              /* x = 2^k * m, m in [0.5, 1) */
    int32_t mb = (b & 0x007fffff) | 0x3f000000;
    float m;
    memcpy(&m, &mb, 4);
    int small = m < 0.707106781186547524f;
    float f = small ? m + m - 1.0f : m - 1.0f;
    float fk = (float)(small ? k - 1 : k);
    float z = f * f;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    float y = p * f * z;
    y = y + fk * -2.12194440e-4f;
    y = y - 0.5f * z;
    return (f + y) + fk * 0.693359375f;
}

/* log(1 + e) for e in [0, 1] (or NaN, which propagates), vectorisable:
 * with u = 1 + e rounded, log(u) * e / (u - 1) corrects the rounding of u
 * (and is e itself when u rounds to 1). */
static inline float fnn_log1pf_unit(float e) {
    float u = 1.0f + e;
    float d = u - 1.0f;
    float l = fnn_logf_pos(u);
    return d == 0.0f ? e : l * (e / d);
}

/* log(1 + exp(-|x|)), the softplus tail of the logistic losses */
static inline float fnn_log1p_exp_negabs_f(float x) {
    float a = x < 0.0f ? -x : x;
    return fnn_log1pf_unit(fnn_expf(-a));
}
#endif
