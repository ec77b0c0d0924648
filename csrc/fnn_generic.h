/* fnn_generic.h -- helpers for type-generic kernel bodies (<op>.inc files
 * included twice by <op>.c, once with T=float/SFX=f32 and once with
 * T=double/SFX=f64).  FN(name) appends the suffix: FN(fnn_x_fwd) is
 * fnn_x_fwd_f32 in the float instantiation. */
#ifndef FNN_GENERIC_H
#define FNN_GENERIC_H
#define FNN_GCAT_(a, b) a##_##b
#define FNN_GCAT(a, b) FNN_GCAT_(a, b)
#define FN(name) FNN_GCAT(name, SFX)
#endif
