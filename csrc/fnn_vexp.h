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

static inline float fnn_expf(float x) {
    const float lo = -87.33654475f, hi = 88.37626266f;
    float xc = x < lo ? lo : x;
    xc = xc > hi ? hi : xc;
    const float magic = 12582912.0f;                 /* 1.5 * 2^23 */
    float t = xc * 1.44269504088896341f + magic;
    float n = t - magic;
    float r = xc - n * 0.693359375f;                 /* ln2 split in two parts */
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t ti, mi;
    memcpy(&ti, &t, 4);
    memcpy(&mi, &magic, 4);
    int32_t e = (ti - mi + 127) << 23;               /* 2^n, n in [-126, 127] */
    float s;
    memcpy(&s, &e, 4);
    float y = p * s;
    y = x < lo ? 0.0f : y;
    y = x > hi ? __builtin_inff() : y;
    return y;
}
/* Logistic function on fnn_expf, branch-free so loops over it vectorise:
 * with e = exp(-|x|) (never overflows), 1/(1+e) for x >= 0 and e/(1+e)
 * otherwise.  NaN propagates. */
static inline float fnn_sigmoidf(float x) {
    float a = x < 0.0f ? -x : x;
    float e = fnn_expf(-a);
    float r = 1.0f / (1.0f + e);
    return x >= 0.0f ? r : (x < 0.0f ? e * r : x);
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
#endif
