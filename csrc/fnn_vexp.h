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

/* The body of fnn_expf, fnn_expf_hl, fnn_expf_inrange and
 * fnn_expf_nonpos; has_lo, in_range and nonpos are constants at every
 * call, so the inlined code of fnn_expf is exactly the plain exp (same
 * operations, same bits).  in_range: the caller guarantees lim_lo <= x <=
 * lim_hi (or NaN), so the clamps and the underflow / overflow selects are
 * left out; nonpos: it guarantees x <= 0 (or NaN), so the overflow clamp
 * and select are (they change nothing there: the same bits, a third fewer
 * vector operations in the logistic function on AMD Zen 4). */
static inline float fnn_expf_core(float hi, float lo, const int has_lo, const int in_range,
                                  const int nonpos) {
    const float lim_lo = -87.33654475f, lim_hi = 88.37626266f;
    float x = has_lo ? hi + lo : hi;
    float xc = in_range ? x : (x < lim_lo ? lim_lo : x);
    xc = in_range || nonpos ? xc : (xc > lim_hi ? lim_hi : xc);
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
    if (!nonpos) y = x > lim_hi ? __builtin_inff() : y;
    return y;
}

/* exp(hi + lo) for a correction lo of order 1 at most, without the rounding
 * of hi + lo: n comes from hi + lo, and lo joins the reduced argument after
 * the exact hi - n*ln2_hi (an error below 1.2e-7 absolute in r). */
static inline float fnn_expf_hl(float hi, float lo) { return fnn_expf_core(hi, lo, 1, 0, 0); }

static inline float fnn_expf(float x) { return fnn_expf_core(x, 0.0f, 0, 0, 0); }

/* exp(x) for -87.33 <= x <= 88.37 (or NaN) only: fnn_expf without its clamps */
static inline float fnn_expf_inrange(float x) { return fnn_expf_core(x, 0.0f, 0, 1, 0); }

/* exp(x) for x <= 0 (or NaN) only: fnn_expf without its overflow clamp */
static inline float fnn_expf_nonpos(float x) { return fnn_expf_core(x, 0.0f, 0, 0, 1); }

/* Logistic function on fnn_expf, branch-free so loops over it vectorise:
 * with e = exp(-|x|) (never overflows), 1/(1+e) for x >= 0 and e/(1+e)
 * otherwise.  NaN propagates (through e, into the second form). */
static inline float fnn_sigmoidf(float x) {
    float a = x < 0.0f ? -x : x;
    float e = fnn_expf_nonpos(-a);
    float r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : e * r;
}

/* 1/k! for k = 0..16, and sum_{k=2..kmax} r^(k-2) / k! by Horner (the
 * Taylor tail of exp, as exp(r) = 1 + r + r^2 tail and expm1 likewise);
 * kmax is a constant at every call, so the loop unrolls. */
static const double fnn_inv_fact[17] = {
    1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
    1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0,
    1.0 / 87178291200.0, 1.0 / 1307674368000.0, 1.0 / 20922789888000.0};
static inline double fnn_exp_tail(double r, const int kmax) {
    double p = fnn_inv_fact[kmax];
    for (int k = kmax - 1; k >= 2; k--) p = p * r + fnn_inv_fact[k];
    return p;
}

/* exp for double, vectorisable, by fnn_expf's method: n = round(x / ln2)
 * (the 1.5 * 2^52 magic add), r = x - n ln2 with ln2 in two parts (n ln2_hi
 * exact for |n| < 2^11), exp(r) on |r| <= ln2/2 by its Taylor polynomial to
 * r^13 (truncation below 2e-17 relative), and 2^n as the product of two
 * powers of two in the exponent bits, so that n down to -1075 (results in
 * the subnormal range) and up to 1024 needs no special case.  About 1 ulp
 * (measured against libm: at most 2 ulp).  x < -745.2 gives 0, x > 709.78
 * +inf; NaN propagates through the polynomial. */
static inline double fnn_exp(double x) {
    const double lim_lo = -745.2, lim_hi = 709.782712893384;
    double xc = x < lim_lo ? lim_lo : x;
    xc = xc > lim_hi ? lim_hi : xc;
    const double magic = 6755399441055744.0;               /* 1.5 * 2^52 */
    double t = xc * 1.4426950408889634074 + magic;
    double n = t - magic;
    double r = xc - n * 6.93147180369123816490e-01;
    r = r - n * 1.90821492927058770002e-10;
    double p = fnn_exp_tail(r, 13);
    p = p * r * r + r + 1.0;
    /* n = n1 + n2, n1 = round(n / 2): 2^n1 and 2^n2 are normal numbers */
    double t1 = n * 0.5 + magic, n1 = t1 - magic, t2 = (n - n1) + magic;
    uint64_t b1, b2, bm;
    memcpy(&b1, &t1, 8);
    memcpy(&b2, &t2, 8);
    memcpy(&bm, &magic, 8);
    b1 = (b1 - bm + 1023u) << 52;
    b2 = (b2 - bm + 1023u) << 52;
    double s1, s2;
    memcpy(&s1, &b1, 8);
    memcpy(&s2, &b2, 8);
    double y = p * s1 * s2;
    y = x < lim_lo ? 0.0 : y;
    y = x > lim_hi ? __builtin_inf() : y;
    return y;
}

/* The logistic function in double, on fnn_exp: 1 / (1 + e^-x) for x >= 0,
 * e^x / (1 + e^x) otherwise (neither overflows), as one division so loops
 * over it vectorise.  NaN propagates. */
static inline double fnn_sigmoid(double v) {
    double e = fnn_exp(v >= 0.0 ? -v : v);
    return (v >= 0.0 ? 1.0 : e) / (1.0 + e);
}

/* tanh in double, vectorisable: with m = expm1(2|x|), tanh|x| = m / (m + 2)
 * (no cancellation near 0); expm1 by its Taylor polynomial to y^16 for
 * y = 2|x| < 0.7 (truncation below 1e-17 relative) and exp(y) - 1 above
 * (cancellation at most a factor 2 there); |x| is capped at 20, where the
 * ratio is 1 in double; the sign is copied from x (-0 stays -0, NaN
 * propagates).  About 2 ulp. */
static inline double fnn_tanh(double x) {
    double a = __builtin_fabs(x);
    double y = 2.0 * (a > 20.0 ? 20.0 : a);
    double p = fnn_exp_tail(y, 16);
    double m = y < 0.7 ? p * y * y + y : fnn_exp(y) - 1.0;
    return __builtin_copysign(m / (m + 2.0), x);
}

/* tanh for float, branch-free: an odd polynomial x + x z P(z), z = x^2, on
 * |x| < 0.625 (the Cephes tanhf minimax coefficients; no cancellation near
 * 0), and (1 - e) / (1 + e), e = exp(-2|x|) <= 0.29, with the sign of x
 * elsewhere.  |x| is capped at 10 (tanh is 1 in float from 9.1 on), so the
 * exp needs no clamps (fnn_expf_inrange); NaN propagates through both
 * branches. */
static inline float fnn_tanhf(float x) {
    float a = x < 0.0f ? -x : x;
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float e = fnn_expf_inrange(-2.0f * (a > 10.0f ? 10.0f : a));
    float big = (1.0f - e) / (1.0f + e);
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
    return fnn_log1pf_unit(fnn_expf_nonpos(-a));
}
#endif
