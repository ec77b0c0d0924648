/* embedding.c -- index checks; instantiates embedding.inc for float and
 * double (see embedding.h). */
#include <string.h>
#include "embedding.h"
#include "fnn_generic.h"

/* columns per work item of the backward passes */
#define EMB_CB 64

int fnn_embedding_check(int64_t n, const int64_t *idx, int64_t num) {
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) bad |= (idx[i] < 0) | (idx[i] >= num);
    return bad ? FNN_EINDEX : FNN_OK;
}

static int emb_check_offsets(int64_t n, int64_t nbags, const int64_t *offsets) {
    if (offsets[0] != 0 || offsets[nbags] != n) return FNN_EINVAL;
    for (int64_t b = 0; b < nbags; b++)
        if (offsets[b + 1] < offsets[b]) return FNN_EINVAL;
    return FNN_OK;
}

#define FNN_BODY "embedding.inc"
#include "fnn_instantiate.inc"
