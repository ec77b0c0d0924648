/* im2col.c -- float and double instantiations of im2col.inc (see im2col.h). */
#include "im2col.h"
#include "fnn_generic.h"   /* FN */

#define FNN_BODY "im2col.inc"
#include "fnn_instantiate.inc"
