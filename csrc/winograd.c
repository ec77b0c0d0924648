/* winograd.c -- float and double instantiations of winograd.inc (see
 * winograd.h for the entry points, winograd.inc for the maths). */
#include "winograd.h"
#include "conv_internal.h"
#include "gemm_kernels.h"
#include "fnn_generic.h"   /* FN, FNN_CLONES */

#define T float
#define SFX f32
#define GDESC fnn_gemm_desc_f32
#define GACTIVE fnn_gemm_active_desc_f32
#if defined(__SSE2__)
#include <emmintrin.h>
#define CONV_SSE_F32 1
#endif
#include "winograd.inc"
#include "winograd_wgrad.inc"
#undef CONV_SSE_F32
#undef T
#undef SFX
#undef GDESC
#undef GACTIVE

#define T double
#define SFX f64
#define GDESC fnn_gemm_desc_f64
#define GACTIVE fnn_gemm_active_desc_f64
#include "winograd.inc"
#include "winograd_wgrad.inc"
#undef T
#undef SFX
#undef GDESC
#undef GACTIVE
