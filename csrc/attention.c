/* attention.c -- checks and the dropout hash of the attention kernels;
 * instantiates attention.inc for float and double (see attention.h). */
#pragma GCC optimize("no-trapping-math")
#include <math.h>
#include <string.h>
#include "attention.h"
#include "gemm.h"
#include "fnn_tmath.h"     /* VEXP */

/* Below this many multiply-adds in all a call runs on one thread. */
#define ATTN_SERIAL_MACS (1 << 19)

int fnn_attn_check(const fnn_attn_desc *d) {
    if (!d || d->nb < 0 || d->hq < 1 || d->hkv < 1 || d->hq % d->hkv) return FNN_EINVAL;
    if (d->L < 1 || d->S < 1 || d->E < 1 || d->Ev < 1) return FNN_EINVAL;
    if (d->q_sb < 0 || d->q_sh < 0 || d->k_sb < 0 || d->k_sh < 0 || d->v_sb < 0 ||
        d->v_sh < 0 || d->o_sb < 0 || d->o_sh < 0)
        return FNN_EINVAL;
    if (d->q_ld < d->E || d->k_ld < d->E || d->v_ld < d->Ev || d->o_ld < d->Ev)
        return FNN_EINVAL;
    if (d->m_ld != 0 && d->m_ld != d->S) return FNN_EINVAL;
    if (!(d->p_drop >= 0.0 && d->p_drop <= 1.0)) return FNN_EINVAL;
    return FNN_OK;
}

/* The keep decision of element i (the scheme of dropout.c: splitmix64 of a
 * keyed counter, kept when its top 53 bits reach ceil(p * 2^53)). */
#define ATTN_GOLDEN 0x9E3779B97F4A7C15ULL
static inline uint64_t attn_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t attn_key(const fnn_attn_desc *d) {
    return attn_mix64(d->seed ^ attn_mix64(d->stream + ATTN_GOLDEN));
}

static inline int attn_keep(uint64_t key, uint64_t thr, int64_t i) {
    return (attn_mix64(key + (uint64_t)(i + 1) * ATTN_GOLDEN) >> 11) >= thr;
}

static inline uint64_t attn_thr(double p) { return (uint64_t)ceil(p * 0x1.0p53); }

static inline int64_t attn_round16(int64_t n) { return (n + 15) / 16 * 16; }

/* items (heads or groups) run in parallel on single-threaded GEMMs when
 * there are enough of them; else in turn on threaded GEMMs */
static inline int attn_item_threads(const fnn_attn_desc *d, int64_t items, int n_threads) {
    double macs = (double)d->nb * d->hq * d->L * d->S * (double)(d->E + d->Ev);
    if (n_threads < 1 || macs < ATTN_SERIAL_MACS) return 1;
    return items >= n_threads ? n_threads : 1;
}

#define FNN_BODY "attention.inc"
#include "fnn_instantiate.inc"
