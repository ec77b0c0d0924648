/* resample.c -- instantiates resample.inc for float and double (see resample.h). */
#include <string.h>
#include "resample.h"
#include "fnn_generic.h"

/* Every index of the tables inside its axis (y1/x1 may be NULL). */
int fnn_resample_check_tables(const fnn_resample_desc *d, const int64_t *y0, const int64_t *y1,
                              const int64_t *x0, const int64_t *x1) {
    if (!d || d->planes < 0 || d->ih < 1 || d->iw < 1 || d->oh < 0 || d->ow < 0)
        return FNN_EINVAL;
    for (int64_t i = 0; i < d->oh; i++)
        if (y0[i] < 0 || y0[i] >= d->ih || (y1 && (y1[i] < 0 || y1[i] >= d->ih)))
            return FNN_EINDEX;
    for (int64_t i = 0; i < d->ow; i++)
        if (x0[i] < 0 || x0[i] >= d->iw || (x1 && (x1[i] < 0 || x1[i] >= d->iw)))
            return FNN_EINDEX;
    return FNN_OK;
}

#define FNN_BODY "resample.inc"
#include "fnn_instantiate.inc"
