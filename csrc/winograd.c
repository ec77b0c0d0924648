/* winograd.c -- float and double instantiations of winograd.inc (see
 * winograd.h for the entry points, winograd.inc for the maths). */
#include "winograd.h"
#include "conv_internal.h"
#include "gemm_kernels.h"
#include "fnn_generic.h"   /* FN, FNN_CLONES */

#define GDESC FN(fnn_gemm_desc)
#define GACTIVE FN(fnn_gemm_active_desc)
#define FNN_BODY "winograd.inc"
#define FNN_BODY2 "winograd_wgrad.inc"
#include "fnn_instantiate.inc"
