/* elementwise.c -- relu/sigmoid/tanh forward and backward, same-shape add
 * and mul, axpy (gradient accumulation) and a deterministic full sum;
 * instantiates elementwise.inc for float and double.
 *
 *   relu:    y = max(x, 0) (NaN propagates: x > 0 ? x : 0 would drop it,
 *            so NaN is passed through explicitly); dx = dy * (x > 0)
 *   sigmoid: y = 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) otherwise, so
 *            neither branch overflows;            dx = dy * y * (1 - y)
 *            (float on the AVX-512 path: by SiLU's sigmoid table, 2.2 ulp at
 *            most, in activation.c: fnn_act_sigmoid_table_f32)
 *   tanh:    y = tanh(x);                          dx = dy * (1 - y^2)
 *   sum:     per-thread partials in double, added in thread order: bitwise
 *            repeatable at a fixed thread count.
 * No FMA contraction (setup.py's numerics policy): results are bitwise those
 * of the separate multiply and add PyTorch and the NumPy references do (e.g.
 * axpy's gradient accumulation), in every ISA clone.
 */
#include <math.h>
#include "elementwise.h"
#include "activation.h"   /* fnn_act_sigmoid_table_f32 */
#include "fnn_tmath.h"     /* SIGM, TANH */
#include "fnn_slices.h"

#define FNN_BODY "elementwise.inc"
#include "fnn_instantiate.inc"
