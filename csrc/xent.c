/* xent.c -- instantiates xent.inc for float and double (see xent.h). */
#include <math.h>
#include <string.h>
#include "xent.h"
#include "fnn_tmath.h"     /* VEXP, LOG */

#define FNN_BODY "xent.inc"
#include "fnn_instantiate.inc"
