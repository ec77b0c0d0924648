/* im2col.c -- float and double instantiations of im2col.inc (see im2col.h). */
#include "im2col.h"
#include "fnn_generic.h"   /* FN */
#include "gemm.h"          /* fnn_gemm_active_isa: col2im's AVX-512 form */
#include "gemm_kernels.h"  /* FNN_HAVE_X86_KERNELS */
#if defined(FNN_HAVE_X86_KERNELS)
#include <immintrin.h>
#endif

#define FNN_BODY "im2col.inc"
#include "fnn_instantiate.inc"
