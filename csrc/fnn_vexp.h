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
#endif
