/* batchnorm.c -- descriptor setup; instantiates batchnorm.inc for float and
 * double. */
#include <math.h>
#include <string.h>
#include "batchnorm.h"
#include "fnn_generic.h"

int fnn_batchnorm_init(fnn_batchnorm_desc *d, int64_t N, int64_t C, int64_t HW, double eps) {
    if (N < 0 || C < 0 || HW < 0 || !(eps >= 0.0)) return FNN_EINVAL;
    d->N = N;
    d->C = C;
    d->HW = HW;
    d->eps = eps;
    return FNN_OK;
}

#define FNN_BODY "batchnorm.inc"
#include "fnn_instantiate.inc"
