/* norm.c -- instantiates norm.inc (layer and group normalisation, see
 * norm.h) for float and double. */
#include <math.h>
#include "norm.h"
#include "fnn_generic.h"

/* The row blocks of the layer-norm parameter gradients: fixed by M alone,
 * so the sums do not depend on the thread count. */
static int64_t ln_blocks(int64_t M) { return M < 64 ? M : 64; }

#define FNN_BODY "norm.inc"
#include "fnn_instantiate.inc"

int64_t fnn_layer_norm_workspace_len(int64_t M, int64_t D) { return ln_blocks(M) * 2 * D; }
int64_t fnn_group_norm_workspace_len(int64_t N, int64_t C) { return 2 * N * C; }
