/* norm.c -- instantiates norm.inc (layer and group normalisation, see
 * norm.h) for float and double. */
#include <math.h>
#include <string.h>
#include "norm.h"
#include "fnn_generic.h"
#include "gemm.h"   /* fnn_gemm_active_isa: the row kernels' vector width */

/* The row blocks of the layer-norm parameter gradients: fixed by M alone,
 * so the sums do not depend on the thread count.  At least 8 rows a block:
 * each block zeroes, updates and hands over 2*D doubles, which for blocks
 * of one row cost 4x the row's own traffic (M = 64, D = 512: the backward
 * ran 2.5 ns per element against PyTorch's 0.64). */
static int64_t ln_blocks(int64_t M) {
    const int64_t nb = M / 8;
    return nb < 1 ? 1 : (nb > 64 ? 64 : nb);
}

#define FNN_BODY "norm.inc"
#include "fnn_instantiate.inc"

int64_t fnn_layer_norm_workspace_len(int64_t M, int64_t D) { return ln_blocks(M) * 2 * D; }
int64_t fnn_group_norm_workspace_len(int64_t N, int64_t C) { return 2 * N * C; }
